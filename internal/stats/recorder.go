// Package stats measures the bank's two interfaces — the dedicated
// interface (the TPP API: channel "api") and the customer interface
// (internet banking and the consent pages: channel "web") — as the EBA RTS
// on SCA and CSC (Arts. 32-33) and Guidelines EBA/GL/2018/07 ask, and
// publishes the quarterly statistics.
//
// A Recorder wraps each listener's handler (Middleware). Every call is
// timed from its arrival to the end of its response and classified:
// served; refused for the TPP's (or the customer's) fault (4xx, and 501 for
// an operation the bank does not offer); failed for the bank's fault (5xx,
// or no answer within 30 s: a timeout); or planned (answered 503 during a
// planned outage). The API's gateway labels each call with its dialect and
// service (Label); web calls are labelled by path (IB or CONSENT).
//
// Counts are kept in memory per minute, channel, dialect and service, with
// a fixed latency histogram (Bounds), and flushed every few seconds in one
// INSERT ... ON CONFLICT DO UPDATE that adds them to stats_minute: any
// number of nodes add into the same rows. A crash loses at most the counts
// of the last flush interval (5 s by default); a graceful stop flushes.
//
// Downtime follows the guidelines: a channel is down when five consecutive
// requests (in order of arrival) get no answer within 30 s — a request
// unanswered after 30 s, or answered with the bank's failure (5xx) —
// counted from the arrival of the first of them, until the next request
// answered in time. Each node watches the requests it serves (the only raw
// detail kept: the requests of the last 30 s, in memory), logs at error
// level when its channel goes down and comes back, exposes
// psd2bank_interface_down, and writes the interval to stats_downtime, where
// the statistics and the back office's banner read the union over nodes.
package stats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Channel is one of the bank's interfaces.
type Channel string

const (
	// API is the dedicated interface: the TPP API, every dialect.
	API Channel = "api"
	// Web is the customer interface: internet banking and consent pages.
	Web Channel = "web"
)

// Channels are the measured channels, dedicated interface first.
var Channels = []Channel{API, Web}

// Services of the customer interface (the API's services are the gateway's:
// AIS, PIS, CAF, AS, REGISTER).
const (
	ServiceIB      = "IB"      // internet banking: /ib/...
	ServiceConsent = "CONSENT" // the consent pages: /authorize/...
	ServiceOther   = "OTHER"   // an API call no operation took (unknown path)
)

// The downtime rule of EBA/GL/2018/07 2.4: five consecutive requests not
// answered within 30 seconds.
const (
	AnswerWithin = 30 * time.Second
	DownAfter    = 5
)

