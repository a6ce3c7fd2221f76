package bank

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/tpp/tpptest"
)

var testNow = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// newTestBank builds a production bank on db whose mobile-app webhook goes
// to webhook (none when empty), with the bank's seal from a test CA.
func newTestBank(t *testing.T, db *store.DB, clk clock.Clock, webhook string) (*Bank, *x509.Certificate) {
	t.Helper()
	ca := tpptest.NewCA(t, testNow)
	certPEM, keyPEM := ca.IssueWithKey(t, tpptest.Cert{OrgID: "PSDPL-KNF-0990000002", Name: "psd2bank S.A.",
		Kind: eidas.KindQSealC, Roles: []eidas.Role{eidas.RolePSPAS}})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(pair.Certificate[0])
	signer, err := jws.NewSigner(pair.PrivateKey.(crypto.Signer), cert, jws.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "register.json")
	if err := tpp.EnsureRegisterFile(path); err != nil {
		t.Fatal(err)
	}
	fr, err := tpp.OpenFileRegister(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DB: db, Clock: clk, Register: fr, QWACs: &eidas.Verifier{}, QSealCs: &eidas.Verifier{}, Seal: signer,
		WebURL: func() string { return "https://bank.example" }}
	if webhook != "" {
		cfg.Mobile = MobileConfig{WebhookURL: webhook, Secret: []byte(strings.Repeat("s", 32)), MaxAttempts: 3}
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, cert
}

func newCustomer(t *testing.T, b *Bank, login string) ledger.Customer {
	t.Helper()
	c, err := b.Ledger.CreateCustomer(context.Background(), ledger.Customer{Segment: ledger.Retail, Name: "Jan " + login,
		Login: login, PasswordHash: "x", Phone: "+48600100200"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// backend is a mobile-app backend that answers with status (200 when 0)
// and keeps what it received.
type backend struct {
	mu     sync.Mutex
	got    []mobileNotice
	sigs   []string
	bodies [][]byte
	status atomic.Int32
}

func (m *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var n mobileNotice
	json.Unmarshal(raw, &n)
	m.mu.Lock()
	m.got = append(m.got, n)
	m.sigs = append(m.sigs, r.Header.Get("X-JWS-SIGNATURE"))
	m.bodies = append(m.bodies, raw)
	m.mu.Unlock()
	if s := m.status.Load(); s != 0 {
		w.WriteHeader(int(s))
	}
}

func (m *backend) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.got)
}

// Every pending mobile-app challenge reaches the backend once, sealed by
// the bank, even when two nodes run the webhook on one database; a decided
// or expired challenge is not sent.
func TestMobileWebhookDeliversEachChallengeOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		be := &backend{}
		srv := httptest.NewServer(be)
		defer srv.Close()
		clk := clock.NewAdjustable(clock.NewFixed(testNow), 0)
		node1, seal := newTestBank(t, db, clk, srv.URL)
		node2, _ := newTestBank(t, db, clk, srv.URL)
		node2.cfg.Seal = node1.cfg.Seal // one bank, two nodes
		jan := newCustomer(t, node1, "jan")
		c1, err := node1.SCA.StartMobile(ctx, jan, "decoupled:r1", "Zgoda dla Demo TPP: ais")
		if err != nil {
			t.Fatal(err)
		}
		decided, _ := node1.SCA.StartMobile(ctx, jan, "consent:request=r2", "Zgoda")
		if _, err := node1.SCA.DecideChallenge(ctx, decided.ID, false); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, n := range []*Bank{node1, node2, node1, node2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := n.mobile.run(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if be.count() != 1 {
			t.Fatalf("the backend got %d notices, want 1: %+v", be.count(), be.got)
		}
		n := be.got[0]
		if n.ChallengeID != c1.ID || n.Login != "jan" || n.Kind != "decoupled" || n.Text != c1.Text ||
			n.DecisionURL != "https://bank.example/mobile/decision" || n.Type != "sca.mobile.challenge" {
			t.Errorf("notice %+v", n)
		}
		if _, err := jws.VerifyDetached(be.sigs[0], be.bodies[0], seal); err != nil {
			t.Errorf("the notice is not sealed by the bank: %v", err)
		}
		// Later runs send nothing more; nor for an expired challenge.
		node1.SCA.StartMobile(ctx, jan, "ib:x", "Zmiana")
		clk.Set(testNow.Add(10 * time.Minute))
		node2.mobile.run(ctx)
		if be.count() != 1 {
			t.Fatalf("after delivery and expiry the backend got %d notices", be.count())
		}
	})
}

// A backend that fails is retried with a growing pause, and given up after
// the last attempt.
func TestMobileWebhookRetriesThenGivesUp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		be := &backend{}
		be.status.Store(503)
		srv := httptest.NewServer(be)
		defer srv.Close()
		clk := clock.NewAdjustable(clock.NewFixed(testNow), 0)
		b, _ := newTestBank(t, db, clk, srv.URL)
		jan := newCustomer(t, b, "jan")
		c, _ := b.SCA.StartMobile(ctx, jan, "decoupled:r1", "Zgoda")
		b.mobile.run(ctx)
		b.mobile.run(ctx) // not due yet
		if be.count() != 1 {
			t.Fatalf("%d attempts at once, want 1", be.count())
		}
		clk.Set(testNow.Add(2 * time.Second))
		b.mobile.run(ctx)
		if be.count() != 2 {
			t.Fatalf("%d attempts after 2 s, want 2", be.count())
		}
		clk.Set(testNow.Add(5 * time.Second)) // the second pause is 4 s
		b.mobile.run(ctx)
		if be.count() != 2 {
			t.Fatalf("%d attempts after 5 s, want still 2", be.count())
		}
		clk.Set(testNow.Add(7 * time.Second))
		b.mobile.run(ctx)
		clk.Set(testNow.Add(60 * time.Second))
		b.mobile.run(ctx)
		if be.count() != 3 {
			t.Fatalf("%d attempts in all, want MaxAttempts = 3", be.count())
		}
		var failed int64
		var lastErr string
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(failed_at, 0), last_error FROM mobile_notifications WHERE challenge_id = $1`,
			c.ID).Scan(&failed, &lastErr); err != nil || failed == 0 || !strings.Contains(lastErr, "503") {
			t.Errorf("given up: failed_at %d, last_error %q, %v", failed, lastErr, err)
		}
	})
}

// A decoupled decision whose follow-up was lost (a crash after the decision
// was committed) is finished by the sweep, once.
func TestDecoupledSweepFinishesLostDecisions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(testNow)
		b, _ := newTestBank(t, db, clk, "")
		jan := newCustomer(t, b, "jan")
		c, _ := b.SCA.StartMobile(ctx, jan, decoupledPurpose+"no-such-request", "Zgoda")
		page, _ := b.SCA.StartMobile(ctx, jan, "consent:request=r2", "Zgoda")
		b.SCA.OnDecision = nil // the crash: the decision is committed, nothing follows
		for _, id := range []string{c.ID, page.ID} {
			if _, err := b.SCA.DecideChallenge(ctx, id, true); err != nil {
				t.Fatal(err)
			}
		}
		left, err := b.SCA.DecidedUnconsumed(ctx, decoupledPurpose, 10)
		if err != nil || len(left) != 1 || left[0].ID != c.ID {
			t.Fatalf("decided and not acted on: %+v %v", left, err)
		}
		b.completeDecoupled(ctx)
		if left, _ := b.SCA.DecidedUnconsumed(ctx, decoupledPurpose, 10); len(left) != 0 {
			t.Fatalf("after the sweep still left: %+v", left)
		}
		// The consent page's own challenge is the page's to act on.
		if got, _ := b.SCA.Challenge(ctx, page.ID); got.Consumed {
			t.Error("the sweep acted on a consent page's challenge")
		}
	})
}

// The decision endpoint refuses what the backend did not sign, and decides
// a named challenge once.
func TestMobileDecisionEndpoint(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	b, _ := newTestBank(t, db, clock.NewFixed(testNow), "https://mobile.example/hook")
	jan := newCustomer(t, b, "jan")
	c, _ := b.SCA.StartMobile(ctx, jan, "consent:request=r1", "Zgoda")
	sms, _ := b.SCA.StartSMS(ctx, jan, "consent:request=r2", "Zgoda")
	srv := httptest.NewServer(b.WebRouter())
	defer srv.Close()
	ts := strconv.FormatInt(testNow.Unix(), 10)
	sign := func(body string) string {
		return "t=" + ts + ",v1=" + hexOf(MobileSignature([]byte(strings.Repeat("s", 32)), ts, []byte(body)))
	}
	post := func(body, sig string) int {
		req, _ := http.NewRequest("POST", srv.URL+MobileDecisionPath, strings.NewReader(body))
		if sig != "" {
			req.Header.Set(MobileSignatureHeader, sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	approve := `{"challengeId":"` + c.ID + `","decision":"approve"}`
	for _, tc := range []struct {
		name, body, sig string
		want            int
	}{
		{"no signature", approve, "", 401},
		{"another body's signature", approve, sign(`{"challengeId":"x","decision":"approve"}`), 401},
		{"not JSON", "approve", sign("approve"), 400},
		{"unknown field", `{"challengeId":"` + c.ID + `","decision":"approve","login":"jan"}`,
			sign(`{"challengeId":"` + c.ID + `","decision":"approve","login":"jan"}`), 400},
		{"bad decision", `{"challengeId":"` + c.ID + `","decision":"yes"}`, sign(`{"challengeId":"` + c.ID + `","decision":"yes"}`), 400},
		{"unknown challenge", `{"challengeId":"nope","decision":"approve"}`, sign(`{"challengeId":"nope","decision":"approve"}`), 404},
		{"an SMS challenge", `{"challengeId":"` + sms.ID + `","decision":"approve"}`, sign(`{"challengeId":"` + sms.ID + `","decision":"approve"}`), 404},
	} {
		if got := post(tc.body, tc.sig); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if got, _ := b.SCA.Challenge(ctx, c.ID); got.Status != sca.StatusPending {
		t.Fatalf("refused decisions changed the challenge: %s", got.Status)
	}
	if got := post(approve, sign(approve)); got != 200 {
		t.Fatalf("signed decision: %d", got)
	}
	if got := post(approve, sign(approve)); got != 409 {
		t.Errorf("the decision again: %d, want 409", got)
	}
	if got, _ := b.SCA.Challenge(ctx, c.ID); got.Status != sca.StatusApproved {
		t.Errorf("challenge %s after approval", got.Status)
	}
}

// The bank calls TPPs back under its callback policy: production's (the
// zero policy) refuses a loopback server before anything is sent, even an
// https one the bank trusts; a policy that allows loopback (tests) and the
// configured roots reach it over https.
func TestCallbackPolicyAndRoots(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	db := storetest.SQLite(t)
	strict, _ := newTestBank(t, db, clock.NewFixed(testNow), "")
	strict.cfg.Callbacks = CallbackConfig{RootCAs: roots}
	strict, err := New(strict.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := strict.cfg.Callbacks.Policy.Post(context.Background(), strict.callbacks, srv.URL+"/cb", []byte("{}")); err == nil {
		t.Error("production's policy called a loopback address")
	}
	if calls.Load() != 0 {
		t.Fatal("a refused callback reached the server")
	}
	open := strict.cfg
	open.Callbacks = CallbackConfig{Policy: callback.Policy{AllowLoopback: true}, RootCAs: roots}
	b, err := New(open)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cfg.Callbacks.Policy.Post(context.Background(), b.callbacks, srv.URL+"/cb", []byte("{}")); err != nil || calls.Load() != 1 {
		t.Fatalf("loopback allowed, roots given: %v, %d calls", err, calls.Load())
	}
	noRoots := open
	noRoots.Callbacks.RootCAs = nil
	b, _ = New(noRoots)
	if err := b.cfg.Callbacks.Policy.Post(context.Background(), b.callbacks, srv.URL+"/cb", []byte("{}")); err == nil {
		t.Error("a server the bank does not trust was called back")
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
