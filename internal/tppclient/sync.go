package tppclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"

	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
)

// UnattendedLimit is the regulatory limit of accesses per account in
// UnattendedWindow without the customer present (RTS art. 36(5)): sync
// stays within it.
const UnattendedLimit = 4

// UnattendedWindow is the window of the limit, in the bank's time.
const UnattendedWindow = 24 * time.Hour

// SyncOptions says how far back a sync reaches and where it reports.
type SyncOptions struct {
	// HistoryDays is how far back the first sync of an account reaches.
	HistoryDays int
	// WarnDays: warn when the consent ends within this many days.
	WarnDays int
	// From, a day (YYYY-MM-DD), re-imports every account's items booked
	// from that day on, whatever the book holds: the way to repair a book
	// whose items do not add up. Empty: from the newest booked item the book
	// holds (less Overlap days), or HistoryDays back the first time.
	From string
	// Progress, when set, hears of each account and page as the sync goes.
	Progress io.Writer
	// Present says the customer runs this sync themselves: the reads tell
	// the bank so (PolishAPI isDirectPsu, mBank PSU-Session, Berlin Group
	// PSU-IP-Address) and do not count against the day's reads without
	// the customer. A first import of a long history in Berlin Group,
	// where every page is a read, needs it.
	Present bool
}

// Overlap is how many days before its newest booked item a sync reads an
// account again: the bank lists items by day, so the days re-read come
// whole, and an item the bank booked later on a day already read (or a
// pending payment booked since) is not missed.
const Overlap = 3

// Outcome is what a sync did with one account.
type Outcome struct {
	Account string
	Status  string // "synced", "skipped" (the daily limit) or "failed"
	Items   int    // items read
	Problem string // why it was skipped or failed
	Hint    string // what to do
}

// SyncReport says what a sync did.
type SyncReport struct {
	Accounts, Pages, Items int
	Skipped                []string // accounts skipped to respect the daily limit
	Warnings               []string
	Outcomes               []Outcome // one per account of the consent, in its order
}

// Failed tells whether any account was skipped or failed.
func (r SyncReport) Failed() bool {
	for _, o := range r.Outcomes {
		if o.Status != "synced" {
			return true
		}
	}
	return false
}

// Sync imports the booked and pending items of every account of the
// consent into the book, from the newest booked item already imported
// (with Overlap days' overlap) or historyDays back the first time. Re-runs add
// no duplicates. Each account costs one unattended access a day at most
// once per list; an account that would exceed the daily limit is skipped
// with a warning. It warns when the consent ends within warnDays.
func (c *Client) Sync(ctx context.Context, b *Book, historyDays, warnDays int, log io.Writer) (SyncReport, error) {
	return c.SyncWith(ctx, b, SyncOptions{HistoryDays: historyDays, WarnDays: warnDays, Progress: log})
}

