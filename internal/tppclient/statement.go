package tppclient

import (
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/export"
	"github.com/psd2bank/psd2bank/internal/money"
)

// ErrNotInBook is wrapped by Statement's error when the book holds nothing
// of the account: it is not an account of the consent, or it was never
// synced.
var ErrNotInBook = errors.New("the account is not in the book")

// ChainError says where an account's items in the book stop adding up:
// the first item whose balance after (the bank's) is not the balance
// before it plus its amount. Something is missing or doubled between
// Prev and Item; a re-sync from ResyncFrom reads that stretch again.
type ChainError struct {
	Account    string
	Item       Item
	Prev       Item // the item before it in the book; empty for the first
	Reason     string
	ResyncFrom string // a day (YYYY-MM-DD)
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("the book's items of account %s do not add up: %s. Read them again from the bank with "+
		"`psd2bank tpp sync --from %s`, then export again", e.Account, e.Reason, e.ResyncFrom)
}

// StatementNotes are what the user should know about a statement that was
// made: that its period reaches past the last sync, for example.
type StatementNotes []string

// Statement builds a statement of an account's booked items from the book,
// for booking days from..to (inclusive), in the bank's booking order.
// Opening and closing balances come from the bank's balance after each
// item, so they reconcile with the bank's books; the chain of balances is
// checked from the item before the period to its last one, and the first
// item that breaks it is named in a *ChainError. A period that starts
// before the book's history of the account is refused (sync further back
// first); a period without items gets the balance the account had then.
func (b *Book) Statement(owner export.Account, from, to time.Time) (export.Statement, StatementNotes, error) {
	nrb := ownerAccount(owner)
	s := export.Statement{Account: owner, From: from, To: to}
	cov, synced, err := b.Coverage(nrb)
	if err != nil {
		return s, nil, err
	}
	all, err := b.bookedItems(nrb)
	if err != nil {
		return s, nil, err
	}
	if !synced && len(all) == 0 {
		return s, nil, fmt.Errorf("account %s: %w: it is not one of the consent's accounts, or it was never synced (`psd2bank tpp accounts` lists them; `psd2bank tpp sync` reads them)", nrb, ErrNotInBook)
	}
	fromDay, toDay := bankDay(from), bankDay(to)
	var notes StatementNotes
	if synced && fromDay < cov.BookedFrom {
		return s, nil, fmt.Errorf("account %s: the book holds its items booked from %s on, and the statement starts on %s: "+
			"read the earlier ones with `psd2bank tpp sync --from %s` (as far back as the consent allows), or start the statement on %s",
			nrb, cov.BookedFrom, fromDay, fromDay, cov.BookedFrom)
	}
	if synced && toDay >= bankDay(cov.SyncedAt) {
		notes = append(notes, fmt.Sprintf("the book was last synced at %s: items the bank booked after that are not in the statement",
			cov.SyncedAt.In(bankZone).Format("2006-01-02 15:04 MST")))
	}
	lo, hi := 0, 0 // all[lo:hi] are the period's items
	for lo < len(all) && all[lo].BookingDate < fromDay {
		lo++
	}
	for hi = lo; hi < len(all) && all[hi].BookingDate <= toDay; hi++ {
	}
	// Days an older psd2bank imported without the bank's order: by the
	// balance chain, from the day before the period on.
	firstDay := fromDay
	if lo > 0 {
		firstDay = all[lo-1].BookingDate
	}
	// The chain from the item before the period to the period's last (not
	// from an older day whose order is unsure).
	start := lo
	if start > 0 && (!synced || all[lo-1].BookingDate >= cov.BookedFrom) {
		start-- // the item before the period, when no gap lies between
	}
	for _, day := range placeUnplaced(all[:hi], firstDay) {
		if day >= fromDay {
			return s, nil, &ChainError{Account: nrb, ResyncFrom: day, Reason: fmt.Sprintf("the items booked on %s were imported by an older "+
				"psd2bank without the bank's order, and their balances allow more than one order", day)}
		}
		start = lo // the day before the period is unsure: its last item is not known
	}
	for i := start; i < hi; i++ {
		if _, err := money.ParseSigned(all[i].Amount); err != nil {
			return s, nil, &ChainError{Account: nrb, Item: all[i], ResyncFrom: all[i].BookingDate,
				Reason: fmt.Sprintf("item %s (booked %s) has an amount the book cannot read (%q)", all[i].ItemID, all[i].BookingDate, all[i].Amount)}
		}
		if _, err := money.ParseSigned(all[i].BalanceAfter); err != nil {
			return s, nil, &ChainError{Account: nrb, Item: all[i], ResyncFrom: all[i].BookingDate,
				Reason: fmt.Sprintf("item %s (booked %s) has no balance after it from the bank", all[i].ItemID, all[i].BookingDate)}
		}
		if i > start {
			if msg := chainBreak(all[i-1], all[i]); msg != "" {
				return s, nil, &ChainError{Account: nrb, Item: all[i], Prev: all[i-1], ResyncFrom: all[i-1].BookingDate,
					Reason: msg + "; something between the two is missing or doubled in the book"}
			}
		}
	}
	switch {
	case lo < hi:
		after, _ := money.ParseSigned(all[lo].BalanceAfter)
		amount, _ := money.ParseSigned(all[lo].Amount)
		s.OpeningBalance = after - amount
	case start < lo: // no item in the period: the balance the item before it left
		s.OpeningBalance, _ = money.ParseSigned(all[lo-1].BalanceAfter)
	case hi < len(all): // or the balance before the first item after it
		after, _ := money.ParseSigned(all[hi].BalanceAfter)
		amount, _ := money.ParseSigned(all[hi].Amount)
		s.OpeningBalance = after - amount
	default:
		return s, nil, fmt.Errorf("account %s: the book holds no booked item of it, so its balance is unknown: sync it first (`psd2bank tpp sync`)", nrb)
	}
	s.ClosingBalance = s.OpeningBalance
	for _, it := range all[lo:hi] {
		amount, _ := money.ParseSigned(it.Amount)
		after, _ := money.ParseSigned(it.BalanceAfter)
		d, _ := time.ParseInLocation(time.DateOnly, it.BookingDate, bankZone)
		s.ClosingBalance = after
		s.Items = append(s.Items, export.Item{ID: it.ItemID, BookingDate: d, Amount: amount, BalanceAfter: after, HasBalanceAfter: true,
			Currency: it.Currency, Title: it.Description, CounterpartyName: it.CounterpartyName, CounterpartyAccount: it.CounterpartyAccount})
	}
	if len(s.Items) > 0 {
		s.Account.Currency = s.Items[0].Currency
	} else if len(all) > 0 {
		s.Account.Currency = all[0].Currency
	}
	return s, notes, nil
}

