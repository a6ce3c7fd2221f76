// Package store opens the bank's database — SQLite (embedded default) or
// PostgreSQL — applies the embedded migrations, and runs business
// transactions with retries. Domain packages write their SQL against the
// Querier interface; the SQL they use is the common subset of SQLite,
// PostgreSQL and PostgreSQL-compatible distributed engines:
//
//   - placeholders are $1, $2, ...;
//   - identifiers are TEXT (UUIDv7), amounts BIGINT minor units;
//   - instants are BIGINT microseconds since the Unix epoch (UTC) and
//     calendar dates TEXT "YYYY-MM-DD", so that both engines compare them
//     the same way;
//   - no triggers, no advisory locks, no LISTEN/NOTIFY, no sequences.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SetMaxOpenConns bounds the connections to PostgreSQL (default 32; tests
// that open several handles lower it). On SQLite it changes nothing.
func (db *DB) SetMaxOpenConns(n int) {
	if db.engine == Postgres {
		db.write.SetMaxOpenConns(n)
		db.write.SetMaxIdleConns(n)
	}
}

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Querier is what domain code needs to run SQL: a *DB outside a
// transaction, a *Tx inside one.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. It is safe for concurrent use.
type DB struct {
	engine Engine
	// write runs transactions. On SQLite it holds a single connection, so
	// writers queue in Go instead of failing with SQLITE_BUSY; reads go to
	// read, which WAL lets run beside the writer.
	write *sql.DB
	read  *sql.DB

	queries atomic.Int64
	txTime  atomic.Int64 // nanoseconds spent inside transactions, BEGIN to COMMIT or ROLLBACK
	// writeWaiting counts the goroutines waiting for the writer (and, for
	// a single statement, running on it): handOver yields only when some do.
	writeWaiting atomic.Int64
	hook         atomic.Pointer[Hook]
	stmts        *[2]stmtCache // SQLite: prepared statements of the reader and the writer pools
	ckpt         *checkpointer // SQLite: the background checkpoints
}

// Hook is called before every statement run inside a transaction; when it
// returns an error the statement fails with it. Tests use it to inject a
// failure at each step of a business transaction.
type Hook func(query string) error

// SetHook installs h (nil removes it).
func (db *DB) SetHook(h Hook) {
	if h == nil {
		db.hook.Store(nil)
		return
	}
	db.hook.Store(&h)
}

func (db *DB) fault(q string) error {
	if h := db.hook.Load(); h != nil {
		return (*h)(q)
	}
	return nil
}

// Open opens the database named by dsn:
//
//	postgres://user@host:5432/db?search_path=schema   PostgreSQL (pgx)
//	sqlite:/path/to/file.db  or a plain file path     SQLite, WAL mode
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	default:
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", redact(dsn), err)
	}
	return &DB{engine: Postgres, write: db, read: db}, nil
}

// busyTimeout is how long a SQLite statement waits for a lock.
const busyTimeout = 10 * time.Second

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty file path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	pragmas := fmt.Sprintf("_pragma=journal_mode(WAL)&_pragma=busy_timeout(%d)&", busyTimeout.Milliseconds()) + "_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxIdleTime(0)
	ckpt, err := startCheckpointer(path, pragmas, w)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return &DB{engine: SQLite, write: w, read: r, stmts: new([2]stmtCache), ckpt: ckpt}, nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Engine tells which engine this is.
func (db *DB) Engine() Engine { return db.engine }

// Close closes every connection.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts[0].close()
		db.stmts[1].close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if db.ckpt != nil {
		err = errors.Join(err, db.ckpt.close())
	}
	return err
}

// Queries is the number of SQL statements run so far (for queries/op in
// benchmarks). Statements run by migrations are not counted.
func (db *DB) Queries() int64 { return db.queries.Load() }

// TxTime is the time spent inside transactions so far, from BEGIN to
// COMMIT or ROLLBACK, summed over all of them (for benchmarks: on SQLite
// the writer is held for that long, and writes queue behind it).
func (db *DB) TxTime() time.Duration { return time.Duration(db.txTime.Load()) }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.write.PingContext(ctx) }

// ExecContext runs a statement outside a transaction.
// A lead the context carries is written first (Lead).
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := db.lead(ctx); err != nil {
		return nil, err
	}
	return db.exec(ctx, q, args...)
}

