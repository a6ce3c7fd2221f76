package obs

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// The metric names (the Grafana dashboard in docs/ uses them; a test
// checks that every name it queries is registered).
const (
	MetricAPIRequests     = "psd2bank_api_requests_total"
	MetricAPIRefusals     = "psd2bank_api_refusals_total"
	MetricAPISeconds      = "psd2bank_api_request_seconds"
	MetricLogins          = "psd2bank_logins_total"
	MetricSMSSent         = "psd2bank_sms_sent_total"
	MetricPaymentStatuses = "psd2bank_payment_status_changes_total"
	MetricBackOffice      = "psd2bank_backoffice_actions_total"
	MetricClockMoves      = "psd2bank_sandbox_clock_moves_total"
)

// Metrics are the counters and histograms of the events. Counters are per
// node (Prometheus sums them across nodes); the gauges of what is in the
// database (payments by status, consents by state) are read from the
// database on every scrape by the bank's collector, so every node reports
// the same figures.
type Metrics struct {
	requests  *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	smsSent   *prometheus.CounterVec
	payments  *prometheus.CounterVec
	staffActs *prometheus.CounterVec
	clock     prometheus.Counter
}

// NewMetrics makes the metrics; register Collectors with a registry.
func NewMetrics() *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricAPIRequests,
			Help: "TPP API calls by dialect, operation and HTTP status class (2xx, 4xx, 5xx)."},
			[]string{"dialect", "operation", "class"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricAPIRefusals,
			Help: "TPP API calls refused, by dialect, operation and the refusal's stable code."},
			[]string{"dialect", "operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricAPISeconds,
			Help:    "Time the bank took to answer a TPP API call, by dialect and operation.",
			Buckets: []float64{.0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}},
			[]string{"dialect", "operation"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricLogins,
			Help: "Log-in attempts by realm (customer, developer, staff) and outcome (ok, failed, locked, refused)."},
			[]string{"realm", "outcome"}),
		smsSent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricSMSSent,
			Help: "SMS codes sent to customers, by purpose."}, []string{"purpose"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricPaymentStatuses,
			Help: "Payments entering a status (an initiated payment enters its first), by status."}, []string{"status"}),
		staffActs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricBackOffice,
			Help: "Back-office actions (POSTs of the staff), by route."}, []string{"action"}),
		clock: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricClockMoves,
			Help: "Moves of the sandbox clock."}),
	}
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.refusals, m.latency, m.logins, m.smsSent, m.payments, m.staffActs, m.clock}
}

func (m *Metrics) api(c APICall) {
	if m == nil {
		return
	}
	d, op := Label(c.Dialect), Label(c.Operation)
	m.requests.WithLabelValues(d, op, statusClass(c.Status)).Inc()
	if c.Code != "" {
		m.refusals.WithLabelValues(d, op, Label(c.Code)).Inc()
	}
	m.latency.WithLabelValues(d, op).Observe(c.Duration.Seconds())
}

// statusClass is 2xx, 4xx, 5xx... without allocating.
func statusClass(status int) string {
	if status >= 100 && status < 600 {
		return classes[status/100]
	}
	return strconv.Itoa(status)
}

var classes = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

func (m *Metrics) login(realm, outcome string) {
	if m != nil {
		m.logins.WithLabelValues(Label(realm), Label(outcome)).Inc()
	}
}

func (m *Metrics) sms(purpose string) {
	if m != nil {
		m.smsSent.WithLabelValues(Label(purpose)).Inc()
	}
}

func (m *Metrics) payment(status string) {
	if m != nil {
		m.payments.WithLabelValues(Label(status)).Inc()
	}
}

func (m *Metrics) backOffice(action string) {
	if m != nil {
		m.staffActs.WithLabelValues(Label(action)).Inc()
	}
}

func (m *Metrics) clockMoved() {
	if m != nil {
		m.clock.Inc()
	}
}
