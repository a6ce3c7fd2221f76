package ledger

import (
	"context"
	"errors"
	"fmt"
)

// CheckInvariants verifies the books: for every currency the balances of
// all accounts sum to zero (money is neither created nor lost); every
// account's booked balance is the sum of its postings, their sequence has no
// gap, and each posting's balance-after follows from the one before; the
// available balance is the booked balance less active holds; every booked
// transfer has exactly two postings that cancel out and no other transfer
// has any; no account without an overdraft is below zero. It reads the whole
// ledger: for tests and audits, not for the request path.
func (l *Ledger) CheckInvariants(ctx context.Context) error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	rows, err := l.db.QueryContext(ctx, `SELECT currency, SUM(booked_balance), SUM(available_balance) FROM accounts GROUP BY currency`)
	if err != nil {
		return err
	}
	holdsByCurrency := map[string]int64{}
	type sums struct{ booked, avail int64 }
	byCurrency := map[string]sums{}
	for rows.Next() {
		var cur string
		var s sums
		if err := rows.Scan(&cur, &s.booked, &s.avail); err != nil {
			rows.Close()
			return err
		}
		byCurrency[cur] = s
	}
	rows.Close()
	if err := l.scanRows(ctx, `SELECT currency, COALESCE(SUM(amount), 0) FROM holds WHERE status = 'active' GROUP BY currency`,
		func(scan func(...any) error) error {
			var cur string
			var n int64
			if err := scan(&cur, &n); err != nil {
				return err
			}
			holdsByCurrency[cur] = n
			return nil
		}); err != nil {
		return err
	}
	for cur, s := range byCurrency {
		if s.booked != 0 {
			add("%s: booked balances sum to %d minor units, not 0: money was created or lost", cur, s.booked)
		}
		if s.avail != -holdsByCurrency[cur] {
			add("%s: available balances sum to %d, active holds to %d", cur, s.avail, holdsByCurrency[cur])
		}
	}

	accounts, err := l.Accounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		var held int64
		if err := l.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM holds WHERE account_id = $1 AND status = 'active'`, a.ID).Scan(&held); err != nil {
			return err
		}
		if int64(a.Available) != int64(a.Booked)-held {
			add("account %s: available %d != booked %d - holds %d", a.NRB, a.Available, a.Booked, held)
		}
		if !a.AllowNegative && int64(a.Available)+int64(a.OverdraftLimit) < 0 {
			add("account %s: available balance %d below zero", a.NRB, a.Available)
		}
		var balance, want int64
		err := l.scanRows(ctx, `SELECT seq, amount, balance_after FROM postings WHERE account_id = $1 ORDER BY seq`,
			func(scan func(...any) error) error {
				var seq, amount, after int64
				if err := scan(&seq, &amount, &after); err != nil {
					return err
				}
				want++
				if seq != want {
					add("account %s: posting sequence jumps to %d, expected %d", a.NRB, seq, want)
					want = seq
				}
				balance += amount
				if after != balance {
					add("account %s: posting %d says balance after %d, running sum is %d", a.NRB, seq, after, balance)
				}
				return nil
			}, a.ID)
		if err != nil {
			return err
		}
		if balance != int64(a.Booked) {
			add("account %s: booked balance %d, postings sum to %d", a.NRB, a.Booked, balance)
		}
		if want != a.LastSeq {
			add("account %s: last sequence %d, %d postings", a.NRB, a.LastSeq, want)
		}
	}

	err = l.scanRows(ctx, `SELECT t.id, t.status, t.amount, COUNT(p.id), COALESCE(SUM(p.amount), 0),
			COALESCE(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), 0)
		FROM transfers t LEFT JOIN postings p ON p.transfer_id = t.id GROUP BY t.id, t.status, t.amount`,
		func(scan func(...any) error) error {
			var id, status string
			var amount, n, sum, credit int64
			if err := scan(&id, &status, &amount, &n, &sum, &credit); err != nil {
				return err
			}
			switch {
			case status == string(StatusBooked) && (n != 2 || sum != 0 || credit != amount):
				add("transfer %s: booked with %d postings summing to %d (credit %d of %d)", id, n, sum, credit, amount)
			case status != string(StatusBooked) && n != 0:
				add("transfer %s: %s but has %d postings", id, status, n)
			}
			return nil
		})
	if err != nil {
		return err
	}
	return errors.Join(problems...)
}

func (l *Ledger) scanRows(ctx context.Context, q string, fn func(scan func(...any) error) error, args ...any) error {
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
