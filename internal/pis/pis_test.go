package pis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// t0 is a Monday morning in Warsaw.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const tpp = "PSDPL-KNF-0000000001"

// node is one bank node: every service over its own store handle.
type node struct {
	db       *store.DB
	l        *ledger.Ledger
	consents *consent.Service
	payments *payment.Service
	access   *access.Service
	pis      *pis.Service
}

func newNode(db *store.DB, c clock.Clock) *node {
	n := &node{db: db, l: ledger.New(db, c), consents: consent.New(db, c)}
	n.payments = payment.New(payment.Config{DB: db, Ledger: n.l})
	n.access = access.New(db, n.l, c)
	n.pis = pis.New(pis.Config{Consents: n.consents, Payments: n.payments, Ledger: n.l, Access: n.access})
	return n
}

// world is a bank with Anna (who pays, with a day limit for API payments)
// and Bob (who is paid), both at this bank.
type world struct {
	t     *testing.T
	clock *clock.Fixed
	*node
	anna       ledger.Customer
	annaMain   ledger.Account
	bobMain    ledger.Account
	dayLimit   money.Amount
	startFunds money.Amount
}

var nrbSeq atomic.Int64

func newNRB(t testing.TB) string {
	n, err := polish.MakeNRB(polish.OwnSortCode, fmt.Sprintf("%016d", 9000+nrbSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// must returns v, or panics with err (which fails the test).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, clock: clock.NewFixed(t0), dayLimit: 1000_00, startFunds: 5000_00}
	w.node = newNode(db, w.clock)
	id := nrbSeq.Add(1)
	w.anna = must(w.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: "Anna Kowalska", Login: fmt.Sprint("anna", id)}))
	bob := must(w.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: "Bob Nowak", Login: fmt.Sprint("bob", id)}))
	w.annaMain = must(w.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: w.anna.ID, Currency: "PLN", Type: ledger.TypePersonal, Name: "eKonto"}))
	w.bobMain = must(w.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: bob.ID, Currency: "PLN", Type: ledger.TypePersonal, Name: "eKonto"}))
	clr := must(w.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), Currency: "PLN", Type: ledger.TypeClearing, Name: "Elixir", AllowNegative: true}))
	must(w.l.Transfer(ctx, ledger.TransferRequest{Kind: "elixir", DebitAccountID: clr.ID, CreditAccountID: w.annaMain.ID, Amount: w.startFunds,
		Debtor: ledger.Party{Name: "Pracodawca", Account: "61109010140000071219812874"}, Title: "Wynagrodzenie"}))
	must(w.access.SetLimits(ctx, w.anna.ID, w.annaMain.NRB, access.OneOff, 0, w.dayLimit, "test"))
	t.Cleanup(func() {
		if err := w.l.CheckInvariants(context.Background()); err != nil {
			t.Errorf("ledger invariants broken:\n%v", err)
		}
	})
	return w
}

// order is an internal transfer of amount from Anna to Bob.
func (w *world) order(amount money.Amount) payment.Order {
	return payment.Order{Type: payment.Domestic, TPPID: tpp, SenderAccount: w.annaMain.NRB,
		Recipient: payment.Recipient{Name: "Bob Nowak", Account: w.bobMain.NRB}, Amount: amount, Currency: "PLN", Title: "Za obiad"}
}

// consentFor is Anna's authorised single-use pis:domestic consent for o;
// the privilege carries the order as JSON (what Consented reads).
func (w *world) consentFor(o payment.Order) consent.Consent {
	w.t.Helper()
	ctx := context.Background()
	raw := must(json.Marshal(o))
	c := must(w.consents.Create(ctx, consent.Consent{
		TPPConsentID: uuid.NewString(), TPPID: tpp, ClientID: "client", Scope: consent.ScopePIS,
		Privileges:     []consent.Privilege{{Name: consent.PrivDomestic, ScopeUsageLimit: consent.UsageSingle, Payment: raw}},
		ScopeTimeLimit: t0.AddDate(0, 0, 1), ThrottlingPolicy: consent.ThrottlingPSD2Regulatory, Dialect: consent.DialectPolishAPI,
	}))
	return must(w.consents.Authorise(ctx, c.ID, w.anna.ID, []string{w.annaMain.NRB}))
}