// Bounds are the upper bounds of the latency histogram's buckets; a 24th
// bucket holds what is slower than the last. Fixed, so that histograms of
// any minutes and nodes add up.
var Bounds = [...]time.Duration{
	1 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 5 * time.Millisecond,
	7500 * time.Microsecond, 10 * time.Millisecond, 15 * time.Millisecond, 20 * time.Millisecond,
	30 * time.Millisecond, 50 * time.Millisecond, 75 * time.Millisecond, 100 * time.Millisecond,
	150 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond,
	750 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// NBuckets is the number of histogram buckets (columns h00..h22).
const NBuckets = len(Bounds) + 1

func bucketOf(d time.Duration) int {
	for i, b := range Bounds {
		if d <= b {
			return i
		}
	}
	return len(Bounds)
}

// Outcome is what became of a call.
type Outcome int

const (
	Served  Outcome = iota
	Refused         // the caller's fault
	Failed          // the bank's fault
	Planned         // answered 503 during a planned outage
)

// OutcomeOf classifies an HTTP status: 5xx is the bank's failure except 501
// (an operation the bank does not offer, asked for by the caller); 4xx is
// the caller's fault.
func OutcomeOf(status int) Outcome {
	switch {
	case status == http.StatusNotImplemented:
		return Refused
	case status >= 500:
		return Failed
	case status >= 400:
		return Refused
	default:
		return Served
	}
}

// Config configures a Recorder.
type Config struct {
	DB *store.DB
	// Clock is the bank's time: the minute a call belongs to, downtime
	// instants, planned outages. Default: the system clock.
	Clock clock.Clock
	// Stopwatch measures latency and the 30 s rule; default the system
	// clock (its monotonic reading). Tests give both the same fixed clock.
	Stopwatch clock.Clock
	Log       *slog.Logger
	// Node names this process in stats_downtime; default random.
	Node string
	// FlushEvery is how often counts are written; default 5 s.
	FlushEvery time.Duration
}

// Recorder measures calls. It is safe for concurrent use.
type Recorder struct {
	db         *store.DB
	clock      clock.Clock
	watch      clock.Clock
	log        *slog.Logger
	node       string
	flushEvery time.Duration
	maint      *Maintenance

	channels map[Channel]*channelState

	down      *prometheus.GaugeVec
	downtimes *prometheus.CounterVec
	flushErrs prometheus.Counter

	flushMu sync.Mutex // one flush at a time
}

// New returns a recorder; run Run to flush.
func New(cfg Config) *Recorder {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Stopwatch == nil {
		cfg.Stopwatch = clock.System{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Node == "" {
		b := make([]byte, 6)
		rand.Read(b)
		cfg.Node = hex.EncodeToString(b)
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 5 * time.Second
	}
	r := &Recorder{db: cfg.DB, clock: cfg.Clock, watch: cfg.Stopwatch, log: cfg.Log, node: cfg.Node,
		flushEvery: cfg.FlushEvery, channels: map[Channel]*channelState{},
		down: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "psd2bank_interface_down",
			Help: "1 while the channel is down by the EBA rule (five consecutive requests unanswered within 30 s), as this node sees it."}, []string{"channel"}),
		downtimes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "psd2bank_interface_downtimes_total",
			Help: "Downtimes this node has seen start, by channel."}, []string{"channel"}),
		flushErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "psd2bank_stats_flush_errors_total",
			Help: "Failed writes of the interface statistics (the counts are kept for the next flush)."}),
	}
	r.maint = NewMaintenance(cfg.DB, cfg.Clock)
	for _, ch := range Channels {
		r.channels[ch] = &channelState{ch: ch, agg: map[aggKey]*agg{}}
		r.down.WithLabelValues(string(ch)).Set(0)
	}
	return r
}

// Maintenance is the recorder's view of planned outages.
func (r *Recorder) Maintenance() *Maintenance { return r.maint }

// Collectors are the recorder's Prometheus metrics.
func (r *Recorder) Collectors() []prometheus.Collector {
	if r == nil {
		return nil
	}
	return []prometheus.Collector{r.down, r.downtimes, r.flushErrs}
}

// Node is the name this process writes downtime under.
func (r *Recorder) Node() string { return r.node }

type aggKey struct {
	minute           int64 // Unix microseconds of the minute's start
	dialect, service string
}

type agg struct {
	calls, served, refused, failed, timeouts, planned int64
	sum, max                                          int64 // latency, µs
	h                                                 [NBuckets]int64
}

func (a *agg) add(b *agg) {
	a.calls += b.calls
	a.served += b.served
	a.refused += b.refused
	a.failed += b.failed
	a.timeouts += b.timeouts
	a.planned += b.planned
	a.sum += b.sum
	if b.max > a.max {
		a.max = b.max
	}
	for i := range a.h {
		a.h[i] += b.h[i]
	}
}

func (a *agg) latency(d time.Duration) {
	us := d.Microseconds()
	a.sum += us
	if us > a.max {
		a.max = us
	}
	a.h[bucketOf(d)]++
}

type callState uint8

const (
	pending callState = iota
	answered
	unanswered
)

type label struct{ dialect, service string }

// Call is one request being measured.
type Call struct {
	ch      *channelState
	at      time.Time // the bank's time at arrival
	t0      time.Time // the stopwatch at arrival
	planned bool
	until   time.Time // the planned outage's end
	label   atomic.Pointer[label]
	// guarded by ch.mu
	state   callState
	counted bool // counted by the sweep, as a timeout
	end     time.Time
}

type downEvent struct {
	id       string
	start    bool
	at       time.Time // started_at or ended_at
	requests int
}

