package ais

import (
	"context"
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
	return f.consentIn(consent.ScopeAIS, tpp, customer, privs, accounts...)
}

// consentIn is consent of scope.
func (f *fixture) consentIn(scope consent.Scope, tpp string, customer ledger.Customer, privs []consent.Privilege, accounts ...string) consent.Consent {
	ctx := context.Background()
	c := must(f.consents.Create(ctx, consent.Consent{
		TPPConsentID: uuid.NewString(), TPPID: tpp, ClientID: "client-" + tpp, Scope: scope, Privileges: privs,
		ScopeTimeLimit: t0.AddDate(0, 3, 0), ThrottlingPolicy: consent.ThrottlingPSD2Regulatory, Dialect: consent.DialectPolishAPI,
	}))
	return must(f.consents.Authorise(ctx, c.ID, customer.ID, accounts))
}

func done(history int, account string, usage string) consent.Privilege {
	return consent.Privilege{Name: consent.PrivGetTransactionsDone, AccountNumber: account, ScopeUsageLimit: usage, MaxAllowedHistoryLong: history}
}

// callerOf is the TPP calling with c's access token.
func callerOf(c consent.Consent) Caller {
	return Caller{TPPID: c.TPPID, ConsentID: c.ID, CustomerID: c.CustomerID}
}

