//go:build windows

package driver

const defaultName = "iocp"
