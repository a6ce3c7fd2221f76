package ledger_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
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

// TestBookedPageReadsOnlyTheIndex checks, on both engines, the plan of the
// page query BookedItems runs, with and without a date
// bound: the page is a range scan of the postings_page index, which holds
// every column, so no item costs a seek into the table — SQLite's "USING
// COVERING INDEX postings_page", PostgreSQL's "Index Only Scan using
// postings_page" (sequential and bitmap scans turned off, as a small table
// would otherwise be read whole).
func TestBookedPageReadsOnlyTheIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		a := b.open(t, "plan", 0)
		var items []ledger.HistoricalTransfer
		for i := 0; i < 300; i++ {
			items = append(items, ledger.HistoricalTransfer{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID,
				Amount: 1_00, Debtor: ledger.Party{Name: "X", Account: "61109010140000071219812874"}, Title: "in"}, BookedAt: t0.AddDate(0, 0, -300+i)})
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		if db.Engine() == store.Postgres {
			// An index-only scan needs the table's visibility map, which
			// VACUUM sets unless another session's open snapshot (a test
			// of another package on the same server) holds it back; then
			// the planner rightly reads the table and there is nothing to
			// check.
			var pages, visible int
			for try := 0; ; try++ {
				if _, err := db.ExecContext(ctx, `VACUUM ANALYZE postings`); err != nil {
					t.Fatal(err)
				}
				if err := db.QueryRowContext(ctx, `SELECT relpages, relallvisible FROM pg_class
					WHERE relname = 'postings' AND relnamespace = current_schema()::regnamespace`).Scan(&pages, &visible); err != nil {
					t.Fatal(err)
				}
				if visible == pages {
					break
				}
				if try == 20 {
					t.Skipf("VACUUM left %d of %d pages not all-visible: an index-only scan cannot be expected", pages-visible, pages)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		from := ledger.DateOf(t0.AddDate(0, 0, -100))
		for _, f := range []ledger.ItemFilter{{}, {BookingFrom: from}, {BookingFrom: from, BookingTo: ledger.DateOf(t0.AddDate(0, 0, -10)), Side: ledger.Credits, MinAmount: 50}} {
			q := ledger.BookedQuery{AccountID: a.ID, ItemFilter: f}
			page, _, err := b.l.BookedItems(ctx, q)
			if err != nil || len(page) == 0 {
				t.Fatalf("%+v: %d items, %v", f, len(page), err)
			}
			query, args := ledger.BookedItemsQuery(q, 100, db.Engine())
			joined := storetest.Plan(t, db, query, args...)
			t.Logf("%+v:\n%s", f, joined)
			// The page's own scan is on the page index; the date bound's
			// subquery may use postings_account_date, also without the table.
			want := "SEARCH postings USING COVERING INDEX postings_page"
			if db.Engine() == store.Postgres {
				want = "Index Only Scan Backward using postings_page"
			}
			if !strings.Contains(joined, want) {
				t.Errorf("%+v: the plan does not read the page from the index alone (want %q):\n%s", f, want, joined)
			}
			if db.Engine() == store.SQLite && regexp.MustCompile(`SEARCH postings USING INDEX|SCAN postings\b`).MatchString(joined) {
				t.Errorf("%+v: a step of the plan reads the table:\n%s", f, joined)
			}
			if db.Engine() == store.Postgres && regexp.MustCompile(`(^|\s)Index Scan.* on postings|Seq Scan on postings`).MatchString(joined) {
				t.Errorf("%+v: a step of the plan reads the table:\n%s", f, joined)
			}
		}
	})
}

