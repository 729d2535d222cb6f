package driver

import (
	"fmt"
	"slices"
	"sync"
)

// Opener creates a new, independent instance of a driver.
type Opener func() (Driver, error)

var registry struct {
	sync.RWMutex
	openers map[string]Opener
}

// Provide makes a driver openable by name. Driver packages call it from their
// init function; providing a name twice panics, as that is a build mistake.
func Provide(name string, open Opener) {
	registry.Lock()
	defer registry.Unlock()
	if registry.openers == nil {
		registry.openers = make(map[string]Opener)
	}
	if _, dup := registry.openers[name]; dup {
		panic("driver: Provide called twice for " + name)
	}
	registry.openers[name] = open
}

// Open creates a new instance of the named driver; the empty name means
// Default(). A name that no linked-in package provides gives an error
// wrapping ErrNotSupported.
func Open(name string) (Driver, error) {
	if name == "" {
		name = Default()
	}
	registry.RLock()
	open := registry.openers[name]
	registry.RUnlock()
	if open == nil {
		return nil, fmt.Errorf("driver %q: %w (this build has %v)", name, ErrNotSupported, Names())
	}
	return open()
}

// Default returns the name of the driver this build uses when none is named:
// epoll on linux; kqueue on darwin and the BSDs; iocp on windows; poll on
// other unix systems, and on every unix when built with the tag libasync_poll.
func Default() string { return defaultName }

// Names returns the names of the drivers linked into this program, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.openers))
	for n := range registry.openers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
