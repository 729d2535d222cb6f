//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package executor

// kqueue, the default here, and poll(2), the portable fallback.
import (
	_ "github.com/libasync/libasync/driver/kqueue"
	_ "github.com/libasync/libasync/driver/poll"
)
