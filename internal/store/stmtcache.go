package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps statements prepared, on SQLite: the pure-Go driver
// parses every statement it is given again (about a quarter of an AIS
// call's CPU before, half of a payment's transaction), while a prepared one
// is parsed once per connection. PostgreSQL's driver (pgx) caches prepared
// statements itself. The cache is bounded: statements beyond the bound
// run unprepared, as before.
type stmtCache struct {
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the statements kept prepared per pool.
const maxCachedStmts = 512

// get returns the prepared statement of q on pool, preparing it the first
// time; nil when it cannot be cached (the caller runs q unprepared, which
// also reports any error in it). No lock is held while preparing: on the
// writer pool PrepareContext waits for its only connection, which a
// transaction may hold while it looks its statements up (peek).
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, q string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[q]
	full := len(c.m) >= maxCachedStmts
	c.mu.RUnlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	st, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[q]; ok { // prepared meanwhile by another caller
		st.Close()
		return old
	}
	if len(c.m) >= maxCachedStmts {
		st.Close()
		return nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st
}

// peek returns the prepared statement of q if there is one; it never
// prepares.
func (c *stmtCache) peek(q string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[q]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// stmt is the prepared statement of q on pool when this engine benefits
// from preparing (SQLite), else nil.
func (db *DB) stmt(ctx context.Context, pool *sql.DB, q string) *sql.Stmt {
	if db.engine != SQLite || db.stmts == nil {
		return nil
	}
	if pool == db.write {
		return db.stmts[1].get(ctx, pool, q)
	}
	return db.stmts[0].get(ctx, pool, q)
}

// inTx is q's prepared statement bound to the transaction t (SQLite), or
// nil: then q runs unprepared and is prepared once the transaction has
// ended and the writer's connection is free (prepareMissed) — preparing it
// on the pool now would wait for the connection this transaction holds.
func (t *Tx) inTx(ctx context.Context, q string) *sql.Stmt {
	if t.db.engine != SQLite || t.db.stmts == nil {
		return nil
	}
	st := t.db.stmts[1].peek(q)
	if st == nil {
		if len(t.missed) < maxCachedStmts {
			t.missed = append(t.missed, q)
		}
		return nil
	}
	return t.tx.StmtContext(ctx, st)
}

// prepareMissed prepares, on the writer pool, the statements a finished
// transaction ran unprepared.
func (db *DB) prepareMissed(ctx context.Context, missed []string) {
	for _, q := range missed {
		if db.stmts[1].get(ctx, db.write, q) == nil {
			return // the cache is full, or the database is closing
		}
	}
}
