package payment_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// warsaw returns a Warsaw wall-clock time.
func warsaw(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, polish.Warsaw)
}

// monday is a business day: Monday 23 November 2026, 10:00 in Warsaw.
var monday = warsaw(2026, 11, 23, 10, 0)

// Accounts at other banks and at the state.
var (
	otherBank = "61109010140000071219812874" // Santander
	deIBAN    = "DE89370400440532013000"
	zusNRB    = mustNRB(polish.MakeNRB("60000002", "0226123456780000"))
	taxOffice = mustNRB(polish.MakeNRB("10100071", "2310000000000000"))
	taxMicro  = mustNRB(polish.TaxMicroAccount(polish.TaxIDNIP, "5260300517"))
)

func mustNRB(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

type env struct {
	t     *testing.T
	db    *store.DB
	clock *clock.Fixed
	l     *ledger.Ledger
	svc   *payment.Service
	n     int
	keys  atomic.Int64
}

// newEnv is a bank at time start with PLN and EUR clearing accounts. After
// the test the ledger's invariants are checked.
func newEnv(t *testing.T, db *store.DB, start time.Time) *env {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFixed(start)
	l := ledger.New(db, c)
	for _, cur := range []string{"PLN", "EUR"} {
		if _, err := l.OpenAccount(ctx, ledger.Account{
			NRB:      mustNRB(polish.OwnNRB("90000000000000" + map[string]string{"PLN": "01", "EUR": "02"}[cur])),
			Currency: cur, Type: ledger.TypeClearing, Name: "clearing " + cur, AllowNegative: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, db: db, clock: c, l: l, svc: payment.New(payment.Config{DB: db, Ledger: l})}
	t.Cleanup(func() {
		if err := l.CheckInvariants(context.Background()); err != nil {
			t.Errorf("ledger invariants broken:\n%v", err)
		}
	})
	return e
}

// open opens an account funded from outside the bank.
func (e *env) open(name string, funded money.Amount, currency string) ledger.Account {
	e.t.Helper()
	ctx := context.Background()
	e.n++
	cust, err := e.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Company, Name: name, Login: fmt.Sprintf("%s%d", name, e.n)})
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.l.OpenAccount(ctx, ledger.Account{
		NRB: mustNRB(polish.OwnNRB(fmt.Sprintf("1000%012d", e.n))), CustomerID: cust.ID, Currency: currency,
		Type: ledger.TypeBusiness, Name: "Konto",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if funded > 0 {
		clr, err := e.l.ClearingAccount(ctx, currency)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.l.Transfer(ctx, ledger.TransferRequest{
			DebitAccountID: clr.ID, CreditAccountID: a.ID, Amount: funded, Kind: "elixir",
			Debtor: ledger.Party{Name: "Klient Sp. z o.o.", Account: otherBank}, Title: "Zasilenie",
		}); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.account(a.ID)
}

func (e *env) account(id string) ledger.Account {
	e.t.Helper()
	a, err := e.l.Account(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// order is a domestic PLN order from a to the account to.
func (e *env) order(from ledger.Account, to string, amount money.Amount) payment.Order {
	k := e.keys.Add(1)
	return payment.Order{
		Type: payment.Domestic, TPPID: "tpp-1", TPPTransactionID: fmt.Sprintf("tx-%d", k), RequestHash: fmt.Sprintf("hash-%d", k),
		SenderAccount: from.NRB, Recipient: payment.Recipient{Name: "Jan Kowalski", Account: to},
		Amount: amount, Currency: from.Currency, Title: "Faktura 1/11/2026",
	}
}

func (e *env) initiate(o payment.Order) payment.Payment {
	e.t.Helper()
	p, err := e.svc.Initiate(context.Background(), o)
	if err != nil {
		e.t.Fatalf("Initiate: %v", err)
	}
	return p
}

// at moves the clock to t and runs what is due.
func (e *env) at(t time.Time) payment.Report {
	e.t.Helper()
	if d := t.Sub(e.clock.Now()); d > 0 {
		e.clock.Advance(d)
	}
	r, err := e.svc.RunDue(context.Background())
	if err != nil {
		e.t.Fatalf("RunDue at %s: %v", t, err)
	}
	if len(r.Errors) > 0 {
		e.t.Fatalf("RunDue at %s: %v", t, r.Errors)
	}
	return r
}

func (e *env) status(id string) payment.Payment {
	e.t.Helper()
	p, err := e.svc.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) wantStatus(id string, want payment.Status) payment.Payment {
	e.t.Helper()
	p := e.status(id)
	if p.Status != want {
		e.t.Fatalf("payment is %s (%s), want %s at %s", p.Status, p.StatusReason, want, e.clock.Now().In(polish.Warsaw))
	}
	return p
}

func (e *env) wantBalance(a ledger.Account, booked, available money.Amount) {
	e.t.Helper()
	got := e.account(a.ID)
	if got.Booked != booked || got.Available != available {
		e.t.Fatalf("account %s: booked %s available %s, want %s and %s", a.Name, got.Booked, got.Available, booked, available)
	}
}

func wantCode(t *testing.T, err error, code payment.Code) {
	t.Helper()
	if payment.CodeOf(err) != code {
		t.Fatalf("error %v (code %q), want code %q", err, payment.CodeOf(err), code)
	}
}

func TestInternalBookedAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, monday)
		alice, bob := e.open("alice", 1000_00, "PLN"), e.open("bob", 0, "PLN")
		p := e.initiate(e.order(alice, "PL"+bob.NRB, 250_00))
		if p.Status != payment.StatusDone || p.System != payment.SystemInternal || p.Kind != "internal" {
			t.Fatalf("payment = %+v", p)
		}
		e.wantBalance(alice, 750_00, 750_00)
		e.wantBalance(bob, 250_00, 250_00)
		h, err := e.svc.History(context.Background(), p.ID)
		if err != nil || len(h) != 2 || h[0].Status != payment.StatusSubmitted || h[1].Status != payment.StatusDone {
			t.Fatalf("history = %+v, %v", h, err)
		}
		tr, err := e.l.GetTransfer(context.Background(), p.ID)
		if err != nil || tr.Status != ledger.StatusBooked {
			t.Fatalf("ledger transfer = %+v, %v", tr, err)
		}
	})
}

func TestElixirSettlesAfterItsSession(t *testing.T) {
	cases := []struct {
		name     string
		at       time.Time
		before   time.Time // still pending here
		settled  time.Time // done from here
		checkDay time.Time // a RunDue in between that must not settle it
	}{
		{"11:00 goes in the 12:00 session", warsaw(2026, 11, 23, 11, 0), warsaw(2026, 11, 23, 13, 29), warsaw(2026, 11, 23, 13, 30), warsaw(2026, 11, 23, 12, 30)},
		{"at 08:00 exactly still session 1", warsaw(2026, 11, 23, 8, 0), warsaw(2026, 11, 23, 9, 29), warsaw(2026, 11, 23, 9, 30), warsaw(2026, 11, 23, 9, 0)},
		{"15:00 goes in tomorrow's first session", warsaw(2026, 11, 23, 15, 0), warsaw(2026, 11, 24, 9, 29), warsaw(2026, 11, 24, 9, 30), warsaw(2026, 11, 23, 17, 0)},
		{"Friday evening settles on Monday", warsaw(2026, 11, 27, 19, 0), warsaw(2026, 11, 30, 9, 29), warsaw(2026, 11, 30, 9, 30), warsaw(2026, 11, 28, 12, 0)},
		{"across Easter Monday", warsaw(2026, 4, 3, 15, 0), warsaw(2026, 4, 7, 9, 29), warsaw(2026, 4, 7, 9, 30), warsaw(2026, 4, 6, 12, 0)},
		{"across Christmas Eve", warsaw(2026, 12, 23, 16, 0), warsaw(2026, 12, 28, 9, 29), warsaw(2026, 12, 28, 9, 30), warsaw(2026, 12, 24, 12, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				e := newEnv(t, db, tc.at)
				alice := e.open("alice", 1000_00, "PLN")
				p := e.initiate(e.order(alice, otherBank, 100_00))
				if p.Status != payment.StatusPending || p.System != payment.SystemElixir || !p.SettleAt.Equal(tc.settled) {
					t.Fatalf("payment = %s %s settles %s, want pending ELIXIR settling %s", p.Status, p.System, p.SettleAt, tc.settled)
				}
				e.wantBalance(alice, 1000_00, 900_00)
				e.at(tc.checkDay)
				e.wantStatus(p.ID, payment.StatusPending)
				e.at(tc.before)
				e.wantStatus(p.ID, payment.StatusPending)
				r := e.at(tc.settled)
				if r.Settled != 1 {
					t.Fatalf("report = %+v", r)
				}
				e.wantStatus(p.ID, payment.StatusDone)
				e.wantBalance(alice, 900_00, 900_00)
				if r := e.at(tc.settled.Add(time.Hour)); r.Settled != 0 {
					t.Fatalf("second run settled again: %+v", r)
				}
			})
		})
	}
}

