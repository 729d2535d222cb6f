//go:build (darwin || netbsd) && (amd64 || arm64)

package ffi

// threadID returns 0: these systems have no cheap thread id here, so Clear
// waits for every wake in flight, including one that re-entered the library
// from the host's wake function on the same thread.
func threadID() int { return 0 }
