//go:build linux && !libasync_poll

package driver

const defaultName = "epoll"
