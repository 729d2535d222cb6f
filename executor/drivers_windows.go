package executor

// IOCP with AFD poll, the Windows driver.
import _ "github.com/libasync/libasync/driver/iocp"
