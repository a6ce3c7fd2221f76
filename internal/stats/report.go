package stats

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Warsaw days must not depend on the host's tz database

	"github.com/psd2bank/psd2bank/internal/store"
)

// Warsaw is the bank's time zone: the statistics' days are Polish days.
var Warsaw = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err) // unreachable: time/tzdata embeds it
	}
	return loc
}()

// Quarter is a calendar quarter, e.g. 2026Q4.
type Quarter struct{ Year, Q int }

var quarterRE = regexp.MustCompile(`^(\d{4})Q([1-4])$`)

// ParseQuarter reads "2026Q4".
func ParseQuarter(s string) (Quarter, error) {
	m := quarterRE.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return Quarter{}, fmt.Errorf("quarter %q: write it as YEARQn, e.g. 2026Q4", s)
	}
	y, _ := strconv.Atoi(m[1])
	q, _ := strconv.Atoi(m[2])
	return Quarter{Year: y, Q: q}, nil
}

// QuarterOf is the quarter of t (in Warsaw).
func QuarterOf(t time.Time) Quarter {
	t = t.In(Warsaw)
	return Quarter{Year: t.Year(), Q: (int(t.Month())-1)/3 + 1}
}

func (q Quarter) String() string { return fmt.Sprintf("%dQ%d", q.Year, q.Q) }

// Start is the quarter's first instant.
func (q Quarter) Start() time.Time {
	return time.Date(q.Year, time.Month(3*(q.Q-1)+1), 1, 0, 0, 0, 0, Warsaw)
}

// End is the next quarter's first instant.
func (q Quarter) End() time.Time { return q.Start().AddDate(0, 3, 0) }

// Prev is the quarter before.
func (q Quarter) Prev() Quarter {
	if q.Q == 1 {
		return Quarter{Year: q.Year - 1, Q: 4}
	}
	return Quarter{Year: q.Year, Q: q.Q - 1}
}

// Interface names of the statistics: what the guidelines call them.
const (
	Dedicated = "dedicated" // channel api
	Customer  = "customer"  // channel web
)

func interfaceOf(ch Channel) string {
	if ch == API {
		return Dedicated
	}
	return Customer
}

// ServicesOf are the services reported for a channel, in the files' order.
func ServicesOf(ch Channel) []string {
	if ch == API {
		return []string{"AIS", "PIS", "CAF", "AS"}
	}
	return []string{ServiceIB, ServiceConsent}
}

// csvServices are the per-service column groups of the CSV file.
var csvServices = []string{"AIS", "PIS", "CAF", "AS", ServiceIB, ServiceConsent}

// Figures are the counts and response times of a set of calls.
type Figures struct {
	Calls        int64    `json:"calls"`
	Served       int64    `json:"served"`
	Refused      int64    `json:"refused"`
	Failed       int64    `json:"failed"`
	Timeouts     int64    `json:"timeouts"`
	Planned      int64    `json:"plannedCalls"`
	ErrorRatePct float64  `json:"errorRatePct"`
	MeanMS       *float64 `json:"meanMs"`
	P50MS        *float64 `json:"p50Ms"`
	P95MS        *float64 `json:"p95Ms"`
	P99MS        *float64 `json:"p99Ms"`
}

// Row is one day (or, in Totals, the quarter) of one interface.
type Row struct {
	Date               string             `json:"date"` // YYYY-MM-DD (Warsaw), or the quarter in totals
	Interface          string             `json:"interface"`
	Seconds            float64            `json:"seconds"` // the time measured: the day, or its part up to the report's end
	UptimePct          float64            `json:"uptimePct"`
	PlannedDowntimeS   float64            `json:"plannedDowntimeS"`
	UnplannedDowntimeS float64            `json:"unplannedDowntimeS"`
	Downtimes          int                `json:"downtimes"` // unplanned downtimes that started in it
	Figures                               // every call of the interface
	Services           map[string]Figures `json:"services"`
	Dialects           map[string]Figures `json:"dialects,omitempty"`
}

