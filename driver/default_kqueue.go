//go:build (darwin || freebsd || netbsd || openbsd || dragonfly) && !libasync_poll

package driver

const defaultName = "kqueue"
