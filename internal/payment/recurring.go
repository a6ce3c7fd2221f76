package payment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// RecurringStatus is the status of a recurring payment
// (recurringPaymentStatus).
type RecurringStatus string

const (
	RecurringSubmitted  RecurringStatus = "submitted"  // no occurrence yet
	RecurringInProgress RecurringStatus = "inProgress" // occurrences are being made
	RecurringCancelled  RecurringStatus = "cancelled"
	RecurringClosed     RecurringStatus = "close" // past its end date
)

// Recurring is a recurring payment: a template order and its schedule.
type Recurring struct {
	ID             string
	TPPID          string
	TPPRecurringID string
	RequestHash    string
	CustomerID     string
	Order          Order // the template of each occurrence
	Recurrence     Recurrence
	NextDate       string // nominal date of the next occurrence, before moving it off a day off
	Occurrences    int
	Status         RecurringStatus
	StatusReason   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// InitiateRecurring sets up a recurring payment from an order with a
// Recurrence; its TPPTransactionID is the TPP's id of the recurring payment
// (tppRecurringPaymentId), under which it is idempotent like Initiate. Each
// occurrence is created as a payment of its own on its date, moved off a day
// off to the business day before or after it as DayOff says, by RunDue (and
// at once here when the first one is due today).
func (s *Service) InitiateRecurring(ctx context.Context, o Order) (Recurring, error) {
	if o.Recurrence == nil {
		return Recurring{}, newError(CodeInvalidRecurrence, "recurrence", "a recurring payment needs its recurrence",
			"płatność cykliczna wymaga parametrów cykliczności")
	}
	if r, err := s.recurringBy(ctx, `tpp_id = $1 AND tpp_recurring_id = $2`, o.TPPID, o.TPPTransactionID); err == nil {
		return sameRecurring(r, o)
	} else if CodeOf(err) != CodeNotFound {
		return Recurring{}, err
	}
	var r Recurring
	var inserted bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		r, inserted, err = s.RecordRecurring(ctx, tx, o)
		return err
	})
	if err != nil {
		return Recurring{}, err
	}
	if !inserted {
		return sameRecurring(r, o)
	}
	return s.StartRecurring(ctx, r)
}