// Report is a quarter's statistics: one row per day and interface.
type Report struct {
	Quarter     string    `json:"quarter"`
	TimeZone    string    `json:"timeZone"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"` // the end of what was measured: the quarter's end, or now
	GeneratedAt time.Time `json:"generatedAt"`
	Days        []Row     `json:"days"`
	Totals      []Row     `json:"totals"`
}

// Build computes a quarter's statistics from the minute buckets, the
// downtimes and the planned outages. A running quarter is reported up to
// now (or up to the last recorded minute, when the bank's clock runs ahead).
func Build(ctx context.Context, db store.Querier, q Quarter, now time.Time) (Report, error) {
	from, to := q.Start(), q.End()
	until := to
	if now.Before(to) {
		until = now
		var last *int64
		if err := db.QueryRowContext(ctx, `SELECT MAX(minute) FROM stats_minute WHERE minute >= $1 AND minute < $2`,
			from.UnixMicro(), to.UnixMicro()).Scan(&last); err != nil {
			return Report{}, fmt.Errorf("read statistics: %w", err)
		}
		if last != nil {
			if t := time.UnixMicro(*last).Add(time.Minute); t.After(until) {
				until = t
			}
		}
		if until.After(to) {
			until = to
		}
	}
	rep := Report{Quarter: q.String(), TimeZone: Warsaw.String(), From: from.UTC(), To: until.UTC(), GeneratedAt: now.UTC()}
	if !until.After(from) {
		return rep, nil
	}
	downs, err := Downtimes(ctx, db, from, until)
	if err != nil {
		return Report{}, err
	}
	windows, err := Windows(ctx, db, from, until)
	if err != nil {
		return Report{}, err
	}
	planned := map[Channel][]Interval{}
	unplanned := map[Channel][]Interval{}
	for _, w := range windows {
		if w.Cancelled == nil {
			planned[w.Channel] = append(planned[w.Channel], Interval{w.Start, w.End})
		}
	}
	for _, d := range downs {
		unplanned[d.Channel] = append(unplanned[d.Channel], Interval{d.Start, d.End})
	}
	for _, ch := range Channels {
		planned[ch] = union(planned[ch])
		unplanned[ch] = subtract(union(unplanned[ch]), planned[ch])
	}
	totals := map[Channel]*dayAcc{}
	for _, ch := range Channels {
		totals[ch] = newDayAcc()
	}
	for day := from; day.Before(until); day = day.AddDate(0, 0, 1) {
		end := day.AddDate(0, 0, 1)
		if end.After(until) {
			end = until
		}
		accs, err := readDay(ctx, db, day, end)
		if err != nil {
			return Report{}, err
		}
		for _, ch := range Channels {
			a := accs[ch]
			span := Interval{day, end}
			a.seconds = end.Sub(day).Seconds()
			a.planned = total(clip(planned[ch], span))
			a.unplanned = total(clip(unplanned[ch], span))
			for _, d := range downs {
				if d.Channel == ch && !d.Start.Before(day) && d.Start.Before(end) && total(subtract([]Interval{{d.Start, d.End}}, planned[ch])) > 0 {
					a.downtimes++
				}
			}
			rep.Days = append(rep.Days, a.row(day.Format("2006-01-02"), ch))
			totals[ch].merge(a)
		}
	}
	for _, ch := range Channels {
		rep.Totals = append(rep.Totals, totals[ch].row(q.String(), ch))
	}
	return rep, nil
}

// dayAcc gathers a day's counts of one channel.
type dayAcc struct {
	all                agg
	services, dialects map[string]*agg
	seconds            float64
	planned, unplanned time.Duration
	downtimes          int
}

func newDayAcc() *dayAcc {
	return &dayAcc{services: map[string]*agg{}, dialects: map[string]*agg{}}
}

func (d *dayAcc) merge(o *dayAcc) {
	d.all.add(&o.all)
	for k, a := range o.services {
		accOf(d.services, k).add(a)
	}
	for k, a := range o.dialects {
		accOf(d.dialects, k).add(a)
	}
	d.seconds += o.seconds
	d.planned += o.planned
	d.unplanned += o.unplanned
	d.downtimes += o.downtimes
}

