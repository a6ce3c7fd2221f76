package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// bank is a small ledger: a PLN clearing account and customers' accounts.
type bank struct {
	l        *ledger.Ledger
	db       *store.DB
	clock    *clock.Fixed
	clearing ledger.Account
}

func newBank(t *testing.T, db *store.DB) *bank { return newBankTB(t, db) }

func newBankTB(t testing.TB, db *store.DB) *bank {
	t.Helper()
	c := clock.NewFixed(t0)
	l := ledger.New(db, c)
	clr, err := l.OpenAccount(context.Background(), ledger.Account{
		NRB: "00000000000000000000000001", Currency: "PLN", Type: ledger.TypeClearing, Name: "Elixir clearing", AllowNegative: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &bank{l: l, db: db, clock: c, clearing: clr}
}

var nrbCounter int

// open opens an account for a new customer and pays in funded grosze from
// outside the bank.
func (b *bank) open(t *testing.T, name string, funded money.Amount) ledger.Account {
	t.Helper()
	return b.openTB(t, name, funded)
}

func (b *bank) openTB(t testing.TB, name string, funded money.Amount) ledger.Account {
	t.Helper()
	ctx := context.Background()
	nrbCounter++
	cust, err := b.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: name, Login: fmt.Sprintf("%s%d", name, nrbCounter)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.l.OpenAccount(ctx, ledger.Account{
		NRB: fmt.Sprintf("%026d", 1000+nrbCounter), CustomerID: cust.ID, Currency: "PLN", Type: ledger.TypePersonal, Name: "Konto",
	})
	if err != nil {
		t.Fatal(err)
	}
	if funded > 0 {
		if _, err := b.l.Transfer(ctx, ledger.TransferRequest{
			Kind: "elixir", DebitAccountID: b.clearing.ID, CreditAccountID: a.ID, Amount: funded,
			Debtor: ledger.Party{Name: "Employer Sp. z o.o.", Account: "PL61109010140000071219812874"}, Title: "Wynagrodzenie",
		}); err != nil {
			t.Fatal(err)
		}
	}
	a, err = b.l.Account(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (b *bank) check(t *testing.T) {
	t.Helper()
	if err := b.l.CheckInvariants(context.Background()); err != nil {
		t.Fatalf("ledger invariants broken:\n%v", err)
	}
}

func (b *bank) balance(t *testing.T, id string) (booked, available money.Amount) {
	t.Helper()
	a, err := b.l.Account(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Booked, a.Available
}

func TestTransferBooksBothPostings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 100_00)
		bob := b.open(t, "bob", 0)
		tr, err := b.l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 30_25, Title: "Za obiad"})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Status != ledger.StatusBooked || tr.Creditor.Name != "bob" || tr.Creditor.Account != bob.NRB || tr.Debtor.Account != alice.NRB {
			t.Fatalf("transfer = %+v", tr)
		}
		if got, _ := b.balance(t, alice.ID); got != 69_75 {
			t.Fatalf("alice booked %s, want 69.75", got)
		}
		ps, more, err := b.l.Postings(ctx, ledger.PostingQuery{AccountID: bob.ID})
		if err != nil || more || len(ps) != 1 {
			t.Fatalf("bob postings %+v more=%v err=%v", ps, more, err)
		}
		p := ps[0]
		if p.Amount != 30_25 || p.BalanceAfter != 30_25 || p.Counterparty.Name != "alice" || p.Counterparty.Account != alice.NRB || p.TransferID != tr.ID {
			t.Fatalf("bob's posting = %+v", p)
		}
		aps, _, _ := b.l.Postings(ctx, ledger.PostingQuery{AccountID: alice.ID, Limit: 1})
		if aps[0].ID != tr.ID || aps[0].Amount != -30_25 || aps[0].BalanceAfter != 69_75 {
			t.Fatalf("alice's posting = %+v (the debit item keeps the transfer's id)", aps[0])
		}
		b.check(t)
	})
}

func TestTransferRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 10_00)
		bob := b.open(t, "bob", 0)
		eur, err := b.l.OpenAccount(ctx, ledger.Account{NRB: "99999999999999999999999999", CustomerID: "", Currency: "EUR", Type: ledger.TypePersonal, Name: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		long := make([]rune, 141)
		for i := range long {
			long[i] = 'x'
		}
		for _, tc := range []struct {
			name string
			req  ledger.TransferRequest
			code ledger.Code
		}{
			{"more than available", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 10_01}, ledger.CodeInsufficientFunds},
			{"zero", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 0}, ledger.CodeInvalid},
			{"negative", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: -1}, ledger.CodeInvalid},
			{"same account", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: alice.ID, Amount: 1}, ledger.CodeInvalid},
			{"unknown account", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: "nope", Amount: 1}, ledger.CodeNotFound},
			{"other currency", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: eur.ID, Amount: 1}, ledger.CodeCurrencyMismatch},
			{"title too long", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 1, Title: string(long)}, ledger.CodeInvalid},
			{"outside party without a name", ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: b.clearing.ID, Amount: 1}, ledger.CodeInvalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := b.l.Transfer(ctx, tc.req)
				if ledger.CodeOf(err) != tc.code {
					t.Fatalf("error %v (code %q), want code %q", err, ledger.CodeOf(err), tc.code)
				}
				if err.Error() == "" {
					t.Fatal("empty message")
				}
			})
		}
		if got, avail := b.balance(t, alice.ID); got != 10_00 || avail != 10_00 {
			t.Fatalf("refused transfers changed alice's balance to %s/%s", got, avail)
		}
		b.check(t)
	})
}

