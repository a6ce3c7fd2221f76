package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the statements run outside transactions prepared, on
// SQLite: the pure-Go driver parses every statement it is given again
// (about a quarter of an AIS call's CPU before), while a prepared one is
// parsed once per connection. PostgreSQL's driver (pgx) caches prepared
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
// also reports any error in it).
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, q string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[q]
	c.mu.RUnlock()
	if ok {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st
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
