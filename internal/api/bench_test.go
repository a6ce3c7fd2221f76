package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	aisdomain "github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// BenchmarkTransactionsDonePage measures PolishAPI getTransactionsDone, one
// page of 100 items, on an account with 10,000 and with 1,000,000 booked
// items (SQLite), from the newest and from deep in the history (a page id
// pointing at the oldest tenth). Both ask for the whole history
// (bookingDateFrom four years back), so that only the depth differs. The
// call is the whole handler: the consent check (which records the access),
// the account, its owner, the page. It reports queries/op: the SQL
// statements per call, BEGIN and COMMIT included.
//
// The 1,000,000-item history takes a while to build (once per run); -short
// skips it.
func BenchmarkTransactionsDonePage(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("postings=%d", size), func(b *testing.B) {
			if size > 10_000 && testing.Short() {
				b.Skip("the 1,000,000-item history is skipped with -short")
			}
			db := storetest.SQLite(b)
			bk := newBank(b, db, 0)
			ctx := context.Background()
			if err := importHistory(bk, size); err != nil {
				b.Fatal(err)
			}
			ais := bk.consent(tppA, consent.ScopeAIS, allAIS(consent.MaxHistoryDays), bk.annaMain.NRB)
			from := ledger.DateOf(t0.AddDate(0, 0, -consent.MaxHistoryDays+1))
			q := aisdomain.Query{Kind: kindDone, Account: aisdomain.AccountRef{Value: bk.annaMain.NRB}, Filter: ledger.ItemFilter{BookingFrom: from}}
			deep, err := bk.ais.svc.SealPosition(ctx, ais.ID, q, strconv.Itoa(size/10), t0)
			if err != nil {
				b.Fatal(err)
			}
			for _, tc := range []struct{ name, pageID string }{{"newest", ""}, {"deep", deep}} {
				b.Run(tc.name, func(b *testing.B) {
					h := bk.ais.polishTransactions(kindDone)
					body := map[string]any{"accountNumber": bk.annaMain.NRB, "perPage": 100, "bookingDateFrom": from}
					if tc.pageID != "" {
						body["pageId"] = tc.pageID
					}
					q0 := db.Queries()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						delete(body, "requestHeader")
						_, data, ref := bk.polish(h, ais, body)
						if ref != nil {
							b.Fatal(ref)
						}
						if i == 0 {
							var m polishapi.TransactionsDoneInfoResponse
							json.Unmarshal(data, &m)
							if len(m.Transactions) != 100 || m.PageInfo == nil {
								b.Fatalf("%d items, pageInfo %v", len(m.Transactions), m.PageInfo)
							}
						}
					}
					b.StopTimer()
					b.ReportMetric(float64(db.Queries()-q0)/float64(b.N), "queries/op")
				})
			}
		})
	}
}

// importHistory books n items on Anna's main account, alternately in and
// out, spread over the last three and a half years, in batches.
func importHistory(bk *bank, n int) error {
	const batch = 100_000
	start := t0.AddDate(-3, -6, 0)
	step := t0.Sub(start) / time.Duration(n+1)
	items := make([]ledger.HistoricalTransfer, 0, min(n, batch))
	for i := 0; i < n; i++ {
		tr := ledger.TransferRequest{Kind: "elixir", DebitAccountID: bk.clearing.ID, CreditAccountID: bk.annaMain.ID, Amount: 100_00,
			Debtor: ledger.Party{Name: "Pracodawca S.A.", Account: "61109010140000071219812874"}, Title: "Wpływ " + strconv.Itoa(i)}
		if i%2 == 1 {
			tr = ledger.TransferRequest{Kind: "elixir", DebitAccountID: bk.annaMain.ID, CreditAccountID: bk.clearing.ID, Amount: 99_00,
				Creditor: ledger.Party{Name: "Sklep", Account: "61109010140000071219812874"}, Title: "Zakupy " + strconv.Itoa(i)}
		}
		items = append(items, ledger.HistoricalTransfer{TransferRequest: tr, BookedAt: start.Add(time.Duration(i+1) * step)})
		if len(items) == batch || i == n-1 {
			if err := bk.l.ImportHistory(context.Background(), items); err != nil {
				return err
			}
			items = items[:0]
		}
	}
	return nil
}
