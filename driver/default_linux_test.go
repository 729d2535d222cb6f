//go:build !libasync_poll

package driver_test

const wantDefault = "epoll"
