package ais

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t        *testing.T
	db       *store.DB
	clock    *clock.Fixed
	svc      *Service
	consents *consent.Service
	access   *access.Service
	l        *ledger.Ledger
	anna     ledger.Customer
	main     ledger.Account // Anna's, retail: API access active by default
	save     ledger.Account // Anna's second account
	corp     ledger.Customer
	corpAcct ledger.Account // a corporate account: API access not activated by default
}

var seq atomic.Int64

func newNRB(t testing.TB) string {
	n, err := polish.MakeNRB(polish.OwnSortCode, fmt.Sprintf("%016d", 9100+seq.Add(1)))
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

func newFixture(t *testing.T, db *store.DB) *fixture {
	ctx := context.Background()
	f := &fixture{t: t, db: db, clock: clock.NewFixed(t0)}
	f.l = ledger.New(db, f.clock)
	f.consents = consent.New(db, f.clock)
	f.access = access.New(db, f.l, f.clock)
	f.svc = New(f.l, f.consents, f.access, db)
	id := seq.Add(1)
	f.anna = must(f.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: "Anna Kowalska", Login: fmt.Sprint("anna", id)}))
	f.corp = must(f.l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Corporate, Name: "Korpo S.A.", Login: fmt.Sprint("korpo", id)}))
	f.main = must(f.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: f.anna.ID, Currency: "PLN", Type: ledger.TypePersonal, Name: "eKonto"}))
	f.save = must(f.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: f.anna.ID, Currency: "PLN", Type: ledger.TypeSavings, Name: "Oszczędności"}))
	f.corpAcct = must(f.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: f.corp.ID, Currency: "PLN", Type: ledger.TypeCorporate, Name: "Firmowe"}))
	return f
}

// consent gives tpp a consent of customer's with privs on accounts.
func (f *fixture) consent(tpp string, customer ledger.Customer, privs []consent.Privilege, accounts ...string) consent.Consent {
	ctx := context.Background()
	c := must(f.consents.Create(ctx, consent.Consent{
		TPPConsentID: uuid.NewString(), TPPID: tpp, ClientID: "client-" + tpp, Scope: consent.ScopeAIS, Privileges: privs,
		ScopeTimeLimit: t0.AddDate(0, 3, 0), ThrottlingPolicy: consent.ThrottlingPSD2Regulatory, Dialect: consent.DialectPolishAPI,
	}))
	return must(f.consents.Authorise(ctx, c.ID, customer.ID, accounts))
}

func done(history int, account string, usage string) consent.Privilege {
	return consent.Privilege{Name: consent.PrivGetTransactionsDone, AccountNumber: account, ScopeUsageLimit: usage, MaxAllowedHistoryLong: history}
}

