//go:build windows && (amd64 || arm64)

package ffi_test

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// openCLib loads futures.dll, testdata/futures.c built with mingw-w64 before
// the test binary runs (a Windows host, or Wine, has no compiler to call):
// the file LIBASYNC_FFI_CLIB names, else futures.dll in the working
// directory (where ci/wine.sh --capi builds it).
func openCLib(string) (func(string) (uintptr, error), error) {
	path := os.Getenv("LIBASYNC_FFI_CLIB")
	if path == "" {
		path = "futures.dll"
	}
	if _, err := os.Stat(path); err != nil {
		return nil, errors.New("no " + path + " (build testdata/futures.c with x86_64-w64-mingw32-gcc -shared)")
	}
	lib, err := windows.LoadLibrary(path)
	if err != nil {
		return nil, err
	}
	return func(name string) (uintptr, error) { return windows.GetProcAddress(lib, name) }, nil
}