func TestExpressElixir(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, warsaw(2026, 11, 28, 23, 0)) // Saturday night: Express Elixir runs anyway
		alice := e.open("alice", 200_000_00, "PLN")
		o := e.order(alice, otherBank, 500_00)
		o.System = payment.SystemExpressElixir
		p := e.initiate(o)
		if p.Status != payment.StatusDone || p.System != payment.SystemExpressElixir {
			t.Fatalf("payment = %+v", p)
		}
		e.wantBalance(alice, 199_500_00, 199_500_00)

		over := e.order(alice, otherBank, polish.ExpressElixirMax+1)
		over.System = payment.SystemExpressElixir
		_, err := e.svc.Initiate(context.Background(), over)
		wantCode(t, err, payment.CodeLimitExceeded)
		if _, err := e.svc.GetByTPPTransactionID(context.Background(), over.TPPID, over.TPPTransactionID); payment.CodeOf(err) != payment.CodeNotFound {
			t.Fatalf("a refused order was recorded: %v", err)
		}
		e.wantBalance(alice, 199_500_00, 199_500_00)
	})
}

func TestSorbnet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, monday)
		alice := e.open("alice", 3_000_000_00, "PLN")
		p := e.initiate(e.order(alice, otherBank, polish.SorbnetMin))
		if p.Status != payment.StatusDone || p.System != payment.SystemSorbnet {
			t.Fatalf("before the cut-off: %+v", p)
		}
		// Elixir does not take a million.
		o := e.order(alice, otherBank, polish.SorbnetMin)
		o.System = payment.SystemElixir
		_, err := e.svc.Initiate(context.Background(), o)
		wantCode(t, err, payment.CodeInvalidSystem)

		e.clock.Advance(5 * time.Hour) // 15:00, after the cut-off
		late := e.initiate(e.order(alice, otherBank, polish.SorbnetMin))
		if late.Status != payment.StatusPending || !late.SettleAt.Equal(warsaw(2026, 11, 24, 8, 0)) {
			t.Fatalf("after the cut-off: %s settles %s", late.Status, late.SettleAt)
		}
		e.at(warsaw(2026, 11, 24, 7, 59))
		e.wantStatus(late.ID, payment.StatusPending)
		e.at(warsaw(2026, 11, 24, 8, 0))
		e.wantStatus(late.ID, payment.StatusDone)
		e.wantBalance(alice, 1_000_000_00, 1_000_000_00)
	})
}

