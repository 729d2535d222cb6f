//go:build unix && !linux

package executor

// poll(2), the portable driver of every unix; kqueue joins it where it exists.
import _ "github.com/libasync/libasync/driver/poll"
