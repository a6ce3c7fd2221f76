package ledger_test

import (
	"context"
	"testing"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestBookedPageBounds walks the pages of booked items forward (next) and
// checks, on both engines and with and without a date filter, that the
// previous page of each is the page before it, and that the last page
// holds the oldest items and has no page after it.
func TestBookedPageBounds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		a := b.open(t, "pages", 0)
		var items []ledger.HistoricalTransfer
		for i := 0; i < 40; i++ {
			items = append(items, ledger.HistoricalTransfer{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID,
				Amount: 1_00, Debtor: ledger.Party{Name: "X"}, Title: "in"}, BookedAt: t0.AddDate(0, 0, -40+i)})
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		for _, f := range []ledger.ItemFilter{{}, {BookingFrom: ledger.DateOf(t0.AddDate(0, 0, -30)), BookingTo: ledger.DateOf(t0.AddDate(0, 0, -8))}} {
			q := ledger.BookedQuery{AccountID: a.ID, ItemFilter: f, Limit: 7}
			var befores []int64 // the BeforeSeq of each page, first = 0
			var pages [][]ledger.Posting
			before := int64(0)
			for {
				q.BeforeSeq = before
				page, more, err := b.l.BookedItems(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				befores, pages = append(befores, before), append(pages, page)
				if !more {
					break
				}
				before = page[len(page)-1].Seq
			}
			if len(pages) < 3 {
				t.Fatalf("%+v: %d pages", f, len(pages))
			}
			for k := 1; k < len(pages); k++ {
				q.BeforeSeq = befores[k]
				prev, err := b.l.PreviousBookedPage(ctx, q, pages[k][0].Seq)
				if err != nil {
					t.Fatal(err)
				}
				q.BeforeSeq = prev
				got, _, _ := b.l.BookedItems(ctx, q)
				if len(got) != len(pages[k-1]) || got[0].ID != pages[k-1][0].ID || got[len(got)-1].ID != pages[k-1][len(pages[k-1])-1].ID {
					t.Errorf("%+v: the page before page %d is not page %d", f, k, k-1)
				}
			}
			last, err := b.l.LastBookedPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			q.BeforeSeq = last
			got, more, _ := b.l.BookedItems(ctx, q)
			oldest := pages[len(pages)-1]
			if more || len(got) != 7 || got[len(got)-1].ID != oldest[len(oldest)-1].ID {
				t.Errorf("%+v: the last page has %d items, more %v", f, len(got), more)
			}
		}
	})
}
