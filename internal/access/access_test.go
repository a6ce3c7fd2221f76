package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

var testNow = time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)

const (
	retailNRB    = "12114020040000320212345678"
	companyNRB   = "45114020040000370298765432"
	corporateNRB = "83114020040000350255555555"
	today        = "2025-10-01"
)

type env struct {
	svc                        *access.Service
	clk                        *clock.Fixed
	retail, company, corporate ledger.Customer
	pesel                      string
}

func newEnv(t *testing.T, db *store.DB) env {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFixed(testNow)
	l := ledger.New(db, clk)
	pesel, err := polish.MakePESEL(time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC), 123, false)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(login string, seg ledger.Segment, nrb string) ledger.Customer {
		c, err := l.CreateCustomer(ctx, ledger.Customer{Segment: seg, Name: "Customer " + login, Login: login,
			PasswordHash: "x", PESEL: pesel})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.OpenAccount(ctx, ledger.Account{NRB: nrb, CustomerID: c.ID, Currency: "PLN",
			Type: ledger.TypeBusiness, Name: "Account " + login}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	e := env{svc: access.New(db, l, clk), clk: clk, pesel: pesel}
	e.retail = mk("jan", ledger.Retail, retailNRB)
	e.company = mk("firma", ledger.Company, companyNRB)
	e.corporate = mk("korpo", ledger.Corporate, corporateNRB)
	return e
}

func wantCode(t *testing.T, what string, err error, code access.Code) *access.Error {
	t.Helper()
	if got := access.CodeOf(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
	if code == "" {
		return nil
	}
	var e *access.Error
	if !errorsAs(err, &e) || e.MessagePL == "" || e.Message == "" {
		t.Fatalf("%s: %v has no English and Polish message", what, err)
	}
	return e
}

// TestCheckDefaultsAndStates checks Check for every state and the defaults
// of each segment, and the history of changes.
func TestCheckDefaultsAndStates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		// Defaults: retail active, company and corporate not activated.
		for _, svc := range []string{access.AIS, access.PIS, access.CAF} {
			wantCode(t, "retail "+svc, e.svc.Check(ctx, retailNRB, svc), "")
			wantCode(t, "company "+svc, e.svc.Check(ctx, companyNRB, svc), access.CodeNotActivated)
			wantCode(t, "corporate "+svc, e.svc.Check(ctx, corporateNRB, svc), access.CodeNotActivated)
		}
		err := wantCode(t, "company", e.svc.Check(ctx, companyNRB, "ais"), access.CodeNotActivated)
		if want := "API access (AIS) to account …5432 has not been activated: the account holder activates it by calling the bank's hotline"; err.Message != want {
			t.Errorf("message %q, want %q", err.Message, want)
		}
		wantCode(t, "unknown", e.svc.Check(ctx, "61109010140000071219812874", access.AIS), access.CodeUnknownAccount)
		wantCode(t, "bad service", e.svc.Check(ctx, retailNRB, "XYZ"), access.CodeInvalid)

		// The corporate customer activates, then blocks.
		st, err2 := e.svc.ChangeByCustomer(ctx, e.corporate.ID, corporateNRB, access.Active, "sms", "")
		if err2 != nil || st.State != access.Active || st.Default {
			t.Fatalf("activate: %+v, %v", st, err2)
		}
		wantCode(t, "active", e.svc.Check(ctx, corporateNRB, access.PIS), "")
		wantCode(t, "again", func() error {
			_, err := e.svc.ChangeByCustomer(ctx, e.corporate.ID, corporateNRB, access.Active, "sms", "")
			return err
		}(), access.CodeUnchanged)
		e.clk.Advance(time.Minute)
		if _, err := e.svc.ChangeByCustomer(ctx, e.corporate.ID, corporateNRB, access.Blocked, "mobile", "lost laptop"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "blocked", e.svc.Check(ctx, corporateNRB, access.AIS), access.CodeBlocked)
		h, err2 := e.svc.History(ctx, corporateNRB, 0)
		if err2 != nil || len(h) != 2 || h[0].To != access.Blocked || h[0].From != access.Active ||
			h[1].From != access.NotActivated || h[0].Channel != access.ChannelInternetBanking || h[0].Actor != "korpo" ||
			h[0].Reason != "lost laptop (SCA: mobile)" {
			t.Fatalf("history: %+v, %v", h, err2)
		}

		// Who may change what in internet banking.
		_, err2 = e.svc.ChangeByCustomer(ctx, e.company.ID, companyNRB, access.Active, "sms", "")
		wantCode(t, "company in IB", err2, access.CodeHotlineOnly)
		_, err2 = e.svc.ChangeByCustomer(ctx, e.retail.ID, retailNRB, access.Blocked, "sms", "")
		wantCode(t, "retail in IB", err2, access.CodeNotChangeable)
		_, err2 = e.svc.ChangeByCustomer(ctx, e.corporate.ID, companyNRB, access.Active, "sms", "")
		wantCode(t, "another's account", err2, access.CodeNotYours)

		// EnsureActive activates the not activated, leaves the blocked.
		if err := e.svc.EnsureActive(ctx, companyNRB, corporateNRB, retailNRB); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "company after EnsureActive", e.svc.Check(ctx, companyNRB, access.AIS), "")
		wantCode(t, "blocked after EnsureActive", e.svc.Check(ctx, corporateNRB, access.AIS), access.CodeBlocked)
		if err := e.svc.EnsureActive(ctx, companyNRB); err != nil {
			t.Fatal(err)
		}
		if h, _ := e.svc.History(ctx, companyNRB, 0); len(h) != 1 || h[0].Channel != access.ChannelSystem {
			t.Fatalf("EnsureActive history: %+v", h)
		}
		audit, err2 := e.svc.Audit(ctx, e.corporate.ID, 0)
		if err2 != nil || len(audit) != 2 || audit[0].Action != access.ActionAccessBlock || audit[1].Action != access.ActionAccessActivate {
			t.Fatalf("audit: %+v, %v", audit, err2)
		}
	})
}