// SyncWith is Sync with options. An account the bank refuses (its API
// access blocked by the holder, its reads for the day spent) does not stop
// the others: its outcome says what happened and what to do. The error is
// for what stops the whole sync (no consent, the consent over, the book).
func (c *Client) SyncWith(ctx context.Context, b *Book, o SyncOptions) (SyncReport, error) {
	var rep SyncReport
	t, err := b.Tokens()
	if err != nil {
		return rep, err
	}
	now := c.BankNow(ctx)
	if o.From != "" {
		d, err := time.ParseInLocation(time.DateOnly, o.From, bankZone)
		if err != nil {
			return rep, fmt.Errorf("sync --from %q: give a day as YYYY-MM-DD", o.From)
		}
		if d.After(now) {
			return rep, fmt.Errorf("sync --from %s: the day is after today (%s)", o.From, bankDay(now))
		}
	}
	if !t.ConsentUntil.IsZero() {
		left := t.ConsentUntil.Sub(now)
		switch {
		case left <= 0:
			return rep, fmt.Errorf("the consent ended on %s: run `psd2bank tpp connect` to renew it", t.ConsentUntil.Format(time.DateOnly))
		case left < time.Duration(o.WarnDays)*24*time.Hour:
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
	for i, nrb := range t.Accounts {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "[%d/%d] %s ...\n", i+1, len(t.Accounts), nrb)
		}
		// A sync reads two lists (booked, pending) in PolishAPI and mBank;
		// one in Berlin Group (bookingStatus=both), a read for each page.
		need, w := 2, c.window()
		if c.berlinGroup() {
			need = 1
		}
		if ok, used, next := b.readsAllowedIn(w, t.ConsentID, nrb, need, now); !ok && !o.Present {
			when := next.In(bankZone).Format("2006-01-02 15:04 MST")
			rep.Skipped = append(rep.Skipped, nrb)
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("account %s skipped: it was read %d times %s and the bank allows %d without the customer",
				nrb, used, w, UnattendedLimit))
			rep.Outcomes = append(rep.Outcomes, Outcome{Account: nrb, Status: "skipped",
				Problem: fmt.Sprintf("read %d times %s; the bank allows %d reads without the customer", used, w, UnattendedLimit),
				Hint:    fmt.Sprintf("sync again from %s (the bank's time), or run `psd2bank tpp connect` with the customer: a new consent starts afresh", when)})
			continue
		}
		from := syncFrom(b, nrb, now, o)
		var n int
		var warnings []string
		if c.berlinGroup() {
			n, warnings, err = c.syncAccountBG(ctx, b, &t, nrb, from, now, &rep, o)
		} else {
			n, warnings, err = c.syncAccount(ctx, b, &t, nrb, from, now, &rep, o)
		}
		rep.Warnings = append(rep.Warnings, warnings...)
		if err != nil {
			var book *bookError
			if errors.As(err, &book) {
				return rep, err
			}
			var spent *readsSpent
			if errors.As(err, &spent) {
				rep.Skipped = append(rep.Skipped, nrb)
				rep.Outcomes = append(rep.Outcomes, Outcome{Account: nrb, Status: "skipped", Items: n, Problem: spent.Error(),
					Hint: fmt.Sprintf("sync again from %s (the bank's time), or run `psd2bank tpp sync --present` with the customer, whose reads do not count",
						spent.next.In(bankZone).Format("2006-01-02 15:04 MST"))})
				continue
			}
			rep.Outcomes = append(rep.Outcomes, failure(nrb, n, err))
			continue
		}
		rep.Accounts++
		rep.Items += n
		rep.Outcomes = append(rep.Outcomes, Outcome{Account: nrb, Status: "synced", Items: n})
	}
	return rep, nil
}

// syncFrom is the first booking day a sync of an account reads: the day
// asked, or Overlap days before the last sync (every item booked since is
// booked on or after its day: booking days never go back), or before the
// newest booked item of a book made by an older psd2bank; never further
// back than the consent's history (HistoryDays), which the bank would
// refuse: the book then starts again from there.
func syncFrom(b *Book, nrb string, now time.Time, o SyncOptions) string {
	if o.From != "" {
		return o.From
	}
	window := bankDay(now.AddDate(0, 0, -o.HistoryDays))
	from := window
	if cov, ok, err := b.Coverage(nrb); err == nil && ok {
		from = bankDay(cov.SyncedAt.AddDate(0, 0, -Overlap))
	} else if last := b.lastBooking(nrb); last != "" {
		if d, err := time.Parse(time.DateOnly, last); err == nil {
			from = d.AddDate(0, 0, -Overlap).Format(time.DateOnly)
		}
	}
	if from < window {
		from = window
	}
	return from
}

// bookError is a failure of the local book: it stops the sync.
type bookError struct{ err error }

func (e *bookError) Error() string { return "the book: " + e.err.Error() }
func (e *bookError) Unwrap() error { return e.err }

// failure describes a refusal of the bank for one account, with what to do.
func failure(nrb string, items int, err error) Outcome {
	out := Outcome{Account: nrb, Status: "failed", Items: items, Problem: err.Error()}
	var e *Error
	if errors.As(err, &e) {
		code := strings.ToLower(e.Code)
		switch {
		case e.Status == 429 || strings.Contains(code, "limit"):
			out.Hint = "the bank's unattended reads of this account are spent for now (the bank says until when): sync again then, or run `psd2bank tpp connect` with the customer: a new consent starts afresh"
		case strings.Contains(code, "block") || strings.Contains(code, "activ"):
			out.Hint = "the account holder has blocked API access to this account: they can activate it in internet banking (API access)"
		case strings.Contains(code, "history") || code == "period_invalid":
			out.Hint = "the consent does not reach that far back: sync from a later day, or connect again with a longer history (history_days)"
		case e.Status == 401 || e.Status == 403:
			out.Hint = "the consent no longer covers this account: run `psd2bank tpp connect` with the customer"
		}
	}
	if out.Hint == "" {
		out.Hint = "try again later; if it persists, re-sync the account with `psd2bank tpp sync --from DAY`"
	}
	return out
}

