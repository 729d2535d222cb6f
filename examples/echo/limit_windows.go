package main

// raiseFileLimit does nothing: Windows has no per-process limit on sockets
// to raise.
func raiseFileLimit() {}
