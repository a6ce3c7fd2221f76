package stats_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

func quarterOf(t *testing.T, db *store.DB, day string) stats.Row {
	t.Helper()
	rep, err := stats.Build(context.Background(), db, stats.QuarterOf(warsaw(day+" 12:00:00")), warsaw("2030-01-01 00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Days {
		if r.Date == day && r.Interface == stats.Dedicated {
			return r
		}
	}
	t.Fatalf("no row for %s", day)
	return stats.Row{}
}

// Several nodes flush into the same minute rows: the counts add up, the
// histograms add up, the slowest call stays the slowest.
func TestNodesAddIntoTheSameBuckets(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newBank(t, db, "2026-10-05 09:00:00")
		b := newBank(t, db, "2026-10-05 09:00:00")
		for range 3 {
			a.call(stats.API, "mbank", "AIS", 4*time.Millisecond, 200)
		}
		b.call(stats.API, "mbank", "AIS", 700*time.Millisecond, 200)
		b.call(stats.API, "mbank", "AIS", 4*time.Millisecond, 500)
		a.flush()
		b.flush()
		a.call(stats.API, "mbank", "AIS", 4*time.Millisecond, 403)
		a.flush()
		a.flush() // nothing new: adds nothing
		r := quarterOf(t, db, "2026-10-05")
		f := r.Services["AIS"]
		if f.Calls != 6 || f.Served != 4 || f.Failed != 1 || f.Refused != 1 || *f.MeanMS != 120 || *f.P50MS != 5 || *f.P99MS != 700 {
			t.Fatalf("AIS after two nodes flushed: %+v (mean %v p50 %v p99 %v)", f, *f.MeanMS, *f.P50MS, *f.P99MS)
		}
	})
}

// Calls recorded from many goroutines are all counted, once.
func TestConcurrentCallsCountedOnce(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	b := newBank(t, db, "2026-10-06 09:00:00")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 250 {
				c := b.rec.Begin(stats.API)
				stats.Label(stats.WithCall(context.Background(), c), "polishapi", []string{"AIS", "PIS"}[(g+i)%2])
				b.rec.End(c, 200)
			}
			if g%3 == 0 {
				b.rec.Flush(context.Background())
			}
		}()
	}
	wg.Wait()
	b.flush()
	r := quarterOf(t, db, "2026-10-06")
	if r.Calls != 2000 || r.Served != 2000 || r.Services["AIS"].Calls != 1000 || r.Services["PIS"].Calls != 1000 {
		t.Fatalf("counted %d calls (AIS %d, PIS %d), want 2000 (1000 each)", r.Calls, r.Services["AIS"].Calls, r.Services["PIS"].Calls)
	}
}

