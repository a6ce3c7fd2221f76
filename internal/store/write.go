package store

import (
	"context"
	"database/sql"
)

// WriteRowContext runs one statement that writes and returns a single row
// (INSERT ... RETURNING) outside a transaction. It goes to the writer (on
// SQLite the one writing connection, so that the statement sees and orders
// after every write before it), is counted like every statement, and
// passes the fault hook.
// A lead the context carries is written first (Lead).
func (db *DB) WriteRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	err := db.lead(ctx)
	db.queries.Add(1)
	if err == nil {
		err = db.fault(q)
	}
	if err != nil {
		cctx, cancel := context.WithCancelCause(ctx)
		cancel(err)
		return db.write.QueryRowContext(cctx, q, args...)
	}
	if st := db.stmt(ctx, db.write, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.write.QueryRowContext(ctx, q, args...)
}