// TestBookedItemsQueryShapes checks the SQL kept per filter shape: a query
// made again for the same shape (other values) is the same text, and its
// arguments are as many as the text's highest placeholder, in every shape.
func TestBookedItemsQueryShapes(t *testing.T) {
	placeholder := regexp.MustCompile(`\$(\d+)`)
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		for _, f := range []ledger.ItemFilter{{}, {BookingFrom: "2026-01-01"}, {TradeFrom: "2026-01-01", BookingTo: "2026-02-01"},
			{TradeTo: "2026-03-01", MinAmount: 100}, {MaxAmount: 5, Side: ledger.Debits}, {MinAmount: 1, MaxAmount: 9, Side: ledger.Credits, BookingFrom: "2026-01-01"}} {
			g := f
			g.MinAmount, g.MaxAmount = f.MinAmount*3, f.MaxAmount*7
			for _, d := range []*string{&g.TradeFrom, &g.TradeTo, &g.BookingFrom, &g.BookingTo} {
				if *d != "" {
					*d = "2025-12-31"
				}
			}
			// On PostgreSQL a page with only dates to filter by has its
			// size in the text (bookedWindowSQL): there the same shape is
			// the same filters and the same size.
			window := engine == store.Postgres && f.TradeFrom == "" && f.TradeTo == "" && f.MinAmount == 0 && f.MaxAmount == 0 && f.Side == ledger.AnySide
			limit2 := 10
			if window {
				limit2 = 100
			}
			q1, a1 := ledger.BookedItemsQuery(ledger.BookedQuery{AccountID: "a", ItemFilter: f}, 100, engine)
			q2, a2 := ledger.BookedItemsQuery(ledger.BookedQuery{AccountID: "b", ItemFilter: g, BeforeSeq: 7, AfterSeq: 2}, limit2, engine)
			if window {
				if q3, _ := ledger.BookedItemsQuery(ledger.BookedQuery{AccountID: "a", ItemFilter: f}, 10, engine); q3 == q1 || !strings.Contains(q3, "LIMIT 11)") {
					t.Errorf("%s %+v: a page of 10 items has the text of a page of 100, or no LIMIT 11:\n%s", engine, f, q3)
				}
			}
			if q1 != q2 || len(a1) != len(a2) {
				t.Errorf("%s %+v: the same shape gave another query or %d and %d arguments", engine, f, len(a1), len(a2))
			}
			highest := 0
			for _, m := range placeholder.FindAllStringSubmatch(q1, -1) {
				n, _ := strconv.Atoi(m[1])
				highest = max(highest, n)
			}
			if highest != len(a1) {
				t.Errorf("%s %+v: placeholders up to $%d, %d arguments", engine, f, highest, len(a1))
			}
			if a2[0] != "b" || a2[1] != int64(7) || a2[2] != int64(2) || !window && a2[len(a2)-1] != 11 {
				t.Errorf("%s %+v: arguments %v", engine, f, a2)
			}
		}
	}
}

// TestBookedWindowAgrees checks PostgreSQL's page as a window of sequence
// numbers (the page query when only dates filter) against SQLite's, which
// is a plain range scan: the same history in both, several items a day,
// then pages of every size asked for with random bounds — before, after,
// first and last booking day — must hold the same items and say the same
// about more.
func TestBookedWindowAgrees(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type world struct {
		b *bank
		a ledger.Account
	}
	var worlds []world
	for _, db := range []*store.DB{storetest.SQLite(t), storetest.Postgres(t)} {
		b := newBank(t, db)
		a := b.open(t, "window", 0)
		var items []ledger.HistoricalTransfer
		for i := 0; i < 400; i++ {
			items = append(items, ledger.HistoricalTransfer{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID,
				Amount: money.Amount(1_00 + i), Debtor: ledger.Party{Name: "X"}, Title: "in " + strconv.Itoa(i)}, BookedAt: t0.AddDate(0, 0, -100+i/4)})
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		// A transfer booked after the import, on the ledger's usual path.
		if _, err := b.l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: a.ID, CreditAccountID: b.clearing.ID, Amount: 5_00,
			Creditor: ledger.Party{Name: "Y"}, Title: "out"}); err != nil {
			t.Fatal(err)
		}
		worlds = append(worlds, world{b, a})
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	day := func() string { return ledger.DateOf(t0.AddDate(0, 0, -105+rnd.IntN(110))) }
	for i := 0; i < 300; i++ {
		q := ledger.BookedQuery{Limit: []int{0, 1, 7, 100, 1000}[rnd.IntN(5)]}
		if rnd.IntN(2) == 0 {
			q.BeforeSeq = int64(rnd.IntN(420))
		}
		if rnd.IntN(3) == 0 {
			q.AfterSeq = int64(rnd.IntN(420))
		}
		if rnd.IntN(2) == 0 {
			q.BookingFrom = day()
		}
		if rnd.IntN(2) == 0 {
			q.BookingTo = day()
		}
		var got [2]string
		for k, w := range worlds {
			q.AccountID = w.a.ID
			page, more, err := w.b.l.BookedItems(ctx, q)
			if err != nil {
				t.Fatalf("%s %+v: %v", w.b.db.Engine(), q, err)
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "more %v:", more)
			for _, p := range page {
				fmt.Fprintf(&sb, " %d/%d/%s/%s", p.Seq, p.Amount, p.BookingDate, p.Title)
			}
			got[k] = sb.String()
		}
		if got[0] != got[1] {
			t.Errorf("%+v:\nsqlite   %s\npostgres %s", q, got[0], got[1])
		}
	}
}