func TestTaxPayment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, monday)
		firm := e.open("firm", 10_000_00, "PLN")
		tax := func(mod func(*payment.Order)) payment.Order {
			o := e.order(firm, taxMicro, 1234_00)
			o.Type, o.Title, o.Recipient.Name = payment.Tax, "", "Urząd Skarbowy"
			o.Tax = &payment.TaxInfo{FormCode: "VAT-7", Period: "26M10", PayerIDType: payment.PayerNIP, PayerID: "5260300517"}
			if mod != nil {
				mod(&o)
			}
			return o
		}
		p := e.initiate(tax(nil))
		if p.Status != payment.StatusPending || p.System != payment.SystemElixir || p.Kind != "tax" ||
			p.Title != "/TI/N5260300517/OKR/26M10/SFP/VAT7" || p.Tax == nil || p.Tax.FormCode != "VAT-7" {
			t.Fatalf("tax payment = %+v", p)
		}
		// A tax office's own account at NBP.
		e.initiate(tax(func(o *payment.Order) {
			o.Recipient.Account = taxOffice
			o.Tax.FormCode = "PIT-37"
			o.Tax.Period = "26R"
		}))

		bad := []struct {
			name string
			mod  func(*payment.Order)
			code payment.Code
			says string
		}{
			{"unknown form", func(o *payment.Order) { o.Tax.FormCode = "XYZ-1" }, payment.CodeInvalidTaxInfo, "XYZ-1"},
			{"bad period", func(o *payment.Order) { o.Tax.Period = "26M13" }, payment.CodeInvalidTaxInfo, "26M10"},
			{"bad NIP", func(o *payment.Order) { o.Tax.PayerID = "5260300518" }, payment.CodeInvalidTaxInfo, "expected 7"},
			{"bad PESEL", func(o *payment.Order) { o.Tax.PayerIDType = payment.PayerPESEL; o.Tax.PayerID = "44051401459" }, payment.CodeInvalidTaxInfo, "PESEL"},
			{"bad REGON", func(o *payment.Order) { o.Tax.PayerIDType = payment.PayerREGON; o.Tax.PayerID = "123456786" }, payment.CodeInvalidTaxInfo, "REGON"},
			{"bad id type", func(o *payment.Order) { o.Tax.PayerIDType = "X" }, payment.CodeInvalidTaxInfo, "N (NIP)"},
			{"micro-account of another NIP", func(o *payment.Order) { o.Tax.PayerID = "1234563218" }, payment.CodeInvalidTaxInfo, "another NIP"},
			{"not a tax account", func(o *payment.Order) { o.Recipient.Account = otherBank }, payment.CodeInvalidRecipientAccount, "micro-account"},
			{"express elixir", func(o *payment.Order) { o.System = payment.SystemExpressElixir }, payment.CodeInvalidSystem, "Elixir only"},
			{"in EUR", func(o *payment.Order) { o.Currency = "EUR" }, payment.CodeInvalidCurrency, "PLN"},
			{"no tax info", func(o *payment.Order) { o.Tax = nil }, payment.CodeInvalidTaxInfo, "tax details"},
		}
		for _, b := range bad {
			_, err := e.svc.Initiate(context.Background(), tax(b.mod))
			if payment.CodeOf(err) != b.code || !strings.Contains(err.Error(), b.says) {
				t.Errorf("%s: %v (code %q), want code %s saying %q", b.name, err, payment.CodeOf(err), b.code, b.says)
			}
		}
		e.at(warsaw(2026, 11, 23, 13, 30))
		e.wantStatus(p.ID, payment.StatusDone)
		e.wantBalance(firm, 10_000_00-2*1234_00, 10_000_00-2*1234_00)
	})
}

