//go:build linux && (amd64 || arm64)

package ffi

import "golang.org/x/sys/unix"

// threadID returns the calling OS thread's id.
func threadID() int { return unix.Gettid() }
