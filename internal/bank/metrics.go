package bank

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/store"
)

// The gauges of what is in the database, read on every scrape.
const (
	MetricPayments = "psd2bank_payments"
	MetricConsents = "psd2bank_consents"
)

var (
	paymentsDesc = prometheus.NewDesc(MetricPayments,
		"Payments in the database by status (submitted, scheduled, pending, done, rejected, cancelled); the same on every node.",
		[]string{"status"}, nil)
	consentsDesc = prometheus.NewDesc(MetricConsents,
		"Consents in the database by state (received, authorised, expired, rejected, revoked_by_psu, revoked_by_tpp; an authorised consent past its validity counts as expired); the same on every node.",
		[]string{"state"}, nil)
)

// stateCollector reports payments by status and consents by state as
// gauges counted in the database when Prometheus scrapes, so that every
// node of a bank sharing one database reports the same figures (counters
// of transitions are per node: obs.MetricPaymentStatuses). A failed count
// is logged and left out of the scrape; the rest of it is served.
type stateCollector struct {
	db    *store.DB
	clock clock.Clock
	log   *slog.Logger
}

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- paymentsDesc
	ch <- consentsDesc
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.count(ctx, ch, paymentsDesc, `SELECT status, COUNT(*) FROM payments GROUP BY status`)
	c.count(ctx, ch, consentsDesc, `SELECT CASE WHEN status = 'authorised' AND expires_at <= $1 THEN 'expired' ELSE status END,
		COUNT(*) FROM consents GROUP BY 1`, c.clock.Now().UnixMicro())
}

func (c stateCollector) count(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc, q string, args ...any) {
	rows, err := c.db.QueryContext(ctx, q, args...)
	if err != nil {
		c.log.Error("metrics: counting in the database failed", "metric", desc.String(), "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var label string
		var n int64
		if err := rows.Scan(&label, &n); err != nil {
			c.log.Error("metrics: counting in the database failed", "err", err)
			return
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), label)
	}
	if err := rows.Err(); err != nil {
		c.log.Error("metrics: counting in the database failed", "err", err)
	}
}
