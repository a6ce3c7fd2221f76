package payment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/callback"
)

// Callback is a rendered notification: the body POSTed to the TPP's callback
// URL and the headers sent with it (the signature among them).
type Callback struct {
	Body   []byte
	Header http.Header
}

// NotifierConfig configures a Notifier.
type NotifierConfig struct {
	Payments *Service
	// Render turns a notification of payment p (as it is now) into the
	// request sent; the dialect's shape and the bank's seal live there.
	Render func(ctx context.Context, n Notification, p Payment) (Callback, error)
	// Policy is where callbacks may go (callback.Strict by default:
	// https, public addresses only, checked again when connecting).
	Policy callback.Policy
	// Client sends the callbacks; by default Policy.Client(): a short
	// timeout, no redirect followed, non-public addresses refused.
	Client *http.Client
	// MaxAttempts bounds the deliveries of one notification (default 6):
	// after the last failed one the notification is given up.
	MaxAttempts int
	// Backoff is the wait after the first failure (default 2 s); it doubles
	// after each further failure, up to MaxBackoff (default 10 min).
	Backoff, MaxBackoff time.Duration
	// Batch is how many notifications one Run looks at (default 100), and
	// Parallel how many payments' notifications are sent at once (default 8).
	Batch, Parallel int
	// Now is the time retries are scheduled by: the wall clock by default
	// (a TPP's outage is real time, whatever the sandbox clock says).
	Now func() time.Time
	Log *slog.Logger
}

// Notifier delivers the outbox of status changes (payment_notifications) to
// the TPPs' callback URLs: each notification is POSTed once it is delivered
// (a 2xx answer) it is marked notified; a failure (a network error, an
// answer other than 2xx) is retried with exponential backoff a bounded
// number of times and then given up and logged. The notifications of one
// payment are delivered in the order they happened: a later one waits until
// the earlier ones are delivered or given up. Only URLs the Policy allows
// are called (production: https to public addresses, checked again when
// connecting); any other is given up at once.
//
// Delivery is at least once: a TPP that answered but whose answer was lost
// gets the notification again; the body's ids (paymentId and the time of the
// change) let it recognise a duplicate. Run is safe to call concurrently on
// one Notifier (calls are serialised); two nodes draining one outbox may
// both deliver a notification.
type Notifier struct {
	cfg NotifierConfig
	mu  sync.Mutex
}

// NewNotifier returns a Notifier.
func NewNotifier(cfg NotifierConfig) *Notifier {
	if cfg.Client == nil {
		cfg.Client = cfg.Policy.Client()
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg}
}

// NotifyReport says what one Run did.
type NotifyReport struct {
	Delivered int // answered 2xx and marked notified
	Retrying  int // failed, to be tried again later
	GivenUp   int // failed for the last time, or not deliverable at all
}

// Run delivers the notifications that are due: not delivered, not given up,
// and whose next attempt has come.
func (nt *Notifier) Run(ctx context.Context) (NotifyReport, error) {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	now := nt.cfg.Now()
	due, err := nt.due(ctx)
	if err != nil {
		return NotifyReport{}, err
	}
	// One queue per payment, in the order of the changes.
	var order []string
	queues := map[string][]outboxEntry{}
	blocked := map[string]bool{}
	for _, e := range due {
		id := e.PaymentID
		if blocked[id] {
			continue
		}
		if e.nextAt.After(now) {
			blocked[id] = true // an earlier change waits for its retry: so do the later ones
			continue
		}
		if _, ok := queues[id]; !ok {
			order = append(order, id)
		}
		queues[id] = append(queues[id], e)
	}
	var (
		rep  NotifyReport
		mu   sync.Mutex
		wg   sync.WaitGroup
		sem  = make(chan struct{}, nt.cfg.Parallel)
		errs []error
	)
	for _, id := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := nt.deliverQueue(ctx, queues[id])
			mu.Lock()
			defer mu.Unlock()
			rep.Delivered += r.Delivered
			rep.Retrying += r.Retrying
			rep.GivenUp += r.GivenUp
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return rep, errors.Join(errs...)
}

