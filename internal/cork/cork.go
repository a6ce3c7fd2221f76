// Package cork writes an answer's TLS records to the socket in one system
// call.
//
// crypto/tls writes each record of at most 16 kB with a write of its own,
// and net/http writes the header before the body: a sealed page of 78 kB
// leaves the bank in seven writes, and the client wakes for each. A Conn
// under the TLS layer gathers what is written while it is corked; the
// gateway corks it before it writes an answer, flushes net/http's buffers
// and uncorks it, which writes the records in one go (the same bytes, in
// the same order). Outside those calls a Conn writes through.
package cork

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
)

// maxHeld is the most a corked Conn holds: past it, what it holds is
// written at once (a very large answer goes out in pieces of about this
// size).
const maxHeld = 1 << 20

// Conn is a net.Conn whose writes can be held back and sent together.
type Conn struct {
	net.Conn

	mu     sync.Mutex
	corked bool
	held   *[]byte // from pool while corked
}

var pool = sync.Pool{New: func() any { b := make([]byte, 0, 96<<10); return &b }}

// Wrap returns c as a Conn.
func Wrap(c net.Conn) *Conn { return &Conn{Conn: c} }

// Write writes p, or holds it while the Conn is corked.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if c.held == nil {
		c.held = pool.Get().(*[]byte)
	}
	*c.held = append(*c.held, p...)
	if len(*c.held) >= maxHeld {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flushLocked writes what is held.
func (c *Conn) flushLocked() error {
	if c.held == nil {
		return nil
	}
	b := c.held
	c.held = nil
	_, err := c.Conn.Write(*b)
	if cap(*b) <= maxHeld*2 {
		*b = (*b)[:0]
		pool.Put(b)
	}
	return err
}

func (c *Conn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

func (c *Conn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// Listener wraps the connections another Listener accepts in Conns.
type Listener struct{ net.Listener }

// Accept accepts a connection and wraps it.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return Wrap(c), nil
}

type ctxKey struct{}

// ConnContext is an http.Server's ConnContext: it puts the Conn under c
// (c itself, or the connection under a *tls.Conn) in ctx.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if cc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, ctxKey{}, cc)
	}
	return ctx
}

// Cork holds back the writes to the connection of the request whose
// context is ctx, until the function it returns is called, which writes
// them in one go. Without a Conn under the request it does nothing. The
// caller uncorks on every path, and before it waits for anything.
func Cork(ctx context.Context) (uncork func() error) {
	c, _ := ctx.Value(ctxKey{}).(*Conn)
	if c == nil {
		return func() error { return nil }
	}
	c.cork()
	return c.uncork
}
