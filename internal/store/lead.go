package store

import (
	"context"
	"sync"
)

// A Lead is a write that a request owes the database before any other of
// its writes: the gateway's audit record of an admitted API call, whose
// unique index also refuses a replayed request id. Put in the request's
// context (WithLead), it is written by the request's first write: as the
// first statement of its first transaction (InTx) — one commit, and on
// SQLite one turn of the writer, instead of two — or on its own just
// before a write outside a transaction (ExecContext, WriteRowContext), or
// in the statement of a WriteRow (on PostgreSQL always, on SQLite through
// a led view, led.go).
// Whoever put it there calls Settle once the request is done, which writes
// it if nothing did (the request wrote nothing, or its transaction rolled
// back and took the lead with it). A lead that cannot be written fails the
// write that carried it, so a replayed request changes nothing.
type Lead struct {
	q    string
	args []any
	// wq and wargs, when set, are the lead as written in another
	// statement's WITH query (PostgreSQL, WriteRow), which runs whether
	// or not that statement does anything: a guarded form (JoinedAs).
	wq    string
	wargs []any
	// probe, with probeArgs, counts the lead's rows: after a statement
	// that returned no row, whether the guarded form inserted the lead.
	probe     string
	probeArgs []any

	mu   sync.Mutex
	done bool
}

// NewLead is a lead that runs q with args.
func NewLead(q string, args ...any) *Lead { return &Lead{q: q, args: args} }

// JoinedAs sets the form of l written as a WITH query of another statement
// (on PostgreSQL, WriteRow): q with args, an INSERT without RETURNING that
// may insert nothing when what it guards does not hold (but must insert
// whenever that statement returns a row: l is then taken as written); probe with
// probeArgs counts the rows l wrote (SELECT COUNT(*) ...), read when that
// statement returned no row, to tell whether l is written. Elsewhere — its
// own statement, a transaction's first, SQLite's led view — l is written
// as NewLead made it. It returns l.
func (l *Lead) JoinedAs(q string, args []any, probe string, probeArgs []any) *Lead {
	l.wq, l.wargs, l.probe, l.probeArgs = q, args, probe, probeArgs
	return l
}

// joined is l's form in another statement's WITH query.
func (l *Lead) joined() (string, []any) {
	if l.wq != "" {
		return l.wq, l.wargs
	}
	return l.q, l.args
}

type leadKey struct{}

// WithLead is ctx carrying l to the first write made with it.
func WithLead(ctx context.Context, l *Lead) context.Context {
	return context.WithValue(ctx, leadKey{}, l)
}

// owed is the lead ctx carries, if it is not written yet.
func owed(ctx context.Context) *Lead {
	l, _ := ctx.Value(leadKey{}).(*Lead)
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil
	}
	return l
}

func (l *Lead) written() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}

// Written tells whether the lead is in the database.
func (l *Lead) Written() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done
}

// Settle writes l unless it is written already.
func (db *DB) Settle(ctx context.Context, l *Lead) error {
	if l.Written() {
		return nil
	}
	if _, err := db.exec(ctx, l.q, l.args...); err != nil {
		return err
	}
	l.written()
	return nil
}

// lead writes the lead ctx owes, if any, before a write outside a
// transaction.
func (db *DB) lead(ctx context.Context) error {
	if l := owed(ctx); l != nil {
		return db.Settle(ctx, l)
	}
	return nil
}

// leadIn writes the lead ctx owes, if any, as the transaction's first
// statement; it counts as written once the transaction commits.
func (t *Tx) leadIn(ctx context.Context) error {
	l := owed(ctx)
	if l == nil {
		return nil
	}
	if _, err := t.ExecContext(ctx, l.q, l.args...); err != nil {
		return err
	}
	t.AfterCommit(l.written)
	return nil
}
