package driver

import "fmt"

// The checks that every driver makes of its arguments, in one place so that
// drivers agree on them and their errors read alike. name is the driver's
// name and op the method's ("register", "rearm", ...), for the error text.

// CheckArgs returns nil if fd may be a descriptor, token is not
// ReservedToken and interest is Valid, as Register and Rearm require;
// otherwise an error wrapping ErrInvalid.
func CheckArgs(name, op string, fd FD, token Token, interest Interest) error {
	if !validFD(fd) {
		return fmt.Errorf("%s: %s fd %v: %w", name, op, fd, ErrInvalid)
	}
	if token == ReservedToken {
		return fmt.Errorf("%s: %s fd %v: token %#x is reserved: %w", name, op, fd, token, ErrInvalid)
	}
	if !interest.Valid() {
		return fmt.Errorf("%s: %s fd %v: interest %#x: %w", name, op, fd, interest, ErrInvalid)
	}
	return nil
}

// CheckEvents returns nil if events has room for an event, as Wait
// requires; otherwise an error wrapping ErrInvalid.
func CheckEvents(name string, events []Event) error {
	if len(events) == 0 {
		return fmt.Errorf("%s: wait: empty events slice: %w", name, ErrInvalid)
	}
	return nil
}

// ClosedError returns the error of op on a closed driver, which wraps
// ErrClosed.
func ClosedError(name, op string) error {
	return fmt.Errorf("%s: %s: %w", name, op, ErrClosed)
}
