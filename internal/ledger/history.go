package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// PostingQuery selects booked items of one account, newest first, one page
// at a time. Pages are keyset-paginated on the account's item sequence, so a
// page costs the same at any depth of the history.
type PostingQuery struct {
	AccountID string
	BeforeSeq int64  // only items older than this sequence number; 0 means from the newest
	FromDate  string // booking date on or after, "YYYY-MM-DD"; optional
	ToDate    string // booking date on or before; optional
	Limit     int    // 1..1000; default 100
}

// Postings returns a page of booked items and whether more follow: the
// booking-date subset of BookedItems.
func (l *Ledger) Postings(ctx context.Context, q PostingQuery) ([]Posting, bool, error) {
	return l.BookedItems(ctx, BookedQuery{AccountID: q.AccountID, BeforeSeq: q.BeforeSeq, Limit: q.Limit,
		ItemFilter: ItemFilter{BookingFrom: q.FromDate, BookingTo: q.ToDate}})
}

// HistoricalTransfer is a transfer booked in the past, for loading history.
type HistoricalTransfer struct {
	TransferRequest
	BookedAt time.Time
}

// ImportHistory books past transfers in the order given (which must be
// chronological), in one database transaction, with the same rules as
// Transfer: both postings, balance checks, the balance after every item. It
// writes in bulk, for loading the sandbox's synthetic history quickly.
func (l *Ledger) ImportHistory(ctx context.Context, items []HistoricalTransfer) error {
	return l.db.InTx(ctx, func(tx *store.Tx) error {
		accts := map[string]*Account{}
		owners := map[string]string{}
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+`, COALESCE((SELECT name FROM customers c WHERE c.id = accounts.customer_id), '') FROM accounts`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var a Account
			var booked, avail, od, created int64
			var owner string
			if err := rows.Scan(&a.ID, &a.NRB, &a.CustomerID, &a.Currency, &a.Type, &a.Name, &booked, &avail, &od,
				&a.AllowNegative, &a.LastSeq, &a.OpenedOn, &created, &owner); err != nil {
				rows.Close()
				return err
			}
			a.Booked, a.Available, a.OverdraftLimit = money.Amount(booked), money.Amount(avail), money.Amount(od)
			accts[a.ID] = &a
			owners[a.ID] = owner
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		delta := map[string]money.Amount{}
		tw := newBulk(tx, "transfers", `id, kind, debit_account_id, credit_account_id, amount, currency, status, title,
			debtor_name, debtor_account, creditor_name, creditor_account, execution_date, trade_date, booking_date,
			status_reason, created_at, updated_at`, 18)
		pw := newBulk(tx, "postings", `id, account_id, seq, transfer_id, amount, balance_after, currency, kind, title,
			counterparty_name, counterparty_account, trade_date, booking_date, booked_at`, 14)
		pw.after = tw // postings reference their transfers: write those first
		var last time.Time
		for i, it := range items {
			if it.BookedAt.Before(last) {
				return errorf(CodeInvalid, "history item %d is booked at %s, before the item before it", i, it.BookedAt)
			}
			last = it.BookedAt
			t := it.TransferRequest
			d, c := accts[t.DebitAccountID], accts[t.CreditAccountID]
			if d == nil || c == nil {
				return errorf(CodeNotFound, "history item %d names an unknown account", i)
			}
			if t.Amount <= 0 || d == c {
				return errorf(CodeInvalid, "history item %d: amount %s between %s and %s", i, t.Amount, d.ID, c.ID)
			}
			if t.Currency == "" {
				t.Currency = d.Currency
			}
			if d.Currency != t.Currency || c.Currency != t.Currency {
				return errorf(CodeCurrencyMismatch, "history item %d: %s between accounts in %s and %s", i, t.Currency, d.Currency, c.Currency)
			}
			fill := func(p *Party, a *Account) error {
				if a.Type == TypeClearing {
					if p.Name == "" {
						return errorf(CodeInvalid, "history item %d needs the outside party's name", i)
					}
					return nil
				}
				if p.Name == "" {
					p.Name = owners[a.ID]
				}
				if p.Account == "" {
					p.Account = a.NRB
				}
				return nil
			}
			if err := fill(&t.Debtor, d); err != nil {
				return err
			}
			if err := fill(&t.Creditor, c); err != nil {
				return err
			}
			if !d.AllowNegative && d.Available+d.OverdraftLimit-t.Amount < 0 {
				return errorf(CodeInsufficientFunds, "history item %d (%s, %q): insufficient funds on %s: available %s, amount %s",
					i, it.BookedAt.Format(time.RFC3339), t.Title, d.NRB, d.Available, t.Amount)
			}
			if t.ID == "" {
				t.ID = NewID()
			}
			day := DateOf(it.BookedAt)
			if t.TradeDate == "" {
				t.TradeDate = day
			}
			if t.ExecutionDate == "" {
				t.ExecutionDate = t.TradeDate
			}
			if t.Kind == "" {
				t.Kind = "internal"
			}
			at := micros(it.BookedAt)
			if err := tw.add(ctx, t.ID, t.Kind, d.ID, c.ID, amt(t.Amount), t.Currency, string(StatusBooked), t.Title,
				t.Debtor.Name, t.Debtor.Account, t.Creditor.Name, t.Creditor.Account, t.ExecutionDate, t.TradeDate, day,
				"", at, at); err != nil {
				return err
			}
			for _, leg := range []struct {
				a     *Account
				id    string
				delta money.Amount
				other Party
			}{{d, t.ID, -t.Amount, t.Creditor}, {c, NewID(), t.Amount, t.Debtor}} {
				leg.a.Booked += leg.delta
				leg.a.Available += leg.delta
				leg.a.LastSeq++
				delta[leg.a.ID] += leg.delta
				if err := pw.add(ctx, leg.id, leg.a.ID, leg.a.LastSeq, t.ID, amt(leg.delta), amt(leg.a.Booked), t.Currency,
					t.Kind, t.Title, leg.other.Name, leg.other.Account, t.TradeDate, day, at); err != nil {
					return err
				}
			}
		}
		if err := pw.flush(ctx); err != nil {
			return err
		}
		ids := make([]string, 0, len(delta))
		for id := range delta {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			a := accts[id]
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET booked_balance = booked_balance + $1,
				available_balance = available_balance + $1, last_seq = $2 WHERE id = $3`, amt(delta[id]), a.LastSeq, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// bulk collects rows and writes them with multi-row INSERTs.
type bulk struct {
	tx      *store.Tx
	table   string
	columns string
	width   int
	args    []any
	after   *bulk // flushed before this one
}

const bulkRows = 400

func newBulk(tx *store.Tx, table, columns string, width int) *bulk {
	return &bulk{tx: tx, table: table, columns: columns, width: width}
}

func (b *bulk) add(ctx context.Context, values ...any) error {
	if len(values) != b.width {
		return fmt.Errorf("bulk insert into %s: %d values for %d columns", b.table, len(values), b.width)
	}
	b.args = append(b.args, values...)
	if len(b.args) >= bulkRows*b.width {
		return b.flush(ctx)
	}
	return nil
}

func (b *bulk) flush(ctx context.Context) error {
	if b.after != nil {
		if err := b.after.flush(ctx); err != nil {
			return err
		}
	}
	if len(b.args) == 0 {
		return nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "INSERT INTO %s (%s) VALUES ", b.table, b.columns)
	// SQLite resolves $N parameters by a linear search that makes a statement
	// with thousands of them quadratic; plain ? placeholders bind in order.
	positional := b.tx.Engine() == store.SQLite
	for r := 0; r < len(b.args)/b.width; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := 0; c < b.width; c++ {
			if c > 0 {
				sb.WriteByte(',')
			}
			if positional {
				sb.WriteByte('?')
			} else {
				fmt.Fprintf(&sb, "$%d", r*b.width+c+1)
			}
		}
		sb.WriteByte(')')
	}
	_, err := b.tx.ExecContext(ctx, sb.String(), b.args...)
	b.args = b.args[:0]
	if err != nil {
		return fmt.Errorf("bulk insert into %s: %w", b.table, err)
	}
	return nil
}