// TestPageBoundsOfAgree runs PageBoundsOf's two columns against
// LastBookedPage and PreviousBookedPage on both engines: random filters,
// page bounds and sizes, and a last_seq bound below the account's.
func TestPageBoundsOfAgree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		a := b.open(t, "bounds", 0) // booking dates in sequence order: the history is all its items
		items := []ledger.HistoricalTransfer{{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID,
			Amount: 1_000_00, Debtor: ledger.Party{Name: "X"}, Title: "funds"}, BookedAt: t0.AddDate(0, 0, -61)}}
		for i := 0; i < 120; i++ {
			amount := money.Amount(1_00 + i)
			tr := ledger.HistoricalTransfer{TransferRequest: ledger.TransferRequest{DebitAccountID: b.clearing.ID, CreditAccountID: a.ID,
				Amount: amount, Debtor: ledger.Party{Name: "X"}, Title: "in"}, BookedAt: t0.AddDate(0, 0, -60+i/2)}
			if i%3 == 0 { // debits too, for the side filter
				tr.DebitAccountID, tr.CreditAccountID = a.ID, b.clearing.ID
				tr.Debtor, tr.Creditor = ledger.Party{}, ledger.Party{Name: "Y"}
			}
			items = append(items, tr)
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(3, 4))
		day := func() string { return ledger.DateOf(t0.AddDate(0, 0, -65+rnd.IntN(70))) }
		seen := map[string]bool{}
		for i := 0; i < 200; i++ {
			q := ledger.BookedQuery{AccountID: a.ID, Limit: []int{1, 5, 7, 30}[rnd.IntN(4)]}
			if rnd.IntN(2) == 0 {
				q.BeforeSeq = int64(1 + rnd.IntN(130))
			}
			if rnd.IntN(3) == 0 {
				q.AfterSeq = int64(rnd.IntN(100))
			}
			if rnd.IntN(2) == 0 {
				q.BookingFrom = day()
			}
			if rnd.IntN(3) == 0 {
				q.BookingTo = day()
			}
			if rnd.IntN(4) == 0 {
				q.Side, q.MinAmount = ledger.Credits, money.Amount(1_20)
			}
			lastSeq := int64(40 + rnd.IntN(100))
			cols, args, err := ledger.PageBoundsOf("$1", strconv.FormatInt(lastSeq, 10), q, 2)
			if err != nil {
				t.Fatal(err)
			}
			var lastCol, prevCol sql.NullInt64
			if err := db.QueryRowContext(ctx, `SELECT `+cols, append([]any{a.ID}, args...)...).Scan(&lastCol, &prevCol); err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			last, err := b.l.LastBookedPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if lastCol.Int64 != last {
				t.Errorf("%+v: last page %d, LastBookedPage %d", q, lastCol.Int64, last)
			}
			page := q
			if bound := lastSeq + 1; page.BeforeSeq <= 0 || page.BeforeSeq > bound {
				page.BeforeSeq = bound
			}
			items, _, err := b.l.BookedItems(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			if q.BeforeSeq <= 0 {
				if prevCol.Valid {
					t.Errorf("%+v: a previous page %d of the first page", q, prevCol.Int64)
				}
				continue
			}
			if len(items) == 0 {
				seen["empty"] = true
				continue
			}
			prev, err := b.l.PreviousBookedPage(ctx, q, items[0].Seq)
			if err != nil {
				t.Fatal(err)
			}
			if prevCol.Int64 != prev {
				t.Errorf("%+v (last_seq %d): previous page %d, PreviousBookedPage %d", q, lastSeq, prevCol.Int64, prev)
			}
			seen[fmt.Sprint("previous ", prev != 0, " last ", last != 0)] = true
		}
		if len(seen) < 4 {
			t.Errorf("the cases covered too little: %v", seen)
		}
	})
}

