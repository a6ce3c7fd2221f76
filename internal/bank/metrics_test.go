package bank

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// Every metric the Grafana dashboard in docs/ queries is one the bank
// registers (a renamed metric breaks this test, not the operator's
// dashboard), and the dashboard shows each of the operator's metrics.
func TestDashboardQueriesRegisteredMetrics(t *testing.T) {
	t.Parallel()
	b, _ := newTestBank(t, storetest.SQLite(t), clock.NewFixed(testNow), "")
	names := b.Metrics.Names()
	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	metric := regexp.MustCompile(`psd2bank_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				name := m
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if base, ok := strings.CutSuffix(m, suffix); ok && slices.Contains(names, base) {
						name = base
					}
				}
				used[name] = true
				if !slices.Contains(names, name) {
					t.Errorf("panel %q queries %s, which the bank does not register (it has %v)", p.Title, m, names)
				}
			}
		}
	}
	for _, want := range []string{"psd2bank_api_requests_total", "psd2bank_api_refusals_total", "psd2bank_api_request_seconds",
		"psd2bank_payments", "psd2bank_payment_status_changes_total", "psd2bank_consents", "psd2bank_sms_sent_total",
		"psd2bank_logins_total", "psd2bank_backoffice_actions_total"} {
		if !used[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

// Consents by state and payments by status are counted in the database
// (on both engines), an authorised consent past its validity as expired;
// a node's figures are the database's, whichever node is asked.
func TestStateGaugesCountTheDatabase(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := testNow
		for i, c := range []struct {
			status  string
			expires time.Time
		}{{"authorised", now.Add(time.Hour)}, {"authorised", now.Add(-time.Hour)}, {"received", now.Add(time.Hour)}, {"authorised", now.Add(48 * time.Hour)}} {
			if _, err := db.ExecContext(ctx, `INSERT INTO consents (id, tpp_consent_id, tpp_id, client_id, scope, scope_time_limit,
				throttling_policy, dialect, status, created_at, expires_at, updated_at)
				VALUES ($1, $2, 'PSDPL-KNF-1', 'client', 'ais', $3, 'psd2Regulatory', 'polishapi', $4, $5, $3, $5)`,
				fmt.Sprint("c", i), fmt.Sprint("t", i), c.expires.UnixMicro(), c.status, now.UnixMicro()); err != nil {
				t.Fatal(err)
			}
		}
		var logs bytes.Buffer
		c := stateCollector{db: db, clock: clock.NewFixed(now), log: slog.New(slog.NewTextHandler(&logs, nil))}
		ch := make(chan prometheus.Metric, 16)
		c.Collect(ch)
		close(ch)
		consents := map[string]float64{}
		for m := range ch {
			var d dto.Metric
			if err := m.Write(&d); err != nil {
				t.Fatal(err)
			}
			if m.Desc() == consentsDesc {
				consents[d.GetLabel()[0].GetValue()] = d.GetGauge().GetValue()
			}
		}
		if logs.Len() > 0 {
			t.Fatalf("the collector failed: %s", logs.String())
		}
		if want := map[string]float64{"authorised": 2, "expired": 1, "received": 1}; !maps.Equal(consents, want) {
			t.Errorf("consents by state %v, want %v", consents, want)
		}
	})
}
