package ledger_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestBookedItems checks the AIS filters of booked items against a plain
// reading of the whole list: date, amount and side filters, both keyset
// bounds, and pages that join up.
func TestBookedItems(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		a := b.open(t, "ais", 0)
		other := b.open(t, "other", 0)
		var items []ledger.HistoricalTransfer
		for i := 0; i < 40; i++ {
			tr := ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID, Amount: 1000_00, Debtor: ledger.Party{Name: "X"}, Title: "in"}
			if i%2 == 1 {
				tr = ledger.TransferRequest{DebitAccountID: a.ID, CreditAccountID: other.ID, Amount: money.Amount(10_00 * (1 + ledgerAmount(i))), Title: "out"}
			}
			items = append(items, ledger.HistoricalTransfer{TransferRequest: tr, BookedAt: t0.AddDate(0, 0, -40+i)})
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		all, more, err := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID})
		if err != nil || more || len(all) != 40 {
			t.Fatalf("%d items, more %v, err %v", len(all), more, err)
		}
		check := func(name string, f ledger.ItemFilter, keep func(ledger.Posting) bool) {
			t.Helper()
			var want []string
			for _, p := range all {
				if keep(p) {
					want = append(want, p.ID)
				}
			}
			var got []string
			before := int64(0)
			for {
				page, more, err := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID, ItemFilter: f, BeforeSeq: before, Limit: 3})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range page {
					got = append(got, p.ID)
				}
				if !more {
					break
				}
				before = page[len(page)-1].Seq
			}
			if len(got) != len(want) || len(want) > 0 && (got[0] != want[0] || got[len(got)-1] != want[len(want)-1]) {
				t.Errorf("%s: %d items, want %d", name, len(got), len(want))
			}
		}
		from, to := ledger.DateOf(t0.AddDate(0, 0, -30)), ledger.DateOf(t0.AddDate(0, 0, -10))
		check("booking dates", ledger.ItemFilter{BookingFrom: from, BookingTo: to}, func(p ledger.Posting) bool { return p.BookingDate >= from && p.BookingDate <= to })
		check("trade from", ledger.ItemFilter{TradeFrom: from}, func(p ledger.Posting) bool { return p.TradeDate >= from })
		check("debits", ledger.ItemFilter{Side: ledger.Debits}, func(p ledger.Posting) bool { return p.Amount < 0 })
		check("credits over 50", ledger.ItemFilter{Side: ledger.Credits, MinAmount: 50_00}, func(p ledger.Posting) bool { return p.Amount >= 50_00 })
		check("amounts 30-100", ledger.ItemFilter{MinAmount: 30_00, MaxAmount: 100_00}, func(p ledger.Posting) bool {
			return p.Amount <= -30_00 && p.Amount >= -100_00 || p.Amount >= 30_00 && p.Amount <= 100_00
		})
		check("nothing before", ledger.ItemFilter{BookingTo: "2000-01-01"}, func(ledger.Posting) bool { return false })

		// AfterSeq: only newer items.
		newer, _, _ := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID, AfterSeq: all[10].Seq})
		if len(newer) != 10 || newer[9].ID != all[9].ID {
			t.Errorf("after seq: %d items", len(newer))
		}
		// An item by its transfer's id.
		p, err := b.l.BookedItem(ctx, a.ID, all[3].TransferID)
		if err != nil || p.ID != all[3].ID {
			t.Errorf("BookedItem: %v %v", p.ID, err)
		}
		if _, err := b.l.BookedItem(ctx, other.ID, all[1].TransferID); ledger.CodeOf(err) != ledger.CodeNotFound {
			t.Errorf("another account's item: %v", err)
		}
	})
}

func ledgerAmount(i int) int64 { return int64(i % 15) }

// TestOutgoingAndHolds pages the non-booked lists.
func TestOutgoingAndHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		a := b.open(t, "payer", 10_000_00)
		var ids []string
		for i := 0; i < 7; i++ {
			b.clock.Advance(time.Second)
			tr, err := b.l.Submit(ctx, ledger.TransferRequest{DebitAccountID: a.ID, CreditAccountID: b.clearing.ID, Amount: 1_00,
				Creditor: ledger.Party{Name: "Y"}, Title: "p"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{tr.ID}, ids...)
		}
		var got []string
		var before ledger.TransferKey
		for {
			page, more, err := b.l.OutgoingTransfers(ctx, ledger.OutgoingQuery{AccountID: a.ID, Status: ledger.StatusPending, Before: before, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range page {
				got = append(got, tr.ID)
			}
			if !more {
				break
			}
			before = page[len(page)-1].Key()
		}
		if len(got) != 7 || got[0] != ids[0] || got[6] != ids[6] {
			t.Errorf("pending: %v, want %v", got, ids)
		}
		if c, _, _ := b.l.OutgoingTransfers(ctx, ledger.OutgoingQuery{AccountID: a.ID, Status: ledger.StatusPending, ItemFilter: ledger.ItemFilter{Side: ledger.Credits}}); len(c) != 0 {
			t.Errorf("credits among outgoing payments: %d", len(c))
		}
		var holds []string
		var hb ledger.HoldKey
		for {
			page, more, err := b.l.ActiveHolds(ctx, ledger.HoldQuery{AccountID: a.ID, Before: hb, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range page {
				holds = append(holds, h.TransferID)
			}
			if !more {
				break
			}
			hb = page[len(page)-1].Key()
		}
		if len(holds) != 7 || holds[0] != ids[0] {
			t.Errorf("holds: %v", holds)
		}
	})
}

// TestSecret: made once, the same on every call.
func TestSecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db)
		s1, err := b.l.Secret(context.Background(), "x")
		if err != nil || len(s1) != 32 {
			t.Fatal(len(s1), err)
		}
		s2, _ := ledger.New(db, b.clock).Secret(context.Background(), "x")
		s3, _ := b.l.Secret(context.Background(), "y")
		if !bytes.Equal(s1, s2) || bytes.Equal(s1, s3) {
			t.Error("a secret is not stable, or two names share one")
		}
	})
}
