package synth_test

import (
	"context"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sandbox/synth"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

func testHash(p string) (string, error) { return "test:" + p, nil }

// TestLoad generates and loads a dataset, logs how long that took, and
// checks the ledger against the dataset: invariants, every account's booked
// and available balance and number of items, the customers, the holds, the
// pending and the scheduled transfers.
func TestLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := ledger.New(db, clock.NewFixed(now))
		start := time.Now()
		ds := synth.Generate(7, now)
		generated := time.Since(start)
		if err := synth.Load(ctx, l, ds, testHash); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: Generate %v, Load %v, together %v, for %d transfers and %d items on customer accounts",
			db.Engine(), generated.Round(time.Millisecond), (time.Since(start) - generated).Round(time.Millisecond),
			time.Since(start).Round(time.Millisecond), len(ds.History), customerItems(ds))

		if err := l.CheckInvariants(ctx); err != nil {
			t.Fatalf("ledger invariants broken:\n%v", err)
		}
		for _, want := range ds.Accounts {
			got, err := l.Account(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.NRB != want.NRB || got.Booked != want.Booked || got.Available != want.Available || got.LastSeq != want.LastSeq {
				t.Errorf("account %s: ledger has %s booked, %s available, %d items; the generator %s, %s, %d",
					want.NRB, got.Booked, got.Available, got.LastSeq, want.Booked, want.Available, want.LastSeq)
			}
		}
		for _, p := range ds.PSUs {
			c, err := l.CustomerByLogin(ctx, p.Login)
			if err != nil {
				t.Fatal(err)
			}
			if c.PasswordHash != "test:"+synth.Password || c.PESEL != p.PESEL {
				t.Errorf("customer %s: hash %q, PESEL %s", p.Login, c.PasswordHash, c.PESEL)
			}
			accounts, err := l.AccountsOf(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(accounts) != len(p.Accounts) {
				t.Errorf("customer %s has %d accounts, the PSU %d", p.Login, len(accounts), len(p.Accounts))
			}
		}
		holds, pending, scheduled := 0, 0, 0
		for _, a := range ds.Accounts {
			hs, err := l.Holds(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			holds += len(hs)
			ps, err := l.TransfersOf(ctx, a.ID, ledger.StatusPending)
			if err != nil {
				t.Fatal(err)
			}
			ss, err := l.TransfersOf(ctx, a.ID, ledger.StatusScheduled)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range append(ps, ss...) { // count each transfer once, on its debit side
				if tr.DebitAccountID != a.ID {
					continue
				}
				if tr.Status == ledger.StatusPending {
					pending++
				} else {
					scheduled++
				}
			}
		}
		if holds != len(ds.Holds)+len(ds.Pending) || pending != len(ds.Pending) || scheduled != len(ds.Scheduled) {
			t.Errorf("ledger has %d holds, %d pending, %d scheduled; dataset %d card holds, %d pending, %d scheduled",
				holds, pending, scheduled, len(ds.Holds), len(ds.Pending), len(ds.Scheduled))
		}
		// The newest item of the busiest account, read back.
		busiest := ds.Accounts[0]
		for _, a := range ds.Accounts {
			if a.CustomerID != "" && a.LastSeq > busiest.LastSeq || busiest.CustomerID == "" {
				busiest = a
			}
		}
		page, more, err := l.Postings(ctx, ledger.PostingQuery{AccountID: busiest.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 10 || !more || page[0].BalanceAfter != busiest.Booked || page[0].Seq != busiest.LastSeq {
			t.Errorf("newest postings of %s: %d items, more %v, first %+v", busiest.NRB, len(page), more, page[0])
		}
	})
}