// request is the initiation of o with key under c, as a dialect builds it.
func request(c consent.Consent, o payment.Order, key string) pis.Request {
	o.TPPTransactionID = key
	o.RequestHash = fmt.Sprintf("%s/%s/%s", o.Amount, o.Title, o.Recipient.Account)
	return pis.Request{Grant: pis.Grant{TPPID: tpp, ConsentID: c.ID, CustomerID: c.CustomerID}, Privileges: []string{consent.PrivDomestic},
		Order: o, Names: pis.PolishAPINames,
		Consented: func(p consent.Privilege) (payment.Order, error) {
			var want payment.Order
			err := json.Unmarshal(p.Payment, &want)
			return want, err
		}}
}

// state is what an initiation may have changed.
type state struct {
	payments, history, accesses, uses int
	counted                           money.Amount
	annaBalance                       money.Amount
}

func (w *world) state() state {
	w.t.Helper()
	ctx := context.Background()
	var s state
	var counted, balance int64
	for _, q := range []struct {
		sql string
		dst any
	}{
		{`SELECT count(*) FROM payments`, &s.payments},
		{`SELECT count(*) FROM payment_history`, &s.history},
		{`SELECT count(*) FROM consent_accesses`, &s.accesses},
		{`SELECT COALESCE(SUM(uses), 0) FROM consent_privileges`, &s.uses},
		{`SELECT COALESCE(SUM(total), 0) FROM api_payment_totals`, &counted},
	} {
		if err := w.db.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			w.t.Fatalf("%s: %v", q.sql, err)
		}
	}
	a := must(w.l.Account(ctx, w.annaMain.ID))
	balance = int64(a.Booked)
	s.counted, s.annaBalance = money.Amount(counted), money.Amount(balance)
	return s
}

var errInjected = errors.New("injected failure")

// A failure at any statement of an initiation leaves nothing behind (no
// payment, the privilege unused, the limit not counted, no money moved) or,
// when it comes after the initiation's transaction committed, a recorded
// payment that RunDue completes; in both cases the retry with the same key
// succeeds, and the money moves exactly once. Both engines.
func TestInitiateFailureAtEveryStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		const amount = 1_00

		// Count the statements of one initiation inside transactions.
		var seen []string
		o := w.order(amount)
		first := request(w.consentFor(o), o, uuid.NewString())
		db.SetHook(func(q string) error { seen = append(seen, strings.Join(strings.Fields(q), " ")); return nil })
		p, err := w.pis.Initiate(ctx, first)
		db.SetHook(nil)
		if err != nil || p.Status != payment.StatusDone {
			t.Fatalf("initiate = %+v, %v", p, err)
		}
		n := len(seen)
		if n < 5 {
			t.Fatalf("only %d statements seen in transactions", n)
		}
		done := 1
		for k := 1; k <= n; k++ {
			before := w.state()
			o := w.order(amount)
			req := request(w.consentFor(o), o, uuid.NewString())
			var i atomic.Int64
			db.SetHook(func(q string) error {
				if i.Add(1) == int64(k) {
					return errInjected
				}
				return nil
			})
			_, err := w.pis.Initiate(ctx, req)
			db.SetHook(nil)
			if err == nil {
				t.Fatalf("failure at statement %d (%s): Initiate succeeded", k, seen[k-1])
			}
			after := w.state()
			switch {
			case after == before:
				// Nothing left: the initiation's transaction rolled back.
			case after.payments == before.payments+1 && after.uses == before.uses+1 && after.counted == before.counted+amount:
				// The initiation committed; the ledger step failed after it.
			default:
				t.Fatalf("failure at statement %d (%s) left a partial state:\nbefore %+v\nafter  %+v", k, seen[k-1], before, after)
			}
			// The retry with the same key succeeds, with the payment of the
			// first attempt if it was recorded.
			p, err := w.pis.Initiate(ctx, req)
			if err != nil {
				t.Fatalf("failure at statement %d (%s): the retry = %v", k, seen[k-1], err)
			}
			if p.Status == payment.StatusSubmitted {
				w.clock.Advance(2 * time.Minute)
				if _, err := w.payments.RunDue(ctx); err != nil {
					t.Fatal(err)
				}
				p = must(w.payments.Get(ctx, p.ID))
			}
			if p.Status != payment.StatusDone {
				t.Fatalf("failure at statement %d (%s): payment %s is %s after the retry, want done", k, seen[k-1], p.ID, p.Status)
			}
			done++
			final := w.state()
			if final.payments != before.payments+1 || final.uses != before.uses+1 || final.counted != before.counted+amount ||
				final.annaBalance != before.annaBalance-amount {
				t.Fatalf("failure at statement %d (%s): after the retry\nbefore %+v\nafter  %+v\nwant one payment, one use, one count, one debit",
					k, seen[k-1], before, final)
			}
		}
		if got := w.state().annaBalance; got != w.startFunds-money.Amount(done)*amount {
			t.Fatalf("Anna's balance %s after %d payments of %s from %s", got, done, money.Amount(amount), w.startFunds)
		}
		t.Logf("%d statements in transactions per initiation, each failed once", n)
	})
}