// The rule counts five consecutive requests in order of arrival; an answer
// in time between them starts the count again; 501 is not the bank's
// failure; 5xx answers are unanswered requests.
func TestDowntimeRule(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	b := newBank(t, db, "2026-10-07 09:00:00")
	for range 4 {
		b.call(stats.API, "polishapi", "AIS", time.Millisecond, 500)
	}
	b.call(stats.API, "polishapi", "AIS", time.Millisecond, 200)
	for range 4 {
		b.call(stats.API, "polishapi", "AIS", time.Millisecond, 503)
	}
	b.call(stats.API, "polishapi", "AIS", time.Millisecond, 501)
	if _, down := b.rec.Down(stats.API); down {
		t.Fatal("down without five consecutive unanswered requests")
	}
	// Five in a row: a 502, then four that wait; a slow answer (31 s) is no answer.
	first := b.clk.Now()
	b.call(stats.API, "polishapi", "AIS", time.Millisecond, 502)
	waiting := make([]*stats.Call, 3)
	for i := range waiting {
		waiting[i] = b.rec.Begin(stats.API)
	}
	b.call(stats.API, "polishapi", "AIS", 31*time.Second, 200)
	// The three still wait: whether they are answered is not known yet.
	if _, down := b.rec.Down(stats.API); down {
		t.Fatal("down before the waiting requests are decided")
	}
	b.rec.Sweep()
	since, down := b.rec.Down(stats.API)
	if !down || !since.Equal(first) {
		t.Fatalf("down=%v since %v, want since %v (the 502's arrival)", down, since, first)
	}
	// A swept request answered late adds only its latency.
	b.rec.End(waiting[0], 200)
	if _, down := b.rec.Down(stats.API); !down {
		t.Fatal("a late answer to a request already counted as unanswered ended the downtime")
	}
	b.call(stats.API, "polishapi", "AIS", time.Millisecond, 404)
	if _, down := b.rec.Down(stats.API); down {
		t.Fatal("an answered request (the caller's fault) did not end the downtime")
	}
	b.flush()
	r := quarterOf(t, db, "2026-10-07")
	// 10 + 1 (502) + 3 swept + 1 slow + 1 (404) = 16 calls; failed: 4 + 4 + 1 + 3 + 1.
	if r.Calls != 16 || r.Failed != 13 || r.Timeouts != 4 || r.Refused != 2 || r.Downtimes != 1 {
		t.Fatalf("day: calls %d failed %d timeouts %d refused %d downtimes %d", r.Calls, r.Failed, r.Timeouts, r.Refused, r.Downtimes)
	}
	// From the 502's arrival to the 404's answer: 1 ms + 31 s + 1 ms.
	if want := 31.002; r.UnplannedDowntimeS != want {
		t.Errorf("unplanned downtime %v s, want %v", r.UnplannedDowntimeS, want)
	}
}

// A flush that fails keeps its counts for the next one.
func TestFailedFlushKeepsCounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db, "2026-10-08 09:00:00")
		b.call(stats.Web, "", stats.ServiceIB, 20*time.Millisecond, 200)
		if _, err := db.ExecContext(ctx, `ALTER TABLE stats_minute RENAME TO stats_minute_away`); err != nil {
			t.Fatal(err)
		}
		if err := b.rec.Flush(ctx); err == nil {
			t.Fatal("flush into a missing table did not fail")
		}
		if _, err := db.ExecContext(ctx, `ALTER TABLE stats_minute_away RENAME TO stats_minute`); err != nil {
			t.Fatal(err)
		}
		b.call(stats.Web, "", stats.ServiceIB, 20*time.Millisecond, 200)
		b.flush()
		rep, err := stats.Build(ctx, db, stats.Quarter{Year: 2026, Q: 4}, warsaw("2030-01-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		if web := rep.Totals[1]; web.Calls != 2 || *web.MeanMS != 20 {
			t.Fatalf("customer interface after a failed flush: %+v", web)
		}
	})
}

