package payment_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// With the production policy (the default), a callback URL that names the
// bank's own network is never called: http to loopback is given up at
// once, and so is https to a name that resolves to loopback.
func TestNotifierStrictRefusesLoopback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tpp := &callbackTPP{}
		srv := httptest.NewServer(tpp)
		defer srv.Close()
		tlsSrv := httptest.NewTLSServer(tpp)
		defer tlsSrv.Close()
		e := newEnv(t, db, monday)
		alice := e.open("alice", 100_00, "PLN")
		for _, u := range []string{srv.URL + "/cb", strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1) + "/cb"} {
			o := e.order(alice, otherBank, 1_00)
			o.CallbackURL = u
			e.initiate(o)
		}
		n := payment.NewNotifier(payment.NotifierConfig{Payments: e.svc, MaxAttempts: 3, Backoff: time.Second,
			Render: func(_ context.Context, n payment.Notification, p payment.Payment) (payment.Callback, error) {
				raw, _ := json.Marshal(map[string]string{"paymentId": p.ID})
				return payment.Callback{Body: raw, Header: http.Header{}}, nil
			}})
		r := run(t, n)
		if hits, _ := tpp.state(); hits != 0 {
			t.Fatalf("the bank called its own loopback %d times (%+v)", hits, r)
		}
		if r.Delivered != 0 || r.GivenUp+r.Retrying != 2 {
			t.Fatalf("report %+v", r)
		}
	})
}