func accOf(m map[string]*agg, k string) *agg {
	a := m[k]
	if a == nil {
		a = &agg{}
		m[k] = a
	}
	return a
}

func (d *dayAcc) row(date string, ch Channel) Row {
	r := Row{Date: date, Interface: interfaceOf(ch), Seconds: round(d.seconds, 3),
		PlannedDowntimeS: round(d.planned.Seconds(), 3), UnplannedDowntimeS: round(d.unplanned.Seconds(), 3),
		Downtimes: d.downtimes, Figures: figures(&d.all), Services: map[string]Figures{}}
	if d.seconds > 0 {
		r.UptimePct = round(100*(d.seconds-d.planned.Seconds()-d.unplanned.Seconds())/d.seconds, 4)
	}
	for _, s := range ServicesOf(ch) {
		r.Services[s] = figures(accOf(d.services, s))
	}
	for s, a := range d.services {
		if _, ok := r.Services[s]; !ok {
			r.Services[s] = figures(a)
		}
	}
	if ch == API && len(d.dialects) > 0 {
		r.Dialects = map[string]Figures{}
		for k, a := range d.dialects {
			r.Dialects[k] = figures(a)
		}
	}
	return r
}

// readDay sums the minute rows of [from, to) by channel, service and dialect.
func readDay(ctx context.Context, db store.Querier, from, to time.Time) (map[Channel]*dayAcc, error) {
	var sums strings.Builder
	for _, c := range []string{"calls", "served", "refused", "failed", "timeouts", "planned", "latency_sum"} {
		fmt.Fprintf(&sums, "CAST(SUM(%s) AS BIGINT), ", c)
	}
	sums.WriteString("MAX(latency_max)")
	for i := range NBuckets {
		fmt.Fprintf(&sums, ", CAST(SUM(h%02d) AS BIGINT)", i)
	}
	rows, err := db.QueryContext(ctx, `SELECT channel, dialect, service, `+sums.String()+` FROM stats_minute
		WHERE minute >= $1 AND minute < $2 GROUP BY channel, dialect, service`, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	defer rows.Close()
	out := map[Channel]*dayAcc{}
	for _, ch := range Channels {
		out[ch] = newDayAcc()
	}
	for rows.Next() {
		var ch, dialect, service string
		var a agg
		dest := []any{&ch, &dialect, &service, &a.calls, &a.served, &a.refused, &a.failed, &a.timeouts, &a.planned, &a.sum, &a.max}
		for i := range a.h {
			dest = append(dest, &a.h[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read statistics: %w", err)
		}
		d := out[Channel(ch)]
		if d == nil {
			continue
		}
		d.all.add(&a)
		accOf(d.services, service).add(&a)
		if dialect != "" {
			accOf(d.dialects, dialect).add(&a)
		}
	}
	return out, rows.Err()
}

func figures(a *agg) Figures {
	f := Figures{Calls: a.calls, Served: a.served, Refused: a.refused, Failed: a.failed, Timeouts: a.timeouts, Planned: a.planned}
	if n := a.calls - a.planned; n > 0 {
		f.ErrorRatePct = round(100*float64(a.failed)/float64(n), 4)
	}
	var n int64
	for _, h := range a.h {
		n += h
	}
	if n > 0 {
		mean := round(float64(a.sum)/float64(n)/1000, 3)
		f.MeanMS = &mean
		f.P50MS, f.P95MS, f.P99MS = percentile(a, n, 0.50), percentile(a, n, 0.95), percentile(a, n, 0.99)
	}
	return f
}

// percentile is the upper bound of the histogram bucket that holds the
// p-th of n latencies, at most the slowest one seen (so: "p of the calls
// took at most this").
func percentile(a *agg, n int64, p float64) *float64 {
	rank := int64(math.Ceil(p * float64(n)))
	var cum int64
	maxMS := float64(a.max) / 1000
	for i, h := range a.h {
		cum += h
		if cum >= rank {
			v := maxMS
			if i < len(Bounds) {
				v = min(float64(Bounds[i].Microseconds())/1000, maxMS)
			}
			v = round(v, 3)
			return &v
		}
	}
	v := round(maxMS, 3)
	return &v
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// union merges overlapping intervals.
func union(in []Interval) []Interval {
	if len(in) == 0 {
		return nil
	}
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	out := []Interval{s[0]}
	for _, iv := range s[1:] {
		last := &out[len(out)-1]
		if !iv.Start.After(last.End) {
			if iv.End.After(last.End) {
				last.End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// subtract removes the (merged) intervals b from the (merged) intervals a.
func subtract(a, b []Interval) []Interval {
	var out []Interval
	for _, iv := range a {
		parts := []Interval{iv}
		for _, cut := range b {
			var next []Interval
			for _, p := range parts {
				if !cut.Start.Before(p.End) || !cut.End.After(p.Start) {
					next = append(next, p)
					continue
				}
				if cut.Start.After(p.Start) {
					next = append(next, Interval{p.Start, cut.Start})
				}
				if cut.End.Before(p.End) {
					next = append(next, Interval{cut.End, p.End})
				}
			}
			parts = next
		}
		out = append(out, parts...)
	}
	return out
}

func clip(in []Interval, span Interval) []Interval {
	var out []Interval
	for _, iv := range in {
		s, e := iv.Start, iv.End
		if s.Before(span.Start) {
			s = span.Start
		}
		if e.After(span.End) {
			e = span.End
		}
		if e.After(s) {
			out = append(out, Interval{s, e})
		}
	}
	return out
}

func total(in []Interval) time.Duration {
	var d time.Duration
	for _, iv := range in {
		d += iv.End.Sub(iv.Start)
	}
	return d
}

// CSVColumns are the CSV file's columns, documented in docs/statistics.md.
func CSVColumns() []string {
	cols := []string{"date", "interface", "seconds", "uptime_pct", "planned_downtime_s", "unplanned_downtime_s", "downtimes",
		"calls", "served", "refused", "failed", "timeouts", "planned_calls", "error_rate_pct", "mean_ms", "p50_ms", "p95_ms", "p99_ms"}
	for _, s := range csvServices {
		p := strings.ToLower(s)
		cols = append(cols, p+"_calls", p+"_failed", p+"_error_rate_pct", p+"_mean_ms", p+"_p95_ms", p+"_p99_ms")
	}
	return cols
}

// WriteCSV writes one line per day and interface (no totals).
func (rep Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVColumns())
	for _, r := range rep.Days {
		cw.Write(r.csv())
	}
	cw.Flush()
	return cw.Error()
}

func (r Row) csv() []string {
	rec := []string{r.Date, r.Interface, num(r.Seconds), num(r.UptimePct), num(r.PlannedDowntimeS), num(r.UnplannedDowntimeS),
		strconv.Itoa(r.Downtimes), itoa(r.Calls), itoa(r.Served), itoa(r.Refused), itoa(r.Failed), itoa(r.Timeouts), itoa(r.Planned),
		num(r.ErrorRatePct), opt(r.MeanMS), opt(r.P50MS), opt(r.P95MS), opt(r.P99MS)}
	for _, s := range csvServices {
		f, ok := r.Services[s]
		if !ok {
			rec = append(rec, "", "", "", "", "", "")
			continue
		}
		rec = append(rec, itoa(f.Calls), itoa(f.Failed), num(f.ErrorRatePct), opt(f.MeanMS), opt(f.P95MS), opt(f.P99MS))
	}
	return rec
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func opt(v *float64) string {
	if v == nil {
		return ""
	}
	return num(*v)
}

// WriteJSON writes the whole report, totals included.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// FileName is the base name of a quarter's files: psd2bank-stats-2026Q4.
func FileName(q Quarter) string { return "psd2bank-stats-" + q.String() }