type channelState struct {
	ch Channel
	mu sync.Mutex
	// counts not yet flushed
	agg map[aggKey]*agg
	// the calls in order of arrival, from head; resolved calls leave from
	// the front as soon as every earlier one is resolved
	queue []*Call
	head  int
	// the downtime rule
	run       int
	runFirst  time.Time
	isDown    bool
	downID    string
	downSince time.Time
	events    []downEvent
}

type callKey struct{}

// Label names the dialect and the service of the API call measured in ctx
// (the gateway calls it once per call); without a call in ctx it does
// nothing. The dialect is the dialect's name ("polishapi", "mbank",
// "berlingroup", ...).
func Label(ctx context.Context, dialect, service string) {
	if c, ok := ctx.Value(callKey{}).(*Call); ok {
		c.label.Store(&label{dialect: dialect, service: service})
	}
}

// WithCall returns ctx carrying the call being measured (Middleware does
// it; Label and Outage read it).
func WithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// Outage tells whether the call in ctx arrived during a planned outage of
// its channel, and when the outage ends.
func Outage(ctx context.Context) (until time.Time, ok bool) {
	if c, ok := ctx.Value(callKey{}).(*Call); ok && c.planned {
		return c.until, true
	}
	return time.Time{}, false
}

// Begin starts measuring a call on a channel.
func (r *Recorder) Begin(ch Channel) *Call {
	cs := r.channels[ch]
	c := &Call{ch: cs, at: r.clock.Now(), t0: r.watch.Now()}
	if w, ok := r.maint.Active(ch, c.at); ok {
		c.planned, c.until = true, w.End
		return c
	}
	cs.mu.Lock()
	cs.queue = append(cs.queue, c)
	cs.mu.Unlock()
	return c
}

// End finishes measuring a call answered with status.
func (r *Recorder) End(c *Call, status int) {
	elapsed := r.watch.Now().Sub(c.t0)
	end := r.clock.Now()
	cs := c.ch
	k := r.aggOf(c)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	a := cs.aggFor(k)
	if c.planned {
		a.calls++
		a.planned++
		return
	}
	if c.counted { // already counted as a timeout: only its latency is new
		a.latency(elapsed)
		return
	}
	a.calls++
	a.latency(elapsed)
	outcome := OutcomeOf(status)
	switch {
	case elapsed > AnswerWithin:
		a.failed++
		a.timeouts++
		c.state = unanswered
	case outcome == Failed:
		a.failed++
		c.state = unanswered
	case outcome == Refused:
		a.refused++
		c.state = answered
	default:
		a.served++
		c.state = answered
	}
	c.end = end
	r.drain(cs)
}

// aggOf is the key of a call's counts (computed outside the lock).
func (r *Recorder) aggOf(c *Call) aggKey {
	k := aggKey{minute: c.at.Truncate(time.Minute).UnixMicro(), service: ServiceOther}
	if l := c.label.Load(); l != nil {
		k.dialect, k.service = l.dialect, l.service
	}
	return k
}

func (cs *channelState) aggFor(k aggKey) *agg {
	a := cs.agg[k]
	if a == nil {
		a = &agg{}
		cs.agg[k] = a
	}
	return a
}

// Sweep counts the calls that have waited longer than 30 s without an
// answer as unanswered (failed, timeout); Run calls it every second.
func (r *Recorder) Sweep() {
	now := r.watch.Now()
	for _, ch := range Channels {
		cs := r.channels[ch]
		cs.mu.Lock()
		for i := cs.head; i < len(cs.queue); i++ {
			c := cs.queue[i]
			if now.Sub(c.t0) <= AnswerWithin {
				break
			}
			if c.state != pending {
				continue
			}
			a := cs.aggFor(r.aggOf(c))
			a.calls++
			a.failed++
			a.timeouts++
			c.state, c.counted = unanswered, true
		}
		r.drain(cs)
		cs.mu.Unlock()
	}
}

