//go:build unix

package driver_test

import (
	"errors"
	"math"
	"testing"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
)

// A descriptor is a C int's non-negative value.
func TestCheckArgsFD(t *testing.T) {
	leakcheck.Check(t)
	for _, fd := range []driver.FD{-1, math.MaxInt32 + 1} {
		if err := driver.CheckArgs("x", "rearm", fd, 7, driver.Read); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("CheckArgs of fd %d: %v, want ErrInvalid", fd, err)
		}
	}
	if err := driver.CheckArgs("x", "rearm", math.MaxInt32, 7, driver.Read); err != nil {
		t.Errorf("CheckArgs of fd MaxInt32: %v", err)
	}
}