func ownerAccount(a export.Account) string { return a.IBAN }

// placeUnplaced orders the items of each day that an older psd2bank
// imported without their place in the day (DayPos 0) by their balance
// chain, in place, for the days from firstDay on; items are in
// booking-day order. It returns the days whose order the chain cannot
// settle.
func placeUnplaced(items []Item, firstDay string) (unsure []string) {
	prevSure := true
	for i := 0; i < len(items); {
		j := i
		unplaced := false
		for j < len(items) && items[j].BookingDate == items[i].BookingDate {
			unplaced = unplaced || items[j].DayPos == 0
			j++
		}
		if unplaced && j-i > 1 && items[i].BookingDate >= firstDay {
			var prev *Item
			if i > 0 && prevSure {
				prev = &items[i-1]
			}
			ordered, ok := chainOrder(prev, items[i:j])
			if ok {
				copy(items[i:j], ordered)
			} else {
				unsure = append(unsure, items[i].BookingDate)
			}
			prevSure = ok
		} else {
			prevSure = true
		}
		i = j
	}
	return unsure
}

// chainOrder orders the items of one day so that each balance after
// follows from the one before, starting from prev's when known. ok is
// false when the day's first item cannot be told (the day's balances come
// back to where they started, and nothing came before).
func chainOrder(prev *Item, day []Item) (ordered []Item, ok bool) {
	left := append([]Item(nil), day...)
	out := make([]Item, 0, len(day))
	var balance money.Amount
	known := false
	if prev != nil {
		balance, _ = money.ParseSigned(prev.BalanceAfter)
		known = true
	}
	for len(left) > 0 {
		pick := -1
		for k, it := range left {
			a, _ := money.ParseSigned(it.Amount)
			after, _ := money.ParseSigned(it.BalanceAfter)
			if known && after-a == balance {
				pick = k
				break
			}
			if !known && !startsChainElsewhere(left, it) {
				pick = k
				break
			}
		}
		if pick < 0 {
			if !known {
				return nil, false
			}
			return append(out, left...), true // the chain check names the break
		}
		it := left[pick]
		out = append(out, it)
		balance, _ = money.ParseSigned(it.BalanceAfter)
		known = true
		left = append(left[:pick], left[pick+1:]...)
	}
	return out, true
}

// startsChainElsewhere tells whether another item of the day ends at the
// balance this one starts from (so this one is not the day's first).
func startsChainElsewhere(day []Item, it Item) bool {
	a, _ := money.ParseSigned(it.Amount)
	after, _ := money.ParseSigned(it.BalanceAfter)
	before := after - a
	for _, o := range day {
		if o.ItemID == it.ItemID {
			continue
		}
		if oa, _ := money.ParseSigned(o.BalanceAfter); oa == before {
			return true
		}
	}
	return false
}
