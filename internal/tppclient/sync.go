package tppclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
)

// UnattendedLimit is the regulatory limit of accesses per account a day
// without the customer present (RTS art. 36(5)): sync stays within it.
const UnattendedLimit = 4

// SyncReport says what a sync did.
type SyncReport struct {
	Accounts, Pages, Items int
	Skipped                []string // accounts skipped to respect the daily limit
	Warnings               []string
}

// Sync imports the booked and pending items of every account of the
// consent into the book, from the newest booked item already imported
// (with a few days' overlap) or historyDays back the first time. Re-runs add
// no duplicates. Each account costs one unattended access a day at most
// once per list; an account that would exceed the daily limit is skipped
// with a warning. It warns when the consent ends within warnDays.
func (c *Client) Sync(ctx context.Context, b *Book, historyDays, warnDays int, log io.Writer) (SyncReport, error) {
	var rep SyncReport
	t, err := b.Tokens()
	if err != nil {
		return rep, err
	}
	now := c.now()
	if !t.ConsentUntil.IsZero() {
		left := t.ConsentUntil.Sub(now)
		switch {
		case left <= 0:
			return rep, fmt.Errorf("the consent ended on %s: run `psd2bank tpp connect` to renew it", t.ConsentUntil.Format(time.DateOnly))
		case left < time.Duration(warnDays)*24*time.Hour:
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("the consent ends on %s (in %d days): renew it with `psd2bank tpp connect`",
				t.ConsentUntil.Format(time.DateOnly), int(left.Hours()/24)))
		}
	}
	if now.After(t.ExpiresAt.Add(-30 * time.Second)) {
		if t, err = c.Refresh(ctx, t); err != nil {
			return rep, fmt.Errorf("refresh the access token: %w", err)
		}
		if err := b.SaveTokens(t); err != nil {
			return rep, err
		}
	}
	day := now.Format(time.DateOnly)
	for _, nrb := range t.Accounts {
		if b.accessesToday(nrb, day)+2 > UnattendedLimit {
			rep.Skipped = append(rep.Skipped, nrb)
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("account %s skipped: it was read %d times today and the bank allows %d without the customer",
				nrb, b.accessesToday(nrb, day), UnattendedLimit))
			continue
		}
		rep.Accounts++
		from := now.AddDate(0, 0, -historyDays).Format(time.DateOnly)
		if last := b.lastBooking(nrb); last != "" {
			if d, err := time.Parse(time.DateOnly, last); err == nil {
				from = d.AddDate(0, 0, -3).Format(time.DateOnly)
			}
		}
		for _, list := range []string{"done", "pending"} {
			if _, err := b.countAccess(nrb, day); err != nil {
				return rep, err
			}
			pageID := ""
			for {
				body, next, err := c.Page(ctx, t, nrb, list, from, pageID, false)
				if IsExpired(err) { // the bank's clock may run ahead of ours
					if t, err = c.Refresh(ctx, t); err != nil {
						return rep, fmt.Errorf("refresh the access token: %w", err)
					}
					if err := b.SaveTokens(t); err != nil {
						return rep, err
					}
					body, next, err = c.Page(ctx, t, nrb, list, from, pageID, false)
				}
				if err != nil {
					return rep, fmt.Errorf("account %s, %s items: %w", nrb, list, err)
				}
				rep.Pages++
				n, err := c.store(ctx, b, nrb, list, body, now)
				if err != nil {
					return rep, err
				}
				rep.Items += n
				if next == "" {
					break
				}
				pageID = next
			}
		}
		if log != nil {
			fmt.Fprintf(log, "synced %s\n", nrb)
		}
	}
	return rep, nil
}

// bookItem reads an item of either dialect.
func (c *Client) bookItem(raw []byte) (Item, error) {
	var it Item
	if c.Dialect == "mbank" {
		var m mbank.Transaction
		if err := json.Unmarshal(raw, &m); err != nil {
			return it, err
		}
		party := m.Recipient
		if len(m.Amount) > 0 && m.Amount[0] != '-' {
			party = m.Sender
		}
		it = Item{ItemID: m.AspspTransactionID, BookingDate: m.BookingDate, TradeDate: m.TradeDate, Amount: m.Amount,
			Currency: m.Currency, Description: m.Description, BalanceAfter: m.PostTransactionBalance}
		if party != nil {
			it.CounterpartyName, it.CounterpartyAccount = party.Name, party.AccountNumber
		}
		return it, nil
	}
	var p polishapi.TransactionInfo
	if err := json.Unmarshal(raw, &p); err != nil {
		return it, err
	}
	// PolishAPI amounts are unsigned; transactionCategory says which way.
	amount := p.Amount
	debit := p.TransactionCategory == "DEBIT"
	if debit && !strings.HasPrefix(amount, "-") {
		amount = "-" + amount
	}
	it = Item{ItemID: p.ItemID, BookingDate: p.BookingDate, TradeDate: p.TradeDate, Amount: amount, Currency: p.Currency,
		Description: p.Description, BalanceAfter: p.PostTransactionBalance}
	party := p.Sender
	if debit {
		party = p.Recipient
	}
	if party != nil {
		it.CounterpartyAccount = party.AccountNumber
		if party.NameAddress != nil && len(party.NameAddress.Value) > 0 {
			it.CounterpartyName = party.NameAddress.Value[0]
		}
	}
	return it, nil
}

// day keeps the calendar day of a date or date-time (the bank writes
// date-times in Polish time, so their first ten characters are the day).
func day(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

func (c *Client) store(ctx context.Context, b *Book, nrb, list string, body []byte, now time.Time) (int, error) {
	var page struct {
		Transactions []json.RawMessage `json:"transactions"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, err
	}
	status := map[string]string{"done": "booked", "pending": "pending"}[list]
	for _, raw := range page.Transactions {
		it, err := c.bookItem(raw)
		if err != nil {
			return 0, err
		}
		it.Account, it.Status = nrb, status
		it.BookingDate, it.TradeDate = day(it.BookingDate), day(it.TradeDate)
		if err := b.upsert(ctx, it, raw, now); err != nil {
			return 0, err
		}
	}
	return len(page.Transactions), nil
}
