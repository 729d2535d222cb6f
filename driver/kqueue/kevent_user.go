//go:build darwin || freebsd || dragonfly

package kqueue

import "golang.org/x/sys/unix"

// These systems have EVFILT_USER and EV_RECEIPT.
var osFeatures = features{userFilter: true, receipt: true}

const (
	evfiltUser      = unix.EVFILT_USER
	evReceiptNative = unix.EV_RECEIPT
)

var (
	_ = [1]struct{}{}[unix.EV_RECEIPT-evReceipt]
	_ = [1]struct{}{}[unix.NOTE_TRIGGER-noteTrigger]
)
