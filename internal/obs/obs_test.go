package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMask(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"PL61109010140000071219812874":     "****2874",
		"61 1090 1014 0000 0712 1981 2874": "****2874",
		"85031441215":                      "****1215",
		"1234567":                          "****",
		"":                                 "****",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// A nil observer, and one without a logger or metrics, do nothing (the
// domain's services work without one).
func TestNilObserver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, o := range []*Observer{nil, {}} {
		o.API(ctx, APICall{Code: "X", Status: 400})
		o.Login(ctx, "customer", "jan", LoginFailed, "", 1)
		o.SMSSent(ctx, "c", "ch", "consent:request=x")
		o.PaymentStatus(ctx, Payment{ID: "p", To: "done"})
		o.BackOffice(ctx, "s", "POST /x", 303)
		o.ClockMoved(ctx, time.Now(), time.Now(), "")
	}
}

// Each event is one line with its stable attributes and counted once; an
// account is masked; an SMS purpose keeps only its kind (it carries the
// accounts it confirms).
func TestObserverLogsAndCounts(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	o := New(slog.New(slog.NewJSONHandler(&buf, nil)), m)
	ctx := context.Background()
	o.API(ctx, APICall{Dialect: "mbank", Operation: "getAccounts", TPP: "PSDPL-KNF-1", Status: 401, Code: "TOKEN_INVALID", Duration: time.Millisecond})
	o.API(ctx, APICall{Dialect: "mbank", Operation: "getAccounts", TPP: "PSDPL-KNF-1", Status: 200}) // debug: not logged at info
	o.SMSSent(ctx, "cust", "chal", "consent:request=abc&account=61109010140000071219812874")
	o.PaymentStatus(ctx, Payment{ID: "pay", TPP: "PSDPL-KNF-1", To: "submitted", Recipient: "61109010140000071219812874", Amount: "5.00", Currency: "PLN"})

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (the served call is at debug level):\n%s", len(lines), buf.String())
	}
	var refused, sms, pay map[string]any
	json.Unmarshal([]byte(lines[0]), &refused)
	json.Unmarshal([]byte(lines[1]), &sms)
	json.Unmarshal([]byte(lines[2]), &pay)
	if refused[AttrEvent] != EventAPIRefused || refused[AttrCode] != "TOKEN_INVALID" || refused[AttrDialect] != "mbank" ||
		refused[AttrOperation] != "getAccounts" || refused[AttrTPP] != "PSDPL-KNF-1" || refused["level"] != "WARN" {
		t.Errorf("refusal line: %v", refused)
	}
	if sms[AttrPurpose] != "consent" {
		t.Errorf("SMS purpose %v, want its kind only", sms[AttrPurpose])
	}
	if pay[AttrRecipient] != "****2874" || pay[AttrStatus] != "submitted" || pay[AttrFrom] != "" || pay["msg"] != "payment initiated" {
		t.Errorf("payment line: %v", pay)
	}
	if strings.Contains(buf.String(), "61109010140000071219812874") {
		t.Error("a full account number was logged")
	}
	if n := value(t, reg, MetricAPIRefusals, "TOKEN_INVALID", "mbank", "getAccounts"); n != 1 {
		t.Errorf("refusals = %v, want 1", n)
	}
	if n := value(t, reg, MetricAPIRequests, "2xx", "mbank", "getAccounts"); n != 1 {
		t.Errorf("2xx requests = %v, want 1", n)
	}
	if n := value(t, reg, MetricSMSSent, "consent"); n != 1 {
		t.Errorf("SMS sent = %v, want 1", n)
	}
	if n := value(t, reg, MetricPaymentStatuses, "submitted"); n != 1 {
		t.Errorf("payments entering submitted = %v, want 1", n)
	}
}

// value is the counter name's value whose label values, in the order of
// the labels' names, are labels.
func value(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// What each API call costs the gateway: a served call at info level is
// counted, never formatted.
func BenchmarkAPIServed(b *testing.B) {
	m := NewMetrics()
	o := New(slog.New(slog.NewJSONHandler(io.Discard, nil)), m)
	ctx := context.Background()
	c := APICall{Dialect: "polishapi", Operation: "getTransactionsDone", TPP: "PSDPL-KNF-0000000001", Status: 200,
		RequestID: "7f324c85-f025-11f1-bd4d-72c955a1abe0", Duration: 3 * time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		o.API(ctx, c)
	}
}