// syncAccount reads an account's booked items from the day from on, then
// its pending items, and stores each list in one transaction. It returns
// how many items it read and warnings about the bank's items.
func (c *Client) syncAccount(ctx context.Context, b *Book, t *Tokens, nrb, from string, now time.Time, rep *SyncReport, o SyncOptions) (int, []string, error) {
	var warnings []string
	total := 0
	progress := o.Progress
	for _, list := range []string{"done", "pending"} {
		if !o.Present {
			if err := b.countRead(t.ConsentID, nrb, now); err != nil {
				return total, warnings, &bookError{err}
			}
		}
		var items []received
		pageID := ""
		for {
			body, next, err := c.Page(ctx, *t, nrb, list, from, pageID, o.Present)
			if IsExpired(err) { // the bank's clock may run ahead of ours
				nt, rerr := c.Refresh(ctx, *t)
				if rerr != nil {
					return total, warnings, fmt.Errorf("refresh the access token: %w", rerr)
				}
				*t = nt
				if err := b.SaveTokens(*t); err != nil {
					return total, warnings, &bookError{err}
				}
				body, next, err = c.Page(ctx, *t, nrb, list, from, pageID, o.Present)
			}
			if err != nil {
				return total, warnings, fmt.Errorf("%s items: %w", list, err)
			}
			rep.Pages++
			page, err := c.readPage(body)
			if err != nil {
				return total, warnings, fmt.Errorf("%s items: %w", list, err)
			}
			items = append(items, page...)
			if progress != nil && next != "" {
				fmt.Fprintf(progress, "  %s: %d %s items so far\n", nrb, len(items), list)
			}
			if next == "" {
				break
			}
			pageID = next
		}
		total += len(items)
		var err error
		if list == "done" {
			warnings = append(warnings, checkChain(b, nrb, from, items)...)
			err = b.storeBooked(ctx, nrb, from, items, now)
		} else {
			err = b.storePending(ctx, nrb, from, items, now)
		}
		if err != nil {
			return total, warnings, &bookError{err}
		}
	}
	if progress != nil {
		fmt.Fprintf(progress, "synced %s\n", nrb)
	}
	return total, warnings, nil
}

// checkChain checks the booked items the bank listed (newest first) against
// the balance after each: each item's balance after is the one before plus
// its amount, from the last item the book holds before from on. It warns of
// the first item that breaks the chain.
func checkChain(b *Book, nrb, from string, newestFirst []received) []string {
	var prev *Item
	// The item before from, when the book holds the account's history up
	// to from without a gap (the last sync reached from).
	if cov, ok, _ := b.Coverage(nrb); ok && cov.BookedFrom <= from && from <= bankDay(cov.SyncedAt) {
		if it, ok := b.itemBefore(nrb, from); ok {
			prev = &it
		}
	}
	for i := len(newestFirst) - 1; i >= 0; i-- {
		it := newestFirst[i].Item
		if prev != nil {
			if msg := chainBreak(*prev, it); msg != "" {
				return []string{fmt.Sprintf("account %s: %s; the bank's list does not add up there", nrb, msg)}
			}
		}
		prev = &it
	}
	return nil
}