// Two nodes (two store handles on one PostgreSQL) race the same consent:
// duplicates with one key make one payment and are all answered with it;
// different keys under one single-use consent make one payment and the
// others get usage_exhausted; the same key with another body is a
// duplicate. The money moves once and the limit counts once.
func TestInitiateTwoNodesRace(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1 := open()
	if _, err := db1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, db1)
	nodes := []*node{w.node, newNode(open(), w.clock)}
	const racers = 24
	const amount = 2_00

	race := func(reqs func(i int) pis.Request) ([]payment.Payment, []error) {
		ps, errs := make([]payment.Payment, racers), make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ps[i], errs[i] = nodes[i%2].pis.Initiate(ctx, reqs(i))
			}()
		}
		close(start)
		wg.Wait()
		return ps, errs
	}

	t.Run("same key", func(t *testing.T) {
		before := w.state()
		o := w.order(amount)
		req := request(w.consentFor(o), o, uuid.NewString())
		ps, errs := race(func(int) pis.Request { return req })
		for i := range racers {
			if errs[i] != nil {
				t.Fatalf("racer %d (node %d): %v", i, i%2+1, errs[i])
			}
			if ps[i].ID != ps[0].ID {
				t.Fatalf("racer %d answered payment %s, racer 0 %s", i, ps[i].ID, ps[0].ID)
			}
		}
		after := w.state()
		if after.payments != before.payments+1 || after.uses != before.uses+1 || after.counted != before.counted+amount ||
			after.annaBalance != before.annaBalance-amount {
			t.Fatalf("before %+v\nafter  %+v\nwant one payment, one use, one count, one debit", before, after)
		}
	})

	t.Run("different keys", func(t *testing.T) {
		before := w.state()
		o := w.order(amount)
		c := w.consentFor(o)
		ps, errs := race(func(int) pis.Request { return request(c, o, uuid.NewString()) })
		ok := 0
		for i := range racers {
			switch {
			case errs[i] == nil && ps[i].Status == payment.StatusDone:
				ok++
			case consent.CodeOf(errs[i]) == consent.CodeUsageExhausted:
			default:
				t.Fatalf("racer %d: %+v, %v", i, ps[i], errs[i])
			}
		}
		if ok != 1 {
			t.Fatalf("%d racers made a payment under one single-use consent, want 1", ok)
		}
		after := w.state()
		if after.payments != before.payments+1 || after.counted != before.counted+amount || after.annaBalance != before.annaBalance-amount {
			t.Fatalf("before %+v\nafter  %+v", before, after)
		}
	})

	t.Run("same key, other bodies", func(t *testing.T) {
		before := w.state()
		key := uuid.NewString()
		reqs := make([]pis.Request, racers)
		for i := range reqs {
			o := w.order(money.Amount(amount + i))
			reqs[i] = request(w.consentFor(o), o, key)
		}
		ps, errs := race(func(i int) pis.Request { return reqs[i] })
		ok := 0
		for i := range racers {
			switch {
			case errs[i] == nil:
				ok++
			case payment.CodeOf(errs[i]) == payment.CodeDuplicate:
			default:
				t.Fatalf("racer %d: %+v, %v", i, ps[i], errs[i])
			}
		}
		if ok != 1 {
			t.Fatalf("%d racers made a payment with one key, want 1", ok)
		}
		after := w.state()
		if after.payments != before.payments+1 || after.uses != before.uses+1 {
			t.Fatalf("before %+v\nafter  %+v", before, after)
		}
	})
}