func (f *fixture) accesses() int {
	var n int
	if err := f.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM consent_accesses`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// agrees runs a call through f.svc (the one statement) and through
// separate (the separate checks and reads), and checks that they agree:
// both allowed or both refused, with the same refusal, and when allowed
// the same answer (as fmt prints it). The one statement's path records
// one access when it allows, in at most most statements, and
// refusedRecords when it refuses (none, unless the refusal comes after
// the consent's check, as an unknown item's does).
func (f *fixture) agrees(t *testing.T, separate *Service, allowed bool, most int64, refusedRecords int, call func(s *Service) (any, error)) {
	t.Helper()
	before := f.accesses()
	q0 := f.db.Queries()
	got, err := call(f.svc)
	statements := f.db.Queries() - q0
	recorded := f.accesses() - before
	want, werr := call(separate)
	if allowed != (err == nil) || (err == nil) != (werr == nil) {
		t.Fatalf("one statement: %v; separate checks: %v; want allowed %v", err, werr, allowed)
	}
	if err != nil {
		if fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Errorf("refused with %v, the separate checks with %v", err, werr)
		}
		if recorded != refusedRecords {
			t.Errorf("%d accesses recorded for a refusal, want %d", recorded, refusedRecords)
		}
		return
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("answered %+v; the separate checks %+v", got, want)
	}
	if recorded != 1 || statements > most {
		t.Errorf("allowed: %d accesses recorded, %d statements; want 1 and at most %d", recorded, statements, most)
	}
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
		oneOff := f.consentWith(consent.Consent{TPPID: "PSDPL-KNF-A", OneOff: true, FrequencyPerDay: 1, Dialect: consent.DialectBerlinGroup,
			Privileges: []consent.Privilege{done(365, mainNRB, consent.UsageMultiple)}}, f.anna, mainNRB)

		now := f.clock.Now()
		daysBack := func(n int) time.Time { return day(ledger.DateOf(now.AddDate(0, 0, -n))) }
		byNRB := func(n string) AccountRef { return AccountRef{Value: n} }
		for _, tc := range []struct {
			name    string
			c       Caller
			ref     AccountRef
			psu     bool
			from    time.Time
			allowed bool   // by the full check
			code    string // the full check's refusal
		}{
			{"allowed", callerOf(good), byNRB(mainNRB), true, time.Time{}, true, ""},
			{"allowed by id", callerOf(good), AccountRef{Value: f.main.ID, ByID: true}, true, time.Time{}, true, ""},
			{"allowed with the number spaced", callerOf(good), byNRB("PL" + mainNRB[:2] + " " + mainNRB[2:]), true, time.Time{}, true, ""},
			{"history at the limit", callerOf(good), byNRB(mainNRB), true, daysBack(365), true, ""},
			{"history one day too far", callerOf(good), byNRB(mainNRB), true, daysBack(366), false, string(consent.CodeHistoryTooLong)},
			{"short history too far", callerOf(short), byNRB(mainNRB), true, daysBack(31), false, string(consent.CodeHistoryTooLong)},
			{"another TPP", Caller{TPPID: "PSDPL-KNF-B", ConsentID: good.ID, CustomerID: good.CustomerID}, byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeUnknown)},
			{"another customer's token", Caller{TPPID: good.TPPID, ConsentID: good.ID, CustomerID: f.corp.ID}, byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeUnknown)},
			{"no such consent", Caller{TPPID: good.TPPID, ConsentID: uuid.NewString()}, byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeUnknown)},
			{"revoked", callerOf(revoked), byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeRevoked)},
			{"privilege missing", callerOf(noDone), byNRB(mainNRB), true, time.Time{}, false, string(consent.CodePrivilegeMissing)},
			{"account not in consent", callerOf(onlySave), byNRB(mainNRB), true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"another customer's account", callerOf(good), byNRB(f.corpAcct.NRB), true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"another customer's account by id", callerOf(good), AccountRef{Value: f.corpAcct.ID, ByID: true}, true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"no such account", callerOf(good), byNRB(newNRB(t)), true, time.Time{}, false, string(consent.CodeAccountNotInConsent)},
			{"API access not activated", callerOf(corp), byNRB(f.corpAcct.NRB), true, time.Time{}, false, string(access.CodeNotActivated)},
			{"single use (left to the full check)", callerOf(single), byNRB(mainNRB), true, time.Time{}, true, ""},
			{"one-off consent (left to the full check)", callerOf(oneOff), byNRB(mainNRB), true, time.Time{}, true, ""},
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
				wantOK := tc.allowed && !strings.HasSuffix(tc.name, "(left to the full check)")
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
		if _, ok, err := f.svc.oneStatement(ctx, callerOf(corp), consent.PrivGetTransactionsDone, byNRB(f.corpAcct.NRB), true, time.Time{}, false, now); err != nil || !ok {
			t.Fatalf("activated: %v %v", ok, err)
		}
		must(f.access.ChangeByCustomer(ctx, f.corp.ID, f.corpAcct.NRB, access.Blocked, "sms", "test"))
		before := f.accesses()
		if _, ok, err := f.svc.oneStatement(ctx, callerOf(corp), consent.PrivGetTransactionsDone, byNRB(f.corpAcct.NRB), true, time.Time{}, false, now); err != nil || ok {
			t.Fatalf("blocked: the one statement allowed (%v, %v)", ok, err)
		}
		if f.accesses() != before {
			t.Error("a refused access was recorded")
		}

		// Expired: the consent's time limit passed.
		f.clock.Advance(100 * 24 * time.Hour)
		if _, ok, _ := f.svc.oneStatement(ctx, callerOf(good), consent.PrivGetTransactionsDone, byNRB(mainNRB), true, time.Time{}, false, f.clock.Now()); ok {
			t.Error("the one statement allowed an expired consent")
		}
		if _, err := f.svc.fullCheck(ctx, callerOf(good), consent.PrivGetTransactionsDone, byNRB(mainNRB), true, time.Time{}, false); consent.CodeOf(err) != consent.CodeExpired {
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
// account of one consent, on both engines: exactly the consent's
// frequency is served (4 for a PolishAPI consent, 2 for a Berlin Group
// consent with frequencyPerDay 2), the rest refused with access_limit,
// and exactly that many accesses are recorded.
func TestUnattendedLimitExact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			name      string
			dialect   string
			frequency int // 0: the default
			want      int
		}{
			{"polishapi default", consent.DialectPolishAPI, 0, consent.UnattendedLimit},
			{"berlingroup frequencyPerDay 2", consent.DialectBerlinGroup, 2, 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t, db)
				c := f.consentWith(consent.Consent{TPPID: "PSDPL-KNF-A", Dialect: tc.dialect, FrequencyPerDay: tc.frequency,
					Privileges: []consent.Privilege{done(365, f.main.NRB, consent.UsageMultiple)}}, f.anna, f.main.NRB)
				before := f.accesses()
				var wg sync.WaitGroup
				var served, limited atomic.Int64
				for range 16 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := f.svc.List(ctx, callerOf(c),
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
				if served.Load() != int64(tc.want) || limited.Load() != int64(16-tc.want) {
					t.Errorf("served %d, limited %d; want %d and %d", served.Load(), limited.Load(), tc.want, 16-tc.want)
				}
				if n := f.accesses() - before; n != tc.want {
					t.Errorf("%d accesses recorded, want %d", n, tc.want)
				}
			})
		}
	})
}

// consentWith gives c (a TPP, privileges, a dialect, a frequency) of
// customer's on accounts.
func (f *fixture) consentWith(c consent.Consent, customer ledger.Customer, accounts ...string) consent.Consent {
	ctx := context.Background()
	c.TPPConsentID, c.ClientID, c.Scope = uuid.NewString(), "client-"+c.TPPID, consent.ScopeAIS
	c.ScopeTimeLimit, c.ThrottlingPolicy = f.clock.Now().AddDate(0, 3, 0), consent.ThrottlingPSD2Regulatory
	c = must(f.consents.Create(ctx, c))
	return must(f.consents.Authorise(ctx, c.ID, customer.ID, accounts))
}

// TestUnattendedWindows: a consent counts its unattended reads in its
// window — any 24 hours (PolishAPI) or the calendar day in Warsaw (Berlin
// Group) — up to its frequency; the one statement and the full check agree
// on every read (the statement allows exactly what the full check allows,
// and writes nothing when it does not), on both engines; the refusal says
// when the next read is allowed.
func TestUnattendedWindows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		// 22:30 in Warsaw (UTC+1 in November).
		f.clock.Advance(time.Date(2026, 11, 23, 21, 30, 0, 0, time.UTC).Sub(f.clock.Now()))
		privs := []consent.Privilege{done(365, f.main.NRB, consent.UsageMultiple)}
		rolling := f.consentWith(consent.Consent{TPPID: "PSDPL-KNF-A", Dialect: consent.DialectPolishAPI, FrequencyPerDay: 2, Privileges: privs}, f.anna, f.main.NRB)
		daily := f.consentWith(consent.Consent{TPPID: "PSDPL-KNF-A", Dialect: consent.DialectBerlinGroup, FrequencyPerDay: 2, Privileges: privs}, f.anna, f.main.NRB)
		if rolling.Window != consent.Window24Hours || daily.Window != consent.WindowCalendarDay {
			t.Fatalf("windows %q and %q", rolling.Window, daily.Window)
		}
		ref := AccountRef{Value: f.main.NRB}
		// read is one unattended first page: the one statement, then (when
		// it does not allow) the full check, as grant runs them.
		read := func(c consent.Consent, wantAllowed bool) error {
			t.Helper()
			before := f.accesses()
			_, ok, err := f.svc.oneStatement(ctx, callerOf(c), consent.PrivGetTransactionsDone, ref, false, time.Time{}, false, f.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if ok && !wantAllowed {
				t.Fatal("the one statement allowed a read beyond the consent's frequency")
			}
			if db.Engine() == store.SQLite && ok != wantAllowed {
				t.Fatalf("the one statement allowed: %v, want %v", ok, wantAllowed)
			}
			if ok {
				if d := f.accesses() - before; d != 1 {
					t.Fatalf("the one statement recorded %d accesses", d)
				}
				return nil
			}
			if d := f.accesses() - before; d != 0 {
				t.Fatalf("the one statement refused and recorded %d accesses", d)
			}
			_, err = f.svc.fullCheck(ctx, callerOf(c), consent.PrivGetTransactionsDone, ref, false, time.Time{}, false)
			if wantAllowed != (err == nil) {
				t.Fatalf("full check: %v, want allowed %v", err, wantAllowed)
			}
			return err
		}
		first := f.clock.Now()
		for _, c := range []consent.Consent{rolling, daily} {
			read(c, true)
			f.clock.Advance(10 * time.Minute)
			read(c, true)
			f.clock.Advance(-10 * time.Minute)
		}
		f.clock.Advance(20 * time.Minute) // 22:50 in Warsaw
		var e *consent.Error
		if err := read(rolling, false); !errors.As(err, &e) || e.Code != consent.CodeAccessLimit || !e.RetryAfter.Equal(first.Add(24*time.Hour)) {
			t.Fatalf("third read in 24 hours: %v", err)
		}
		midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, polish.Warsaw)
		if err := read(daily, false); !errors.As(err, &e) || e.Code != consent.CodeAccessLimit || !e.RetryAfter.Equal(midnight) ||
			!strings.Contains(e.Message, "next read allowed at 2026-11-24T00:00:00+01:00") {
			t.Fatalf("third read of the day: %v", err)
		}

		// 00:10 in Warsaw the next day: a new day, not yet 24 hours.
		f.clock.Advance(80 * time.Minute)
		read(daily, true)
		read(daily, true)
		if err := read(daily, false); consent.CodeOf(err) != consent.CodeAccessLimit {
			t.Fatalf("third read of the new day: %v", err)
		}
		if err := read(rolling, false); consent.CodeOf(err) != consent.CodeAccessLimit {
			t.Fatalf("rolling, after midnight: %v", err)
		}
		// 24 hours after the first read: the rolling window lets one more in.
		f.clock.Advance(first.Add(24 * time.Hour).Sub(f.clock.Now()))
		read(rolling, true)
		if err := read(rolling, false); consent.CodeOf(err) != consent.CodeAccessLimit {
			t.Fatalf("rolling, one out and one in: %v", err)
		}
	})
}

// TestAccountOneStatementAgrees: getAccount through the one statement
// gives what the separate checks give — the same account and owner when
// allowed, and when refused the same refusal (the separate checks run
// then) — and records one access per call allowed, none per refusal; on
// both engines.
func TestAccountOneStatementAgrees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		separate := New(f.l, f.consents, f.access, nil) // no one statement
		acct := func(nrb, usage string) consent.Privilege {
			return consent.Privilege{Name: consent.PrivGetAccount, AccountNumber: nrb, ScopeUsageLimit: usage}
		}
		mainNRB, saveNRB := f.main.NRB, f.save.NRB
		good := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{acct(mainNRB, consent.UsageMultiple)}, mainNRB)
		onlySave := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{acct(saveNRB, consent.UsageMultiple)}, saveNRB)
		noAccount := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(90, mainNRB, consent.UsageMultiple)}, mainNRB)
		revoked := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{acct(mainNRB, consent.UsageMultiple)}, mainNRB)
		must(f.consents.Revoke(ctx, revoked.ID, "psu", "test"))
		corp := f.consent("PSDPL-KNF-A", f.corp, []consent.Privilege{acct(f.corpAcct.NRB, consent.UsageMultiple)}, f.corpAcct.NRB)
		for _, tc := range []struct {
			name    string
			c       Caller
			ref     AccountRef
			allowed bool
		}{
			{"allowed", callerOf(good), AccountRef{Value: mainNRB}, true},
			{"allowed by id", callerOf(good), AccountRef{Value: f.main.ID, ByID: true}, true},
			{"another TPP", Caller{TPPID: "PSDPL-KNF-B", ConsentID: good.ID, CustomerID: good.CustomerID}, AccountRef{Value: mainNRB}, false},
			{"account not in consent", callerOf(onlySave), AccountRef{Value: mainNRB}, false},
			{"another customer's account", callerOf(good), AccountRef{Value: f.corpAcct.NRB}, false},
			{"no such account", callerOf(good), AccountRef{Value: newNRB(t)}, false},
			{"privilege missing", callerOf(noAccount), AccountRef{Value: mainNRB}, false},
			{"revoked", callerOf(revoked), AccountRef{Value: mainNRB}, false},
			{"API access not activated", callerOf(corp), AccountRef{Value: f.corpAcct.NRB}, false},
			{"no token", Caller{TPPID: "PSDPL-KNF-A"}, AccountRef{Value: mainNRB}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f.agrees(t, separate, tc.allowed, 2, 0, func(s *Service) (any, error) {
					a, o, err := s.Account(ctx, tc.c, tc.ref, true)
					return [2]any{a, o}, err
				})
			})
		}
	})
}

// TestDetailOneStatementAgrees: getTransactionDetail of a booked item
// reads the item and passes the consent check for its date in two
// statements, and gives what the separate reads and checks give — the
// same item and holder's side when allowed, the same refusal otherwise,
// and one access recorded per call allowed, none per refusal; on both
// engines.
func TestDetailOneStatementAgrees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		separate := New(f.l, f.consents, f.access, nil) // no one statement
		funds := must(f.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: f.corp.ID, Currency: "PLN",
			Type: ledger.TypeCorporate, Name: "Zasilenie", AllowNegative: true}))
		book := func(to ledger.Account) string {
			t.Helper()
			tr, err := f.l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: funds.ID, CreditAccountID: to.ID,
				Amount: 1_00, Currency: "PLN", Title: "Wpłata"})
			if err != nil {
				t.Fatal(err)
			}
			return tr.ID
		}
		old := book(f.main)
		f.clock.Advance(40 * 24 * time.Hour)
		recent, onSave := book(f.main), book(f.save)
		detail := func(nrb string) consent.Privilege { // no history bound: getTransactionDetail has none
			return consent.Privilege{Name: consent.PrivGetTransactionDetail, AccountNumber: nrb, ScopeUsageLimit: consent.UsageMultiple}
		}
		mainNRB := f.main.NRB
		good := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{detail(mainNRB)}, mainNRB)
		noDetail := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(90, mainNRB, consent.UsageMultiple)}, mainNRB)
		revoked := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{detail(mainNRB)}, mainNRB)
		must(f.consents.Revoke(ctx, revoked.ID, "psu", "test"))
		for _, tc := range []struct {
			name     string
			c        Caller
			ref      AccountRef
			item     string
			allowed  bool
			recorded int // on a refusal
		}{
			{"allowed", callerOf(good), AccountRef{Value: mainNRB}, recent, true, 0},
			{"allowed by id", callerOf(good), AccountRef{Value: f.main.ID, ByID: true}, old, true, 0},
			{"another TPP", Caller{TPPID: "PSDPL-KNF-B", ConsentID: good.ID, CustomerID: good.CustomerID}, AccountRef{Value: mainNRB}, recent, false, 0},
			{"another account's item", callerOf(good), AccountRef{Value: mainNRB}, onSave, false, 1},
			{"that account, not in the consent", callerOf(good), AccountRef{Value: f.save.NRB}, onSave, false, 0},
			{"privilege missing", callerOf(noDetail), AccountRef{Value: mainNRB}, recent, false, 0},
			{"revoked", callerOf(revoked), AccountRef{Value: mainNRB}, recent, false, 0},
			{"no such item", callerOf(good), AccountRef{Value: mainNRB}, uuid.NewString(), false, 1},
			{"no token", Caller{TPPID: "PSDPL-KNF-A"}, AccountRef{Value: mainNRB}, recent, false, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// An item the account does not have is refused after the
				// consent's check, which counts the access, on both paths.
				f.agrees(t, separate, tc.allowed, 2, tc.recorded, func(s *Service) (any, error) {
					it, self, err := s.Detail(ctx, tc.c, tc.ref, tc.item, true)
					var p ledger.Posting
					if it.Posting != nil {
						p = *it.Posting
					}
					return [2]any{p, self}, err
				})
			})
		}
	})
}

// TestAccountsOneStatementAgrees: getAccounts through the one statement
// and the accounts' one more gives what the separate checks and reads give
// — the same accounts (the consent's, the customer's, with API access
// active), the same refusals, the same accesses recorded — and the
// unattended limit holds through it; on both engines.
func TestAccountsOneStatementAgrees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		separate := New(f.l, f.consents, f.access, nil) // no one statement
		list := consent.Privilege{Name: consent.PrivGetAccounts, ScopeUsageLimit: consent.UsageMultiple}
		// The corporate customer's second account: API access activated on
		// the first only.
		corp2 := must(f.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: f.corp.ID, Currency: "PLN", Type: ledger.TypeCorporate, Name: "Firmowe 2"}))
		must(f.access.ChangeByCustomer(ctx, f.corp.ID, f.corpAcct.NRB, access.Active, "sms", "test"))

		chosen := f.consentIn(consent.ScopeAISAccounts, "PSDPL-KNF-A", f.anna, []consent.Privilege{list}, f.save.NRB, f.main.NRB)
		// Chosen, but another customer's.
		foreign := f.consentIn(consent.ScopeAISAccounts, "PSDPL-KNF-A", f.anna, []consent.Privilege{list}, f.main.NRB, f.corpAcct.NRB)
		corp := f.consentIn(consent.ScopeAISAccounts, "PSDPL-KNF-A", f.corp, []consent.Privilege{list}, f.corpAcct.NRB, corp2.NRB)
		noList := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{done(90, f.main.NRB, consent.UsageMultiple)}, f.main.NRB)
		// A consent whose accounts are none (as stored before the customer
		// had to choose one): the privileges name none either.
		emptied := f.consentIn(consent.ScopeAISAccounts, "PSDPL-KNF-A", f.anna, []consent.Privilege{list}, f.main.NRB)
		if _, err := db.ExecContext(ctx, `UPDATE consents SET accounts = '[]' WHERE id = $1`, emptied.ID); err != nil {
			t.Fatal(err)
		}
		revoked := f.consentIn(consent.ScopeAISAccounts, "PSDPL-KNF-A", f.anna, []consent.Privilege{list}, f.main.NRB)
		must(f.consents.Revoke(ctx, revoked.ID, "psu", "test"))
		numbers := func(accts []ledger.Account) []string {
			var out []string
			for _, a := range accts {
				out = append(out, a.NRB)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			c    Caller
			want []string // nil: refused
		}{
			{"chosen", callerOf(chosen), []string{min(f.main.NRB, f.save.NRB), max(f.main.NRB, f.save.NRB)}},
			{"another customer's not shown", callerOf(foreign), []string{f.main.NRB}},
			{"API access not active not shown", callerOf(corp), []string{f.corpAcct.NRB}},
			{"no accounts", callerOf(emptied), []string{}},
			{"another TPP", Caller{TPPID: "PSDPL-KNF-B", ConsentID: chosen.ID, CustomerID: chosen.CustomerID}, nil},
			{"the token's customer another", Caller{TPPID: "PSDPL-KNF-A", ConsentID: chosen.ID, CustomerID: f.corp.ID}, nil},
			{"privilege missing", callerOf(noList), nil},
			{"revoked", callerOf(revoked), nil},
			{"no token", Caller{TPPID: "PSDPL-KNF-A"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f.agrees(t, separate, tc.want != nil, 2, 0, func(s *Service) (any, error) {
					got, _, err := s.Accounts(ctx, tc.c, true, "", 0)
					if err == nil && fmt.Sprint(numbers(got)) != fmt.Sprint(tc.want) {
						t.Errorf("accounts %v, want %v", numbers(got), tc.want)
					}
					return got, err
				})
			})
		}

		// Four unattended a day, through either way; the fifth refused alike.
		day := f.consentIn(consent.ScopeAISAccounts, "PSDPL-KNF-A", f.anna, []consent.Privilege{list}, f.main.NRB)
		for i := 1; i <= 4; i++ {
			s := f.svc
			if i%2 == 0 {
				s = separate
			}
			if _, _, err := s.Accounts(ctx, callerOf(day), false, "", 0); err != nil {
				t.Fatalf("unattended access %d: %v", i, err)
			}
		}
		before := f.accesses()
		_, _, err := f.svc.Accounts(ctx, callerOf(day), false, "", 0)
		_, _, werr := separate.Accounts(ctx, callerOf(day), false, "", 0)
		if err == nil || fmt.Sprint(err) != fmt.Sprint(werr) || f.accesses() != before {
			t.Fatalf("the fifth unattended access: %v; separate checks: %v; %d recorded", err, werr, f.accesses()-before)
		}
	})
}

// TestRecordAllAgrees checks RecordAll, the checks of a list of a
// consent's accounts in one statement, on both engines: it allows exactly
// when Record allows each account, records one access per account when it
// does and none when it does not, and counts the unattended reads of each
// account as Record does.
func TestRecordAllAgrees(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		separate := New(f.l, f.consents, f.access, nil) // no one statement
		acct := func(nrb string) consent.Privilege {
			return consent.Privilege{Name: consent.PrivGetAccount, AccountNumber: nrb, ScopeUsageLimit: consent.UsageMultiple}
		}
		mainNRB, saveNRB := f.main.NRB, f.save.NRB
		both := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{acct(mainNRB), acct(saveNRB)}, mainNRB, saveNRB)
		onlyMain := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{acct(mainNRB)}, mainNRB)
		revoked := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{acct(mainNRB), acct(saveNRB)}, mainNRB, saveNRB)
		must(f.consents.Revoke(ctx, revoked.ID, "psu", "test"))
		corp := f.consent("PSDPL-KNF-A", f.corp, []consent.Privilege{acct(f.corpAcct.NRB)}, f.corpAcct.NRB)
		for _, tc := range []struct {
			name     string
			c        Caller
			accounts []string
		}{
			{"both accounts", callerOf(both), []string{mainNRB, saveNRB}},
			{"one account twice and another", callerOf(both), []string{mainNRB, mainNRB, saveNRB}},
			{"one account", callerOf(both), []string{saveNRB}},
			{"an account the consent does not give", callerOf(onlyMain), []string{mainNRB, saveNRB}},
			{"another customer's account", callerOf(both), []string{mainNRB, f.corpAcct.NRB}},
			{"no such account", callerOf(both), []string{mainNRB, newNRB(t)}},
			{"another TPP", Caller{TPPID: "PSDPL-KNF-B", ConsentID: both.ID, CustomerID: both.CustomerID}, []string{mainNRB, saveNRB}},
			{"revoked", callerOf(revoked), []string{mainNRB, saveNRB}},
			{"API access not activated", callerOf(corp), []string{f.corpAcct.NRB}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// What the separate checks say of each account (they
				// record their own accesses: counted before RecordAll runs).
				want := true
				distinct := map[string]bool{}
				for _, n := range tc.accounts {
					distinct[n] = true
					if _, _, err := separate.Account(ctx, tc.c, AccountRef{Value: n}, true); err != nil {
						want = false
					}
				}
				before, q0 := f.accesses(), db.Queries()
				ok, err := f.svc.RecordAll(ctx, tc.c, consent.PrivGetAccount, tc.accounts, true)
				if err != nil {
					t.Fatal(err)
				}
				statements, recorded := db.Queries()-q0, f.accesses()-before
				if ok != want {
					t.Fatalf("RecordAll allowed %v, each account's check %v", ok, want)
				}
				if wantRecorded := map[bool]int{true: len(distinct), false: 0}[ok]; recorded != wantRecorded || statements != 1 {
					t.Errorf("%d accesses recorded in %d statements, want %d in 1", recorded, statements, wantRecorded)
				}
			})
		}
		// Unattended: four reads of the list a day, of each account; the
		// fifth is refused (on PostgreSQL they are left to the full check,
		// which locks the consent).
		unattended := f.consent("PSDPL-KNF-A", f.anna, []consent.Privilege{acct(mainNRB), acct(saveNRB)}, mainNRB, saveNRB)
		for i := 1; i <= 5; i++ {
			ok, err := f.svc.RecordAll(ctx, callerOf(unattended), consent.PrivGetAccount, []string{mainNRB, saveNRB}, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := db.Engine() == store.SQLite && i <= 4; ok != want {
				t.Fatalf("unattended read %d: allowed %v, want %v", i, ok, want)
			}
		}
		if db.Engine() == store.SQLite {
			if ok, _ := f.svc.Record(ctx, callerOf(unattended), consent.PrivGetAccount, AccountRef{Value: saveNRB}, false, time.Time{}); ok {
				t.Fatal("a fifth unattended read of an account allowed after four lists")
			}
		}
	})
}
