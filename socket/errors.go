package socket

import "errors"

// ErrNotSupported is the outcome of an operation this system does not
// provide (such as setting the keep-alive period on OpenBSD).
var ErrNotSupported = errors.New("socket: operation not supported on this system")

// errInvalid is the outcome of a bad argument (a non-positive period).
var errInvalid = errors.New("socket: invalid argument")
