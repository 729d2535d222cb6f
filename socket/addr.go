package socket

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/libasync/libasync/executor"
	"github.com/libasync/libasync/future"
)

// ErrNoAddress is the outcome of resolving a host name that has no address.
var ErrNoAddress = errors.New("socket: no address for host")

// endpoint is one resolved address: an IP (4 or 16 bytes), its zone and a
// port.
type endpoint struct {
	ip   net.IP
	zone string
	port int
}

// family returns the socket family for e.
func (e endpoint) family() int {
	if e.ip.To4() != nil {
		return afInet
	}
	return afInet6
}

func (e endpoint) sockaddr() (sockaddr, error) { return inetSockaddr(e.family(), e.ip, e.port, e.zone) }

// resolver is the future that turns "host:port" into endpoints. IP literals
// (and an empty host) are parsed on the spot; a host name, or a port given
// by service name, is looked up by net.DefaultResolver on a blocking
// goroutine (executor.SpawnBlocking), since the lookup may block for
// seconds and must not stall the executor. Dropping the resolver cancels
// the lookup, so that neither the goroutine nor an executor's Shutdown
// (which waits for its blocking goroutines) waits for a resolver that does
// not answer.
type resolver struct {
	netw    string // "tcp" or "udp", for service names
	addr    string
	passive bool // an empty host means the wildcard, not loopback
	lookup  future.Future[future.Result[[]endpoint]]
	cancel  context.CancelFunc
}

// drop cancels a lookup in flight; the resolver is not used afterwards.
func (r *resolver) drop() {
	if r.cancel != nil {
		r.cancel()
	}
	future.Drop(r.lookup)
}

// parse resolves addr without blocking, or reports ok false when a lookup
// is needed.
func (r *resolver) parse() (eps []endpoint, ok bool, err error) {
	host, portStr, err := net.SplitHostPort(r.addr)
	if err != nil {
		return nil, true, err
	}
	port, perr := strconv.ParseUint(portStr, 10, 16)
	if perr != nil {
		return nil, false, nil
	}
	if host == "" {
		ip := net.IPv4(127, 0, 0, 1)
		if r.passive {
			ip = net.IPv4zero
		}
		return []endpoint{{ip: ip, port: int(port)}}, true, nil
	}
	ipStr, zone := host, ""
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == '%' {
			ipStr, zone = host[:i], host[i+1:]
			break
		}
	}
	if ip := net.ParseIP(ipStr); ip != nil {
		return []endpoint{{ip: ip, zone: zone, port: int(port)}}, true, nil
	}
	return nil, false, nil
}

// blockingLookup resolves addr with the standard library's resolver; a
// cancelled ctx ends it at once.
func (r *resolver) blockingLookup(ctx context.Context) ([]endpoint, error) {
	host, portStr, err := net.SplitHostPort(r.addr)
	if err != nil {
		return nil, err
	}
	port, err := net.DefaultResolver.LookupPort(ctx, r.netw, portStr)
	if err != nil {
		return nil, err
	}
	if host == "" {
		r2 := resolver{netw: r.netw, addr: net.JoinHostPort("", strconv.Itoa(port)), passive: r.passive}
		eps, _, err := r2.parse()
		return eps, err
	}
	if ip := net.ParseIP(host); ip != nil {
		return []endpoint{{ip: ip, port: port}}, nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	var eps []endpoint
	// IPv4 first: loopback names resolve to both, and IPv4 is the one every
	// host has.
	for _, v4 := range []bool{true, false} {
		for _, a := range ips {
			if (a.IP.To4() != nil) == v4 {
				eps = append(eps, endpoint{ip: a.IP, zone: a.Zone, port: port})
			}
		}
	}
	if len(eps) == 0 {
		return nil, &net.DNSError{Err: ErrNoAddress.Error(), Name: host, IsNotFound: true}
	}
	return eps, nil
}

// poll resolves: Ready at once for literals, else after the lookup.
func (r *resolver) poll(cx *future.Context) future.Poll[future.Result[[]endpoint]] {
	if r.lookup == nil {
		eps, ok, err := r.parse()
		if ok {
			if err != nil {
				return future.Ready(future.Fail[[]endpoint](err))
			}
			return future.Ready(future.Ok(eps))
		}
		sp, err := executor.SpawnerOf(cx)
		if err != nil {
			return future.Ready(future.Fail[[]endpoint](err))
		}
		ctx, cancel := context.WithCancel(context.Background())
		f, err := executor.SpawnBlocking(sp, func() ([]endpoint, error) { return r.blockingLookup(ctx) })
		if err != nil {
			cancel()
			return future.Ready(future.Fail[[]endpoint](err))
		}
		r.lookup, r.cancel = f, cancel
	}
	return r.lookup.Poll(cx)
}

// localFuture resolves a local address, then opens a socket on its first
// endpoint. Dropped before it is ready, it leaves nothing open.
type localFuture[T any] struct {
	res  resolver
	open func(cx *future.Context, ep endpoint) (T, error)
}

// Drop cancels a lookup in flight.
func (f *localFuture[T]) Drop() { f.res.drop() }

func (f *localFuture[T]) Poll(cx *future.Context) future.Poll[future.Result[T]] {
	r, ok := f.res.poll(cx).Value()
	if !ok {
		return future.Pending[future.Result[T]]()
	}
	if r.Err != nil {
		return future.Ready(future.Fail[T](&net.OpError{Op: "listen", Net: f.res.netw, Err: r.Err}))
	}
	v, err := f.open(cx, r.Value[0])
	return future.Ready(future.Result[T]{Value: v, Err: err})
}

// zoneIndex returns the interface index of an IPv6 zone (a name or a
// number), or 0.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	n, _ := strconv.ParseUint(zone, 10, 32)
	return uint32(n)
}

// zoneName returns the name of interface index i, or the number.
func zoneName(i uint32) string {
	if i == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(i)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(i), 10)
}

// addrOfNet turns a socket address of a socket of network netw into
// package net's type for it (nil when there is none).
func addrOfNet(netw string, sa sockaddr) net.Addr {
	switch netw {
	case "tcp":
		return tcpAddrOf(sa)
	case "udp":
		if a := udpAddrOf(sa); a != nil {
			return a
		}
		return nil
	}
	return unixAddrOf(sa)
}

// tcpAddrOf and udpAddrOf turn a socket address into package net's types
// (nil for an address of another family).
func tcpAddrOf(sa sockaddr) net.Addr {
	if ip, port, zone, ok := inetAddrOf(sa); ok {
		return &net.TCPAddr{IP: ip, Port: port, Zone: zone}
	}
	return nil
}

func udpAddrOf(sa sockaddr) *net.UDPAddr {
	if ip, port, zone, ok := inetAddrOf(sa); ok {
		return &net.UDPAddr{IP: ip, Port: port, Zone: zone}
	}
	return nil
}