// TestAccountListOfAgrees reads AccountListOf's column on both engines
// and checks it against the accounts as Account reads them and their
// closing balances as ClosingBalanceOf reads them: names with the
// separator, multi-byte letters and nothing at all; another customer's
// account left out; a customer without accounts an empty list.
func TestAccountListOfAgrees(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		a := b.open(t, "listed", 50_00)
		other := b.open(t, "other", 0)
		want := map[string]ledger.Account{a.ID: a}
		for i, name := range []string{"Oszczędności \x1f 😀", "", "x\x1fy"} {
			o, err := b.l.OpenAccount(ctx, ledger.Account{NRB: fmt.Sprintf("%026d", 9000+i), CustomerID: a.CustomerID, Currency: "EUR",
				Type: ledger.TypeSavings, Name: name, OverdraftLimit: money.Amount(i * 100), AllowNegative: i == 1})
			if err != nil {
				t.Fatal(err)
			}
			if o, err = b.l.Account(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
			want[o.ID] = o
		}
		today := ledger.DateOf(t0)
		for _, day := range []string{"", "$3"} {
			for _, customer := range []string{a.CustomerID, "nobody"} {
				var packed string
				args := []any{customer, ledger.PackSep()}
				if day != "" {
					args = append(args, today)
				}
				if err := db.QueryRowContext(ctx, `SELECT `+b.l.AccountListOf("$1", day, "$2"), args...).Scan(&packed); err != nil {
					t.Fatal(err)
				}
				got, err := ledger.UnpackAccountList(packed)
				if err != nil {
					t.Fatal(err)
				}
				if customer == "nobody" {
					if len(got) != 0 {
						t.Errorf("a customer without accounts: %d accounts", len(got))
					}
					continue
				}
				if len(got) != len(want) {
					t.Fatalf("%d accounts listed, want %d", len(got), len(want))
				}
				for _, g := range got {
					w, ok := want[g.Account.ID]
					if !ok || g.Account.ID == other.ID {
						t.Fatalf("account %s listed", g.Account.ID)
					}
					if !reflect.DeepEqual(g.Account, w) {
						t.Errorf("listed %+v\nAccount  %+v", g.Account, w)
					}
					var closing sql.NullInt64
					if day != "" {
						if err := db.QueryRowContext(ctx, `SELECT `+ledger.ClosingBalanceOf("$1", "$2"), w.ID, today).Scan(&closing); err != nil {
							t.Fatal(err)
						}
					}
					if g.Closing != money.Amount(closing.Int64) {
						t.Errorf("%s: closing %v, ClosingBalanceOf %v", w.Name, g.Closing, closing.Int64)
					}
					if day != "" && w.ID == a.ID && g.Closing != 50_00 {
						t.Errorf("the funded account's closing balance today is %v", g.Closing)
					}
				}
			}
		}
	})
}
