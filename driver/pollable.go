package driver

// Pollable is implemented by drivers whose whole state another poller can
// watch through one descriptor (epoll and kqueue: the kernel object itself).
// The descriptor turns readable while a Wait with timeout 0 would report an
// event, or a Wake not yet consumed. It stays the driver's: the caller never
// reads or closes it, and it is invalid after Close.
type Pollable interface {
	Driver
	// PollFD returns the descriptor.
	PollFD() FD
}
