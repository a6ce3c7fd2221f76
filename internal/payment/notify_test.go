package payment_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/callback"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// callbackTPP is a TPP's callback endpoint that fails its first failures
// requests and records the statuses it accepted.
type callbackTPP struct {
	mu       sync.Mutex
	failures int
	hits     int
	got      []string
}

func (c *callbackTPP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits++
	if c.failures != 0 {
		if c.failures > 0 {
			c.failures--
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var body struct{ PaymentID, Status, Sig string }
	raw, _ := io.ReadAll(r.Body)
	json.Unmarshal(raw, &body)
	if r.Header.Get("X-Test-Signature") != "sig:"+body.PaymentID {
		http.Error(w, "unsigned", http.StatusUnauthorized)
		return
	}
	c.got = append(c.got, body.Status)
}

func (c *callbackTPP) state() (hits int, got []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, append([]string(nil), c.got...)
}

// notifier is a Notifier of e's payments whose retries follow *now.
func (e *env) notifier(now *time.Time, attempts int) *payment.Notifier {
	// The TPP of these tests listens on loopback over http: the sandbox's
	// allowance, explicitly.
	return payment.NewNotifier(payment.NotifierConfig{Payments: e.svc, MaxAttempts: attempts, Backoff: time.Second, Policy: callback.Sandbox,
		Now: func() time.Time { return *now },
		Render: func(_ context.Context, n payment.Notification, p payment.Payment) (payment.Callback, error) {
			raw, _ := json.Marshal(map[string]string{"paymentId": p.ID, "status": string(n.Status)})
			return payment.Callback{Body: raw, Header: http.Header{"X-Test-Signature": {"sig:" + p.ID}}}, nil
		}})
}

func run(t *testing.T, n *payment.Notifier) payment.NotifyReport {
	t.Helper()
	r, err := n.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The status changes of a payment reach the TPP's callback in order, and
// after a failure the later change waits for the earlier one's retry.
func TestNotifierDeliversInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tpp := &callbackTPP{failures: 1}
		srv := httptest.NewServer(tpp)
		defer srv.Close()
		e := newEnv(t, db, monday)
		alice := e.open("alice", 100_00, "PLN")
		o := e.order(alice, otherBank, 10_00)
		o.CallbackURL = srv.URL + "/cb"
		p := e.initiate(o)
		e.at(warsaw(2026, 11, 23, 13, 30))
		e.wantStatus(p.ID, payment.StatusDone)
		now := time.Now()
		n := e.notifier(&now, 5)
		if r := run(t, n); r != (payment.NotifyReport{Retrying: 1}) {
			t.Fatalf("first run: %+v", r)
		}
		if r := run(t, n); r != (payment.NotifyReport{}) {
			t.Fatalf("a run before the backoff: %+v", r)
		}
		now = now.Add(time.Second)
		if r := run(t, n); r != (payment.NotifyReport{Delivered: 2}) {
			t.Fatalf("after the backoff: %+v", r)
		}
		if hits, got := tpp.state(); hits != 3 || len(got) != 2 || got[0] != "pending" || got[1] != "done" {
			t.Fatalf("the TPP got %v in %d requests, want [pending done] in 3", got, hits)
		}
		if ns, _ := e.svc.PendingNotifications(context.Background(), 10); len(ns) != 0 {
			t.Fatalf("still pending: %+v", ns)
		}
		if r := run(t, n); r != (payment.NotifyReport{}) {
			t.Fatalf("delivered twice: %+v", r)
		}
	})
}

// A callback that keeps failing is retried with a growing backoff a bounded
// number of times, then given up; a URL that is not http(s) at once.
func TestNotifierGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tpp := &callbackTPP{failures: -1}
		srv := httptest.NewServer(tpp)
		defer srv.Close()
		e := newEnv(t, db, monday)
		alice := e.open("alice", 100_00, "PLN")
		o := e.order(alice, otherBank, 10_00)
		o.CallbackURL = srv.URL
		p := e.initiate(o) // pending: one notification
		o = e.order(alice, otherBank, 1_00)
		o.CallbackURL = "file:///etc/passwd"
		bad := e.initiate(o)
		now := time.Now()
		n := e.notifier(&now, 3)
		if r := run(t, n); r != (payment.NotifyReport{Retrying: 1, GivenUp: 1}) {
			t.Fatalf("first run: %+v", r)
		}
		now = now.Add(time.Second) // backoff 1 s, then 2 s
		if r := run(t, n); r != (payment.NotifyReport{Retrying: 1}) {
			t.Fatalf("second attempt: %+v", r)
		}
		now = now.Add(time.Second)
		if r := run(t, n); r != (payment.NotifyReport{}) {
			t.Fatalf("tried before its backoff of 2 s: %+v", r)
		}
		now = now.Add(time.Second)
		if r := run(t, n); r != (payment.NotifyReport{GivenUp: 1}) {
			t.Fatalf("third attempt: %+v", r)
		}
		now = now.Add(time.Hour)
		if r := run(t, n); r != (payment.NotifyReport{}) {
			t.Fatalf("tried after giving up: %+v", r)
		}
		if hits, _ := tpp.state(); hits != 3 {
			t.Fatalf("the failing endpoint was called %d times, want 3", hits)
		}
		failed, err := e.svc.FailedNotifications(ctx)
		if err != nil || len(failed) != 2 {
			t.Fatalf("failed = %+v, %v", failed, err)
		}
		for _, f := range failed {
			switch f.PaymentID {
			case p.ID:
				if f.Attempts != 3 || f.LastError == "" {
					t.Errorf("failing endpoint: %+v", f)
				}
			case bad.ID:
				if f.Attempts != 1 {
					t.Errorf("file URL: %+v", f)
				}
			}
		}
		if ns, _ := e.svc.PendingNotifications(ctx, 10); len(ns) != 0 {
			t.Fatalf("given-up notifications still pending: %+v", ns)
		}
	})
}
