package server

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// capListener caps the connections open at once from one client address,
// and logs accept failures at warning level with a metric. The excess is
// closed as soon as it is accepted, before TLS or HTTP read a byte, so one
// address cannot take the listener from everyone else.
type capListener struct {
	net.Listener
	name      string
	max       int
	unlimited []netip.Prefix
	log       *slog.Logger
	metrics   *Metrics

	mu    sync.Mutex
	open  map[netip.Addr]int
	quiet atomic.Int64 // unix nanoseconds before which refusals are not logged again
}

func newCapListener(ln net.Listener, name string, max int, unlimited []netip.Prefix, log *slog.Logger, m *Metrics) *capListener {
	return &capListener{Listener: ln, name: name, max: max, unlimited: unlimited, log: log, metrics: m, open: map[netip.Addr]int{}}
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				// http.Server retries temporary errors (EMFILE...) with a
				// backoff; the operator must hear of them.
				l.log.Warn("accept failed", "listener", l.name, "err", err)
				l.metrics.acceptError(l.name)
			}
			return nil, err
		}
		addr := remoteAddr(c)
		if !addr.IsValid() || l.isUnlimited(addr) {
			return c, nil
		}
		l.mu.Lock()
		n := l.open[addr]
		if n >= l.max {
			l.mu.Unlock()
			c.Close()
			l.metrics.connRefused(l.name, "per_address_cap")
			l.logRefusal(addr)
			continue
		}
		l.open[addr] = n + 1
		l.mu.Unlock()
		return &cappedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *capListener) release(addr netip.Addr) {
	l.mu.Lock()
	if l.open[addr] <= 1 {
		delete(l.open, addr)
	} else {
		l.open[addr]--
	}
	l.mu.Unlock()
}

func (l *capListener) isUnlimited(a netip.Addr) bool {
	for _, p := range l.unlimited {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// logRefusal logs at most one refusal a second: a flood must not flood
// the log too. The metric counts them all.
func (l *capListener) logRefusal(addr netip.Addr) {
	now := time.Now().UnixNano()
	last := l.quiet.Load()
	if now < last || !l.quiet.CompareAndSwap(last, now+int64(time.Second)) {
		return
	}
	l.log.Warn("connection refused: too many connections from one address", "listener", l.name,
		"addr", addr.String(), "max", l.max)
}

func remoteAddr(c net.Conn) netip.Addr {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
