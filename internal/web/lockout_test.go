package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/web"
)

// lockoutNodes serves the consent pages and the back office from one node
// per database handle (several handles on one PostgreSQL are several
// nodes), with customers jan and anna and staff members boss and ola.
func lockoutNodes(t *testing.T, dbs ...*store.DB) []*httptest.Server {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFixed(testNow)
	l := ledger.New(dbs[0], clk)
	for _, login := range []string{"jan", "anna"} {
		if _, err := l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: login, Login: login,
			PasswordHash: customerHash(), Phone: "+48600100200"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, login := range []string{"boss", "ola"} {
		if err := tpp.New(dbs[0], clk, nil).EnsureStaff(ctx, login, "staff password", tpp.RoleBackoffice); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := tpp.New(dbs[0], clk, nil).SignUp(ctx, tpp.SignUp{OrgID: "PSDPL-KNF-0123456789", Name: "Firma",
		Email: "dev@example.pl", Password: "developer password"}); err != nil {
		t.Fatal(err)
	}
	var out []*httptest.Server
	for _, db := range dbs {
		flow := &fakeFlow{pages: map[string]web.ConsentPage{"R1": aisPage("Demo TPP")}}
		s := web.New(web.Deps{DB: db, Clock: clk, Sandbox: true, Log: slog.New(slog.NewTextHandler(testLogWriter{t}, nil)), Flow: flow, Registry: tpp.New(db, clk, nil),
			SCA: sca.New(db, ledger.New(db, clk), clk), Accounts: ledger.New(db, clk), Access: access.New(db, ledger.New(db, clk), clk)})
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		out = append(out, srv)
	}
	return out
}

// rawPost posts a form without following redirects; safe in goroutines.
func rawPost(base, path string, form url.Values) (int, string, http.Header, error) {
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header, err
}

// flood sends n posts at once, spread over the nodes, and counts the
// answers by status.
func flood(t *testing.T, nodes []*httptest.Server, n int, path string, form url.Values) map[int]int {
	t.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, _, _, err := rawPost(nodes[i%len(nodes)].URL, path, form)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("post %d: %v", i, err)
				return
			}
			got[status]++
		}()
	}
	close(start)
	wg.Wait()
	return got
}

// auditCounts counts the log-in audit's rows of a login by event.
func auditCounts(t *testing.T, db *store.DB, realm lockout.Realm, login string) map[string]int {
	t.Helper()
	entries, err := lockout.New(db, clock.NewFixed(testNow)).Audit(context.Background(), realm, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if e.Login == login {
			out[e.Event]++
			if e.Event != lockout.EventUnlocked && e.Source != "127.0.0.1" {
				t.Errorf("audit row %+v: source %q, want 127.0.0.1", e, e.Source)
			}
		}
	}
	return out
}

// lockoutEngines runs fn on SQLite (one node) and on PostgreSQL with two
// nodes (two store handles on one database). The flood tests are not
// parallel: they give the process's hash limiter a long wait, so that on a
// loaded machine the attempts queue instead of getting 503.
func lockoutEngines(t *testing.T, fn func(t *testing.T, db *store.DB, nodes []*httptest.Server)) {
	old := sca.Hashes()
	sca.SetHashLimit(old.Size(), time.Minute)
	t.Cleanup(func() { sca.SetHashLimit(old.Size(), sca.DefaultHashWait) })
	t.Run("sqlite", func(t *testing.T) {
		db := storetest.SQLite(t)
		fn(t, db, lockoutNodes(t, db))
	})
	t.Run("postgres-two-nodes", func(t *testing.T) {
		dsn := storetest.PostgresURL(t)
		var dbs []*store.DB
		for range 2 {
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(6)
			t.Cleanup(func() { db.Close() })
			dbs = append(dbs, db)
		}
		if _, err := dbs[0].Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		fn(t, dbs[0], lockoutNodes(t, dbs...))
	})
}