func (db *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	db.queries.Add(1)
	db.writeWaiting.Add(1)
	defer db.handOver()
	defer db.writeWaiting.Add(-1)
	if st := db.stmt(ctx, db.write, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.write.ExecContext(ctx, q, args...)
}

// handOver, called when a goroutine has released SQLite's one writer
// connection while others wait for it, yields the processor: releasing the
// connection made the waiting goroutine runnable on this processor, and it
// would otherwise wait until the releasing goroutine had encoded, sealed
// and sent its answer, the writer standing idle meanwhile. BenchmarkPISPipeline
// on SQLite: 0.32–0.37 → 0.39–0.47 of the ledger's rate (BENCHMARKS.md).
func (db *DB) handOver() {
	if db.engine == SQLite && db.writeWaiting.Load() > 0 {
		runtime.Gosched()
	}
}

// QueryContext runs a read outside a transaction.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	db.queries.Add(1)
	if st := db.stmt(ctx, db.read, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a single-row read outside a transaction.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	db.queries.Add(1)
	if st := db.stmt(ctx, db.read, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, q, args...)
}

// Tx is a transaction in progress.
type Tx struct {
	tx *sql.Tx
	db *DB
	// after are the functions to call once the transaction has committed.
	after []func()
	// missed are the statements run unprepared (SQLite), to prepare once
	// the transaction has ended.
	missed []string
}

// AfterCommit calls fn once this transaction has committed (not when it
// rolls back, nor for an attempt that is retried): for what must not be
// said of work that may yet be undone, such as a log line.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx, st, err := t.statement(ctx, q)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx, st, err := t.statement(ctx, q)
	if err != nil {
		return nil, err
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	sctx, st, err := t.statement(ctx, q)
	if err != nil {
		// A *sql.Row cannot be built with an error from outside database/sql;
		// a cancelled context makes the row carry one (an ended ctx's own).
		cctx, cancel := context.WithCancelCause(ctx)
		cancel(err)
		return t.tx.QueryRowContext(cctx, q, args...)
	}
	if st != nil {
		return st.QueryRowContext(sctx, args...)
	}
	return t.tx.QueryRowContext(sctx, q, args...)
}

// Engine tells which engine the transaction runs on.
func (t *Tx) Engine() Engine { return t.db.engine }

// On SQLite a transaction holds the one writer, and a statement given a
// context that can end costs goroutines while it holds it: the driver
// starts one per statement to interrupt it when the context ends, and
// database/sql one per transaction and per read to roll back or close
// when it ends — each started, woken and scheduled on the cores the
// writer's own work needs. A statement of a SQLite transaction lasts
// microseconds: there is nothing to interrupt in it. So the transaction
// is begun, once its caller has the writer (a wait the context still
// ends), with a context that cannot end (DB.begin), and every statement of
// it is run with one (statement): the caller's context is checked before
// each statement instead, and an ended one fails the statement, and so the
// transaction, as before. PostgreSQL's statements keep the caller's.

// statement counts a statement q of t and passes it through the fault
// hook, and gives the context it runs with — on SQLite ctx's values
// without its end, an ended ctx failing it — and its prepared form, if
// kept.
func (t *Tx) statement(ctx context.Context, q string) (context.Context, *sql.Stmt, error) {
	t.db.queries.Add(1)
	if err := t.db.fault(q); err != nil {
		return ctx, nil, err
	}
	if t.db.engine == SQLite {
		if err := ctx.Err(); err != nil {
			return ctx, nil, err
		}
		ctx = context.WithoutCancel(ctx)
	}
	return ctx, t.inTx(ctx, q), nil
}

// maxAttempts bounds the retries of a transaction that lost a conflict.
const maxAttempts = 10

// InTx runs fn in one transaction and commits it, or rolls it back when fn
// returns an error. A transaction that fails on a serialization conflict or a
// deadlock is retried from the start, so fn must have no side effects outside
// the transaction.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = db.inTxOnce(ctx, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * time.Millisecond)
	}
	return fmt.Errorf("transaction gave up after %d attempts: %w", maxAttempts, err)
}

func (db *DB) inTxOnce(ctx context.Context, fn func(*Tx) error) (err error) {
	db.queries.Add(2) // BEGIN and COMMIT/ROLLBACK
	db.writeWaiting.Add(1)
	sqlTx, release, err := db.begin(ctx)
	db.writeWaiting.Add(-1)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{tx: sqlTx, db: db}
	began := time.Now()
	ended := func() { db.txTime.Add(int64(time.Since(began))) } // at COMMIT or ROLLBACK
	defer func() {
		if len(tx.missed) > 0 { // the connection is free again (committed or rolled back)
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			db.prepareMissed(pctx, tx.missed)
			cancel()
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			release()
			panic(p)
		}
	}()
	err = tx.leadIn(ctx)
	if err == nil {
		err = fn(tx)
	}
	if err != nil {
		rbErr := sqlTx.Rollback()
		ended()
		release()
		db.handOver()
		if rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	err = sqlTx.Commit()
	ended()
	release()
	db.handOver()
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, fn := range tx.after {
		fn()
	}
	return nil
}

// begin begins a transaction on the writer, waiting for it as long as ctx
// lasts, and returns the function that gives the connection back once the
// transaction has ended. On SQLite the transaction's own context cannot end
// (see Tx.statement).
func (db *DB) begin(ctx context.Context) (*sql.Tx, func(), error) {
	if db.engine != SQLite {
		tx, err := db.write.BeginTx(ctx, nil)
		return tx, func() {}, err
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return tx, func() { conn.Close() }, nil
}

// retryable tells whether err is a conflict that a new attempt may resolve.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		switch sqlErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// IsUniqueViolation tells whether err comes from a UNIQUE or PRIMARY KEY
// constraint, on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		c := sqlErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
