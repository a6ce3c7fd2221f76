package stats_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// The public summary: no log-in, the state now, the outages announced, the
// last quarter's and this quarter's totals, in JSON and on a page in Polish
// or English.
func TestPublicSummary(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	b := newBank(t, db, "2026-09-30 10:00:00") // last quarter: one served AIS call
	b.call(stats.API, "mbank", "AIS", 30*time.Millisecond, 200)
	b.flush()
	b.clk.Advance(warsaw("2026-10-02 10:00:00").Sub(b.clk.Now()))
	if _, err := b.rec.Maintenance().Plan(context.Background(), stats.API, warsaw("2026-10-03 01:00:00"), warsaw("2026-10-03 02:00:00"), "<b>upgrade</b>", "ops"); err != nil {
		t.Fatal(err)
	}
	pub := &stats.Public{DB: db, Clock: b.clk}
	w := httptest.NewRecorder()
	pub.ServeHTTP(w, httptest.NewRequest("GET", "/status.json", nil))
	var s stats.Summary
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	if s.LastQuarter.Quarter != "2026Q3" || s.LastQuarter.Totals[0].Calls != 1 || *s.LastQuarter.Totals[0].MeanMS != 30 ||
		s.QuarterToDate.Quarter != "2026Q4" || len(s.PlannedOutages) != 1 || s.Status[0].State != "up" || s.LastQuarter.Days != nil {
		t.Fatalf("summary: %s", w.Body)
	}
	w = httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/status", nil)
	r.Header.Set("Accept-Language", "pl-PL,pl;q=0.9")
	pub.ServeHTTP(w, r)
	page := w.Body.String()
	for _, want := range []string{"Status i statystyki interfejsów", "Poprzedni kwartał: 2026Q3", "&lt;b&gt;upgrade&lt;/b&gt;", `data-state="up"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the Polish page lacks %q:\n%s", want, page)
		}
	}
	if w := httptest.NewRecorder(); true {
		pub.ServeHTTP(w, httptest.NewRequest("POST", "/status", nil))
		if w.Code != 405 {
			t.Errorf("POST /status: %d", w.Code)
		}
	}
}

func TestLineChartEscapes(t *testing.T) {
	t.Parallel()
	svg := string(stats.LineChart(`<script>alert(1)</script>`, "ms", []string{"2026-10-01", "2026-10-02"},
		[]stats.Series{{Name: `"><img src=x>`, Colour: "#123", Values: []float64{1, math.NaN()}}}, 0, 0))
	if strings.Contains(svg, "<script>") || strings.Contains(svg, "<img") || !strings.HasPrefix(svg, "<svg") {
		t.Fatalf("not escaped: %s", svg)
	}
}
