package executor

// The Linux drivers, linked in so that WithDriver can name any of them.
import _ "github.com/libasync/libasync/driver/epoll"
