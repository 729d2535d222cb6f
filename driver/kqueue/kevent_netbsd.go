package kqueue

// NetBSD (as golang.org/x/sys knows it) has neither EVFILT_USER nor
// EV_RECEIPT: a pipe wakes Wait, and changes made during a blocked Wait are
// queued and handed to it by waking it.
var osFeatures = features{}

const (
	evfiltUser      = 0 // unused: no EVFILT_USER
	evReceiptNative = 0 // never sent: features.receipt is false
)
