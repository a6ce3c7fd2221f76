package sca

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Defaults of the hash limiter: argon2id takes argonMemory (19 MiB) per
// computation, so 4 at once keep a node's password memory under 80 MiB
// whatever the number of log-in attempts; an attempt waits at most 2 s
// for a slot.
const (
	DefaultHashConcurrency = 4
	DefaultHashWait        = 2 * time.Second
)

// ErrBusy is returned when every password-hash slot stayed taken for the
// whole wait: the caller answers "try again in a moment" (HTTP: 503 with
// Retry-After) and counts nothing.
var ErrBusy = errors.New("too many password checks at once; try again in a moment")

// HashLimiter bounds the argon2id computations that run at once in this
// process (memory is per process, so this bound is too). Safe for
// concurrent use.
type HashLimiter struct {
	slots   chan struct{}
	wait    time.Duration
	running atomic.Int64
	peak    atomic.Int64
	busy    atomic.Int64
}

// NewHashLimiter returns a limiter of n computations at once (n < 1 is 1)
// whose callers wait at most wait for a slot.
func NewHashLimiter(n int, wait time.Duration) *HashLimiter {
	if n < 1 {
		n = 1
	}
	return &HashLimiter{slots: make(chan struct{}, n), wait: wait}
}

var hashes atomic.Pointer[HashLimiter]

func init() { hashes.Store(NewHashLimiter(DefaultHashConcurrency, DefaultHashWait)) }

// Hashes returns the process's hash limiter, which HashPassword and
// CheckPassword use.
func Hashes() *HashLimiter { return hashes.Load() }

// SetHashLimit replaces the process's hash limiter (the commands call it
// from their configuration before serving); n < 1 keeps the default
// concurrency, wait <= 0 the default wait.
func SetHashLimit(n int, wait time.Duration) {
	if n < 1 {
		n = DefaultHashConcurrency
	}
	if wait <= 0 {
		wait = DefaultHashWait
	}
	hashes.Store(NewHashLimiter(n, wait))
}

// Size is how many computations may run at once.
func (l *HashLimiter) Size() int { return cap(l.slots) }

// Peak is the most computations that ran at once so far.
func (l *HashLimiter) Peak() int { return int(l.peak.Load()) }

// Refused is how many callers got ErrBusy so far.
func (l *HashLimiter) Refused() int64 { return l.busy.Load() }

// acquire takes a slot, waiting at most the limiter's wait, and returns
// the function that gives it back.
func (l *HashLimiter) acquire(ctx context.Context) (func(), error) {
	select {
	case l.slots <- struct{}{}:
	default:
		t := time.NewTimer(l.wait)
		defer t.Stop()
		select {
		case l.slots <- struct{}{}:
		case <-t.C:
			l.busy.Add(1)
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n := l.running.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			l.running.Add(-1)
			<-l.slots
		}
	}, nil
}

// Hold takes a slot as a password computation would and returns the
// function that frees it (for tests that fill the limiter).
func (l *HashLimiter) Hold(ctx context.Context) (func(), error) { return l.acquire(ctx) }