// chainBreak says why it cannot follow prev in an account's history, or "".
func chainBreak(prev, it Item) string {
	before, err1 := money.ParseSigned(prev.BalanceAfter)
	amount, err2 := money.ParseSigned(it.Amount)
	after, err3 := money.ParseSigned(it.BalanceAfter)
	switch {
	case err2 != nil:
		return fmt.Sprintf("item %s (booked %s) has no amount the book can read (%q)", it.ItemID, it.BookingDate, it.Amount)
	case err1 != nil || err3 != nil:
		return fmt.Sprintf("item %s (booked %s) has no balance after it from the bank", it.ItemID, it.BookingDate)
	case before+amount != after:
		return fmt.Sprintf("item %s (booked %s, %s %s, %q) leaves a balance of %s, but the item before it, %s (booked %s), left %s, and %s plus %s is %s",
			it.ItemID, it.BookingDate, it.Amount, it.Currency, shorten(it.Description), after, prev.ItemID, prev.BookingDate, before,
			before, amount, before+amount)
	}
	return ""
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

// readPage reads the items of one page of a list.
func (c *Client) readPage(body []byte) ([]received, error) {
	var page struct {
		Transactions []json.RawMessage `json:"transactions"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, err
	}
	out := make([]received, 0, len(page.Transactions))
	for _, raw := range page.Transactions {
		it, err := c.bookItem(raw)
		if err != nil {
			return nil, err
		}
		it.BookingDate, it.TradeDate = day(it.BookingDate), day(it.TradeDate)
		out = append(out, received{Item: it, raw: raw})
	}
	return out, nil
}

// bankZone is the bank's time zone: its days are Polish days.
var bankZone = polish.Warsaw

// bankDay is the bank's calendar day of t.
func bankDay(t time.Time) string { return t.In(bankZone).Format(time.DateOnly) }

// shorten cuts a title for a message.
func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// Balance is one account's balances, or why the bank did not give them.
type Balance struct {
	Account, Currency, Booked, Available string
	Err                                  error
	Outcome                              Outcome // Problem and Hint when Err is set
}

// Balances reads every account's balances, as asked by the user at the
// command line (isDirectPsu, as psd2bank tpp always did: not one of the
// daily unattended reads); an account the bank refuses does not stop the
// others.
func (c *Client) Balances(ctx context.Context, b *Book) ([]Balance, error) {
	t, err := b.Tokens()
	if err != nil {
		return nil, err
	}
	c.BankNow(ctx)
	if c.now().After(t.ExpiresAt.Add(-30 * time.Second)) {
		if t, err = c.Refresh(ctx, t); err != nil {
			return nil, fmt.Errorf("refresh the access token: %w", err)
		}
		if err := b.SaveTokens(t); err != nil {
			return nil, err
		}
	}
	out := make([]Balance, 0, len(t.Accounts))
	for _, nrb := range t.Accounts {
		a, err := c.Account(ctx, t, nrb, true)
		if IsExpired(err) {
			if nt, rerr := c.Refresh(ctx, t); rerr == nil {
				t = nt
				if err := b.SaveTokens(t); err != nil {
					return out, err
				}
				a, err = c.Account(ctx, t, nrb, true)
			}
		}
		if err != nil {
			out = append(out, Balance{Account: nrb, Err: err, Outcome: failure(nrb, 0, err)})
			continue
		}
		out = append(out, Balance{Account: nrb, Currency: a.Currency, Booked: a.BookingBalance, Available: a.AvailableBalance})
	}
	return out, nil
}

// readsSpent stops a Berlin Group sync of an account whose pages need
// more reads than the bank's day has left: nothing of it is stored.
type readsSpent struct {
	used int
	next time.Time
}

func (e *readsSpent) Error() string {
	return fmt.Sprintf("the account's list needs more pages than the reads left today (%d of %d used; each page is a read at this bank)",
		e.used, UnattendedLimit)
}

// syncAccountBG reads an account's booked and pending items in Berlin
// Group: bookingStatus=both from the day from on, page after page by
// _links.next, each page a read (counted in the book unless the customer
// is present). The booked items keep the bank's order (newest first, as
// it lists them): their place in their day is their place in the list.
func (c *Client) syncAccountBG(ctx context.Context, b *Book, t *Tokens, nrb, from string, now time.Time, rep *SyncReport, o SyncOptions) (int, []string, error) {
	var booked, pending []received
	next := ""
	for first := true; ; first = false {
		if !o.Present {
			if ok, used, when := b.readsAllowedIn(windowDay, t.ConsentID, nrb, 1, now); !ok {
				return len(booked), nil, &readsSpent{used: used, next: when}
			}
			if err := b.countRead(t.ConsentID, nrb, now); err != nil {
				return len(booked), nil, &bookError{err}
			}
		}
		bk, pd, nx, err := c.bgPage(ctx, *t, nrb, from, next, o.Present)
		if err != nil {
			return len(booked), nil, fmt.Errorf("transactions: %w", err)
		}
		rep.Pages++
		booked = append(booked, bk...)
		if first {
			pending = pd
		}
		if nx == "" {
			break
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "  %s: %d booked items so far\n", nrb, len(booked))
		}
		next = nx
	}
	warnings := checkChain(b, nrb, from, booked)
	if err := b.storeBooked(ctx, nrb, from, booked, now); err != nil {
		return len(booked), warnings, &bookError{err}
	}
	// Pending items carry no dates in Berlin Group: the list is the
	// account's pending items, and any other pending row is gone.
	if err := b.storePending(ctx, nrb, "", pending, now); err != nil {
		return len(booked), warnings, &bookError{err}
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "synced %s\n", nrb)
	}
	return len(booked) + len(pending), warnings, nil
}

// window is how the bank counts reads without the customer: Berlin
// Group's frequencyPerDay per calendar day in Warsaw, the others in any
// 24 hours.
func (c *Client) window() readWindow {
	if c.berlinGroup() {
		return windowDay
	}
	return window24h
}