// TestConsentLoginLockoutUnderConcurrency is issue 14's attack: 100 wrong
// passwords posted at once to the consent page's log-in (on two nodes on
// PostgreSQL) get at most 5 password checks and lock the login; the right
// password is then refused too, and another login is not affected.
func TestConsentLoginLockoutUnderConcurrency(t *testing.T) {
	lockoutEngines(t, func(t *testing.T, db *store.DB, nodes []*httptest.Server) {
		got := flood(t, nodes, 100, "/authorize/R1/login", url.Values{"login": {"jan"}, "password": {"wrong"}})
		// Four failures answer 401; the fifth locks (429), and so is every
		// other attempt refused (429) — or, when every password-hash slot
		// stayed taken, 503 with nothing counted.
		if got[http.StatusUnauthorized] != 4 || got[http.StatusTooManyRequests] < 1 ||
			got[http.StatusUnauthorized]+got[http.StatusTooManyRequests]+got[http.StatusServiceUnavailable] != 100 {
			t.Fatalf("answers by status: %v, want 4×401 and the rest 429 (or 503)", got)
		}
		audit := auditCounts(t, db, lockout.Customer, "jan")
		if audit[lockout.EventFailed] != 4 || audit[lockout.EventLocked] != 1 ||
			audit[lockout.EventRefused] != got[http.StatusTooManyRequests]-1 {
			t.Errorf("audit %v for answers %v: want 4 failed, 1 locked, the other 429s refused", audit, got)
		}
		for _, n := range nodes {
			status, body, _, err := rawPost(n.URL, "/authorize/R1/login?lang=en", url.Values{"login": {"jan"}, "password": {"customer password"}})
			if err != nil || status != http.StatusTooManyRequests || !strings.Contains(body, "locked") {
				t.Fatalf("right password after the flood: %d %v\n%s", status, err, body)
			}
		}
		status, _, h, err := rawPost(nodes[len(nodes)-1].URL, "/authorize/R1/login", url.Values{"login": {"anna"}, "password": {"customer password"}})
		if err != nil || status != http.StatusSeeOther || !strings.Contains(h.Get("Set-Cookie"), "psd2bank_bank=") {
			t.Fatalf("another login: %d %v", status, err)
		}
	})
}

// TestStaffLoginLockout: the back office locks staff logins like
// customers' (200 wrong passwords at once, then the right one refused),
// audits every failure with its source address, and another staff member
// unlocks the login in the back office (audited).
func TestStaffLoginLockout(t *testing.T) {
	lockoutEngines(t, func(t *testing.T, db *store.DB, nodes []*httptest.Server) {
		got := flood(t, nodes, 200, "/backoffice/login", url.Values{"login": {"boss"}, "password": {"wrong"}})
		if got[http.StatusUnauthorized] != 4 || got[http.StatusTooManyRequests] < 1 ||
			got[http.StatusUnauthorized]+got[http.StatusTooManyRequests]+got[http.StatusServiceUnavailable] != 200 {
			t.Fatalf("answers by status: %v, want 4×401 and the rest 429 (or 503)", got)
		}
		status, body, _, _ := rawPost(nodes[0].URL, "/backoffice/login?lang=en", url.Values{"login": {"boss"}, "password": {"staff password"}})
		if status != http.StatusTooManyRequests || !strings.Contains(body, "another staff member") {
			t.Fatalf("right staff password after the flood: %d\n%s", status, body)
		}
		// Every failure is in the back office's audit with its address.
		reg := tpp.New(db, clock.NewFixed(testNow), nil)
		entries, err := reg.Audit(context.Background(), "boss", 1000)
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, e := range entries {
			if e.Action == tpp.ActionStaffLoginFailed {
				failed++
				if !strings.Contains(e.Detail, "from 127.0.0.1") {
					t.Errorf("audit row without the source address: %+v", e)
				}
			}
		}
		if want := 200 - got[http.StatusServiceUnavailable] + 1; failed != want {
			t.Errorf("%d staff.login_failed rows, want %d", failed, want)
		}

		// ola logs in and unlocks boss; boss then logs in.
		c := newClient(t)
		status, _, h, err := rawPostWith(c, nodes[len(nodes)-1].URL, "/backoffice/login", url.Values{"login": {"ola"}, "password": {"staff password"}})
		if err != nil || status != http.StatusSeeOther {
			t.Fatalf("ola logs in: %d %v %v", status, err, h)
		}
		res, err := c.Get(nodes[len(nodes)-1].URL + "/backoffice/logins?lang=en")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "boss") {
			t.Fatalf("locked logins page: %d\n%s", res.StatusCode, page)
		}
		status, body, _, err = rawPostWith(c, nodes[len(nodes)-1].URL, "/backoffice/logins/unlock",
			url.Values{"realm": {"staff"}, "login": {"boss"}})
		if err != nil || status != http.StatusSeeOther {
			t.Fatalf("unlock: %d %v\n%s", status, err, body)
		}
		status, _, _, _ = rawPost(nodes[0].URL, "/backoffice/login", url.Values{"login": {"boss"}, "password": {"staff password"}})
		if status != http.StatusSeeOther {
			t.Fatalf("boss after the unlock: %d", status)
		}
		entries, _ = reg.Audit(context.Background(), "boss", 1000)
		unlocked := false
		for _, e := range entries {
			unlocked = unlocked || (e.Action == tpp.ActionLoginUnlock && e.Actor == "ola")
		}
		if !unlocked {
			t.Errorf("the unlock is not audited: %+v", entries[:min(3, len(entries))])
		}
	})
}

