package payment

import (
	"context"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// Report says what a RunDue pass did.
type Report struct {
	Settled     int // pending payments booked after their clearing
	Executed    int // scheduled payments whose day came and that went out or were booked
	Rejected    int // scheduled payments rejected on their day (no funds)
	Recovered   int // payments left submitted by an interrupted Initiate, set going again
	Occurrences int // occurrences of recurring payments created
	Errors      []error
}

// staleSubmitted is how long a payment may stay submitted before RunDue
// takes it for an interrupted Initiate and sets it going itself.
const staleSubmitted = time.Minute

// batch bounds the payments one pass handles per step.
const batch = 500

// RunDue moves payments along as the clock goes: it creates the occurrences
// of recurring payments that are due, executes scheduled payments whose day
// has come, settles pending payments whose clearing has come, and recovers
// payments an interrupted Initiate left submitted. It is idempotent and safe
// to run on several nodes at once: every step is a compare-and-set, in the
// ledger and here. Errors of single payments are collected in the report;
// the returned error is for the pass as a whole.
func (s *Service) RunDue(ctx context.Context) (Report, error) {
	var r Report
	now := s.clock.Now()
	today := dateOf(now)

	if err := s.runRecurring(ctx, &r, today); err != nil {
		return r, err
	}

	stale, err := s.list(ctx, staleList, micros(now.Add(-staleSubmitted)), batch)
	if err != nil {
		return r, err
	}
	for _, p := range stale {
		if _, err := s.execute(ctx, p); err != nil && CodeOf(err) != CodeInsufficientFunds {
			r.Errors = append(r.Errors, err)
			continue
		}
		r.Recovered++
	}

	scheduled, err := s.list(ctx, scheduledList, today, batch)
	if err != nil {
		return r, err
	}
	for _, p := range scheduled {
		q, moved, err := s.executeScheduled(ctx, p)
		switch {
		case err != nil:
			r.Errors = append(r.Errors, err)
		case !moved:
		case q.Status == StatusRejected:
			r.Rejected++
		default:
			r.Executed++
		}
	}

	// Pending payments, including those just executed above.
	now = s.clock.Now()
	pending, err := s.list(ctx, pendingList, micros(now), batch)
	if err != nil {
		return r, err
	}
	for _, p := range pending {
		q, moved, err := s.settle(ctx, p)
		if err != nil {
			r.Errors = append(r.Errors, err)
			continue
		}
		if moved && q.Status == StatusDone {
			r.Settled++
		}
	}
	return r, nil
}

// executeScheduled runs a scheduled payment on its day: the ledger books it
// (an outgoing one is then pending until its clearing) or rejects it for
// lack of funds. moved is false when another node got there first.
func (s *Service) executeScheduled(ctx context.Context, p Payment) (Payment, bool, error) {
	t, err := s.ledger.Execute(ctx, p.ID)
	if ledger.CodeOf(err) == ledger.CodeConflict {
		t, err = s.ledger.GetTransfer(ctx, p.ID)
	}
	if err != nil {
		return p, false, fmt.Errorf("execute payment %s: %w", p.ID, err)
	}
	switch t.Status {
	case ledger.StatusBooked:
		if p.System == SystemInternal {
			return s.transition(ctx, p.ID, StatusScheduled, StatusDone, "booked on "+t.BookingDate, nil)
		}
		// The money has left the account; the payment goes out in the next
		// clearing and can no longer be cancelled.
		_, _, settle := clearing(p, s.clock.Now())
		return s.transition(ctx, p.ID, StatusScheduled, StatusPending, pendingReason(p.System, settle), func(q *Payment) {
			q.CutoffAt, q.SettleAt = time.Time{}, settle
		})
	case ledger.StatusRejected:
		return s.transition(ctx, p.ID, StatusScheduled, StatusRejected, t.StatusReason, nil)
	case ledger.StatusCancelled:
		return s.transition(ctx, p.ID, StatusScheduled, StatusCancelled, t.StatusReason, nil)
	}
	return p, false, nil
}

// Cancel cancels a payment at the request of by (the PSU, the TPP, the bank)
// for reason. Only a scheduled payment, or a pending one before the cut-off
// of its clearing session, can be cancelled; what it held is released.
// Cancelling a cancelled payment returns it unchanged. Other payments are
// refused with CodeNotCancellable and the reason.
func (s *Service) Cancel(ctx context.Context, id, by, reason string) (Payment, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return Payment{}, err
	}
	why := "cancelled by " + by
	if reason != "" {
		why += ": " + reason
	}
	now := s.clock.Now()
	switch p.Status {
	case StatusCancelled:
		return p, nil
	case StatusScheduled:
	case StatusPending:
		if p.CutoffAt.IsZero() || now.After(p.CutoffAt) {
			if p.CutoffAt.IsZero() {
				return p, errorf(CodeNotCancellable, "paymentId", "the payment has already been sent to %s and can no longer be cancelled",
					"płatność została już wysłana do %s i nie można jej anulować", p.System)
			}
			at := p.CutoffAt.In(polish.Warsaw).Format("2006-01-02 15:04")
			return p, errorf(CodeNotCancellable, "paymentId", "the payment was sent to %s at the cut-off of %s and can no longer be cancelled",
				"płatność została wysłana do %s o godzinie granicznej %s i nie można jej już anulować", p.System, at)
		}
	case StatusDone:
		return p, newError(CodeNotCancellable, "paymentId", "the payment is done (booked) and can no longer be cancelled",
			"płatność została zrealizowana i nie można jej anulować")
	case StatusRejected:
		return p, newError(CodeNotCancellable, "paymentId", "the payment was rejected: there is nothing to cancel",
			"płatność została odrzucona: nie ma czego anulować")
	default:
		return p, newError(CodeNotCancellable, "paymentId", "the payment is still being accepted; try again in a moment",
			"płatność jest jeszcze przyjmowana; spróbuj ponownie za chwilę")
	}
	t, err := s.ledger.Cancel(ctx, id, why)
	if ledger.CodeOf(err) == ledger.CodeConflict {
		// It moved on meanwhile: report what it is now.
		if t, gerr := s.ledger.GetTransfer(ctx, id); gerr == nil {
			if q, merr := s.mirror(ctx, p, t); merr == nil && q.Status != StatusCancelled {
				return q, errorf(CodeNotCancellable, "paymentId", "the payment is %s and can no longer be cancelled",
					"płatność ma status %s i nie można jej już anulować", q.Status)
			}
		}
	}
	if err != nil {
		return p, err
	}
	return s.mirror(ctx, p, t)
}

// RunDue's three lists of payments, each with its bound and its batch size
// as $1 and $2. The statuses are literals: each list reads the partial
// index of its status (migration 29), which a parameter would not select
// (TestDueListsReadPartialIndexes).
const (
	staleList     = `status = 'submitted' AND created_at <= $1 ORDER BY created_at, id LIMIT $2`
	scheduledList = `status = 'scheduled' AND execution_date <= $1 ORDER BY execution_date, id LIMIT $2`
	pendingList   = `status = 'pending' AND settle_at <= $1 ORDER BY settle_at, id LIMIT $2`
)
