package bank

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/clock"
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
