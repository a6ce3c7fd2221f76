package sandbox

import (
	"context"
	"time"

	"github.com/psd2bank/psd2bank/internal/payment"
)

// runPayments executes what is due — Elixir sessions that cleared,
// future-dated and recurring payments — as the sandbox clock says. It runs
// every few seconds and at once whenever the clock is moved.
func (b *Bank) runPayments(ctx context.Context) {
	rep, err := b.Payments.RunDue(ctx)
	if err != nil {
		b.log.Error("payments run", "err", err)
		return
	}
	b.kickCallbacks() // tell the TPPs what changed
	if rep.Settled+rep.Executed+rep.Rejected+rep.Occurrences > 0 {
		b.log.Info("payments run", "settled", rep.Settled, "executed", rep.Executed, "rejected", rep.Rejected,
			"occurrences", rep.Occurrences, "now", b.Clock.Now().UTC().Format(time.RFC3339))
	}
}

// paymentsLoop runs due payments, and delivers the callbacks of status
// changes (callbacks.go), until ctx ends.
func (b *Bank) paymentsLoop(ctx context.Context, every time.Duration) {
	go b.callbacksLoop(ctx, every)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.runPayments(ctx)
		}
	}
}

func newPayments(b *Bank) *payment.Service {
	return payment.New(payment.Config{DB: b.DB, Ledger: b.Ledger, Clock: b.Clock, Log: b.log})
}
