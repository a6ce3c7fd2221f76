package store

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
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

// WriteRow runs one statement that writes and returns a single row, as
// WriteRowContext, and scans the row into dest (sql.ErrNoRows when the
// statement returned none). A lead the context carries is written first:
// on PostgreSQL in the same statement (the lead as a data-modifying WITH
// query, run whether or not q returns a row) — one round trip and one
// commit instead of two; on SQLite, where a statement writes one table,
// in the same statement too when q inserts into a table with a led view
// and the lead is an INSERT of the view's lead table (led.go: the view's
// trigger writes both; the lead is written with q's first row, and left
// to Settle when q inserts none), else as WriteRowContext writes it, a
// statement of its own just before. A lead that cannot be written (a
// replayed request id) fails the statement, which then writes nothing.
func (db *DB) WriteRow(ctx context.Context, q string, args []any, dest ...any) error {
	l := owed(ctx)
	if l != nil && db.engine == SQLite {
		if led, ok := ledStatement(l.q, q, len(args)); ok {
			return db.writeLed(ctx, l, led, append(args[:len(args):len(args)], l.args...), dest...)
		}
	}
	if l == nil || db.engine == SQLite {
		if err := db.lead(ctx); err != nil {
			return err
		}
		return db.WriteRowContext(ctx, q, args...).Scan(dest...)
	}
	joined, all := withLead(l, q, args)
	err := db.writeRow(ctx, joined, all, dest...)
	switch {
	case err == nil: // the statement ran: the lead is written
		l.written()
	case errors.Is(err, sql.ErrNoRows) && l.wq == "":
		l.written()
	case errors.Is(err, sql.ErrNoRows):
		// A guarded lead (JoinedAs) may have inserted nothing: as the
		// probe finds it, else it is still owed.
		var n int
		if perr := db.QueryRowContext(ctx, l.probe, l.probeArgs...).Scan(&n); perr != nil {
			return perr
		}
		if n > 0 {
			l.written()
		}
	}
	return err
}

// placeholder is a PostgreSQL parameter, $1.
var placeholder = regexp.MustCompile(`\$([0-9]+)`)

// withLead is q with the lead's statement as its first WITH query, and
// the arguments of both: q's parameters are numbered after the lead's.
// The lead's statement is an INSERT without RETURNING; q may begin with
// WITH.
func withLead(l *Lead, q string, args []any) (string, []any) {
	lq, largs := l.joined()
	shift := len(largs)
	all := append(append(make([]any, 0, shift+len(args)), largs...), args...)
	key := [2]string{lq, q}
	if j, ok := joinedQueries.Load(key); ok {
		return j.(string), all
	}
	joined := joinLead(lq, shift, q)
	joinedQueries.Store(key, joined)
	return joined, all
}

// joinedQueries are the statements withLead made (a few: the audit record
// before each of a handful of statements).
var joinedQueries sync.Map

func joinLead(leadQ string, shift int, q string) string {
	q = placeholder.ReplaceAllStringFunc(q, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(n+shift)
	})
	lead := "lead AS (" + leadQ + ")"
	if rest, ok := strings.CutPrefix(strings.TrimLeft(q, " \t\n"), "WITH "); ok {
		return "WITH " + lead + ",\n" + rest
	}
	return "WITH " + lead + "\n" + q
}

// writeLed runs led, a statement that writes the lead l too (led.go): l is
// written when the statement returned a row.
func (db *DB) writeLed(ctx context.Context, l *Lead, led string, args []any, dest ...any) error {
	err := db.writeRow(ctx, led, args, dest...)
	if err == nil {
		l.written()
	}
	return err
}

// writeRow runs q, which writes and returns a row, on the writer, counted
// and through the fault hook, and scans the row into dest.
func (db *DB) writeRow(ctx context.Context, q string, args []any, dest ...any) error {
	db.queries.Add(1)
	if err := db.fault(q); err != nil {
		return err
	}
	if st := db.stmt(ctx, db.write, q); st != nil {
		return st.QueryRowContext(ctx, args...).Scan(dest...)
	}
	return db.write.QueryRowContext(ctx, q, args...).Scan(dest...)
}
