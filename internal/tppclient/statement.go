package tppclient

import (
	"fmt"
	"sort"
	"time"

	"github.com/psd2bank/psd2bank/internal/export"
	"github.com/psd2bank/psd2bank/internal/money"
)

// Statement builds a statement of an account's booked items from the book,
// for booking dates from..to (inclusive). Opening and closing balances come
// from the bank's balance after each item, so they reconcile with the
// bank's books; an item without it makes the statement fail.
func (b *Book) Statement(owner export.Account, from, to time.Time) (export.Statement, error) {
	items, err := b.Items(ownerAccount(owner))
	if err != nil {
		return export.Statement{}, err
	}
	s := export.Statement{Account: owner, From: from, To: to}
	var booked []Item
	for _, it := range items {
		if it.Status != "booked" {
			continue
		}
		d, err := time.Parse(time.DateOnly, it.BookingDate)
		if err != nil || d.Before(from) || d.After(to) {
			continue
		}
		booked = append(booked, it)
	}
	// The book lists newest first; statements run oldest first, in the
	// bank's order (the balance after each item fixes it).
	sort.SliceStable(booked, func(i, j int) bool { return booked[i].BookingDate < booked[j].BookingDate })
	booked = chainOrder(booked)
	for i, it := range booked {
		amount, err := money.ParseSigned(it.Amount)
		if err != nil {
			return s, fmt.Errorf("item %s: amount %q: %w", it.ItemID, it.Amount, err)
		}
		after, err := money.ParseSigned(it.BalanceAfter)
		if err != nil {
			return s, fmt.Errorf("item %s has no balance after it from the bank: %w", it.ItemID, err)
		}
		d, _ := time.Parse(time.DateOnly, it.BookingDate)
		if i == 0 {
			s.OpeningBalance = after - amount
		}
		s.ClosingBalance = after
		s.Items = append(s.Items, export.Item{ID: it.ItemID, BookingDate: d, Amount: amount, BalanceAfter: after, HasBalanceAfter: true,
			Currency: it.Currency, Title: it.Description, CounterpartyName: it.CounterpartyName, CounterpartyAccount: it.CounterpartyAccount})
	}
	return s, nil
}

func ownerAccount(a export.Account) string { return a.IBAN }

// chainOrder orders items of one booking date so that each balance-after
// follows from the one before (the bank's booking order); items are
// already sorted by date.
func chainOrder(items []Item) []Item {
	out := make([]Item, 0, len(items))
	for i := 0; i < len(items); {
		j := i
		for j < len(items) && items[j].BookingDate == items[i].BookingDate {
			j++
		}
		day := append([]Item(nil), items[i:j]...)
		var prevAfter money.Amount
		havePrev := len(out) > 0
		if havePrev {
			prevAfter, _ = money.ParseSigned(out[len(out)-1].BalanceAfter)
		}
		for len(day) > 0 {
			pick := 0
			for k, it := range day {
				a, _ := money.ParseSigned(it.Amount)
				if havePrev {
					if after, _ := money.ParseSigned(it.BalanceAfter); after-a == prevAfter {
						pick = k
						break
					}
				} else if !startsChainElsewhere(day, it) {
					pick = k
					break
				}
			}
			it := day[pick]
			out = append(out, it)
			prevAfter, _ = money.ParseSigned(it.BalanceAfter)
			havePrev = true
			day = append(day[:pick], day[pick+1:]...)
		}
		i = j
	}
	return out
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