func TestPlannedOutages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db, "2026-11-02 09:00:00")
		m := b.rec.Maintenance()
		at := warsaw
		for _, tc := range []struct {
			ch         stats.Channel
			start, end string
			reason     string
			field      string
		}{
			{"ftp", "2026-11-03 02:00:00", "2026-11-03 03:00:00", "x", "channel"},
			{stats.API, "2026-11-02 09:30:00", "2026-11-02 11:00:00", "x", "start"},
			{stats.API, "2026-11-03 03:00:00", "2026-11-03 02:00:00", "x", "end"},
			{stats.API, "2026-11-03 02:00:00", "2026-11-04 03:00:00", "x", "end"},
			{stats.API, "2026-11-03 02:00:00", "2026-11-03 03:00:00", "  ", "reason"},
		} {
			_, err := m.Plan(ctx, tc.ch, at(tc.start), at(tc.end), tc.reason, "ops")
			var se *stats.Error
			if !errors.As(err, &se) || se.Field != tc.field || se.PL == "" {
				t.Errorf("%+v: err %v, want a refusal naming %s", tc, err, tc.field)
			}
		}
		w, err := m.Plan(ctx, stats.API, at("2026-11-03 02:00:00"), at("2026-11-03 03:00:00"), "upgrade", "ops")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Plan(ctx, stats.API, at("2026-11-03 02:30:00"), at("2026-11-03 04:00:00"), "again", "ops"); err == nil || !strings.Contains(err.Error(), "overlaps") {
			t.Fatalf("overlapping outage: %v", err)
		}
		// The web may have its own at the same time.
		if _, err := m.Plan(ctx, stats.Web, at("2026-11-03 02:30:00"), at("2026-11-03 04:00:00"), "web too", "ops"); err != nil {
			t.Fatal(err)
		}
		// Cancelled before it starts: no planned downtime.
		w2, err := m.Plan(ctx, stats.API, at("2026-11-05 02:00:00"), at("2026-11-05 03:00:00"), "later", "ops")
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Cancel(ctx, w2.ID); err != nil {
			t.Fatal(err)
		}
		if err := m.Cancel(ctx, w2.ID); err == nil {
			t.Fatal("cancelled twice")
		}
		// Ended early at 02:20: twenty minutes of planned downtime.
		b.clk.Advance(at("2026-11-03 02:20:00").Sub(b.clk.Now()))
		if _, on := m.Active(stats.API, b.clk.Now()); !on {
			t.Fatal("the outage does not run at 02:20")
		}
		if err := m.Cancel(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if _, on := m.Active(stats.API, b.clk.Now().Add(time.Second)); on {
			t.Fatal("the outage still runs after it was ended")
		}
		if r := quarterOf(t, db, "2026-11-03"); r.PlannedDowntimeS != 1200 || r.UptimePct != 98.6111 {
			t.Fatalf("3 Nov: planned %v s, uptime %v", r.PlannedDowntimeS, r.UptimePct)
		}
		if r := quarterOf(t, db, "2026-11-05"); r.PlannedDowntimeS != 0 {
			t.Fatalf("a cancelled outage counted: %v s", r.PlannedDowntimeS)
		}
	})
}

// The middleware measures only the customer's pages on the web listener,
// answers them 503 with Retry-After during the web's planned outage, and
// counts a handler's panic as the bank's failure.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	db := storetest.SQLite(t)
	clk := clock.NewFixed(warsaw("2026-11-10 09:00:00"))
	rec := stats.New(stats.Config{DB: db, Clock: clk, Stopwatch: clk})
	h := rec.Middleware(stats.Web, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ib/panic" {
			panic("boom")
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		func() {
			defer func() { recover() }()
			h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		}()
		return w
	}
	for _, p := range []string{"/ib", "/ib/accounts", "/authorize/abc", "/developer", "/backoffice/stats", "/ib/assets/x.css", "/healthz", "/ib/panic"} {
		get(p)
	}
	if _, err := rec.Maintenance().Plan(context.Background(), stats.Web, warsaw("2026-11-10 10:00:00"), warsaw("2026-11-10 10:30:00"), "upgrade", "ops"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour + 10*time.Minute)
	w := get("/ib/accounts")
	if w.Code != 503 || w.Header().Get("Retry-After") != "1200" || !strings.Contains(w.Body.String(), "planned maintenance") {
		t.Fatalf("during the web's outage: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := get("/developer"); w.Code != http.StatusTeapot {
		t.Fatalf("the portal is not the customer interface: %d during its outage", w.Code)
	}
	if err := rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := stats.Build(context.Background(), db, stats.Quarter{Year: 2026, Q: 4}, warsaw("2030-01-01 00:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	web := rep.Totals[1]
	if web.Calls != 5 || web.Refused != 3 || web.Failed != 1 || web.Planned != 1 || web.Services["IB"].Calls != 4 || web.Services["CONSENT"].Calls != 1 {
		t.Fatalf("customer interface: %+v services %+v", web.Figures, web.Services)
	}
}
