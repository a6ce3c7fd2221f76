package consent_test

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

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

const (
	accA = "85114000000000000000000100"
	accB = "20114000000000000000000300"
	accC = "88342437927928550883469351"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T, db *store.DB) (*consent.Service, *clock.Fixed) {
	clk := clock.NewFixed(t0)
	return consent.New(db, clk), clk
}

func aisConsent(id string) consent.Consent {
	return consent.Consent{
		TPPConsentID:   id,
		TPPID:          "PSDPL-KNF-1",
		ClientID:       "client-1",
		Scope:          consent.ScopeAIS,
		ScopeTimeLimit: t0.AddDate(1, 0, 0),
		Privileges: []consent.Privilege{
			{Name: consent.PrivGetAccount},
			{Name: consent.PrivGetTransactionsDone, MaxAllowedHistoryLong: 90},
			{Name: consent.PrivGetHolds, AccountNumber: "", MaxAllowedHistoryLong: 30},
		},
	}
}

func mustAuthorised(t *testing.T, s *consent.Service, c consent.Consent, accounts ...string) consent.Consent {
	t.Helper()
	ctx := context.Background()
	c, err := s.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.Authorise(ctx, c.ID, "cust-1", accounts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, code consent.Code) {
	t.Helper()
	if got := consent.CodeOf(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	var e *consent.Error
	// The HTTP status is the transports' (issue 11: no domain package
	// chooses one); TestEveryCodeHasAWireAnswer checks each code has one.
	if code != "" && (!errors.As(err, &e) || e.Message == "" || e.MessagePL == "") {
		t.Fatalf("error %v lacks a message in both languages", err)
	}
}

func TestCreateValidates(t *testing.T) {
	storetest.Each(t, testCreateValidates)
}

func testCreateValidates(t *testing.T, db *store.DB) {
	s, _ := setup(t, db)
	ctx := context.Background()
	pay := json.RawMessage(`{"sender":{"accountNumber":"` + accA + `"},"transferData":{"amount":"10.00"}}`)
	tests := []struct {
		name string
		edit func(*consent.Consent)
		code consent.Code
	}{
		{"ok", func(*consent.Consent) {}, ""},
		{"no consentId", func(c *consent.Consent) { c.TPPConsentID = "" }, consent.CodeInvalid},
		{"past scopeTimeLimit", func(c *consent.Consent) { c.ScopeTimeLimit = t0.Add(-time.Second) }, consent.CodeInvalid},
		{"bad scope", func(c *consent.Consent) { c.Scope = "aisx" }, consent.CodeInvalid},
		{"history 0", func(c *consent.Consent) { c.Privileges[1].MaxAllowedHistoryLong = 0 }, consent.CodeInvalidPrivileges},
		{"history 1461", func(c *consent.Consent) { c.Privileges[1].MaxAllowedHistoryLong = 1461 }, consent.CodeInvalidPrivileges},
		{"history 1460", func(c *consent.Consent) { c.Privileges[1].MaxAllowedHistoryLong = 1460 }, ""},
		{"pis privilege in ais", func(c *consent.Consent) { c.Privileges[0].Name = consent.PrivDomestic }, consent.CodeInvalidPrivileges},
		{"getAccounts in ais", func(c *consent.Consent) { c.Privileges[0].Name = consent.PrivGetAccounts }, consent.CodeInvalidPrivileges},
		{"bad account", func(c *consent.Consent) { c.Privileges[0].AccountNumber = "123" }, consent.CodeInvalidPrivileges},
		{"ais-accounts ok", func(c *consent.Consent) {
			c.Scope = consent.ScopeAISAccounts
			c.Privileges = []consent.Privilege{{Name: consent.PrivGetAccounts}}
		}, ""},
		{"pis ok", func(c *consent.Consent) {
			c.Scope = consent.ScopePIS
			c.Privileges = []consent.Privilege{{Name: consent.PrivDomestic, Payment: pay}}
		}, ""},
		{"pis multiple", func(c *consent.Consent) {
			c.Scope = consent.ScopePIS
			c.Privileges = []consent.Privilege{{Name: consent.PrivDomestic, Payment: pay, ScopeUsageLimit: "MULTIPLE"}}
		}, consent.CodeInvalidPrivileges},
		{"pis two payments", func(c *consent.Consent) {
			c.Scope = consent.ScopePIS
			c.Privileges = []consent.Privilege{{Name: consent.PrivDomestic, Payment: pay}, {Name: consent.PrivTax, Payment: pay}}
		}, consent.CodeInvalidPrivileges},
		{"pis no payment data", func(c *consent.Consent) {
			c.Scope = consent.ScopePIS
			c.Privileges = []consent.Privilege{{Name: consent.PrivDomestic}}
		}, consent.CodeInvalidPrivileges},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := aisConsent("v-" + string(rune('a'+i)))
			tt.edit(&c)
			got, err := s.Create(ctx, c)
			wantCode(t, err, tt.code)
			if err == nil && got.Status != consent.StatusReceived {
				t.Fatalf("status %s, want received", got.Status)
			}
		})
	}
	// A consentId is unique per TPP, not across TPPs.
	if _, err := s.Create(ctx, aisConsent("dup")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Create(ctx, aisConsent("dup"))
	wantCode(t, err, consent.CodeDuplicate)
	other := aisConsent("dup")
	other.TPPID = "PSDPL-KNF-2"
	if _, err := s.Create(ctx, other); err != nil {
		t.Fatalf("another TPP's equal consentId refused: %v", err)
	}
}

// mBank's names are the dialect's (internal/dialect/mbank): ours do not
// take them.
func TestMBankNamesAreNotOurs(t *testing.T) {
	t.Parallel()
	if _, err := consent.NormalizePrivilegeName("polishapi", "ais:accountDetails"); consent.CodeOf(err) != consent.CodeInvalidPrivileges {
		t.Errorf("mBank name accepted in PolishAPI: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()

		// Authorise: per-account privileges given for each chosen account; 180 days.
		c := mustAuthorised(t, s, aisConsent("life-1"), accA, accB)
		if c.Status != consent.StatusAuthorised || len(c.Privileges) != 6 || len(c.Accounts) != 2 {
			t.Fatalf("authorised %+v", c)
		}
		if want := t0.Add(consent.SCAValidity); !c.ExpiresAt.Equal(want) {
			t.Fatalf("expires %s, want %s", c.ExpiresAt, want)
		}
		if _, err := s.Authorise(ctx, c.ID, "cust-1", []string{accA}); consent.CodeOf(err) != consent.CodeWrongState {
			t.Fatalf("second authorise: %v", err)
		}
		got, err := s.GetByTPPConsentID(ctx, "PSDPL-KNF-1", "life-1")
		if err != nil || got.ID != c.ID || len(got.Privileges) != 6 {
			t.Fatalf("GetByTPPConsentID: %+v, %v", got, err)
		}

		// TPP-named accounts: exactly those.
		named := aisConsent("life-2")
		named.Privileges = []consent.Privilege{{Name: consent.PrivGetAccount, AccountNumber: accA}, {Name: consent.PrivGetAccount, AccountNumber: accB}}
		named, err = s.Create(ctx, named)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authorise(ctx, named.ID, "cust-1", []string{accA, accC}); consent.CodeOf(err) != consent.CodeInvalid {
			t.Fatalf("other accounts than named: %v", err)
		}
		if _, err := s.Authorise(ctx, named.ID, "cust-1", []string{accB, accA}); err != nil {
			t.Fatal(err)
		}

		// Reject and revoke.
		r, _ := s.Create(ctx, aisConsent("life-3"))
		if r, err = s.Reject(ctx, r.ID, "customer said no"); err != nil || r.Status != consent.StatusRejected {
			t.Fatalf("reject: %v", err)
		}
		if _, err := s.Revoke(ctx, r.ID, "psu", ""); consent.CodeOf(err) != consent.CodeWrongState {
			t.Fatalf("revoke rejected: %v", err)
		}
		if _, err := s.Revoke(ctx, c.ID, "tpp", "deleteConsent"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Revoke(ctx, c.ID, "psu", "")
		wantCode(t, err, consent.CodeAlreadyRevoked)

		list, err := s.ForCustomer(ctx, "cust-1")
		if err != nil || len(list) != 2 {
			t.Fatalf("ForCustomer: %d, %v", len(list), err)
		}

		// PIS expires at scopeTimeLimit, not 180 days.
		p := aisConsent("life-4")
		p.Scope = consent.ScopePIS
		p.Privileges = []consent.Privilege{{Name: consent.PrivDomestic, Payment: json.RawMessage(`{"a":1}`)}}
		p = mustAuthorised(t, s, p, accA)
		if !p.ExpiresAt.Equal(p.ScopeTimeLimit) {
			t.Fatalf("pis expires %s", p.ExpiresAt)
		}
		clk.Advance(400 * 24 * time.Hour)
		if got, _ := s.Get(ctx, p.ID); got.Status != consent.StatusExpired || got.StatusReason != consent.ReasonScopeTimeLimit {
			t.Fatalf("pis after limit: %s %s", got.Status, got.StatusReason)
		}
		if _, err := s.Revoke(ctx, p.ID, "psu", ""); consent.CodeOf(err) != consent.CodeExpired {
			t.Fatalf("revoke expired: %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		c := mustAuthorised(t, s, aisConsent("chk-1"), accA)

		received, _ := s.Create(ctx, aisConsent("chk-2"))
		rejected, _ := s.Create(ctx, aisConsent("chk-3"))
		s.Reject(ctx, rejected.ID, "")
		byPSU := mustAuthorised(t, s, aisConsent("chk-4"), accA)
		s.Revoke(ctx, byPSU.ID, "psu", "")
		byTPP := mustAuthorised(t, s, aisConsent("chk-5"), accA)
		s.Revoke(ctx, byTPP.ID, "tpp", "")
		short := aisConsent("chk-6")
		short.ScopeTimeLimit = t0.Add(time.Hour)
		short = mustAuthorised(t, s, short, accA)
		pis := aisConsent("chk-7")
		pis.Scope = consent.ScopePIS
		pis.Privileges = []consent.Privilege{{Name: consent.PrivDomestic, Payment: json.RawMessage(`{"a":1}`)}}
		pis = mustAuthorised(t, s, pis, accA)

		ok := consent.Access{ConsentID: c.ID, TPPID: c.TPPID, Privilege: consent.PrivGetAccount, AccountNumber: accA, PSUPresent: true}
		tests := []struct {
			name string
			edit func(*consent.Access)
			code consent.Code
		}{
			{"ok", func(*consent.Access) {}, ""},
			{"other TPP", func(a *consent.Access) { a.TPPID = "PSDPL-KNF-2" }, consent.CodeUnknown},
			{"no such consent", func(a *consent.Access) { a.ConsentID = "nope" }, consent.CodeUnknown},
			{"received", func(a *consent.Access) { a.ConsentID = received.ID }, consent.CodeNotAuthorised},
			{"rejected", func(a *consent.Access) { a.ConsentID = rejected.ID }, consent.CodeRejected},
			{"revoked by psu", func(a *consent.Access) { a.ConsentID = byPSU.ID }, consent.CodeRevoked},
			{"revoked by tpp", func(a *consent.Access) { a.ConsentID = byTPP.ID }, consent.CodeRevokedByTPP},
			{"privilege missing", func(a *consent.Access) { a.Privilege = consent.PrivGetTransactionDetail }, consent.CodePrivilegeMissing},
			{"account not in consent", func(a *consent.Access) { a.AccountNumber = accB }, consent.CodeAccountNotInConsent},
			{"history within", func(a *consent.Access) {
				a.Privilege, a.HistoryFrom = consent.PrivGetTransactionsDone, t0.AddDate(0, 0, -90)
			}, ""},
			{"history too long", func(a *consent.Access) {
				a.Privilege, a.HistoryFrom = consent.PrivGetTransactionsDone, t0.AddDate(0, 0, -91)
			}, consent.CodeHistoryTooLong},
			{"pis single use", func(a *consent.Access) {
				a.ConsentID, a.Privilege, a.AccountNumber, a.Consume = pis.ID, consent.PrivDomestic, "", true
			}, ""},
			{"pis used up", func(a *consent.Access) {
				a.ConsentID, a.Privilege, a.AccountNumber, a.Consume = pis.ID, consent.PrivDomestic, "", true
			}, consent.CodeUsageExhausted},
		}
		for _, tt := range tests {
			a := ok
			tt.edit(&a)
			_, err := s.Check(ctx, a)
			if consent.CodeOf(err) != tt.code {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.code)
			}
			if tt.code == consent.CodeAccountNotInConsent && !strings.Contains(err.Error(), "…0300") {
				t.Errorf("%s: message %q does not name the masked account", tt.name, err)
			}
		}

		// Expiry: by scopeTimeLimit, then by the 180-day rule.
		clk.Advance(2 * time.Hour)
		_, err := s.Check(ctx, consent.Access{ConsentID: short.ID, TPPID: short.TPPID, Privilege: consent.PrivGetAccount, AccountNumber: accA})
		if consent.CodeOf(err) != consent.CodeExpired || !strings.Contains(err.Error(), "scopeTimeLimit") {
			t.Fatalf("expired by limit: %v", err)
		}
		clk.Advance(180 * 24 * time.Hour)
		_, err = s.Check(ctx, ok)
		if consent.CodeOf(err) != consent.CodeExpired || !strings.Contains(err.Error(), "180 days") {
			t.Fatalf("expired by 180 days: %v", err)
		}
	})
}

func TestUnattendedLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		c := mustAuthorised(t, s, aisConsent("lim-1"), accA, accB)
		access := func(acc string, psu bool) error {
			_, err := s.Check(ctx, consent.Access{ConsentID: c.ID, TPPID: c.TPPID, Privilege: consent.PrivGetAccount,
				AccountNumber: acc, PSUPresent: psu, Consume: true})
			return err
		}
		for i := range 4 {
			if err := access(accA, false); err != nil {
				t.Fatalf("access %d: %v", i+1, err)
			}
			clk.Advance(time.Hour)
		}
		for range 3 { // with the customer present: not counted
			if err := access(accA, true); err != nil {
				t.Fatalf("PSU-present access refused: %v", err)
			}
		}
		err := access(accA, false)
		wantCode(t, err, consent.CodeAccessLimit)
		var e *consent.Error
		// 429 is the transports' answer (issue 11), checked in internal/api.
		if !errors.As(err, &e) || !e.RetryAfter.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("limit error %+v", e)
		}
		if err := access(accB, false); err != nil { // another resource
			t.Fatalf("other account: %v", err)
		}
		if last, ok := s.LastUsed(ctx, c.ID); !ok || !last.Equal(clk.Now()) {
			t.Fatalf("LastUsed %s %v", last, ok)
		}
		clk.Advance(20 * time.Hour) // t0+24h: the first access leaves the window
		if err := access(accA, false); err != nil {
			t.Fatalf("after 24 hours: %v", err)
		}
		wantCode(t, access(accA, false), consent.CodeAccessLimit)
	})
}

func TestUnattendedLimitConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		c := mustAuthorised(t, s, aisConsent("conc-1"), accA)
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed, limited := 0, 0
		for range 10 {
			wg.Go(func() {
				_, err := s.Check(ctx, consent.Access{ConsentID: c.ID, TPPID: c.TPPID, Privilege: consent.PrivGetAccount,
					AccountNumber: accA, Consume: true})
				mu.Lock()
				defer mu.Unlock()
				switch consent.CodeOf(err) {
				case "":
					if err == nil {
						allowed++
					} else {
						t.Error(err)
					}
				case consent.CodeAccessLimit:
					limited++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if allowed != 4 || limited != 6 {
			t.Fatalf("allowed %d, limited %d; want 4 and 6", allowed, limited)
		}
	})
}

// TestFrequencyPerDay: a Berlin Group consent counts its frequencyPerDay
// per account and calendar day in Warsaw, by the service's clock: the
// frequency is kept with the consent (and read back), the refusal names
// midnight in Warsaw, a new day starts a new count; the frequency must be
// 1 to 4; a PolishAPI consent keeps 4 in any 24 hours.
func TestFrequencyPerDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, clk := setup(t, db)
		ctx := context.Background()
		for _, bad := range []int{-1, 5} {
			c := aisConsent(fmt.Sprint("freq-bad", bad))
			c.Dialect, c.FrequencyPerDay = consent.DialectBerlinGroup, bad
			if _, err := s.Create(ctx, c); consent.CodeOf(err) != consent.CodeInvalid {
				t.Fatalf("frequency %d: %v", bad, err)
			}
		}
		if c := mustAuthorised(t, s, aisConsent("freq-pl"), accA); c.FrequencyPerDay != 4 || c.Window != consent.Window24Hours {
			t.Fatalf("a PolishAPI consent: %d a %s", c.FrequencyPerDay, c.Window)
		}
		bg := aisConsent("freq-bg")
		bg.Dialect, bg.FrequencyPerDay = consent.DialectBerlinGroup, 1
		c := mustAuthorised(t, s, bg, accA, accB)
		if got, err := s.Get(ctx, c.ID); err != nil || got.FrequencyPerDay != 1 || got.Window != consent.WindowCalendarDay {
			t.Fatalf("read back: %+v %v", got, err)
		}
		access := func(acc string) error {
			_, err := s.Check(ctx, consent.Access{ConsentID: c.ID, TPPID: c.TPPID, Privilege: consent.PrivGetAccount,
				AccountNumber: acc, Consume: true})
			return err
		}
		// t0 is 11:00 in Warsaw; 23:59 there:
		clk.Advance(12*time.Hour + 59*time.Minute)
		if err := access(accA); err != nil {
			t.Fatal(err)
		}
		if err := access(accB); err != nil { // another account counts apart
			t.Fatal(err)
		}
		err := access(accA)
		var e *consent.Error
		midnight := time.Date(2026, 3, 3, 0, 0, 0, 0, polish.Warsaw)
		if !errors.As(err, &e) || e.Code != consent.CodeAccessLimit || !e.RetryAfter.Equal(midnight) ||
			!strings.Contains(e.Message, "next read allowed at 2026-03-03T00:00:00+01:00") || !strings.Contains(e.Message, "frequencyPerDay") {
			t.Fatalf("second read of the day: %v", err)
		}
		clk.Advance(time.Minute) // midnight in Warsaw: a new day
		if err := access(accA); err != nil {
			t.Fatalf("the new day: %v", err)
		}
		wantCode(t, access(accA), consent.CodeAccessLimit)
	})
}

