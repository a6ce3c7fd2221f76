package ledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

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
