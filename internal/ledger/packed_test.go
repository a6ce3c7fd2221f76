package ledger_test

import (
	"context"
	"testing"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestBookedItemsPackedColumns checks that a page (whose identifier, code
// and date columns are read packed into one) gives every field exactly as
// the item read alone does, on both engines — free texts holding the
// packing's separator and an empty counterparty account included.
func TestBookedItemsPackedColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		a := b.open(t, "packed", 0)
		other := b.open(t, "other", 0)
		items := []ledger.HistoricalTransfer{
			{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID, Amount: 100_00,
				Debtor: ledger.Party{Name: "Sender \x1f with a separator"}, Title: "title \x1f\x1f with separators"}, BookedAt: t0.AddDate(0, 0, -2)},
			{TransferRequest: ledger.TransferRequest{DebitAccountID: a.ID, CreditAccountID: other.ID, Amount: 25_50, Title: "żółć"}, BookedAt: t0.AddDate(0, 0, -1)},
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		page, _, err := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID})
		if err != nil || len(page) != 2 {
			t.Fatalf("%d items, %v", len(page), err)
		}
		for _, p := range page {
			alone, err := b.l.BookedItem(ctx, a.ID, p.TransferID)
			if err != nil {
				t.Fatal(err)
			}
			if p != alone {
				t.Errorf("in a page %+v\nalone     %+v", p, alone)
			}
			if p.ID == "" || p.AccountID != a.ID || p.Currency != "PLN" || p.TradeDate == "" || p.BookingDate == "" {
				t.Errorf("fields missing: %+v", p)
			}
		}
	})
}
