//go:build (darwin || linux || netbsd) && (amd64 || arm64)

package ffi_test

import (
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/ebitengine/purego"
)

// openCLib builds testdata/futures.c with gcc into dir, loads it and
// returns its symbol lookup.
func openCLib(dir string) (func(string) (uintptr, error), error) {
	so := filepath.Join(dir, "libfutures.so")
	out, err := exec.Command("gcc", "-shared", "-fPIC", "-O1", "-o", so, "testdata/futures.c", "-lpthread").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("gcc: %v: %s", err, out)
	}
	lib, err := purego.Dlopen(so, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, err
	}
	return func(name string) (uintptr, error) { return purego.Dlsym(lib, name) }, nil
}
