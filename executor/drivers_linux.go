package executor

// The Linux drivers, linked in so that WithDriver can name either of them.
import (
	_ "github.com/libasync/libasync/driver/epoll"
	_ "github.com/libasync/libasync/driver/poll"
)
