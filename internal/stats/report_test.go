package stats_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

func warsaw(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, stats.Warsaw)
	if err != nil {
		panic(err)
	}
	return t
}

// bank drives a recorder with a fixed clock that is both the bank's time
// and the stopwatch, so every latency is exact.
type bank struct {
	t   *testing.T
	clk *clock.Fixed
	rec *stats.Recorder
	db  *store.DB
}

func newBank(t *testing.T, db *store.DB, at string) *bank {
	clk := clock.NewFixed(warsaw(at))
	return &bank{t: t, clk: clk, db: db, rec: stats.New(stats.Config{DB: db, Clock: clk, Stopwatch: clk})}
}

// call records one call that takes d and is answered with status.
func (b *bank) call(ch stats.Channel, dialect, service string, d time.Duration, status int) {
	c := b.rec.Begin(ch)
	ctx := stats.WithCall(context.Background(), c)
	stats.Label(ctx, dialect, service)
	b.clk.Advance(d)
	b.rec.End(c, status)
}

func (b *bank) flush() {
	b.t.Helper()
	if err := b.rec.Flush(context.Background()); err != nil {
		b.t.Fatal(err)
	}
}

// TestQuarterFileFromKnownCalls records a quarter's calls with known
// results — served, refused, failed, a downtime made by five requests
// unanswered for 30 s, a planned outage — and checks every figure of the
// files.
func TestQuarterFileFromKnownCalls(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBank(t, db, "2026-07-01 10:00:00")
		ms := time.Millisecond
		// The planned outage of the API, announced a day ahead.
		w, err := b.rec.Maintenance().Plan(ctx, stats.API, warsaw("2026-07-02 02:00:00"), warsaw("2026-07-02 03:00:00"), "database upgrade", "ops")
		if err != nil {
			t.Fatal(err)
		}
		// Day 1, the dedicated interface.
		for range 10 {
			b.call(stats.API, "polishapi", "AIS", 12*ms, 200)
		}
		b.call(stats.API, "mbank", "PIS", 40*ms, 201)
		b.call(stats.API, "mbank", "PIS", 40*ms, 201)
		b.call(stats.API, "mbank", "PIS", 5*ms, 400)
		b.call(stats.API, "polishapi", "CAF", 8*ms, 500)
		for range 4 {
			b.call(stats.API, "mbank", "AS", 3*ms, 200)
		}
		// The customer interface.
		for range 6 {
			b.call(stats.Web, "", stats.ServiceIB, 100*ms, 200)
		}
		b.call(stats.Web, "", stats.ServiceConsent, 250*ms, 200)
		b.call(stats.Web, "", stats.ServiceConsent, 250*ms, 303)
		b.call(stats.Web, "", stats.ServiceConsent, 50*ms, 500)
		b.flush()

		// At 11:00:00-11:00:04 five AIS requests arrive and get no answer.
		b.clk.Advance(warsaw("2026-07-01 11:00:00").Sub(b.clk.Now()))
		for i := range 5 {
			c := b.rec.Begin(stats.API)
			stats.Label(stats.WithCall(ctx, c), "polishapi", "AIS")
			if i < 4 {
				b.clk.Advance(time.Second)
			}
		}
		b.clk.Advance(26 * time.Second) // the first has waited 30 s: not yet
		b.rec.Sweep()
		if _, down := b.rec.Down(stats.API); down {
			t.Fatal("down after 30 s: the rule says more than 30 s")
		}
		b.clk.Advance(5 * time.Second) // 11:00:35: all five have waited over 30 s
		b.rec.Sweep()
		since, down := b.rec.Down(stats.API)
		if !down || !since.Equal(warsaw("2026-07-01 11:00:00")) {
			t.Fatalf("down = %v since %v, want down since 11:00:00", down, since)
		}
		b.flush()
		st, err := stats.Current(ctx, db, b.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if st[0].State != "down" || !st[0].DownSince.Equal(warsaw("2026-07-01 11:00:00")) || st[1].State != "up" {
			t.Fatalf("current status %+v, want the API down since 11:00:00 and the web up", st)
		}
		// At 11:01:00 a request is answered in 10 ms: the API is up again.
		b.clk.Advance(warsaw("2026-07-01 11:01:00").Sub(b.clk.Now()))
		b.call(stats.API, "polishapi", "AIS", 10*ms, 200)
		if _, down := b.rec.Down(stats.API); down {
			t.Fatal("still down after an answered request")
		}
		b.flush()
		if st, _ := stats.Current(ctx, db, b.clk.Now()); st[0].State != "up" {
			t.Fatalf("current status %+v after the answer, want up", st)
		}

		// Day 2: three calls during the planned outage.
		b.clk.Advance(warsaw("2026-07-02 02:30:00").Sub(b.clk.Now()))
		if err := b.rec.Maintenance().Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			c := b.rec.Begin(stats.API)
			until, ok := stats.Outage(stats.WithCall(ctx, c))
			if !ok || !until.Equal(w.End) {
				t.Fatalf("outage = %v until %v, want the planned one until %v", ok, until, w.End)
			}
			b.rec.End(c, 503)
		}
		b.flush()

		rep, err := stats.Build(ctx, db, stats.Quarter{Year: 2026, Q: 3}, warsaw("2026-10-05 12:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Days) != 92*2 {
			t.Fatalf("%d rows, want 184 (92 days × 2 interfaces)", len(rep.Days))
		}
		var csvBuf, jsonBuf bytes.Buffer
		if err := rep.WriteCSV(&csvBuf); err != nil {
			t.Fatal(err)
		}
		if err := rep.WriteJSON(&jsonBuf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&csvBuf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		header := strings.Join(recs[0], ",")
		wantHeader := "date,interface,seconds,uptime_pct,planned_downtime_s,unplanned_downtime_s,downtimes,calls,served,refused,failed,timeouts,planned_calls,error_rate_pct,mean_ms,p50_ms,p95_ms,p99_ms," +
			"ais_calls,ais_failed,ais_error_rate_pct,ais_mean_ms,ais_p95_ms,ais_p99_ms," +
			"pis_calls,pis_failed,pis_error_rate_pct,pis_mean_ms,pis_p95_ms,pis_p99_ms," +
			"caf_calls,caf_failed,caf_error_rate_pct,caf_mean_ms,caf_p95_ms,caf_p99_ms," +
			"as_calls,as_failed,as_error_rate_pct,as_mean_ms,as_p95_ms,as_p99_ms," +
			"ib_calls,ib_failed,ib_error_rate_pct,ib_mean_ms,ib_p95_ms,ib_p99_ms," +
			"consent_calls,consent_failed,consent_error_rate_pct,consent_mean_ms,consent_p95_ms,consent_p99_ms"
		if header != wantHeader {
			t.Fatalf("CSV header\n got %s\nwant %s", header, wantHeader)
		}
		lines := map[string]string{}
		for _, r := range recs[1:] {
			lines[r[0]+" "+r[1]] = strings.Join(r, ",")
		}
		want := map[string]string{
			// 24 calls: AIS 10 served + 5 timeouts + 1 served; PIS 2 served + 1 refused;
			// CAF 1 failed (500); AS 4 served. Down 11:00:00 to 11:01:00.010.
			"2026-07-01 dedicated": "2026-07-01,dedicated,86400,99.9305,0,60.01,1,24,17,1,6,5,0,25,12.368,15,40,40," +
				"16,5,31.25,11.818,12,12," + "3,0,0,28.333,40,40," + "1,1,100,8,8,8," + "4,0,0,3,3,3," + ",,,,,," + ",,,,,",
			"2026-07-01 customer": "2026-07-01,customer,86400,100,0,0,0,9,8,0,1,0,0,11.1111,127.778,100,250,250," +
				",,,,,," + ",,,,,," + ",,,,,," + ",,,,,," + "6,0,0,100,100,100," + "3,1,33.3333,183.333,250,250",
			// The planned hour: 3 calls answered 503, not errors, no latency.
			"2026-07-02 dedicated": "2026-07-02,dedicated,86400,95.8333,3600,0,0,3,0,0,0,0,3,0,,,,," +
				"0,0,0,,,," + "0,0,0,,,," + "0,0,0,,,," + "0,0,0,,,," + ",,,,,," + ",,,,,",
			"2026-07-02 customer": "2026-07-02,customer,86400,100,0,0,0,0,0,0,0,0,0,0,,,,," +
				",,,,,," + ",,,,,," + ",,,,,," + ",,,,,," + "0,0,0,,,," + "0,0,0,,,",
			"2026-09-30 dedicated": "2026-09-30,dedicated,86400,100,0,0,0,0,0,0,0,0,0,0,,,,," +
				"0,0,0,,,," + "0,0,0,,,," + "0,0,0,,,," + "0,0,0,,,," + ",,,,,," + ",,,,,",
		}
		for k, w := range want {
			if lines[k] != w {
				t.Errorf("CSV %s\n got %s\nwant %s", k, lines[k], w)
			}
		}
		var got stats.Report
		if err := json.Unmarshal(jsonBuf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Totals) != 2 {
			t.Fatalf("totals %+v", got.Totals)
		}
		api, web := got.Totals[0], got.Totals[1]
		if api.Interface != "dedicated" || api.Date != "2026Q3" || api.Seconds != 7948800 || api.UptimePct != 99.954 ||
			api.PlannedDowntimeS != 3600 || api.UnplannedDowntimeS != 60.01 || api.Downtimes != 1 ||
			api.Calls != 27 || api.Served != 17 || api.Refused != 1 || api.Failed != 6 || api.Timeouts != 5 || api.Planned != 3 ||
			api.ErrorRatePct != 25 || *api.MeanMS != 12.368 || *api.P50MS != 15 || *api.P95MS != 40 || *api.P99MS != 40 {
			t.Errorf("dedicated totals %+v", api)
		}
		if d := api.Dialects; d["polishapi"].Calls != 17 || d["mbank"].Calls != 7 || d["polishapi"].Failed != 6 {
			t.Errorf("dialects %+v", d)
		}
		if web.Interface != "customer" || web.UptimePct != 100 || web.Calls != 9 || web.Failed != 1 || *web.MeanMS != 127.778 {
			t.Errorf("customer totals %+v", web)
		}
		if got.Days[0].Date != "2026-07-01" || got.Days[183].Date != "2026-09-30" || !got.To.Equal(warsaw("2026-10-01 00:00:00")) {
			t.Errorf("days from %s to %s, report to %s", got.Days[0].Date, got.Days[183].Date, got.To)
		}
	})
}
