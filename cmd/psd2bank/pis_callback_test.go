package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/jws"
)

// callbackSink is the TPP's callback endpoint: it keeps what it receives.
type callbackSink struct {
	mu  sync.Mutex
	got []receivedCallback
}

type receivedCallback struct {
	body []byte
	sig  string
}

func (s *callbackSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.got = append(s.got, receivedCallback{raw, r.Header.Get("X-JWS-SIGNATURE")})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// wait returns the callbacks once there are n, failing after a while.
func (s *callbackSink) wait(t *testing.T, n int) []receivedCallback {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		got := append([]receivedCallback(nil), s.got...)
		s.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				t.Fatalf("%d callbacks arrived, want %d", len(got), n)
			}
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A PolishAPI payment initiated with requestHeader.callbackURL: its status
// changes (pending, then done once the clock passes its Elixir session)
// reach the TPP's callback in order, as getPayment bodies with isCallback,
// sealed by the bank (X-JWS-SIGNATURE).
func TestPISCallbacks(t *testing.T) {
	data := t.TempDir()
	p := startSandbox(t, "--data", data)
	psus := readPSUs(t, data)
	f := &pisFlow{t: t, api: "https://" + p.api, web: "http://" + p.web,
		demo: loadTPP(t, filepath.Join(data, "sandbox", "demo-tpp"), data), who: psus[0], refresh: map[string]string{}}
	seal := bankSeal(t, data)
	sink := &callbackSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()

	pay := map[string]any{
		"recipient":    map[string]any{"accountNumber": "61109010140000071219812874", "nameAddress": map[string]any{"value": []string{"Wodociągi"}}},
		"sender":       map[string]any{"accountNumber": f.who.Accounts[0].Number},
		"transferData": map[string]any{"description": "Woda 11/2026", "amount": "3.21", "currency": "PLN"},
		"deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate",
	}
	token := f.token("polishapi", []map[string]any{{"pis:domestic": pay}}, "Wodociągi")
	body := map[string]any{"tppTransactionId": uuid.NewString()}
	for k, v := range pay {
		body[k] = v
	}
	// callbackURLs the bank must not call are refused at initiation, naming
	// the field, and change nothing: the same token then initiates.
	for _, bad := range []string{"http://10.0.0.1/payments", "https://169.254.169.254/latest/meta-data", "https://evil.example/cb",
		"http://127.0.0.2:1/x", "ftp://127.0.0.1/x"} {
		a := f.demo.send(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", body, token, map[string]any{"callbackURL": bad})
		if a.status != 400 || a.code != "FORMAT_ERROR" || !strings.Contains(string(a.body), "callbackURL") {
			t.Fatalf("callbackURL %s: %d %s", bad, a.status, a.body)
		}
	}
	a := f.demo.send(t, f.api, "POST", "/v2_1_2.1/payments/v2_1_2.1/domestic", body, token, map[string]any{"callbackURL": srv.URL + "/payments"})
	if a.status != 200 {
		t.Fatalf("domestic: %d %s", a.status, a.body)
	}
	id, _ := a.json(t)["paymentId"].(string)
	sink.wait(t, 1)
	for i := 0; i < 4 && f.status(token, id) != "done"; i++ {
		f.advance("26h")
		token = f.renew(token)
	}
	got := sink.wait(t, 2)
	want := []string{"pending", "done"}
	for i, cb := range got {
		if _, err := jws.VerifyDetached(cb.sig, cb.body, seal); err != nil {
			t.Errorf("callback %d does not carry the bank's seal: %v", i, err)
		}
		var m struct {
			ResponseHeader struct {
				IsCallback bool
				SendDate   string
			}
			PaymentID, TPPTransactionID, GeneralStatus string
		}
		if err := json.Unmarshal(cb.body, &m); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) || m.PaymentID != id || m.GeneralStatus != want[i] || !m.ResponseHeader.IsCallback || m.ResponseHeader.SendDate == "" ||
			m.TPPTransactionID != body["tppTransactionId"] {
			t.Errorf("callback %d: %s", i, cb.body)
		}
	}
}
