// Package ledger is the bank's core: customers, accounts, balances, holds and
// double-entry postings. It is the only code that moves money. Every
// movement is a transfer between two accounts of the ledger; a counterparty
// outside the bank is represented by the bank's clearing account of the
// currency, so the balances of all accounts of one currency always sum to
// zero.
package ledger

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // the Europe/Warsaw calendar must not depend on the host

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// DB is the storage the ledger needs: plain queries and transactions.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// Ledger keeps the books.
type Ledger struct {
	db    DB
	clock clock.Clock
}

// New returns a ledger over db whose time comes from c.
func New(db DB, c clock.Clock) *Ledger {
	return &Ledger{db: db, clock: c}
}

// Clock is the ledger's clock.
func (l *Ledger) Clock() clock.Clock { return l.clock }

var warsaw = mustLoad("Europe/Warsaw")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// DateOf is the calendar date of t in Poland, as stored: "2006-01-02".
func DateOf(t time.Time) string { return t.In(warsaw).Format(time.DateOnly) }

// NewID returns a new time-ordered identifier (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Code classifies a ledger error.
type Code = fault.Code

var (
	CodeInvalid           = fault.Define("ledger", "invalid")
	CodeNotFound          = fault.Define("ledger", "not_found")
	CodeInsufficientFunds = fault.Define("ledger", "insufficient_funds")
	CodeCurrencyMismatch  = fault.Define("ledger", "currency_mismatch")
	CodeConflict          = fault.Define("ledger", "conflict")
)

// Error is a domain error: a code for machines and a message for people.
type Error = fault.Error

func errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of a ledger error in err's chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "ledger") }

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q store.Querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Amounts are stored as int64 minor units.
func amt(a money.Amount) int64 { return int64(a) }
