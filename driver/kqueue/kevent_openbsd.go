package kqueue

import "golang.org/x/sys/unix"

// OpenBSD has EV_RECEIPT but no EVFILT_USER: a pipe wakes Wait.
var osFeatures = features{receipt: true}

const (
	evfiltUser      = 0 // unused: no EVFILT_USER
	evReceiptNative = unix.EV_RECEIPT
)

var _ = [1]struct{}{}[unix.EV_RECEIPT-evReceipt]
