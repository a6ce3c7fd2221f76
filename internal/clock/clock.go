// Package clock is the bank's source of time. Domain code never calls
// time.Now: it asks a Clock, which the sandbox can move forward.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now returns the current time.
func (System) Now() time.Time { return time.Now() }

// Adjustable runs at the speed of a base clock but can be moved by an
// offset: the sandbox clock. It is safe for concurrent use.
type Adjustable struct {
	base   Clock
	mu     sync.RWMutex
	offset time.Duration
}

// NewAdjustable returns a clock that reads base plus offset.
func NewAdjustable(base Clock, offset time.Duration) *Adjustable {
	return &Adjustable{base: base, offset: offset}
}

// Now returns the base time moved by the offset.
func (c *Adjustable) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.base.Now().Add(c.offset)
}

// Offset is how far the clock is from its base.
func (c *Adjustable) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// Advance moves the clock forward by d (d must not be negative) and returns
// the new time.
func (c *Adjustable) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	if d > 0 {
		c.offset += d
	}
	c.mu.Unlock()
	return c.Now()
}

// Set moves the clock to t and returns it.
func (c *Adjustable) Set(t time.Time) time.Time {
	c.mu.Lock()
	c.offset = t.Sub(c.base.Now())
	c.mu.Unlock()
	return c.Now()
}

// Fixed is a clock that stands still until moved; for tests.
type Fixed struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixed returns a clock standing at t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t} }

// Now returns the time the clock stands at.
func (f *Fixed) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the clock by d.
func (f *Fixed) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}
