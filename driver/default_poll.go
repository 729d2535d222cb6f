//go:build unix && (libasync_poll || !(linux || darwin || freebsd || netbsd || openbsd || dragonfly))

package driver

const defaultName = "poll"
