//go:build windows && (amd64 || arm64)

package ffi

import (
	"errors"

	"golang.org/x/sys/windows"
)

// otherErrno translates an NTSTATUS (what the AFD calls under the iocp
// driver fail with) to its Win32 code, so that hosts see one numbering.
func otherErrno(err error) int64 {
	var st windows.NTStatus
	if errors.As(err, &st) {
		return int64(st.Errno())
	}
	return 0
}