func TestZUSAndSplitPayment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, monday)
		firm := e.open("firm", 10_000_00, "PLN")
		z := e.initiate(e.order(firm, zusNRB, 1500_00))
		if z.Kind != "zus" || z.System != payment.SystemElixir || z.Status != payment.StatusPending {
			t.Fatalf("ZUS payment = %+v", z)
		}
		o := e.order(firm, zusNRB, 100_00)
		o.System = payment.SystemExpressElixir
		_, err := e.svc.Initiate(context.Background(), o)
		wantCode(t, err, payment.CodeInvalidSystem)

		split := func(mod func(*payment.Order)) payment.Order {
			o := e.order(firm, otherBank, 1230_00)
			o.Title = "abonament"
			o.Split = &payment.SplitPayment{VATAmount: 230_00, InvoiceNumber: "FV 12/11/2026", NIP: "5260300517"}
			if mod != nil {
				mod(&o)
			}
			return o
		}
		sp := e.initiate(split(nil))
		if sp.Kind != "split" || sp.Title != "/VAT/230,00/IDC/5260300517/INV/FV 12/11/2026/TXT/abonament" {
			t.Fatalf("split payment = %+v", sp)
		}
		for name, b := range map[string]struct {
			mod  func(*payment.Order)
			code payment.Code
		}{
			"VAT over amount": {func(o *payment.Order) { o.Split.VATAmount = 1230_01 }, payment.CodeInvalidSplitPayment},
			"bad NIP":         {func(o *payment.Order) { o.Split.NIP = "5231242682" }, payment.CodeInvalidSplitPayment},
			"no invoice":      {func(o *payment.Order) { o.Split.InvoiceNumber = "" }, payment.CodeInvalidSplitPayment},
			"abroad": {func(o *payment.Order) {
				o.Type, o.Currency, o.Recipient.Account, o.Recipient.Country = payment.EEA, "EUR", deIBAN, "DEU"
			}, payment.CodeInvalidSplitPayment},
			"express": {func(o *payment.Order) { o.System = payment.SystemExpressElixir }, payment.CodeInvalidSystem},
		} {
			if _, err := e.svc.Initiate(context.Background(), split(b.mod)); payment.CodeOf(err) != b.code {
				t.Errorf("%s: %v, want %s", name, err, b.code)
			}
		}
		e.at(warsaw(2026, 11, 23, 13, 30))
		e.wantStatus(z.ID, payment.StatusDone)
		e.wantStatus(sp.ID, payment.StatusDone)
	})
}

func TestEEAPayment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, warsaw(2026, 11, 27, 12, 0)) // Friday
		alice := e.open("alice", 1000_00, "EUR")
		o := e.order(alice, deIBAN, 99_99)
		o.Type, o.Recipient.Country = payment.EEA, "DEU"
		p := e.initiate(o)
		if p.Status != payment.StatusPending || p.System != payment.SystemSEPA || !p.SettleAt.Equal(warsaw(2026, 11, 30, 10, 0)) {
			t.Fatalf("SEPA payment = %+v", p)
		}
		e.wantBalance(alice, 1000_00, 900_01)
		e.at(warsaw(2026, 11, 29, 12, 0))
		e.wantStatus(p.ID, payment.StatusPending)
		e.at(warsaw(2026, 11, 30, 10, 0))
		e.wantStatus(p.ID, payment.StatusDone)
		e.wantBalance(alice, 900_01, 900_01)

		// PLN from a EUR account is refused, and SEPA is in EUR.
		o2 := e.order(alice, deIBAN, 1_00)
		o2.Type, o2.Recipient.Country, o2.Currency = payment.EEA, "DEU", "PLN"
		_, err := e.svc.Initiate(context.Background(), o2)
		wantCode(t, err, payment.CodeInvalidCurrency)
	})
}

