//go:build !amd64 && !arm64

package executor

// currentG returns 0: this architecture has no implementation, so the
// Runtime treats every goroutine as one from outside its workers.
func currentG() uintptr { return 0 }