// RecordRecurring validates a recurring payment and records it in the
// caller's transaction tx. When the TPP used its key before, nothing is
// written and the recurring payment recorded under it is returned with
// inserted false. StartRecurring makes its first occurrence when it is due
// today, after tx commits (RunDue makes it otherwise).
func (s *Service) RecordRecurring(ctx context.Context, tx *store.Tx, o Order) (r Recurring, inserted bool, err error) {
	if o.Recurrence == nil {
		return Recurring{}, false, newError(CodeInvalidRecurrence, "recurrence", "a recurring payment needs its recurrence",
			"płatność cykliczna wymaga parametrów cykliczności")
	}
	tmpl := o
	tmpl.ExecutionDate = ""
	p, err := s.prepare(ctx, tx, tmpl) // validates and checks the accounts
	if err != nil {
		return Recurring{}, false, err
	}
	tmpl.Recurrence = nil
	js, err := json.Marshal(tmpl)
	if err != nil {
		return Recurring{}, false, err
	}
	rc := *o.Recurrence
	now := s.clock.Now()
	id := ledger.NewID()
	res, err := tx.ExecContext(ctx, `INSERT INTO payment_recurring
		(id, tpp_id, tpp_recurring_id, request_hash, customer_id, template, start_date, period_type, period_value,
		 end_date, day_off_offset, next_date, occurrences, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $14)
		ON CONFLICT (tpp_id, tpp_recurring_id) DO NOTHING`,
		id, o.TPPID, o.TPPTransactionID, o.RequestHash, p.CustomerID, string(js), rc.StartDate, string(rc.PeriodType),
		rc.PeriodValue, rc.EndDate, string(rc.DayOff), rc.StartDate, string(RecurringSubmitted), micros(now))
	if err != nil {
		return Recurring{}, false, fmt.Errorf("record recurring payment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r, err := s.recurringIn(ctx, tx, `tpp_id = $1 AND tpp_recurring_id = $2`, o.TPPID, o.TPPTransactionID)
		return r, false, err
	}
	return Recurring{ID: id, TPPID: o.TPPID, TPPRecurringID: o.TPPTransactionID, RequestHash: o.RequestHash,
		CustomerID: p.CustomerID, Order: tmpl, Recurrence: rc, NextDate: rc.StartDate, Status: RecurringSubmitted,
		CreatedAt: now, UpdatedAt: now}, true, nil
}

// StartRecurring makes the first occurrence of a recurring payment that
// RecordRecurring recorded when it is due today, and returns the recurring
// payment as it is then.
func (s *Service) StartRecurring(ctx context.Context, r Recurring) (Recurring, error) {
	var rep Report
	if err := s.runOneRecurring(ctx, &rep, r, dateOf(s.clock.Now())); err != nil {
		return r, err
	}
	return s.GetRecurring(ctx, r.ID)
}

// GetRecurringByKey returns the recurring payment a TPP set up with its key
// (tppRecurringPaymentId).
func (s *Service) GetRecurringByKey(ctx context.Context, tppID, key string) (Recurring, error) {
	return s.recurringBy(ctx, `tpp_id = $1 AND tpp_recurring_id = $2`, tppID, key)
}

// GetRecurringByKeyIn is GetRecurringByKey reading through q (a
// transaction).
func (s *Service) GetRecurringByKeyIn(ctx context.Context, q store.Querier, tppID, key string) (Recurring, error) {
	return s.recurringIn(ctx, q, `tpp_id = $1 AND tpp_recurring_id = $2`, tppID, key)
}

// SameRecurring returns r, recorded under o's key, when o is the same
// request, and a CodeDuplicate error otherwise.
func SameRecurring(r Recurring, o Order) (Recurring, error) { return sameRecurring(r, o) }

func sameRecurring(r Recurring, o Order) (Recurring, error) {
	if r.RequestHash != o.RequestHash {
		return Recurring{}, errorf(CodeDuplicate, "tppRecurringPaymentId",
			"tppRecurringPaymentId %q was already used for another recurring payment with a different request body",
			"tppRecurringPaymentId %q został już użyty dla innej płatności cyklicznej o innej treści żądania", o.TPPTransactionID)
	}
	return r, nil
}

// GetRecurring returns a recurring payment by id.
func (s *Service) GetRecurring(ctx context.Context, id string) (Recurring, error) {
	return s.recurringBy(ctx, `id = $1`, id)
}

// Occurrences lists the payments made for a recurring payment, oldest first.
func (s *Service) Occurrences(ctx context.Context, recurringID string) ([]Payment, error) {
	return s.list(ctx, `recurring_id = $1 ORDER BY execution_date, id`, recurringID)
}

const recurringColumns = `id, tpp_id, tpp_recurring_id, request_hash, customer_id, template, start_date, period_type,
	period_value, end_date, day_off_offset, next_date, occurrences, status, status_reason, created_at, updated_at`

func scanRecurring(row rowScanner) (Recurring, error) {
	var r Recurring
	var tmpl, pt, off, st string
	var created, updated int64
	err := row.Scan(&r.ID, &r.TPPID, &r.TPPRecurringID, &r.RequestHash, &r.CustomerID, &tmpl, &r.Recurrence.StartDate, &pt,
		&r.Recurrence.PeriodValue, &r.Recurrence.EndDate, &off, &r.NextDate, &r.Occurrences, &st, &r.StatusReason, &created, &updated)
	if err != nil {
		return Recurring{}, err
	}
	r.Recurrence.PeriodType, r.Recurrence.DayOff, r.Status = Period(pt), DayOffOffset(off), RecurringStatus(st)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := json.Unmarshal([]byte(tmpl), &r.Order); err != nil {
		return Recurring{}, fmt.Errorf("recurring payment %s template: %w", r.ID, err)
	}
	return r, nil
}

func (s *Service) recurringBy(ctx context.Context, where string, args ...any) (Recurring, error) {
	return s.recurringIn(ctx, s.db, where, args...)
}

func (s *Service) recurringIn(ctx context.Context, q store.Querier, where string, args ...any) (Recurring, error) {
	r, err := scanRecurring(q.QueryRowContext(ctx, `SELECT `+recurringColumns+` FROM payment_recurring WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Recurring{}, newError(CodeNotFound, "recurringPaymentId", "no such recurring payment", "nie ma takiej płatności cyklicznej")
	}
	return r, err
}

// NominalDate is the date of occurrence n (from 0) of a recurrence, before
// it is moved off a day off. A monthly recurrence from the 31st falls on the
// last day of shorter months.
func NominalDate(rc Recurrence, n int) string {
	start := parseDate(rc.StartDate)
	var d time.Time
	switch rc.PeriodType {
	case Day:
		d = start.AddDate(0, 0, n*rc.PeriodValue)
	case Week:
		d = start.AddDate(0, 0, 7*n*rc.PeriodValue)
	default:
		y, m, day := start.Date()
		first := time.Date(y, m+time.Month(n*rc.PeriodValue), 1, 0, 0, 0, 0, polish.Warsaw)
		last := first.AddDate(0, 1, -1).Day()
		d = first.AddDate(0, 0, min(day, last)-1)
	}
	return d.Format(time.DateOnly)
}

// ExecutionDateOf moves a nominal date off a day off: to the business day
// before it or after it.
func ExecutionDateOf(nominal string, off DayOffOffset) string {
	d := parseDate(nominal)
	if off == Before {
		return dateOf(polish.BusinessDayOnOrBefore(d))
	}
	return dateOf(polish.BusinessDayOnOrAfter(d))
}

// lookahead is how far ahead of its nominal date an occurrence moved before
// a run of days off can fall.
const lookahead = 10

func (s *Service) runRecurring(ctx context.Context, r *Report, today string) error {
	horizon := dateOf(parseDate(today).AddDate(0, 0, lookahead))
	rows, err := s.db.QueryContext(ctx, `SELECT `+recurringColumns+` FROM payment_recurring
		WHERE status IN ($1, $2) AND next_date <= $3 ORDER BY next_date, id LIMIT $4`,
		string(RecurringSubmitted), string(RecurringInProgress), horizon, batch)
	if err != nil {
		return err
	}
	var due []Recurring
	for rows.Next() {
		rec, err := scanRecurring(rows)
		if err != nil {
			rows.Close()
			return err
		}
		due = append(due, rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, rec := range due {
		if err := s.runOneRecurring(ctx, r, rec, today); err != nil {
			r.Errors = append(r.Errors, err)
		}
	}
	return nil
}

// runOneRecurring creates the occurrences of rec due by today. Each
// occurrence has the key "recurring:<id>:<nominal date>", so creating one
// twice returns the first; the definition then advances with a
// compare-and-set on its occurrence count.
func (s *Service) runOneRecurring(ctx context.Context, r *Report, rec Recurring, today string) error {
	for rec.Status == RecurringSubmitted || rec.Status == RecurringInProgress {
		nominal := NominalDate(rec.Recurrence, rec.Occurrences)
		if rec.Recurrence.EndDate != "" && nominal > rec.Recurrence.EndDate {
			_, err := s.db.ExecContext(ctx, `UPDATE payment_recurring SET status = $1, status_reason = $2, updated_at = $3
				WHERE id = $4 AND occurrences = $5 AND status IN ($6, $7)`,
				string(RecurringClosed), "ended on "+rec.Recurrence.EndDate, micros(s.clock.Now()), rec.ID, rec.Occurrences,
				string(RecurringSubmitted), string(RecurringInProgress))
			return err
		}
		exec := ExecutionDateOf(nominal, rec.Recurrence.DayOff)
		if exec > today {
			return nil
		}
		o := rec.Order
		key := "recurring:" + rec.ID + ":" + nominal
		o.TPPTransactionID, o.RequestHash, o.ExecutionDate = key, key, ""
		if _, err := s.initiate(ctx, o, "", rec.ID); err != nil && CodeOf(err) != CodeInsufficientFunds {
			return fmt.Errorf("recurring payment %s, occurrence of %s: %w", rec.ID, nominal, err)
		}
		next := NominalDate(rec.Recurrence, rec.Occurrences+1)
		res, err := s.db.ExecContext(ctx, `UPDATE payment_recurring SET occurrences = $1, next_date = $2, status = $3, updated_at = $4
			WHERE id = $5 AND occurrences = $6 AND status IN ($7, $8)`,
			rec.Occurrences+1, next, string(RecurringInProgress), micros(s.clock.Now()), rec.ID, rec.Occurrences,
			string(RecurringSubmitted), string(RecurringInProgress))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another node advanced it
		}
		r.Occurrences++
		rec.Occurrences++
		rec.NextDate, rec.Status = next, RecurringInProgress
	}
	return nil
}

// CancelRecurring cancels a recurring payment: no further occurrence is
// made, and occurrences not yet sent (scheduled, or pending before their
// cut-off) are cancelled too.
func (s *Service) CancelRecurring(ctx context.Context, id, by, reason string) (Recurring, error) {
	rec, err := s.GetRecurring(ctx, id)
	if err != nil {
		return Recurring{}, err
	}
	why := "cancelled by " + by
	if reason != "" {
		why += ": " + reason
	}
	switch rec.Status {
	case RecurringCancelled:
		return rec, nil
	case RecurringClosed:
		return rec, newError(CodeNotCancellable, "recurringPaymentId", "the recurring payment has ended: there is nothing to cancel",
			"płatność cykliczna zakończyła się: nie ma czego anulować")
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE payment_recurring SET status = $1, status_reason = $2, updated_at = $3
		WHERE id = $4 AND status IN ($5, $6)`, string(RecurringCancelled), why, micros(s.clock.Now()), id,
		string(RecurringSubmitted), string(RecurringInProgress)); err != nil {
		return Recurring{}, err
	}
	occ, err := s.Occurrences(ctx, id)
	if err != nil {
		return Recurring{}, err
	}
	for _, p := range occ {
		if p.Status == StatusScheduled || p.Status == StatusPending {
			if _, err := s.Cancel(ctx, p.ID, by, reason); err != nil && CodeOf(err) != CodeNotCancellable {
				return Recurring{}, err
			}
		}
	}
	return s.GetRecurring(ctx, id)
}
