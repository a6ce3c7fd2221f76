package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
	"github.com/psd2bank/psd2bank/internal/tpp"
	"github.com/psd2bank/psd2bank/internal/web"
)

// The back office's statistics: only staff see them, download them and
// plan outages; bad input is refused naming the field; the banner shows on
// every back-office page while an interface is down.
func TestBackofficeStatistics(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), tpp.SandboxRegisterFile)
	if err := tpp.EnsureRegisterFile(path); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFixed(testNow)
	licences, err := tpp.OpenFileRegister(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	reg := tpp.New(db, clk, licences)
	if err := reg.EnsureStaff(ctx, "anna", "back office password", tpp.RoleBackoffice); err != nil {
		t.Fatal(err)
	}
	rec := stats.New(stats.Config{DB: db, Clock: clk, Stopwatch: clk})
	srv := httptest.NewServer(web.New(web.Deps{Registry: reg, DB: db, Clock: clk, Stats: rec}).Handler())
	t.Cleanup(srv.Close)
	e := env{srv: srv, reg: reg, clk: clk}
	c := e.client(t)

	// Without a session: nothing seen, nothing planned.
	for _, p := range []string{"/backoffice/stats", "/backoffice/stats/files/psd2bank-stats-2025Q4.csv"} {
		if res := e.get(t, c, p); res.status != http.StatusSeeOther || res.header.Get("Location") != "/backoffice/login" {
			t.Errorf("GET %s without a session: %d %q", p, res.status, res.header.Get("Location"))
		}
	}
	plan := url.Values{"channel": {"api"}, "start": {"2025-10-02T02:00"}, "end": {"2025-10-02T03:00"}, "reason": {"upgrade"}}
	if res := e.post(t, c, "/backoffice/stats/maintenance", plan); res.status != http.StatusSeeOther || res.header.Get("Location") != "/backoffice/login" {
		t.Errorf("planning without a session: %d", res.status)
	}
	if ws, _ := stats.Windows(ctx, db, testNow, testNow.AddDate(1, 0, 0)); len(ws) != 0 {
		t.Fatalf("an outage was planned without a session: %+v", ws)
	}

	if res := e.post(t, c, "/backoffice/login", url.Values{"login": {"anna"}, "password": {"back office password"}}); res.status != http.StatusSeeOther {
		t.Fatalf("log in: %d", res.status)
	}
	for _, tc := range []struct {
		form   url.Values
		status int
		says   string
	}{
		{url.Values{"channel": {"api"}, "start": {"tomorrow"}, "end": {"2025-10-02T03:00"}, "reason": {"x"}}, 422, "start: give a date and time"},
		{url.Values{"channel": {"api"}, "start": {"2025-10-02T02:00"}, "end": {""}, "reason": {"x"}}, 422, "end: give a date and time"},
		{url.Values{"channel": {"sms"}, "start": {"2025-10-02T02:00"}, "end": {"2025-10-02T03:00"}, "reason": {"x"}}, 422, "Channel: choose"},
		{url.Values{"channel": {"api"}, "start": {"2025-10-01T12:30"}, "end": {"2025-10-01T13:00"}, "reason": {"x"}}, 422, "Start: a planned outage must be announced at least 60 minutes ahead"},
		{url.Values{"channel": {"web"}, "start": {"2025-10-02T02:00"}, "end": {"2025-10-02T03:00"}, "reason": {""}}, 422, "Reason: say why"},
	} {
		res := e.post(t, c, "/backoffice/stats/maintenance", tc.form)
		if res.status != tc.status || !strings.Contains(res.body, tc.says) {
			t.Errorf("%v: %d, want %d saying %q", tc.form, res.status, tc.status, tc.says)
		}
	}
	if res := e.post(t, c, "/backoffice/stats/maintenance", plan); res.status != http.StatusSeeOther {
		t.Fatalf("planning: %d\n%s", res.status, res.body)
	}
	if res := e.post(t, c, "/backoffice/stats/maintenance", plan); res.status != http.StatusConflict || !strings.Contains(res.body, "overlaps") {
		t.Errorf("the same outage again: %d", res.status)
	}
	res := e.get(t, c, "/backoffice/stats?lang=pl")
	if res.status != 200 || !strings.Contains(res.body, "<td>2025-10-02 02:00</td><td>2025-10-02 03:00</td>") || !strings.Contains(res.body, "upgrade") ||
		!strings.Contains(res.body, "<svg") || !strings.Contains(res.body, "Statystyki interfejsów") {
		t.Errorf("statistics page: %d\n%s", res.status, res.body)
	}
	if res := e.get(t, c, "/backoffice/stats?quarter=2025Q9"); res.status != http.StatusBadRequest {
		t.Errorf("a bad quarter: %d", res.status)
	}
	if res := e.get(t, c, "/backoffice/stats/files/psd2bank-stats-2025Q4.json"); res.status != 200 ||
		!strings.Contains(res.header.Get("Content-Disposition"), "psd2bank-stats-2025Q4.json") || !strings.Contains(res.body, `"quarter": "2025Q4"`) {
		t.Errorf("JSON download: %d %q", res.status, res.header.Get("Content-Disposition"))
	}
	for _, bad := range []string{"psd2bank-stats-2025Q4.xml", "passwd", "psd2bank-stats-../x.csv"} {
		if res := e.get(t, c, "/backoffice/stats/files/"+url.PathEscape(bad)); res.status != http.StatusNotFound {
			t.Errorf("download %q: %d", bad, res.status)
		}
	}

	// The banner: no node sees a downtime, then one does.
	if res := e.get(t, c, "/backoffice/tpps"); strings.Contains(res.body, "data-down=") {
		t.Fatal("a banner while every interface is up")
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO stats_downtime (id, channel, node, started_at, ended_at, last_seen, requests)
		VALUES ('d1', 'web', 'n1', $1, NULL, $2, 5)`, testNow.Add(-40*1e9).UnixMicro(), testNow.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if res := e.get(t, c, "/backoffice/tpps?lang=en"); !strings.Contains(res.body, `data-down="web"`) || !strings.Contains(res.body, "is DOWN") {
		t.Errorf("no banner while the customer interface is down:\n%s", res.body)
	}
}