func TestFutureDated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, monday)
		alice, bob := e.open("alice", 1000_00, "PLN"), e.open("bob", 0, "PLN")

		internal := e.order(alice, bob.NRB, 100_00)
		internal.ExecutionDate = "2026-11-28" // a Saturday is fine within the bank
		pi := e.initiate(internal)
		external := e.order(alice, otherBank, 200_00)
		external.ExecutionDate = "2026-11-25"
		pe := e.initiate(external)
		if pi.Status != payment.StatusScheduled || pe.Status != payment.StatusScheduled {
			t.Fatalf("statuses %s, %s; want scheduled", pi.Status, pe.Status)
		}
		e.wantBalance(alice, 1000_00, 1000_00) // nothing held for a scheduled payment

		weekend := e.order(alice, otherBank, 1_00)
		weekend.ExecutionDate = "2026-11-29"
		_, err := e.svc.Initiate(context.Background(), weekend)
		wantCode(t, err, payment.CodeInvalidExecutionDate)
		if !strings.Contains(err.Error(), "2026-11-30") {
			t.Fatalf("the error does not name the next business day: %v", err)
		}
		past := e.order(alice, otherBank, 1_00)
		past.ExecutionDate = "2026-11-22"
		_, err = e.svc.Initiate(context.Background(), past)
		wantCode(t, err, payment.CodeInvalidExecutionDate)

		e.at(warsaw(2026, 11, 24, 23, 59))
		e.wantStatus(pe.ID, payment.StatusScheduled)
		r := e.at(warsaw(2026, 11, 25, 6, 0))
		if r.Executed != 1 {
			t.Fatalf("report = %+v", r)
		}
		got := e.wantStatus(pe.ID, payment.StatusPending)
		if !got.SettleAt.Equal(warsaw(2026, 11, 25, 9, 30)) {
			t.Fatalf("settles at %s", got.SettleAt)
		}
		if _, err := e.svc.Cancel(context.Background(), pe.ID, "psu", ""); payment.CodeOf(err) != payment.CodeNotCancellable {
			t.Fatalf("cancel after execution: %v", err)
		}
		e.at(warsaw(2026, 11, 25, 9, 30))
		e.wantStatus(pe.ID, payment.StatusDone)

		// Spend the rest before the internal one's day: it is rejected.
		e.initiate(e.order(alice, bob.NRB, 750_00))
		e.at(warsaw(2026, 11, 28, 0, 1))
		rej := e.wantStatus(pi.ID, payment.StatusRejected)
		if !strings.Contains(rej.StatusReason, "insufficient funds") {
			t.Fatalf("reason = %q", rej.StatusReason)
		}
		e.wantBalance(alice, 50_00, 50_00)
	})
}

func TestInsufficientFunds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, monday)
		alice := e.open("alice", 10_00, "PLN")
		o := e.order(alice, otherBank, 10_01)
		p, err := e.svc.Initiate(context.Background(), o)
		wantCode(t, err, payment.CodeInsufficientFunds)
		if p.Status != payment.StatusRejected || !strings.Contains(p.StatusReason, "insufficient funds") {
			t.Fatalf("payment = %+v", p)
		}
		e.wantBalance(alice, 10_00, 10_00)
		again, err := e.svc.Initiate(context.Background(), o)
		if err != nil || again.ID != p.ID || again.Status != payment.StatusRejected {
			t.Fatalf("retry = %+v, %v", again, err)
		}
	})
}

func TestCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, warsaw(2026, 11, 23, 11, 0))
		alice := e.open("alice", 1000_00, "PLN")
		fut := e.order(alice, otherBank, 100_00)
		fut.ExecutionDate = "2026-12-01"
		scheduled := e.initiate(fut)
		pending := e.initiate(e.order(alice, otherBank, 200_00))
		late := e.initiate(e.order(alice, otherBank, 300_00))
		e.wantBalance(alice, 1000_00, 500_00)

		c, err := e.svc.Cancel(ctx, scheduled.ID, "psu", "changed my mind")
		if err != nil || c.Status != payment.StatusCancelled || c.StatusReason != "cancelled by psu: changed my mind" {
			t.Fatalf("cancel scheduled = %+v, %v", c, err)
		}
		if _, err := e.svc.Cancel(ctx, pending.ID, "tpp", ""); err != nil {
			t.Fatalf("cancel pending before the cut-off: %v", err)
		}
		e.wantBalance(alice, 1000_00, 700_00)

		e.clock.Advance(time.Hour + time.Minute) // 12:01, past the 12:00 cut-off
		_, err = e.svc.Cancel(ctx, late.ID, "psu", "")
		wantCode(t, err, payment.CodeNotCancellable)
		if !strings.Contains(err.Error(), "cut-off") {
			t.Fatalf("message: %v", err)
		}
		e.at(warsaw(2026, 11, 23, 13, 30))
		_, err = e.svc.Cancel(ctx, late.ID, "psu", "")
		wantCode(t, err, payment.CodeNotCancellable)
		if !strings.Contains(err.Error(), "done") {
			t.Fatalf("message: %v", err)
		}
		if again, err := e.svc.Cancel(ctx, scheduled.ID, "psu", ""); err != nil || again.Status != payment.StatusCancelled {
			t.Fatalf("cancelling twice: %+v, %v", again, err)
		}
		e.wantBalance(alice, 700_00, 700_00)
		e.at(warsaw(2026, 12, 1, 12, 0))
		e.wantStatus(scheduled.ID, payment.StatusCancelled)
	})
}

