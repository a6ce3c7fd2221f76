package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// The sandbox's SCA tools: the SMS outbox as JSON, approving and rejecting
// the pending mobile-app challenge, refusals with the right status.
func TestSCATools(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.SQLite(t)
	l := ledger.New(db, clock.NewFixed(time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)))
	customer := func(login, phone string) ledger.Customer {
		c, err := l.CreateCustomer(ctx, ledger.Customer{Segment: ledger.Retail, Name: login, Login: login,
			PasswordHash: "not used", Phone: phone})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	e := struct {
		svc       *sca.Service
		jan, anna ledger.Customer
	}{sca.New(db, l, clock.NewFixed(time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC))), customer("jan", "+48600100200"), customer("anna", "+48600100300")}
	srv := httptest.NewServer(scaTools(e.svc))
	defer srv.Close()
	call := func(method, path, body string) (int, map[string]any, []map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
		var raw json.RawMessage
		if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		var list []map[string]any
		if strings.HasPrefix(string(raw), "[") {
			json.Unmarshal(raw, &list)
		} else {
			json.Unmarshal(raw, &obj)
		}
		return res.StatusCode, obj, list
	}

	if _, err := e.svc.StartSMS(ctx, e.jan, "p", "Zgoda dla Demo TPP: dostęp do rachunków"); err != nil {
		t.Fatal(err)
	}
	status, _, list := call("GET", "/sandbox/sms?login=jan", "")
	if status != 200 || len(list) != 1 || list[0]["code"] == "" || list[0]["sent_at"] == "" ||
		!strings.Contains(list[0]["text"].(string), list[0]["code"].(string)) {
		t.Fatalf("GET /sandbox/sms: %d %v", status, list)
	}
	if status, _, list := call("GET", "/sandbox/sms?login=anna", ""); status != 200 || list == nil || len(list) != 0 {
		t.Fatalf("no SMS: %d %v", status, list)
	}
	if status, obj, _ := call("GET", "/sandbox/sms?login=nobody", ""); status != 404 || !strings.Contains(obj["error"].(string), "nobody") {
		t.Fatalf("unknown login: %d %v", status, obj)
	}

	if status, obj, _ := call("POST", "/sandbox/mobile/approve", `{"login":"jan"}`); status != 409 || obj["error"] == "" {
		t.Fatalf("nothing pending: %d %v", status, obj)
	}
	if status, obj, _ := call("POST", "/sandbox/mobile/approve", `{"login":"nobody"}`); status != 404 || obj["error"] == "" {
		t.Fatalf("unknown login: %d %v", status, obj)
	}
	if status, obj, _ := call("POST", "/sandbox/mobile/approve", `{"login":`); status != 400 || obj["error"] == "" {
		t.Fatalf("bad JSON: %d %v", status, obj)
	}
	c, err := e.svc.StartMobile(ctx, e.jan, "consent:R1", "Zgoda")
	if err != nil {
		t.Fatal(err)
	}
	if status, obj, _ := call("POST", "/sandbox/mobile/approve", `{"login":"jan"}`); status != 200 || obj["id"] != c.ID || obj["status"] != "approved" {
		t.Fatalf("approve: %d %v", status, obj)
	}
	if _, err := e.svc.StartMobile(ctx, e.jan, "consent:R2", "Zgoda"); err != nil {
		t.Fatal(err)
	}
	if status, obj, _ := call("POST", "/sandbox/mobile/approve", `{"login":"jan","reject":true}`); status != 200 || obj["status"] != "rejected" {
		t.Fatalf("reject: %d %v", status, obj)
	}
}
