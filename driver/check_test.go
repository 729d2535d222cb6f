package driver_test

import (
	"errors"
	"testing"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestChecks(t *testing.T) {
	leakcheck.Check(t)
	if err := driver.CheckArgs("x", "register", 3, 7, driver.Read|driver.Write); err != nil {
		t.Errorf("CheckArgs of good arguments: %v", err)
	}
	for _, in := range []driver.Interest{0, 1 << 5, driver.Read | 1<<7} {
		if err := driver.CheckArgs("x", "register", 3, 7, in); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("CheckArgs with interest %#x: %v, want ErrInvalid", in, err)
		}
	}
	if err := driver.CheckArgs("x", "register", 3, driver.ReservedToken, driver.Read); !errors.Is(err, driver.ErrInvalid) {
		t.Errorf("CheckArgs with the reserved token: %v, want ErrInvalid", err)
	}
	if err := driver.CheckEvents("x", make([]driver.Event, 1)); err != nil {
		t.Errorf("CheckEvents of one slot: %v", err)
	}
	if err := driver.CheckEvents("x", nil); !errors.Is(err, driver.ErrInvalid) {
		t.Errorf("CheckEvents(nil): %v, want ErrInvalid", err)
	}
	if err := driver.ClosedError("x", "wait"); !errors.Is(err, driver.ErrClosed) || err.Error() != "x: wait: driver: closed" {
		t.Errorf("ClosedError = %q, want one wrapping ErrClosed", err)
	}
}
