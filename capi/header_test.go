//go:build (linux || darwin || netbsd || windows) && (amd64 || arm64) && cgo

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/libasync/libasync/internal/leakcheck"
)

const (
	headerPath   = "include/libasync.h"
	contractCopy = "abi/libasync-v1.h"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHeaderContainsContract checks that the project's header is the
// contract with lines added: every line of the contract appears in it, in
// order (declarations and the comments that are part of the contract).
func TestHeaderContainsContract(t *testing.T) {
	leakcheck.Check(t)
	contract := strings.Split(readFile(t, contractCopy), "\n")
	header := strings.Split(readFile(t, headerPath), "\n")
	i := 0
	for n, line := range contract {
		for i < len(header) && header[i] != line {
			i++
		}
		if i == len(header) {
			t.Fatalf("%s: line %d of the contract is missing or out of order: %q", headerPath, n+1, line)
		}
		i++
	}
}

// TestContractCopyIsVerbatim compares the repository's copy of the contract
// with the shared one, when the shared one is reachable (LIBASYNC_CONTRACT,
// or ../shared/abi/libasync.h beside the checkout or its worktree folder).
func TestContractCopyIsVerbatim(t *testing.T) {
	leakcheck.Check(t)
	candidates := []string{os.Getenv("LIBASYNC_CONTRACT"),
		filepath.Join("..", "..", "shared", "abi", "libasync.h"),
		filepath.Join("..", "..", "..", "shared", "abi", "libasync.h")}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		shared, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if got := readFile(t, contractCopy); got != string(shared) {
			t.Fatalf("%s differs from the shared contract %s", contractCopy, p)
		}
		return
	}
	t.Log("no shared contract reachable; compared the header with the repository's copy only")
}

var (
	declRe   = regexp.MustCompile(`(?m)^[a-z_][a-z0-9_ *]*\b(async_[a-z0-9_]+)\(`)
	exportRe = regexp.MustCompile(`(?m)^//export (async_[a-z0-9_]+)$`)
	cDefRe   = regexp.MustCompile(`(?m)^(?:ASYNCGO_EXPORT )?[a-z_][a-z0-9_ *]*\b(async_[a-z0-9_]+)\([^;]*\{`)
)

// TestHeaderFunctionsExported checks that every function the header
// declares is defined by the library's sources: a //export in Go or a
// definition in shim.c (marked ASYNCGO_EXPORT, which a DLL needs).
// (ci/capi.sh checks the built library's symbols.)
func TestHeaderFunctionsExported(t *testing.T) {
	leakcheck.Check(t)
	var declared []string
	for _, m := range declRe.FindAllStringSubmatch(readFile(t, headerPath), -1) {
		declared = append(declared, m[1])
	}
	if len(declared) < 30 {
		t.Fatalf("found only %d declarations in %s: %v", len(declared), headerPath, declared)
	}
	defined := map[string]bool{}
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		for _, m := range exportRe.FindAllStringSubmatch(readFile(t, f), -1) {
			defined[m[1]] = true
		}
	}
	for _, m := range cDefRe.FindAllStringSubmatch(readFile(t, "shim.c"), -1) {
		defined[m[1]] = true
	}
	var missing []string
	for _, d := range declared {
		if !defined[d] {
			missing = append(missing, d)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("declared in %s but not exported: %v", headerPath, missing)
	}
}
