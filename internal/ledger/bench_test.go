package ledger_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// BenchmarkTransfer measures internal transfers booked per second, each in
// its own database transaction, by 4 concurrent clients (b.RunParallel with
// parallelism 2 at -cpu 2: the clients of pgbench -c 4). Transfers go between 64 accounts in random pairs so that
// concurrent ones rarely contend for the same rows. It reports queries/op:
// the SQL statements per transfer, BEGIN and COMMIT included.
func BenchmarkTransfer(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		b.Run(engine.name, func(b *testing.B) {
			db := engine.open(b)
			ctx := context.Background()
			bk := newBankTB(b, db)
			const n = 64
			accts := make([]ledger.Account, n)
			for i := range accts {
				accts[i] = bk.openTB(b, fmt.Sprint("acct", i), 1_000_000_00)
			}
			var next atomic.Int64
			q0 := db.Queries()
			b.SetParallelism(2)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					from, to := accts[i%n], accts[(i*7+3)%n]
					if from.ID == to.ID {
						to = accts[(i+1)%n]
					}
					if _, err := bk.l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: from.ID, CreditAccountID: to.ID, Amount: 1, Title: "bench"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(db.Queries()-q0)/float64(b.N), "queries/op")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
		})
	}
}

// BenchmarkBookedItemsPage measures one page of 100 booked items
// (BookedItems, the query behind getTransactionsDone) on an account with
// 10,000 and with 1,000,000 items, the newest page and one from the oldest
// tenth, asking for the whole history, on SQLite (and PostgreSQL with
// PSD2BANK_TEST_POSTGRES). History stays flat when the 1,000,000-item pages
// cost about what the 10,000-item ones do. The history is built once per
// size (minutes for 1,000,000); -short skips it.
func BenchmarkBookedItemsPage(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		for _, size := range []int{10_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/items=%d", engine.name, size), func(b *testing.B) {
				if size > 10_000 && testing.Short() {
					b.Skip("the 1,000,000-item history is skipped with -short")
				}
				db := engine.open(b)
				ctx := context.Background()
				bk := newBankTB(b, db)
				acct := bk.openTB(b, "anna", 0)
				const batch = 100_000
				start := t0.AddDate(-3, -6, 0)
				step := t0.Sub(start) / time.Duration(size+1)
				items := make([]ledger.HistoricalTransfer, 0, min(size, batch))
				for i := range size {
					tr := ledger.TransferRequest{Kind: "elixir", DebitAccountID: bk.clearing.ID, CreditAccountID: acct.ID, Amount: 100_00,
						Debtor: ledger.Party{Name: "Pracodawca S.A.", Account: "61109010140000071219812874"}, Title: "Wpływ " + strconv.Itoa(i)}
					if i%2 == 1 {
						tr = ledger.TransferRequest{Kind: "elixir", DebitAccountID: acct.ID, CreditAccountID: bk.clearing.ID, Amount: 99_00,
							Creditor: ledger.Party{Name: "Sklep", Account: "61109010140000071219812874"}, Title: "Zakupy " + strconv.Itoa(i)}
					}
					items = append(items, ledger.HistoricalTransfer{TransferRequest: tr, BookedAt: start.Add(time.Duration(i+1) * step)})
					if len(items) == batch || i == size-1 {
						if err := bk.l.ImportHistory(ctx, items); err != nil {
							b.Fatal(err)
						}
						items = items[:0]
					}
				}
				if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
					b.Fatal(err)
				}
				from := ledger.DateOf(t0.AddDate(-4, 0, 0))
				for _, tc := range []struct {
					name   string
					before int64
				}{{"newest", 0}, {"deep", int64(size / 10)}} {
					b.Run(tc.name, func(b *testing.B) {
						q := ledger.BookedQuery{AccountID: acct.ID, ItemFilter: ledger.ItemFilter{BookingFrom: from}, BeforeSeq: tc.before, Limit: 100}
						q0 := db.Queries()
						b.ResetTimer()
						for range b.N {
							page, more, err := bk.l.BookedItems(ctx, q)
							if err != nil || len(page) != 100 || !more {
								b.Fatalf("%d items, more %v, %v", len(page), more, err)
							}
						}
						b.StopTimer()
						b.ReportMetric(float64(db.Queries()-q0)/float64(b.N), "queries/op")
					})
				}
			})
		}
	}
}
