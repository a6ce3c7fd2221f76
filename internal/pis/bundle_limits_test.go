package pis_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestBundleCountsLimits: the transfers of a bundle count towards the
// customer's day limit for API payments, as single payments do: a bundle
// within it is counted whole, one beyond what is left is refused whole
// (access limit_exceeded, nothing recorded), and a transfer rejected when
// set going (no funds) gives its count back. Both engines.
func TestBundleCountsLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db) // day limit 1000.00, funds 5000.00
		bundle := func(amounts ...money.Amount) (consent.Consent, payment.BundleOrder) {
			bo := payment.BundleOrder{TPPID: tpp, TPPBundleID: uuid.NewString()}
			for _, a := range amounts {
				o := w.order(a)
				o.TPPTransactionID = uuid.NewString()
				bo.Orders = append(bo.Orders, o)
				bo.TotalAmount += a
			}
			bo.RequestHash = bo.TPPBundleID
			c := must(w.consents.Create(ctx, consent.Consent{
				TPPConsentID: uuid.NewString(), TPPID: tpp, ClientID: "client", Scope: consent.ScopePIS,
				Privileges: []consent.Privilege{{Name: consent.PrivBundle, ScopeUsageLimit: consent.UsageSingle, Payment: []byte(`{}`),
					Order: &payment.Consented{Orders: bo.Orders, Total: bo.TotalAmount, Bundle: true}}},
				ScopeTimeLimit: t0.AddDate(0, 0, 1), ThrottlingPolicy: consent.ThrottlingPSD2Regulatory, Dialect: consent.DialectPolishAPI,
			}))
			return must(w.consents.Authorise(ctx, c.ID, w.anna.ID, []string{w.annaMain.NRB})), bo
		}
		initiate := func(c consent.Consent, bo payment.BundleOrder) (payment.Bundle, error) {
			return w.pis.InitiateBundle(ctx, pis.BundleRequest{Grant: pis.Grant{TPPID: tpp, ConsentID: c.ID, CustomerID: c.CustomerID},
				Bundle: bo, Names: pis.PolishAPINames,
				Consented: func(p consent.Privilege) ([]payment.Order, money.Amount, error) {
					return p.Order.Orders, p.Order.Total, nil
				}})
		}
		c, bo := bundle(300_00, 400_00)
		if _, err := initiate(c, bo); err != nil {
			t.Fatal(err)
		}
		if s := w.state(); s.counted != 700_00 {
			t.Fatalf("counted %s after a bundle of 700.00", s.counted)
		}
		c, bo = bundle(200_00, 200_00) // 400.00 > the 300.00 left
		before := w.state()
		_, err := initiate(c, bo)
		var ae *access.Error
		if !asAccess(err, &ae) || ae.Code != access.CodeLimitExceeded {
			t.Fatalf("a bundle beyond the day limit: %v", err)
		}
		if after := w.state(); after != before {
			t.Fatalf("a refused bundle changed %+v into %+v", before, after)
		}
		// 100.00 goes, 6000.00 finds no funds: only 100.00 stays counted.
		must(w.access.SetLimits(ctx, w.anna.ID, w.annaMain.NRB, access.OneOff, 0, 10000_00, "test"))
		c, bo = bundle(100_00, 6000_00)
		b, err := initiate(c, bo)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != payment.BundlePartiallyDone && b.Status != payment.BundleInProgress {
			t.Fatalf("bundle status %s", b.Status)
		}
		if s := w.state(); s.counted != 800_00 {
			t.Fatalf("counted %s, want 800.00 (the rejected transfer given back)", s.counted)
		}
	})
}

func asAccess(err error, target **access.Error) bool { return errors.As(err, target) }

// TestBundleRefusedWhenSenderBlockedAfterConsent: the customer blocks API
// payments from the account after approving a bundle; the initiation is
// refused naming the transfer (access_blocked), nothing is written and the
// single-use privilege is not used, so the bundle goes once access is on
// again. Both engines.
func TestBundleRefusedWhenSenderBlockedAfterConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		// Only a corporate customer switches API access off and on.
		if _, err := db.ExecContext(ctx, `UPDATE customers SET segment = 'corporate' WHERE id = $1`, w.anna.ID); err != nil {
			t.Fatal(err)
		}
		must(w.access.ChangeByCustomer(ctx, w.anna.ID, w.annaMain.NRB, access.Active, "test", ""))
		bo := payment.BundleOrder{TPPID: tpp, TPPBundleID: uuid.NewString()}
		for _, a := range []money.Amount{10_00, 20_00} {
			o := w.order(a)
			o.TPPTransactionID = uuid.NewString()
			bo.Orders = append(bo.Orders, o)
			bo.TotalAmount += a
		}
		bo.RequestHash = bo.TPPBundleID
		c := must(w.consents.Create(ctx, consent.Consent{
			TPPConsentID: uuid.NewString(), TPPID: tpp, ClientID: "client", Scope: consent.ScopePIS,
			Privileges: []consent.Privilege{{Name: consent.PrivBundle, ScopeUsageLimit: consent.UsageSingle, Payment: []byte(`{}`),
				Order: &payment.Consented{Orders: bo.Orders, Total: bo.TotalAmount, Bundle: true}}},
			ScopeTimeLimit: t0.AddDate(0, 0, 1), ThrottlingPolicy: consent.ThrottlingPSD2Regulatory, Dialect: consent.DialectPolishAPI,
		}))
		c = must(w.consents.Authorise(ctx, c.ID, w.anna.ID, []string{w.annaMain.NRB}))
		initiate := func() (payment.Bundle, error) {
			return w.pis.InitiateBundle(ctx, pis.BundleRequest{Grant: pis.Grant{TPPID: tpp, ConsentID: c.ID, CustomerID: c.CustomerID},
				Bundle: bo, Names: pis.PolishAPINames,
				Consented: func(p consent.Privilege) ([]payment.Order, money.Amount, error) {
					return p.Order.Orders, p.Order.Total, nil
				}})
		}
		must(w.access.ChangeByCustomer(ctx, w.anna.ID, w.annaMain.NRB, access.Blocked, "test", "lost phone"))
		before := w.state()
		_, err := initiate()
		if access.CodeOf(err) != access.CodeBlocked {
			t.Fatalf("a bundle from an account blocked after the consent: %v, want access_blocked", err)
		}
		if f, ok := fault.As(err); !ok || !strings.HasPrefix(f.Field, "transfers[0]") {
			t.Fatalf("the refusal does not name the transfer: %+v", f)
		}
		if after := w.state(); after != before {
			t.Fatalf("a refused bundle changed %+v into %+v", before, after)
		}
		must(w.access.ChangeByCustomer(ctx, w.anna.ID, w.annaMain.NRB, access.Active, "test", "found it"))
		if _, err := initiate(); err != nil {
			t.Fatalf("the same bundle once access is on again: %v", err)
		}
		if after := w.state(); after.uses != before.uses+1 || after.counted != before.counted+30_00 {
			t.Fatalf("after the bundle: %+v (before %+v)", after, before)
		}
	})
}
