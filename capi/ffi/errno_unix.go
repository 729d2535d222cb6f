//go:build (darwin || linux || netbsd) && (amd64 || arm64)

package ffi

// otherErrno finds no error number beyond a syscall.Errno: unix has none.
func otherErrno(error) int64 { return 0 }
