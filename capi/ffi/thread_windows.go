//go:build windows && (amd64 || arm64)

package ffi

import "golang.org/x/sys/windows"

// threadID returns the calling OS thread's id.
func threadID() int { return int(windows.GetCurrentThreadId()) }
