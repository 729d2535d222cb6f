//go:build windows && (amd64 || arm64)

package ffi_test

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/libasync/libasync/capi/ffi"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestErrnoOfWindows(t *testing.T) {
	leakcheck.Check(t)
	cases := []struct {
		err  error
		want int64
	}{
		{fmt.Errorf("connect: %w", windows.WSAECONNREFUSED), 10061},
		{windows.ERROR_FILE_NOT_FOUND, 2},
		{fmt.Errorf("poll: %w", windows.STATUS_CANCELLED), int64(windows.ERROR_OPERATION_ABORTED)},
		{windows.STATUS_INVALID_HANDLE, int64(windows.ERROR_INVALID_HANDLE)},
		{errors.New("no number"), 0},
		{nil, 0},
	}
	for _, c := range cases {
		if got := ffi.ErrnoOf(c.err); got != c.want {
			t.Errorf("ErrnoOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