// TestHotlineVerification checks the PESEL check: three wrong tries in a
// row (one of them not a valid PESEL) end it and are audited; a new check
// with the right PESEL and a representative lets the consultant activate.
func TestHotlineVerification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		other, _ := polish.MakePESEL(time.Date(1975, 1, 2, 0, 0, 0, 0, time.UTC), 7, true)

		v, err := e.svc.StartVerification(ctx, "konsultant", e.company.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.ChangeByHotline(ctx, v.ID, "konsultant", companyNRB, access.Active, "call")
		wantCode(t, "unverified", err, access.CodeNotVerified)
		_, err = e.svc.VerifyPESEL(ctx, v.ID, "konsultant", other)
		if ae := wantCode(t, "wrong 1", err, access.CodeWrongPESEL); ae.TriesLeft != 2 {
			t.Errorf("tries left %d", ae.TriesLeft)
		}
		_, err = e.svc.VerifyPESEL(ctx, v.ID, "konsultant", "12345678901") // bad checksum
		if ae := wantCode(t, "wrong 2", err, access.CodeWrongPESEL); ae.TriesLeft != 1 {
			t.Errorf("tries left %d", ae.TriesLeft)
		}
		got, err := e.svc.VerifyPESEL(ctx, v.ID, "konsultant", other)
		wantCode(t, "wrong 3", err, access.CodeVerificationFailed)
		if got.Status != access.VerificationFailed || got.Failures != 3 {
			t.Fatalf("after three: %+v", got)
		}
		_, err = e.svc.VerifyPESEL(ctx, v.ID, "konsultant", e.pesel) // too late
		wantCode(t, "right after the end", err, access.CodeVerificationFailed)
		_, err = e.svc.ChangeByHotline(ctx, v.ID, "konsultant", companyNRB, access.Active, "call")
		wantCode(t, "failed check", err, access.CodeVerificationFailed)
		audit, _ := e.svc.Audit(ctx, e.company.ID, 0)
		var wrong, failed int
		for _, a := range audit {
			switch a.Action {
			case access.ActionVerificationWrong:
				wrong++
			case access.ActionVerificationFailed:
				failed++
			}
		}
		if wrong != 2 || failed != 1 {
			t.Fatalf("audit of the failed check: %+v", audit)
		}

		// A new check: the right PESEL, the representative, activation.
		v, _ = e.svc.StartVerification(ctx, "konsultant", e.company.ID)
		if got, err := e.svc.VerifyPESEL(ctx, v.ID, "konsultant", e.pesel); err != nil || got.Status != access.VerificationVerified {
			t.Fatalf("right PESEL: %+v, %v", got, err)
		}
		_, err = e.svc.ChangeByHotline(ctx, v.ID, "konsultant", companyNRB, access.Active, "call")
		wantCode(t, "no representative", err, access.CodeNotVerified)
		if _, err := e.svc.RecordRepresentative(ctx, v.ID, "konsultant", "Anna Firmowa", "prezes zarządu"); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.ChangeByHotline(ctx, v.ID, "konsultant", corporateNRB, access.Active, "call")
		wantCode(t, "another customer's account", err, access.CodeNotYours)
		st, err := e.svc.ChangeByHotline(ctx, v.ID, "konsultant", companyNRB, access.Active, "customer's call")
		if err != nil || st.State != access.Active {
			t.Fatalf("activate: %+v, %v", st, err)
		}
		wantCode(t, "active", e.svc.Check(ctx, companyNRB, access.AIS), "")
		h, _ := e.svc.History(ctx, companyNRB, 0)
		if len(h) != 1 || h[0].Actor != "konsultant" || h[0].Channel != access.ChannelHotline ||
			h[0].Representative != "Anna Firmowa (prezes zarządu)" || h[0].Reason != "customer's call" {
			t.Fatalf("history: %+v", h)
		}
		// The check expires after 30 minutes.
		e.clk.Advance(31 * time.Minute)
		_, err = e.svc.ChangeByHotline(ctx, v.ID, "konsultant", companyNRB, access.Blocked, "call")
		wantCode(t, "expired check", err, access.CodeNotVerified)
	})
}