func TestIdempotency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, monday)
		alice := e.open("alice", 1000_00, "PLN")
		o := e.order(alice, otherBank, 10_00)
		const n = 50
		var wg sync.WaitGroup
		ids := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := e.svc.Initiate(ctx, o)
				ids[i], errs[i] = p.ID, err
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("duplicate %d: id %s err %v; first id %s", i, ids[i], errs[i], ids[0])
			}
		}
		var count int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments`).Scan(&count); err != nil || count != 1 {
			t.Fatalf("%d payments, %v", count, err)
		}
		e.wantBalance(alice, 1000_00, 990_00)

		other := o
		other.Amount, other.RequestHash = 20_00, "another body"
		_, err := e.svc.Initiate(ctx, other)
		wantCode(t, err, payment.CodeDuplicate)
		if !strings.Contains(err.Error(), "different request body") {
			t.Fatalf("message: %v", err)
		}
		// The key belongs to the TPP: another TPP may use it.
		o2 := o
		o2.TPPID = "tpp-2"
		if p, err := e.svc.Initiate(ctx, o2); err != nil || p.ID == ids[0] {
			t.Fatalf("another TPP's key: %+v, %v", p, err)
		}
	})
}

func TestValidate(t *testing.T) {
	e := &env{t: t, clock: clock.NewFixed(monday)}
	svc := payment.New(payment.Config{Ledger: ledger.New(nil, e.clock)})
	sender := mustNRB(polish.OwnNRB("1000000000000001"))
	base := func() payment.Order {
		return payment.Order{
			Type: payment.Domestic, TPPID: "tpp", TPPTransactionID: "k", SenderAccount: sender,
			Recipient: payment.Recipient{Name: "Jan Kowalski", Account: otherBank},
			Amount:    1_00, Currency: "PLN", Title: "Zażółć gęślą jaźń: FV/1/2026 (100%) \"ok\" <a@b.pl> #1_2",
		}
	}
	if err := svc.Validate(base()); err != nil {
		t.Fatalf("a good order: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*payment.Order)
		code payment.Code
		says string
	}{
		{"checksum", func(o *payment.Order) { o.Recipient.Account = "62109010140000071219812874" }, payment.CodeInvalidRecipientAccount, "expected 61"},
		{"IBAN checksum", func(o *payment.Order) {
			o.Type, o.Currency, o.Recipient.Account, o.Recipient.Country = payment.EEA, "EUR", "DE88370400440532013000", "DEU"
		}, payment.CodeInvalidRecipientAccount, "expected 89"},
		{"no name", func(o *payment.Order) { o.Recipient.Name = " " }, payment.CodeInvalidRecipientName, "missing"},
		{"long name", func(o *payment.Order) { o.Recipient.Name = strings.Repeat("a", 141) }, payment.CodeInvalidRecipientName, "141"},
		{"no title", func(o *payment.Order) { o.Title = "" }, payment.CodeInvalidTitle, "missing"},
		{"long title", func(o *payment.Order) { o.Title = strings.Repeat("x", 141) }, payment.CodeInvalidTitle, "141 characters"},
		{"title character", func(o *payment.Order) { o.Title = "Opłata €5" }, payment.CodeInvalidTitle, `'€' at position 8`},
		{"title tab", func(o *payment.Order) { o.Title = "a\tb" }, payment.CodeInvalidTitle, `'\t'`},
		{"zero amount", func(o *payment.Order) { o.Amount = 0 }, payment.CodeInvalidAmount, "greater than zero"},
		{"currency", func(o *payment.Order) { o.Currency = "EUR" }, payment.CodeInvalidCurrency, "PLN"},
		{"bad currency", func(o *payment.Order) { o.Currency = "pln" }, payment.CodeInvalidCurrency, "upper case"},
		{"date format", func(o *payment.Order) { o.ExecutionDate = "23.11.2026" }, payment.CodeInvalidExecutionDate, "YYYY-MM-DD"},
		{"past", func(o *payment.Order) { o.ExecutionDate = "2026-11-20" }, payment.CodeInvalidExecutionDate, "past"},
		{"holiday", func(o *payment.Order) { o.ExecutionDate = "2026-12-24" }, payment.CodeInvalidExecutionDate, "2026-12-28"},
		{"no key", func(o *payment.Order) { o.TPPTransactionID = "" }, payment.CodeInvalidRequest, "tppTransactionId"},
		{"sender", func(o *payment.Order) { o.SenderAccount = "123" }, payment.CodeInvalidSenderAccount, "26"},
		{"type", func(o *payment.Order) { o.Type = "foo" }, payment.CodeInvalidType, "foo"},
		{"non-EEA BIC", func(o *payment.Order) {
			o.Type, o.Currency, o.Recipient.Account, o.Recipient.Country = payment.NonEEA, "USD", "123456789", "USA"
		}, payment.CodeInvalidRecipient, "BIC"},
	}
	for _, tc := range cases {
		o := base()
		tc.mod(&o)
		err := svc.Validate(o)
		if payment.CodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v (code %q), want %s saying %q", tc.name, err, payment.CodeOf(err), tc.code, tc.says)
		}
		if err != nil && err.(*payment.Error).MessagePL == "" {
			t.Errorf("%s: no Polish message", tc.name)
		}
	}
}

func TestRecurringMonthlyOverWeekend(t *testing.T) {
	cases := []struct {
		off  payment.DayOffOffset
		want []string
	}{
		{payment.Before, []string{"2026-11-27", "2026-12-28", "2027-01-28", "2027-02-26"}},
		{payment.After, []string{"2026-11-30", "2026-12-28", "2027-01-28", "2027-03-01"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.off), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				e := newEnv(t, db, monday)
				alice, bob := e.open("alice", 1000_00, "PLN"), e.open("bob", 0, "PLN")
				o := e.order(alice, bob.NRB, 10_00)
				// 28 November 2026 is a Saturday, 28 February 2027 a Sunday.
				o.Recurrence = &payment.Recurrence{StartDate: "2026-11-28", PeriodType: payment.Month, PeriodValue: 1,
					EndDate: "2027-03-15", DayOff: tc.off}
				if _, err := e.svc.Initiate(ctx, o); payment.CodeOf(err) != payment.CodeInvalidRequest {
					t.Fatalf("Initiate with a recurrence: %v", err)
				}
				rec, err := e.svc.InitiateRecurring(ctx, o)
				if err != nil || rec.Status != payment.RecurringSubmitted {
					t.Fatalf("recurring = %+v, %v", rec, err)
				}
				if again, err := e.svc.InitiateRecurring(ctx, o); err != nil || again.ID != rec.ID {
					t.Fatalf("again = %+v, %v", again, err)
				}
				for d := monday; d.Before(warsaw(2027, 4, 1, 0, 0)); d = d.AddDate(0, 0, 1) {
					e.at(d)
				}
				occ, err := e.svc.Occurrences(ctx, rec.ID)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, p := range occ {
					if p.Status != payment.StatusDone {
						t.Errorf("occurrence %s is %s", p.ExecutionDate, p.Status)
					}
					got = append(got, p.ExecutionDate)
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Fatalf("occurrences on %v, want %v", got, tc.want)
				}
				rec, _ = e.svc.GetRecurring(ctx, rec.ID)
				if rec.Status != payment.RecurringClosed {
					t.Fatalf("status %s, want close", rec.Status)
				}
				e.wantBalance(bob, 40_00, 40_00)
			})
		})
	}
}

func TestRecurringCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, monday)
		alice := e.open("alice", 1000_00, "PLN")
		o := e.order(alice, otherBank, 10_00)
		o.Recurrence = &payment.Recurrence{StartDate: "2026-11-23", PeriodType: payment.Week, PeriodValue: 1, DayOff: payment.After}
		rec, err := e.svc.InitiateRecurring(ctx, o)
		if err != nil || rec.Occurrences != 1 {
			t.Fatalf("recurring = %+v, %v", rec, err) // the first is due today
		}
		occ, _ := e.svc.Occurrences(ctx, rec.ID)
		if len(occ) != 1 || occ[0].Status != payment.StatusPending {
			t.Fatalf("occurrences = %+v", occ)
		}
		rec, err = e.svc.CancelRecurring(ctx, rec.ID, "psu", "")
		if err != nil || rec.Status != payment.RecurringCancelled {
			t.Fatalf("cancel = %+v, %v", rec, err)
		}
		e.wantStatus(occ[0].ID, payment.StatusCancelled) // before its 12:00 cut-off
		e.at(warsaw(2026, 12, 10, 12, 0))
		if occ, _ := e.svc.Occurrences(ctx, rec.ID); len(occ) != 1 {
			t.Fatalf("%d occurrences after cancelling", len(occ))
		}
		e.wantBalance(alice, 1000_00, 1000_00)
	})
}

func TestBundle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, monday)
		alice, bob := e.open("alice", 100_00, "PLN"), e.open("bob", 0, "PLN")
		orders := []payment.Order{e.order(alice, bob.NRB, 30_00), e.order(alice, otherBank, 50_00), e.order(alice, otherBank, 40_00)}
		_, err := e.svc.InitiateBundle(ctx, payment.BundleOrder{TPPID: "tpp-1", TPPBundleID: "b1", Orders: orders, TotalAmount: 100_00})
		wantCode(t, err, payment.CodeInvalidBundle)
		bo := payment.BundleOrder{TPPID: "tpp-1", TPPBundleID: "b1", Orders: orders, TotalAmount: 120_00, RequestHash: "h"}
		b, err := e.svc.InitiateBundle(ctx, bo)
		if err != nil || len(b.Payments) != 3 || b.Status != payment.BundleInProgress {
			t.Fatalf("bundle = %+v, %v", b, err)
		}
		again, err := e.svc.InitiateBundle(ctx, bo)
		if err != nil || again.ID != b.ID || len(again.Payments) != 3 {
			t.Fatalf("again = %+v, %v", again, err)
		}
		e.at(warsaw(2026, 11, 23, 13, 30))
		b, _ = e.svc.GetBundle(ctx, b.ID)
		if b.Status != payment.BundlePartiallyDone { // the third lacked funds
			for _, p := range b.Payments {
				t.Logf("%s %s %s", p.Amount, p.Status, p.StatusReason)
			}
			t.Fatalf("bundle status %s", b.Status)
		}
		e.wantBalance(alice, 20_00, 20_00)
	})
}

func TestNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, monday)
		alice := e.open("alice", 100_00, "PLN")
		o := e.order(alice, otherBank, 10_00)
		o.CallbackURL = "https://tpp.example/cb"
		p := e.initiate(o)
		e.at(warsaw(2026, 11, 23, 13, 30))
		ns, err := e.svc.PendingNotifications(ctx, 10)
		if err != nil || len(ns) != 2 || ns[0].Status != payment.StatusPending || ns[1].Status != payment.StatusDone || ns[0].PaymentID != p.ID {
			t.Fatalf("notifications = %+v, %v", ns, err)
		}
		if err := e.svc.MarkNotified(ctx, ns[0].ID); err != nil {
			t.Fatal(err)
		}
		if ns, _ := e.svc.PendingNotifications(ctx, 10); len(ns) != 1 || ns[0].Status != payment.StatusDone {
			t.Fatalf("after marking: %+v", ns)
		}
	})
}

func TestRunDueOnSeveralNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, warsaw(2026, 11, 23, 15, 0))
		alice, bob := e.open("alice", 1000_00, "PLN"), e.open("bob", 0, "PLN")
		var ids []string
		for i := range 10 {
			o := e.order(alice, otherBank, money.Amount(i+1)*1_00)
			ids = append(ids, e.initiate(o).ID)
			f := e.order(alice, bob.NRB, 2_00)
			f.ExecutionDate = "2026-11-24"
			ids = append(ids, e.initiate(f).ID)
		}
		e.clock.Advance(19 * time.Hour) // 10:00 next day: session 1 settled, scheduled ones due
		var wg sync.WaitGroup
		var settled, executed atomic.Int64
		for range 4 { // four nodes
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := e.svc.RunDue(ctx)
				if err != nil || len(r.Errors) > 0 {
					t.Errorf("RunDue: %v %v", err, r.Errors)
				}
				settled.Add(int64(r.Settled))
				executed.Add(int64(r.Executed))
			}()
		}
		wg.Wait()
		for _, id := range ids {
			e.wantStatus(id, payment.StatusDone)
			if h, _ := e.svc.History(ctx, id); len(h) != 3 {
				t.Fatalf("history of %s: %+v", id, h)
			}
		}
		if settled.Load() != 10 || executed.Load() != 10 {
			t.Fatalf("settled %d executed %d across nodes, want 10 and 10", settled.Load(), executed.Load())
		}
		e.wantBalance(alice, 1000_00-55_00-20_00, 1000_00-55_00-20_00)
	})
}