// drain applies the downtime rule to the resolved calls at the front of
// the queue, in order of arrival. cs.mu is held.
func (r *Recorder) drain(cs *channelState) {
	for cs.head < len(cs.queue) {
		c := cs.queue[cs.head]
		if c.state == pending {
			break
		}
		cs.queue[cs.head] = nil
		cs.head++
		if c.state == answered {
			if cs.isDown {
				r.log.Error("interface is up again", "channel", cs.ch, "down_since", cs.downSince, "up_at", c.end,
					"downtime", c.end.Sub(cs.downSince).String())
				cs.events = append(cs.events, downEvent{id: cs.downID, at: c.end})
				cs.isDown = false
				r.down.WithLabelValues(string(cs.ch)).Set(0)
			}
			cs.run = 0
			continue
		}
		if cs.run == 0 {
			cs.runFirst = c.at
		}
		cs.run++
		if cs.run >= DownAfter && !cs.isDown {
			cs.isDown, cs.downSince, cs.downID = true, cs.runFirst, newID()
			r.log.Error("interface is down: five consecutive requests got no answer within 30 s", "channel", cs.ch,
				"since", cs.downSince, "node", r.node)
			cs.events = append(cs.events, downEvent{id: cs.downID, start: true, at: cs.downSince, requests: cs.run})
			r.down.WithLabelValues(string(cs.ch)).Set(1)
			r.downtimes.WithLabelValues(string(cs.ch)).Inc()
		}
	}
	if cs.head == len(cs.queue) {
		cs.queue, cs.head = cs.queue[:0], 0
	} else if cs.head > 1024 && cs.head*2 > len(cs.queue) {
		n := copy(cs.queue, cs.queue[cs.head:])
		clear(cs.queue[n:])
		cs.queue, cs.head = cs.queue[:n], 0
	}
}

// Down tells whether this node sees a channel down, and since when.
func (r *Recorder) Down(ch Channel) (since time.Time, down bool) {
	cs := r.channels[ch]
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.downSince, cs.isDown
}

// Middleware measures every call of a listener. On the web channel only the
// customer interface is measured — internet banking (/ib) and the consent
// pages (/authorize) — and a planned outage of the web channel answers
// them 503 with Retry-After; other pages pass unmeasured. On the API channel
// every call is measured and the gateway labels it (Label) and answers a
// planned outage in the dialect's format (Outage). A nil recorder measures
// nothing.
func (r *Recorder) Middleware(ch Channel, next http.Handler) http.Handler {
	if r == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var webService string
		if ch == Web {
			if webService = customerService(req.URL.Path); webService == "" {
				next.ServeHTTP(w, req)
				return
			}
		}
		c := r.Begin(ch)
		if webService != "" {
			c.label.Store(&label{service: webService})
			if c.planned {
				writeOutagePage(w, req, c.until, r.clock.Now())
				r.End(c, http.StatusServiceUnavailable)
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				r.End(c, http.StatusInternalServerError)
				panic(p)
			}
		}()
		next.ServeHTTP(sw, req.WithContext(WithCall(req.Context(), c)))
		r.End(c, sw.status)
	})
}

// customerService names the customer-interface service of a web path, or
// "" for pages that are not the customer's (portal, back office, tools,
// static assets).
func customerService(path string) string {
	if strings.Contains(path, "/assets/") {
		return ""
	}
	switch {
	case path == "/ib" || strings.HasPrefix(path, "/ib/"):
		return ServiceIB
	case strings.HasPrefix(path, "/authorize/"):
		return ServiceConsent
	}
	return ""
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Run flushes the counts every FlushEvery, applies the 30 s rule every
// second and reloads the planned outages, until ctx ends; then it flushes
// once more.
func (r *Recorder) Run(ctx context.Context) {
	if err := r.maint.Refresh(ctx); err != nil {
		r.log.Error("stats: planned outages", "err", err)
	}
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	flush := time.NewTicker(r.flushEvery)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r.Sweep()
			if err := r.Flush(fctx); err != nil {
				r.log.Error("stats: last flush", "err", err)
			}
			cancel()
			return
		case <-sweep.C:
			r.Sweep()
		case <-flush.C:
			if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("stats: flush", "err", err)
			}
			if err := r.maint.Refresh(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("stats: planned outages", "err", err)
			}
		}
	}
}

// Start runs Run in the background; stop ends it and waits for its last
// flush (call it before closing the database).
func (r *Recorder) Start(ctx context.Context) (stop func()) {
	if r == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
