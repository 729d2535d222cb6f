//go:build unix && !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package executor

// poll(2), the driver of every other unix.
import _ "github.com/libasync/libasync/driver/poll"
