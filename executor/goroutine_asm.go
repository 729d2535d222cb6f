//go:build amd64 || arm64

package executor

// currentG returns the address of the calling goroutine's runtime
// descriptor (goroutine_$GOARCH.s).
func currentG() uintptr