// newClient is a client with cookies that does not follow redirects.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func rawPostWith(c *http.Client, base, path string, form url.Values) (int, string, http.Header, error) {
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header, err
}

// TestLoginBusy: when every password-hash slot is taken, a log-in waits
// briefly and then gets 503 with Retry-After, counting nothing.
func TestLoginBusy(t *testing.T) {
	// Not parallel: it replaces the process's hash limiter.
	db := storetest.SQLite(t)
	nodes := lockoutNodes(t, db)
	old := sca.Hashes()
	sca.SetHashLimit(1, 50*time.Millisecond)
	t.Cleanup(func() { sca.SetHashLimit(old.Size(), sca.DefaultHashWait) })
	release, err := sca.Hashes().Hold(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/authorize/R1/login", "/backoffice/login", "/developer/login"} {
		status, body, h, err := rawPost(nodes[0].URL, path+"?lang=en", url.Values{"login": {"jan"}, "email": {"x@example.pl"},
			"password": {"customer password"}})
		if err != nil || status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" ||
			!strings.Contains(strings.ToLower(body), "too many log-ins") {
			t.Errorf("%s while busy: %d %v Retry-After %q\n%s", path, status, err, h.Get("Retry-After"), body)
		}
	}
	// Signing up needs a hash too.
	status, body, h, err := rawPost(nodes[0].URL, "/developer/signup?lang=en", url.Values{"org_id": {"PSDPL-KNF-0000000001"},
		"name": {"Firma"}, "email": {"new@example.pl"}, "password": {"long enough password"}})
	if err != nil || status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("sign-up while busy: %d %v\n%s", status, err, body)
	}
	release()
	if got := auditCounts(t, db, lockout.Customer, "jan"); len(got) != 0 {
		t.Errorf("a busy refusal was counted: %v", got)
	}
	status, _, _, err = rawPost(nodes[0].URL, "/authorize/R1/login", url.Values{"login": {"jan"}, "password": {"customer password"}})
	if err != nil || status != http.StatusSeeOther {
		t.Fatalf("log-in once a slot is free: %d %v", status, err)
	}
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// TestIBAndPortalLoginLockout: internet banking's and the developer
// portal's log-ins hold the same lockout: 40 wrong passwords at once (two
// nodes on PostgreSQL), then the right one refused.
func TestIBAndPortalLoginLockout(t *testing.T) {
	lockoutEngines(t, func(t *testing.T, db *store.DB, nodes []*httptest.Server) {
		for _, tc := range []struct {
			path  string
			wrong url.Values
			right url.Values
		}{
			{"/ib/login", url.Values{"login": {"jan"}, "password": {"wrong"}}, url.Values{"login": {"jan"}, "password": {"customer password"}}},
			{"/developer/login", url.Values{"email": {"DEV@example.pl"}, "password": {"wrong"}},
				url.Values{"email": {"dev@example.pl"}, "password": {"developer password"}}},
		} {
			got := flood(t, nodes, 40, tc.path, tc.wrong)
			if got[http.StatusUnauthorized] != 4 || got[http.StatusTooManyRequests] < 1 ||
				got[http.StatusUnauthorized]+got[http.StatusTooManyRequests]+got[http.StatusServiceUnavailable] != 40 {
				t.Fatalf("%s: answers by status %v, want 4×401 and the rest 429 (or 503)", tc.path, got)
			}
			status, body, _, err := rawPost(nodes[len(nodes)-1].URL, tc.path+"?lang=en", tc.right)
			if err != nil || status != http.StatusTooManyRequests || !strings.Contains(body, "locked") {
				t.Fatalf("%s: right password after the flood: %d %v\n%s", tc.path, status, err, body)
			}
		}
	})
}
