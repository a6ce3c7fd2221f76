package clock

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DB is what Shared needs of the store (*store.DB has it).
type DB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Shared is the sandbox clock kept in the database (table sandbox_clock):
// real time plus one offset that every node reads, and that only grows —
// each move is a conditional update — so the sandbox time never moves back,
// whichever node moves it and whatever another node thought the time was.
//
// A node reads the offset again when its copy is older than Refresh (one
// second by default): another node's move shows within that. Its own moves
// show at once. It is safe for concurrent use.
type Shared struct {
	db      DB
	base    Clock
	refresh time.Duration

	mu      sync.Mutex
	offset  time.Duration
	fetched time.Time // base time of the last read
	reading bool
}

// ErrBackwards is returned by Set for a time before the sandbox clock's.
var ErrBackwards = errors.New("the sandbox clock only moves forward")

// OpenShared returns the clock of db, creating its row with the offset
// initial when there is none yet (a sandbox from before the shared clock
// keeps its time). refresh <= 0 means one second.
func OpenShared(ctx context.Context, db DB, base Clock, initial, refresh time.Duration) (*Shared, error) {
	if refresh <= 0 {
		refresh = time.Second
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sandbox_clock (id, offset_us) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`,
		initial.Microseconds()); err != nil {
		return nil, fmt.Errorf("sandbox clock: %w", err)
	}
	c := &Shared{db: db, base: base, refresh: refresh}
	if err := c.Refresh(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Refresh reads the offset from the database now.
func (c *Shared) Refresh(ctx context.Context) error {
	var us int64
	if err := c.db.QueryRowContext(ctx, `SELECT offset_us FROM sandbox_clock WHERE id = 1`).Scan(&us); err != nil {
		return fmt.Errorf("sandbox clock: %w", err)
	}
	c.learn(time.Duration(us) * time.Microsecond)
	return nil
}

// learn keeps the larger of the known and the read offset: the clock
// never moves back on this node either.
func (c *Shared) learn(off time.Duration) {
	c.mu.Lock()
	if off > c.offset {
		c.offset = off
	}
	c.fetched = c.base.Now()
	c.mu.Unlock()
}

// Now returns the sandbox time, reading the shared offset again when the
// node's copy is older than Refresh (a failed read keeps the copy).
func (c *Shared) Now() time.Time {
	now := c.base.Now()
	c.mu.Lock()
	stale := now.Sub(c.fetched) >= c.refresh && !c.reading
	if stale {
		c.reading = true
	}
	off := c.offset
	c.mu.Unlock()
	if stale {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.Refresh(ctx)
		cancel()
		c.mu.Lock()
		c.reading = false
		if err != nil {
			c.fetched = now // try again after Refresh, not on every call
		}
		off = c.offset
		c.mu.Unlock()
	}
	return now.Add(off)
}

// Offset is how far the clock is from real time, as this node knows it.
func (c *Shared) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Advance moves the shared clock forward by d (negative is refused) and
// returns the new time.
func (c *Shared) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return c.Now(), ErrBackwards
	}
	if _, err := c.db.ExecContext(ctx, `UPDATE sandbox_clock SET offset_us = offset_us + $1 WHERE id = 1`, d.Microseconds()); err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock: %w", err)
	}
	if err := c.Refresh(ctx); err != nil {
		return time.Time{}, err
	}
	return c.Now(), nil
}

// Set moves the shared clock to t. A t before the clock's time — as the
// database has it, whatever this node thought — is refused with
// ErrBackwards and changes nothing.
func (c *Shared) Set(ctx context.Context, t time.Time) (time.Time, error) {
	want := t.Sub(c.base.Now()).Microseconds()
	res, err := c.db.ExecContext(ctx, `UPDATE sandbox_clock SET offset_us = $1 WHERE id = 1 AND offset_us <= $1`, want)
	if err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return time.Time{}, fmt.Errorf("sandbox clock: %w", err)
	}
	if err := c.Refresh(ctx); err != nil {
		return time.Time{}, err
	}
	if n == 0 {
		return c.Now(), ErrBackwards
	}
	return c.Now(), nil
}