// 100 concurrent transfers from one account whose balance covers 50: exactly
// 50 succeed, the balance never goes below zero, the total is unchanged.
func TestConcurrentTransfersNeverOverspend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		const each = 7_00
		src := b.open(t, "payer", 50*each)
		dst := []ledger.Account{b.open(t, "r1", 0), b.open(t, "r2", 0), b.open(t, "r3", 0)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		var other []error
		start := make(chan struct{})
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := b.l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: src.ID, CreditAccountID: dst[i%3].ID, Amount: each, Title: fmt.Sprint("t", i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case ledger.CodeOf(err) == ledger.CodeInsufficientFunds:
					refused++
				default:
					other = append(other, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(other) > 0 {
			t.Fatalf("unexpected errors: %v", errors.Join(other...))
		}
		if ok != 50 || refused != 50 {
			t.Fatalf("%d transfers succeeded and %d were refused; want 50 and 50", ok, refused)
		}
		if booked, avail := b.balance(t, src.ID); booked != 0 || avail != 0 {
			t.Fatalf("payer left with %s/%s, want 0", booked, avail)
		}
		var total money.Amount
		for _, d := range dst {
			got, _ := b.balance(t, d.ID)
			total += got
		}
		if total != 50*each {
			t.Fatalf("recipients got %s, want %s", total, money.Amount(50*each))
		}
		// Never below zero: every balance-after of the payer is >= 0.
		ps, _, err := b.l.Postings(ctx, ledger.PostingQuery{AccountID: src.ID, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.BalanceAfter < 0 {
				t.Fatalf("payer's balance went to %s after item %d", p.BalanceAfter, p.Seq)
			}
		}
		b.check(t) // includes: the sum of all balances is unchanged (zero)
	})
}

// A transfer that fails at any step leaves nothing behind.
func TestFailedTransferLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 100_00)
		bob := b.open(t, "bob", 5_00)
		injected := errors.New("injected failure")
		for step := 1; ; step++ {
			n := 0
			db.SetHook(func(string) error {
				n++
				if n == step {
					return injected
				}
				return nil
			})
			tr, err := b.l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 12_34, Title: "x"})
			db.SetHook(nil)
			if n < step { // the transfer ran every step without reaching this one: done
				if err != nil {
					t.Fatalf("transfer without failure: %v", err)
				}
				if step < 4 {
					t.Fatalf("a transfer took only %d statements; the test covers nothing", step-1)
				}
				if got, _ := b.balance(t, alice.ID); got != 100_00-12_34 {
					t.Fatalf("alice %s after the successful transfer", got)
				}
				t.Logf("failure injected at each of %d steps", step-1)
				break
			}
			if err == nil {
				t.Fatalf("step %d: transfer %s succeeded despite the failure", step, tr.ID)
			}
			if a, _ := b.balance(t, alice.ID); a != 100_00 {
				t.Fatalf("step %d: alice has %s after a failed transfer", step, a)
			}
			if bb, _ := b.balance(t, bob.ID); bb != 5_00 {
				t.Fatalf("step %d: bob has %s after a failed transfer", step, bb)
			}
			var count int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM transfers`).Scan(&count); err != nil {
				t.Fatal(err)
			}
			if count != 2 { // the two fundings
				t.Fatalf("step %d: %d transfers stored, want 2", step, count)
			}
			b.check(t)
		}
		b.check(t)
	})
}

func TestPendingTransferSettlesOrIsRejected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 100_00)
		out := ledger.TransferRequest{Kind: "elixir", DebitAccountID: alice.ID, CreditAccountID: b.clearing.ID, Amount: 40_00,
			Creditor: ledger.Party{Name: "PGE Obrót S.A.", Account: "PL83101010230000261395100000"}, Title: "Prąd 11/2026"}
		p, err := b.l.Submit(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		if booked, avail := b.balance(t, alice.ID); booked != 100_00 || avail != 60_00 {
			t.Fatalf("pending: booked %s available %s, want 100.00/60.00", booked, avail)
		}
		holds, _ := b.l.Holds(ctx, alice.ID)
		if len(holds) != 1 || holds[0].TransferID != p.ID {
			t.Fatalf("holds = %+v", holds)
		}
		b.check(t)
		b.clock.Advance(3 * time.Hour)
		s, err := b.l.Settle(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != ledger.StatusBooked || s.ID != p.ID {
			t.Fatalf("settled = %+v", s)
		}
		if booked, avail := b.balance(t, alice.ID); booked != 60_00 || avail != 60_00 {
			t.Fatalf("settled: booked %s available %s, want 60.00/60.00", booked, avail)
		}
		ps, _, _ := b.l.Postings(ctx, ledger.PostingQuery{AccountID: alice.ID, Limit: 1})
		if ps[0].ID != p.ID {
			t.Fatalf("booked item id %s, pending item id %s: the item must keep its id", ps[0].ID, p.ID)
		}
		if _, err := b.l.Settle(ctx, p.ID); ledger.CodeOf(err) != ledger.CodeConflict {
			t.Fatalf("second settle: %v, want conflict", err)
		}
		if _, err := b.l.Cancel(ctx, p.ID, "too late"); ledger.CodeOf(err) != ledger.CodeConflict {
			t.Fatalf("cancel after booking: %v, want conflict", err)
		}
		p2, err := b.l.Submit(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		r, err := b.l.Reject(ctx, p2.ID, "recipient bank refused: account closed")
		if err != nil || r.Status != ledger.StatusRejected || r.StatusReason == "" {
			t.Fatalf("reject = %+v, %v", r, err)
		}
		if booked, avail := b.balance(t, alice.ID); booked != 60_00 || avail != 60_00 {
			t.Fatalf("rejected: booked %s available %s, want 60.00/60.00", booked, avail)
		}
		if _, err := b.l.Submit(ctx, ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: b.clearing.ID, Amount: 60_01,
			Creditor: ledger.Party{Name: "X"}}); ledger.CodeOf(err) != ledger.CodeInsufficientFunds {
			t.Fatalf("over-available submit: %v", err)
		}
		b.check(t)
	})
}

func TestScheduledTransfer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 50_00)
		bob := b.open(t, "bob", 0)
		if _, err := b.l.Schedule(ctx, ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 1, ExecutionDate: "2026-11-23"}); ledger.CodeOf(err) != ledger.CodeInvalid {
			t.Fatalf("scheduling for today: %v, want invalid", err)
		}
		s, err := b.l.Schedule(ctx, ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 20_00, ExecutionDate: "2026-11-25", Title: "Czynsz"})
		if err != nil {
			t.Fatal(err)
		}
		if booked, avail := b.balance(t, alice.ID); booked != 50_00 || avail != 50_00 {
			t.Fatalf("a scheduled transfer moved money: %s/%s", booked, avail)
		}
		if _, err := b.l.Execute(ctx, s.ID); ledger.CodeOf(err) != ledger.CodeInvalid {
			t.Fatalf("early execute: %v", err)
		}
		due, _ := b.l.DueTransfers(ctx, "2026-11-25")
		if len(due) != 1 || due[0].ID != s.ID {
			t.Fatalf("due = %+v", due)
		}
		b.clock.Advance(48 * time.Hour)
		e, err := b.l.Execute(ctx, s.ID)
		if err != nil || e.Status != ledger.StatusBooked {
			t.Fatalf("execute = %+v, %v", e, err)
		}
		if got, _ := b.balance(t, bob.ID); got != 20_00 {
			t.Fatalf("bob %s", got)
		}
		// Without funds on the day, it is rejected with the reason.
		s2, _ := b.l.Schedule(ctx, ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 40_00, ExecutionDate: "2026-11-26"})
		b.clock.Advance(24 * time.Hour)
		r, err := b.l.Execute(ctx, s2.ID)
		if err != nil || r.Status != ledger.StatusRejected || r.StatusReason == "" {
			t.Fatalf("execute without funds = %+v, %v", r, err)
		}
		s3, _ := b.l.Schedule(ctx, ledger.TransferRequest{DebitAccountID: alice.ID, CreditAccountID: bob.ID, Amount: 1_00, ExecutionDate: "2026-12-01"})
		if c, err := b.l.Cancel(ctx, s3.ID, "PSU cancelled"); err != nil || c.Status != ledger.StatusCancelled {
			t.Fatalf("cancel = %+v, %v", c, err)
		}
		b.check(t)
	})
}

func TestCardHold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 100_00)
		h, err := b.l.PlaceHold(ctx, ledger.Hold{AccountID: alice.ID, Amount: 25_99, Description: "BIEDRONKA 1234 WARSZAWA", MerchantName: "Biedronka", MerchantCity: "Warszawa"})
		if err != nil {
			t.Fatal(err)
		}
		if _, avail := b.balance(t, alice.ID); avail != 74_01 {
			t.Fatalf("available %s after hold", avail)
		}
		if _, err := b.l.PlaceHold(ctx, ledger.Hold{AccountID: alice.ID, Amount: 74_02}); ledger.CodeOf(err) != ledger.CodeInsufficientFunds {
			t.Fatalf("over-available hold: %v", err)
		}
		b.check(t)
		tr, err := b.l.CaptureHold(ctx, h.ID, "Płatność kartą BIEDRONKA")
		if err != nil {
			t.Fatal(err)
		}
		if tr.Creditor.Name != "Biedronka" {
			t.Fatalf("card transfer creditor %+v", tr.Creditor)
		}
		if booked, avail := b.balance(t, alice.ID); booked != 74_01 || avail != 74_01 {
			t.Fatalf("after capture %s/%s", booked, avail)
		}
		h2, _ := b.l.PlaceHold(ctx, ledger.Hold{AccountID: alice.ID, Amount: 10_00, Description: "ORLEN"})
		if err := b.l.ReleaseHold(ctx, h2.ID); err != nil {
			t.Fatal(err)
		}
		if err := b.l.ReleaseHold(ctx, h2.ID); ledger.CodeOf(err) != ledger.CodeConflict {
			t.Fatalf("second release: %v", err)
		}
		if _, avail := b.balance(t, alice.ID); avail != 74_01 {
			t.Fatalf("available %s after release", avail)
		}
		b.check(t)
	})
}

func TestPostingsKeysetPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 0)
		var items []ledger.HistoricalTransfer
		at := t0.Add(-30 * 24 * time.Hour)
		for i := range 250 {
			at = at.Add(2 * time.Hour)
			items = append(items, ledger.HistoricalTransfer{BookedAt: at, TransferRequest: ledger.TransferRequest{
				Kind: "elixir", DebitAccountID: b.clearing.ID, CreditAccountID: alice.ID, Amount: money.Amount(100 + i),
				Debtor: ledger.Party{Name: "Payer", Account: "PL61109010140000071219812874"}, Title: fmt.Sprint("in ", i)}})
		}
		if err := b.l.ImportHistory(ctx, items); err != nil {
			t.Fatal(err)
		}
		b.check(t)
		var all []ledger.Posting
		before := int64(0)
		for pages := 0; ; pages++ {
			page, more, err := b.l.Postings(ctx, ledger.PostingQuery{AccountID: alice.ID, BeforeSeq: before, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if !more {
				if pages != 2 {
					t.Fatalf("%d pages, want 3", pages+1)
				}
				break
			}
			before = page[len(page)-1].Seq
		}
		if len(all) != 250 || all[0].Seq != 250 || all[249].Seq != 1 || all[0].Title != "in 249" {
			t.Fatalf("got %d items, first %+v", len(all), all[0])
		}
		from := ledger.DateOf(t0.Add(-10 * 24 * time.Hour))
		page, _, err := b.l.Postings(ctx, ledger.PostingQuery{AccountID: alice.ID, FromDate: from, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			if p.BookingDate < from {
				t.Fatalf("item booked %s before the filter's %s", p.BookingDate, from)
			}
		}
		if len(page) == 0 || len(page) == 250 {
			t.Fatalf("date filter returned %d items", len(page))
		}
		if _, _, err := b.l.Postings(ctx, ledger.PostingQuery{AccountID: alice.ID, Limit: 1001}); ledger.CodeOf(err) != ledger.CodeInvalid {
			t.Fatalf("oversized page: %v", err)
		}
	})
}

func TestImportHistoryRefusesOverspending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db)
		alice := b.open(t, "alice", 10_00)
		err := b.l.ImportHistory(ctx, []ledger.HistoricalTransfer{{BookedAt: t0, TransferRequest: ledger.TransferRequest{
			DebitAccountID: alice.ID, CreditAccountID: b.clearing.ID, Amount: 10_01, Creditor: ledger.Party{Name: "Shop"}}}})
		if ledger.CodeOf(err) != ledger.CodeInsufficientFunds {
			t.Fatalf("overspending history: %v", err)
		}
		if got, _ := b.balance(t, alice.ID); got != 10_00 {
			t.Fatalf("refused import changed the balance to %s", got)
		}
		b.check(t)
	})
}