// TestFrequencyPerDayConcurrent: 16 unattended reads at once under a
// consent with frequencyPerDay 2, on both engines: exactly 2 pass.
func TestFrequencyPerDayConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		bg := aisConsent("freq-conc")
		bg.Dialect, bg.FrequencyPerDay = consent.DialectBerlinGroup, 2
		c := mustAuthorised(t, s, bg, accA)
		var wg sync.WaitGroup
		var allowed, limited atomic.Int64
		for range 16 {
			wg.Go(func() {
				_, err := s.Check(ctx, consent.Access{ConsentID: c.ID, TPPID: c.TPPID, Privilege: consent.PrivGetAccount,
					AccountNumber: accA, Consume: true})
				switch {
				case err == nil:
					allowed.Add(1)
				case consent.CodeOf(err) == consent.CodeAccessLimit:
					limited.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if allowed.Load() != 2 || limited.Load() != 14 {
			t.Fatalf("allowed %d, limited %d; want 2 and 14", allowed.Load(), limited.Load())
		}
	})
}

// TestOneOff: a one-off consent (Berlin Group's recurringIndicator false)
// allows each kind of read once per account, with the customer present or
// not; reads of no kind are not limited that way.
func TestOneOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := setup(t, db)
		ctx := context.Background()
		oo := aisConsent("one-off")
		oo.Dialect, oo.FrequencyPerDay, oo.OneOff = consent.DialectBerlinGroup, 1, true
		c := mustAuthorised(t, s, oo, accA, accB)
		if got, _ := s.Get(ctx, c.ID); !got.OneOff {
			t.Fatal("one-off not kept")
		}
		read := func(acc, kind string, psu bool) error {
			_, err := s.Check(ctx, consent.Access{ConsentID: c.ID, TPPID: c.TPPID, Privilege: consent.PrivGetAccount,
				AccountNumber: acc, Kind: kind, PSUPresent: psu, Consume: true})
			return err
		}
		for _, k := range []string{consent.KindAccount, consent.KindBalances} {
			if err := read(accA, k, true); err != nil {
				t.Fatalf("first %s: %v", k, err)
			}
			err := read(accA, k, true)
			wantCode(t, err, consent.CodeUsageExhausted)
			if !strings.Contains(err.Error(), "recurringIndicator false") {
				t.Fatalf("the refusal does not say why: %v", err)
			}
		}
		if err := read(accB, consent.KindBalances, true); err != nil { // another account
			t.Fatalf("another account: %v", err)
		}
		// Without the customer the day's one read is spent as well.
		if err := read(accB, consent.KindAccount, false); err != nil {
			t.Fatal(err)
		}
		wantCode(t, read(accB, consent.KindAccount, false), consent.CodeAccessLimit)
	})
}
