//go:build unix && !linux

package wakefd

func open() (descriptor, error) { return newPipe() }
