package ledger_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestBookedItemsPackedColumns checks that a page (read as one packed
// value) gives every field exactly as the item read alone does, on both
// engines — free texts holding the packing's separator, digits that look
// like a length, multi-byte characters, empty texts and an empty
// counterparty account included, and on SQLite (where a text may hold
// them) a NUL and bytes that are not UTF-8; and that pages of one item, of
// none, and cut by the limit read right.
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
			{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID, Amount: 1,
				Debtor: ledger.Party{Name: "12\x1f3", Account: "7\x1f😀"}, Title: ""}, BookedAt: t0.AddDate(0, 0, -1)},
			{TransferRequest: ledger.TransferRequest{DebitAccountID: a.ID, CreditAccountID: b.clearing.ID, Amount: 2,
				Creditor: ledger.Party{Name: "Ż"}, Title: "€ 10\x1f20\x1f"}, BookedAt: t0},
		}
		if db.Engine() == store.SQLite { // PostgreSQL's text holds neither
			items = append(items, ledger.HistoricalTransfer{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID,
				Amount: 3, Debtor: ledger.Party{Name: "nul \x00 here", Account: "\xff\xfe"}, Title: "a\x00b \xc3"}, BookedAt: t0})
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		page, more, err := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID})
		if err != nil || len(page) != len(items) || more {
			t.Fatalf("%d items, more %v, %v; want %d", len(page), more, err, len(items))
		}
		for i := 1; i < len(page); i++ {
			if page[i].Seq >= page[i-1].Seq {
				t.Errorf("not newest first: seq %d after %d", page[i].Seq, page[i-1].Seq)
			}
		}
		cut, more, err := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID, Limit: 2})
		if err != nil || len(cut) != 2 || !more || cut[0] != page[0] || cut[1] != page[1] {
			t.Errorf("a page of 2: %d items, more %v, %v", len(cut), more, err)
		}
		last, more, err := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID, BeforeSeq: page[len(page)-2].Seq})
		if err != nil || len(last) != 1 || more || last[0] != page[len(page)-1] {
			t.Errorf("the oldest item alone: %d items, more %v, %v", len(last), more, err)
		}
		none, more, err := b.l.BookedItems(ctx, ledger.BookedQuery{AccountID: other.ID, AfterSeq: 1 << 40})
		if err != nil || len(none) != 0 || more {
			t.Errorf("an empty page: %d items, more %v, %v", len(none), more, err)
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

// TestUnpackPostings checks the cutting of a packed page: items joined out
// of order come back newest first, and a page that is not well formed is
// an error, never a wrong item.
func TestUnpackPostings(t *testing.T) {
	item := func(seq int, title, name, account string) string {
		return strings.Join([]string{strconv.Itoa(seq), "-150", "250", "1764000000000000", "p" + strconv.Itoa(seq), "t", "PLN", "elixir",
			"2026-11-20", "2026-11-21", strconv.Itoa(len(title)), strconv.Itoa(len(name)), strconv.Itoa(len(account))}, "\x1f") + "\x1f" + title + name + account
	}
	page, err := ledger.UnpackPostings(item(5, "ż\x1f5", "", "acc")+item(7, "", "N\x00", "")+item(6, "t", "n", "a"), "a", 3)
	if err != nil || len(page) != 3 {
		t.Fatalf("%d items, %v", len(page), err)
	}
	if page[0].Seq != 7 || page[1].Seq != 6 || page[2].Seq != 5 {
		t.Errorf("not newest first: %d %d %d", page[0].Seq, page[1].Seq, page[2].Seq)
	}
	want := ledger.Posting{ID: "p5", AccountID: "a", Seq: 5, TransferID: "t", Amount: -150, BalanceAfter: 250, Currency: "PLN", Kind: "elixir",
		Title: "ż\x1f5", Counterparty: ledger.Party{Account: "acc"}, TradeDate: "2026-11-20", BookingDate: "2026-11-21", BookedAt: time.UnixMicro(1764000000000000).UTC()}
	if page[2] != want {
		t.Errorf("got  %+v\nwant %+v", page[2], want)
	}
	if page[0].Counterparty.Name != "N\x00" {
		t.Errorf("name %q", page[0].Counterparty.Name)
	}
	if empty, err := ledger.UnpackPostings("", "a", 101); err != nil || len(empty) != 0 {
		t.Errorf("an empty page: %d items, %v", len(empty), err)
	}
	good := item(1, "title", "name", "account")
	for _, bad := range []string{
		good[:len(good)-1], // a text shorter than its length
		strings.Replace(good, "\x1f5\x1f4\x1f7\x1f", "\x1f5\x1f4\x1f9\x1f", 1),  // a length past the end
		strings.Replace(good, "\x1f5\x1f4\x1f7\x1f", "\x1f-1\x1f4\x1f7\x1f", 1), // a negative length
		strings.Replace(good, "-150", "x", 1),                                   // a number that is not one
		strings.Join(strings.Split(good, "\x1f")[:9], "\x1f"),                   // too few fields
		good + good + good, // more items than asked
	} {
		if _, err := ledger.UnpackPostings(bad, "a", 2); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