// deliverQueue delivers one payment's notifications in order, stopping at
// the first that must be retried.
func (nt *Notifier) deliverQueue(ctx context.Context, q []outboxEntry) (NotifyReport, error) {
	var rep NotifyReport
	for _, e := range q {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		err := nt.deliver(ctx, e)
		if err == nil {
			if err := nt.cfg.Payments.MarkNotified(ctx, e.ID); err != nil {
				return rep, fmt.Errorf("notification %s: %w", e.ID, err)
			}
			rep.Delivered++
			continue
		}
		attempts := e.attempts + 1
		var perm *permanentError
		if attempts >= nt.cfg.MaxAttempts || errors.As(err, &perm) {
			nt.cfg.Log.Warn("payment callback given up", "payment", e.PaymentID, "status", e.Status,
				"url", e.CallbackURL, "attempts", attempts, "err", err)
			if err := nt.record(ctx, e.ID, attempts, time.Time{}, nt.cfg.Now(), err); err != nil {
				return rep, err
			}
			rep.GivenUp++
			continue // the later changes are still worth telling
		}
		wait := nt.cfg.Backoff << (attempts - 1)
		if wait > nt.cfg.MaxBackoff || wait <= 0 {
			wait = nt.cfg.MaxBackoff
		}
		nt.cfg.Log.Info("payment callback failed, will retry", "payment", e.PaymentID, "status", e.Status,
			"url", e.CallbackURL, "attempts", attempts, "retry_in", wait, "err", err)
		if err := nt.record(ctx, e.ID, attempts, nt.cfg.Now().Add(wait), time.Time{}, err); err != nil {
			return rep, err
		}
		rep.Retrying++
		return rep, nil
	}
	return rep, nil
}

// permanentError is a failure no retry can mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

func (nt *Notifier) deliver(ctx context.Context, e outboxEntry) error {
	if err := nt.cfg.Policy.CheckSend(e.CallbackURL); err != nil {
		return &permanentError{err}
	}
	p, err := nt.cfg.Payments.Get(ctx, e.PaymentID)
	if err != nil {
		return &permanentError{fmt.Errorf("payment %s: %w", e.PaymentID, err)}
	}
	cb, err := nt.cfg.Render(ctx, e.Notification, p)
	if err != nil {
		return &permanentError{fmt.Errorf("rendering the callback: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.CallbackURL, bytes.NewReader(cb.Body))
	if err != nil {
		return &permanentError{err}
	}
	for k, v := range cb.Header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := nt.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("the callback answered %s", res.Status)
	}
	return nil
}

// outboxEntry is a notification with its delivery state.
type outboxEntry struct {
	Notification
	attempts int
	nextAt   time.Time
}

// due lists the notifications neither delivered nor given up, oldest first
// (ids are UUIDv7: in the order they were queued).
func (nt *Notifier) due(ctx context.Context) ([]outboxEntry, error) {
	rows, err := nt.cfg.Payments.db.QueryContext(ctx, `SELECT id, payment_id, callback_url, status, at, attempts, next_attempt_at
		FROM payment_notifications WHERE notified_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT $1`, nt.cfg.Batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []outboxEntry
	for rows.Next() {
		var e outboxEntry
		var st string
		var at, next int64
		if err := rows.Scan(&e.ID, &e.PaymentID, &e.CallbackURL, &st, &at, &e.attempts, &next); err != nil {
			return nil, err
		}
		e.Status, e.At, e.nextAt = Status(st), fromMicros(at), fromMicros(next)
		out = append(out, e)
	}
	return out, rows.Err()
}

// record notes a failed attempt: when to try again, or that it was given up.
func (nt *Notifier) record(ctx context.Context, id string, attempts int, next, failed time.Time, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	var failedAt any
	if !failed.IsZero() {
		failedAt = micros(failed)
	}
	_, err := nt.cfg.Payments.db.ExecContext(ctx, `UPDATE payment_notifications SET attempts = $1, next_attempt_at = $2,
		failed_at = $3, last_error = $4 WHERE id = $5 AND notified_at IS NULL`,
		attempts, micros(next), failedAt, strings.ToValidUTF8(msg, "?"), id)
	if err != nil {
		return fmt.Errorf("notification %s: %w", id, err)
	}
	return nil
}

// FailedNotifications lists the notifications given up, oldest first, with their last
// error (for the back office and tests).
func (s *Service) FailedNotifications(ctx context.Context) ([]FailedNotification, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, payment_id, callback_url, status, at, attempts, last_error
		FROM payment_notifications WHERE failed_at IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FailedNotification
	for rows.Next() {
		var f FailedNotification
		var st string
		var at int64
		if err := rows.Scan(&f.ID, &f.PaymentID, &f.CallbackURL, &st, &at, &f.Attempts, &f.LastError); err != nil {
			return nil, err
		}
		f.Status, f.At = Status(st), fromMicros(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// FailedNotification is a notification the sender gave up on.
type FailedNotification struct {
	Notification
	Attempts  int
	LastError string
}