func (f *fixture) accesses() int {
	var n int
	if err := f.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM consent_accesses`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestOneStatementCheckAgrees tries, as a TPP would, every way the consent
// check refuses a list and a few it allows, on both engines: the one
// statement must never allow what the full check refuses, must write
// nothing when it does not allow, and must record exactly one access when
// it does.
func TestOneStatementCheckAgrees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		mainNRB, saveNRB := f.main.NRB, f.save.NRB
		good := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(365, mainNRB, consent.UsageMultiple)}, mainNRB)
		onlySave := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(365, saveNRB, consent.UsageMultiple)}, saveNRB)
		noDone := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{{Name: consent.PrivGetTransactionsPending, AccountNumber: mainNRB,
			ScopeUsageLimit: consent.UsageMultiple, MaxAllowedHistoryLong: 90}}, mainNRB)
		single := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(365, mainNRB, consent.UsageSingle)}, mainNRB)
		revoked := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(365, mainNRB, consent.UsageMultiple)}, mainNRB)
		must(f.consents.Revoke(ctx, revoked.ID, "psu", "test"))
		corp := f.consent("PSDPL-KNF-A", f.corp, []consent.Privilege{done(365, f.corpAcct.NRB, consent.UsageMultiple)}, f.corpAcct.NRB)
		short := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(30, mainNRB, consent.UsageMultiple)}, mainNRB)

		now := f.clock.Now()
		daysBack := func(n int) time.Time { return day(ledger.DateOf(now.AddDate(0, 0, -n))) }
		byNRB := func(n string) AccountRef { return AccountRef{Value: n} }
		caller := func(c consent.Consent) Caller {
			return Caller{TPPID: c.TPPID, ConsentID: c.ID, CustomerID: c.CustomerID}
		}
		for _, tc := range []struct {
			name    string
			c       Caller
			ref     AccountRef
			psu     bool
			from    time.Time
			allowed bool   // by the full check
			code    string // the full check's refusal
		}{
			{"allowed", caller(good), byNRB(mainNRB), true, time.Time{}, true, ""},
			{"allowed by id", caller(good), AccountRef{Value: f.main.ID, ByID: true}, true, time.Time{}, true, ""},
			{"allowed with the number spaced", caller(good), byNRB("PL" + mainNRB[:2] + " " + mainNRB[2:]), true, time.Time{}, true, ""},
			{"history at the limit", caller(good), byNRB(mainNRB), true, daysBack(365), true, ""},
			{"history one day too far", caller(good), byNRB(mainNRB), true, daysBack(366), false, string(consent.CodeHistoryTooLong)},
			{"short history too far", caller(short), byNRB(mainNRB), true, daysBack(31), false, string(consent.CodeHistoryTooLong)},
			{"another TPP", Caller{TPPID: "PSDPL-KNF-B", ConsentID: good.ID, CustomerID: good.CustomerID}, byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeUnknown)},
			{"another customer's token", Caller{TPPID: good.TPPID, ConsentID: good.ID, CustomerID: f.corp.ID}, byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeUnknown)},
			{"no such consent", Caller{TPPID: good.TPPID, ConsentID: uuid.NewString()}, byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeUnknown)},
			{"revoked", caller(revoked), byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeRevoked)},
			{"privilege missing", caller(noDone), byNRB(mainNRB), true, time.Time{}, false, string(consent.CodePrivilegeMissing)},
			{"account not in consent", caller(onlySave), byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"another customer's account", caller(good), byNRB(f.corpAcct.NRB), true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"another customer's account by id", caller(good), AccountRef{Value: f.corpAcct.ID, ByID: true}, true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"no such account", caller(good), byNRB(newNRB(t)), true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"API access not activated", caller(corp), byNRB(f.corpAcct.NRB), true, time.Time{}, false, string(access.CodeNotActivated)},
			{"single use (left to the full check)", caller(single), byNRB(mainNRB), true, time.Time{}, true, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := f.accesses()
				g, ok, err := f.svc.oneStatement(ctx, tc.c, consent.PrivGetTransactionsDone, tc.ref, tc.psu, tc.from, false, now)
				if err != nil {
					t.Fatal(err)
				}
				if ok && !tc.allowed {
					t.Fatalf("the one statement allowed what the full check refuses (%s)", tc.code)
				}
				wantOK := tc.allowed && tc.name != "single use (left to the full check)"
				if ok != wantOK {
					t.Errorf("one statement allowed: %v, want %v", ok, wantOK)
				}
				if d := f.accesses() - before; ok && d != 1 || !ok && d != 0 {
					t.Errorf("the one statement recorded %d accesses (allowed: %v)", d, ok)
				}
				if ok && (g.accountID != f.main.ID || g.self.Account != mainNRB || g.self.Name != f.anna.Name || g.maxHistory != 365) {
					t.Errorf("grant %+v", g)
				}
				_, err = f.svc.fullCheck(ctx, tc.c, consent.PrivGetTransactionsDone, tc.ref, tc.psu, tc.from, false)
				if tc.allowed != (err == nil) {
					t.Fatalf("full check: %v, want allowed %v", err, tc.allowed)
				}
				if err != nil && string(consent.CodeOf(err)) != tc.code && string(accessCode(err)) != tc.code && !(tc.code == string(consent.CodeAccountNotInConsent) && CodeOf(err) == CodeAccountUnknown) {
					t.Errorf("full check refused with %v, want %s", err, tc.code)
				}
			})
		}

		// Blocked by its holder: refused at once.
		must(f.access.ChangeByCustomer(ctx, f.corp.ID, f.corpAcct.NRB, access.Active, "sms", ""))
		if _, ok, err := f.svc.oneStatement(ctx, caller(corp), consent.PrivGetTransactionsDone, byNRB(f.corpAcct.NRB), true, time.Time{}, false, now); err != nil || !ok {
			t.Fatalf("activated: %v %v", ok, err)
		}
		must(f.access.ChangeByCustomer(ctx, f.corp.ID, f.corpAcct.NRB, access.Blocked, "sms", "test"))
		before := f.accesses()
		if _, ok, err := f.svc.oneStatement(ctx, caller(corp), consent.PrivGetTransactionsDone, byNRB(f.corpAcct.NRB), true, time.Time{}, false, now); err != nil || ok {
			t.Fatalf("blocked: the one statement allowed (%v, %v)", ok, err)
		}
		if f.accesses() != before {
			t.Error("a refused access was recorded")
		}

		// Expired: the consent's time limit passed.
		f.clock.Advance(100 * 24 * time.Hour)
		if _, ok, _ := f.svc.oneStatement(ctx, caller(good), consent.PrivGetTransactionsDone, byNRB(mainNRB), true, time.Time{}, false, f.clock.Now()); ok {
			t.Error("the one statement allowed an expired consent")
		}
		if _, err := f.svc.fullCheck(ctx, caller(good), consent.PrivGetTransactionsDone, byNRB(mainNRB), true, time.Time{}, false); consent.CodeOf(err) != consent.CodeExpired {
			t.Errorf("full check of an expired consent: %v", err)
		}
	})
}

func accessCode(err error) access.Code {
	var e *access.Error
	if ae, ok := err.(*access.Error); ok {
		e = ae
	}
	if e == nil {
		return ""
	}
	return e.Code
}

// TestUnattendedLimitExact fires 16 unattended first pages at once at one
// account of one consent, on both engines: exactly 4 are served, the rest
// refused with access_limit, and exactly 4 accesses are recorded.
func TestUnattendedLimitExact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(365, f.main.NRB, consent.UsageMultiple)}, f.main.NRB)
		var wg sync.WaitGroup
		var served, limited atomic.Int64
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.List(ctx, Caller{TPPID: c.TPPID, ConsentID: c.ID, CustomerID: c.CustomerID},
					Query{Kind: KindDone, Account: AccountRef{Value: f.main.NRB}})
				switch {
				case err == nil:
					served.Add(1)
				case consent.CodeOf(err) == consent.CodeAccessLimit:
					limited.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if served.Load() != consent.UnattendedLimit || limited.Load() != 16-consent.UnattendedLimit {
			t.Errorf("served %d, limited %d; want %d and %d", served.Load(), limited.Load(), consent.UnattendedLimit, 16-consent.UnattendedLimit)
		}
		if n := f.accesses(); n != consent.UnattendedLimit {
			t.Errorf("%d accesses recorded, want %d", n, consent.UnattendedLimit)
		}
	})
}