// TestLimits checks limits per payment and per day, one-off and recurring,
// and the atomic day count of RecordPayment.
func TestLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		pln := func(s string) money.Amount {
			a, err := money.Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		// No limits: anything goes.
		if err := e.svc.CheckPaymentLimit(ctx, retailNRB, pln("1000000.00"), false, today); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetLimits(ctx, e.retail.ID, retailNRB, access.OneOff, pln("1000.00"), pln("500.00"), "sms"); access.CodeOf(err) != access.CodeInvalid {
			t.Fatalf("per payment above per day: %v", err)
		}
		if _, err := e.svc.SetLimits(ctx, e.corporate.ID, retailNRB, access.OneOff, pln("1"), pln("1"), "sms"); access.CodeOf(err) != access.CodeNotYours {
			t.Fatalf("another's account: %v", err)
		}
		ls, err := e.svc.SetLimits(ctx, e.retail.ID, retailNRB, access.OneOff, pln("1000.00"), pln("1500.00"), "sms")
		if err != nil || ls.OneOff.PerPayment != pln("1000.00") || ls.OneOff.PerDay != pln("1500.00") || ls.Recurring.PerDay != 0 {
			t.Fatalf("set: %+v, %v", ls, err)
		}
		if _, err := e.svc.SetLimits(ctx, e.retail.ID, retailNRB, access.Recurring, pln("200.00"), 0, "mobile"); err != nil {
			t.Fatal(err)
		}

		ae := wantCode(t, "over per payment", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("1000.01"), false, today), access.CodeLimitExceeded)
		if ae.Limit != access.LimitOneOffPerPayment || money.Amount(ae.LimitAmount) != pln("1000.00") {
			t.Errorf("limit %+v", ae)
		}
		wantCode(t, "at per payment", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("1000.00"), false, today), "")
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return e.svc.RecordPayment(ctx, tx, retailNRB, pln("1000.00"), false, today)
		}); err != nil {
			t.Fatal(err)
		}
		ae = wantCode(t, "over per day", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("600.00"), false, today), access.CodeLimitExceeded)
		if ae.Limit != access.LimitOneOffPerDay {
			t.Errorf("limit %+v", ae)
		}
		// RecordPayment re-checks atomically.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return e.svc.RecordPayment(ctx, tx, retailNRB, pln("600.00"), false, today)
		})
		if ae := wantCode(t, "record over per day", err, access.CodeLimitExceeded); ae.Limit != access.LimitOneOffPerDay {
			t.Errorf("limit %+v", ae)
		}
		wantCode(t, "the rest of the day", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("500.00"), false, today), "")
		wantCode(t, "another day", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("1000.00"), false, "2025-10-02"), "")
		// Recurring payments have their own limits.
		ae = wantCode(t, "recurring per payment", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("200.01"), true, today), access.CodeLimitExceeded)
		if ae.Limit != access.LimitRecurringPerPayment || ae.MessagePL == "" {
			t.Errorf("limit %+v", ae)
		}
		wantCode(t, "recurring within", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("200.00"), true, today), "")
		// Release gives the amount back.
		if err := e.svc.ReleasePayment(ctx, db, retailNRB, pln("1000.00"), false, today); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "after release", e.svc.CheckPaymentLimit(ctx, retailNRB, pln("1000.00"), false, today), "")
		audit, _ := e.svc.Audit(ctx, e.retail.ID, 0)
		if len(audit) != 2 || audit[0].Action != access.ActionLimitsSet {
			t.Fatalf("audit: %+v", audit)
		}
	})
}

func errorsAs(err error, target **access.Error) bool { return errors.As(err, target) }
