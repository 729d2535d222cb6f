package driver_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/libasync/libasync/driver"
	"github.com/libasync/libasync/driver/drivertest"
	_ "github.com/libasync/libasync/driver/epoll"
	_ "github.com/libasync/libasync/driver/poll"
	"github.com/libasync/libasync/internal/leakcheck"
)

func TestNames(t *testing.T) {
	leakcheck.Check(t)
	if got, want := driver.Names(), []string{"epoll", "poll"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestDefault(t *testing.T) {
	leakcheck.Check(t)
	if got := driver.Default(); got != wantDefault {
		t.Fatalf("Default() = %q, want %q", got, wantDefault)
	}
	d := drivertest.Open(t, func() (driver.Driver, error) { return driver.Open("") })
	if d.Name() != wantDefault {
		t.Fatalf("Open(\"\") opened %q, want %q", d.Name(), wantDefault)
	}
}

func TestOpenByName(t *testing.T) {
	leakcheck.Check(t)
	for _, name := range driver.Names() {
		d, err := driver.Open(name)
		if err != nil {
			t.Fatalf("Open(%q): %v", name, err)
		}
		if d.Name() != name {
			t.Errorf("Open(%q) opened %q", name, d.Name())
		}
		if err := d.Close(); err != nil {
			t.Errorf("Close of %q: %v", name, err)
		}
	}
}

func TestOpenUnknown(t *testing.T) {
	leakcheck.Check(t)
	for _, name := range []string{"kqueue", "iocp", "select", "EPOLL"} {
		d, err := driver.Open(name)
		if !errors.Is(err, driver.ErrNotSupported) || d != nil {
			t.Errorf("Open(%q) = %v, %v; want nil, ErrNotSupported", name, d, err)
		}
	}
}

func TestProvideTwicePanics(t *testing.T) {
	leakcheck.Check(t)
	defer func() {
		if recover() == nil {
			t.Fatal("a second Provide of \"poll\" did not panic")
		}
	}()
	driver.Provide("poll", func() (driver.Driver, error) { return nil, nil })
}

// BenchmarkDrivers runs the same benchmarks on every driver of this build,
// so that their figures can be compared as ratios from one run.
func BenchmarkDrivers(b *testing.B) {
	for _, name := range driver.Names() {
		b.Run(name, func(b *testing.B) {
			drivertest.Bench(b, func() (driver.Driver, error) { return driver.Open(name) })
		})
	}
}
