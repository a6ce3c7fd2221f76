package payment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/store"
)

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// details is the JSON kept in payments.details: what only some payments
// have.
type details struct {
	Tax   *TaxInfo      `json:"tax,omitempty"`
	Split *SplitPayment `json:"split,omitempty"`
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertOrFetch records p unless the TPP already used its key; either way
// it returns the payment stored under the key and whether it was inserted.
// It runs inside tx, so the payment and its first history entry are written
// together.
func insertOrFetch(ctx context.Context, tx *store.Tx, p Payment) (Payment, bool, error) {
	d, err := json.Marshal(details{Tax: p.Tax, Split: p.Split})
	if err != nil {
		return Payment{}, false, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO payments
		(id, tpp_id, tpp_transaction_id, request_hash, consent_id, customer_id, type, kind, system, status, status_reason,
		 debit_account_id, sender_account, recipient_name, recipient_account, recipient_address, recipient_country, recipient_bic,
		 amount, currency, title, execution_date, future_dated, details, callback_url, bundle_id, recurring_id,
		 cutoff_at, settle_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
		        $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)
		ON CONFLICT (tpp_id, tpp_transaction_id) DO NOTHING`,
		p.ID, p.TPPID, p.TPPTransactionID, p.RequestHash, p.ConsentID, p.CustomerID, string(p.Type), p.Kind, string(p.System),
		string(p.Status), p.StatusReason, p.DebitAccountID, p.SenderAccount, p.Recipient.Name, p.Recipient.Account,
		p.Recipient.Address, p.Recipient.Country, p.Recipient.BIC, int64(p.Amount), p.Currency, p.Title, p.ExecutionDate,
		p.FutureDated, string(d), p.CallbackURL, nullable(p.BundleID), nullable(p.RecurringID),
		micros(p.CutoffAt), micros(p.SettleAt), micros(p.CreatedAt), micros(p.UpdatedAt))
	if err != nil {
		return Payment{}, false, fmt.Errorf("record payment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		existing, err := getBy(ctx, tx, `tpp_id = $1 AND tpp_transaction_id = $2`, p.TPPID, p.TPPTransactionID)
		return existing, false, err
	}
	if err := addHistory(ctx, tx, p.ID, p.Status, p.StatusReason, p.CreatedAt); err != nil {
		return Payment{}, false, err
	}
	return p, true, nil
}

func addHistory(ctx context.Context, q store.Querier, id string, st Status, reason string, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO payment_history (id, payment_id, status, reason, at) VALUES ($1, $2, $3, $4, $5)`,
		ledger.NewID(), id, string(st), reason, micros(at))
	return err
}

// transition moves a payment from one status to another with a
// compare-and-set, records it in the history and queues a callback
// notification, in one transaction. ok is false when the payment was not in
// status from (another node got there first).
func (s *Service) transition(ctx context.Context, id string, from, to Status, reason string, set func(*Payment)) (p Payment, ok bool, err error) {
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		p, ok, err = transitionTx(ctx, tx, id, from, to, reason, s.clock.Now(), set)
		return err
	})
	if err == nil && ok {
		s.observe(ctx, p, from)
	}
	return p, ok, err
}

// observe is the one place a payment's status change is logged and
// counted (after its transaction committed); from is "" for a payment just
// initiated.
func (s *Service) observe(ctx context.Context, p Payment, from Status) {
	s.obs.PaymentStatus(ctx, obs.Payment{ID: p.ID, TPP: p.TPPID, From: string(from), To: string(p.Status),
		Reason: p.StatusReason, Recipient: p.Recipient.Account, Amount: p.Amount.String(), Currency: p.Currency})
}

func transitionTx(ctx context.Context, tx *store.Tx, id string, from, to Status, reason string, now time.Time, set func(*Payment)) (Payment, bool, error) {
	cur, err := getBy(ctx, tx, `id = $1`, id)
	if err != nil {
		return Payment{}, false, err
	}
	if cur.Status != from {
		return cur, false, nil
	}
	next := cur
	if set != nil {
		set(&next)
	}
	res, err := tx.ExecContext(ctx, `UPDATE payments SET status = $1, status_reason = $2, cutoff_at = $3, settle_at = $4,
		execution_date = $5, updated_at = $6 WHERE id = $7 AND status = $8`,
		string(to), reason, micros(next.CutoffAt), micros(next.SettleAt), next.ExecutionDate, micros(now), id, string(from))
	if err != nil {
		return Payment{}, false, fmt.Errorf("update payment %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		cur, err := getBy(ctx, tx, `id = $1`, id)
		return cur, false, err
	}
	if err := addHistory(ctx, tx, id, to, reason, now); err != nil {
		return Payment{}, false, err
	}
	if cur.CallbackURL != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO payment_notifications (id, payment_id, callback_url, status, at)
			VALUES ($1, $2, $3, $4, $5)`, ledger.NewID(), id, cur.CallbackURL, string(to), micros(now)); err != nil {
			return Payment{}, false, err
		}
	}
	next.Status, next.StatusReason, next.UpdatedAt = to, reason, now
	return next, true, nil
}

const paymentColumns = `id, tpp_id, tpp_transaction_id, request_hash, consent_id, customer_id, type, kind, system, status,
	status_reason, debit_account_id, sender_account, recipient_name, recipient_account, recipient_address,
	recipient_country, recipient_bic, amount, currency, title, execution_date, future_dated, details, callback_url,
	COALESCE(bundle_id, ''), COALESCE(recurring_id, ''), cutoff_at, settle_at, created_at, updated_at`

type rowScanner interface{ Scan(...any) error }

func scanPayment(row rowScanner) (Payment, error) {
	var p Payment
	var typ, system, status, det string
	var amount, cutoff, settle, created, updated int64
	err := row.Scan(&p.ID, &p.TPPID, &p.TPPTransactionID, &p.RequestHash, &p.ConsentID, &p.CustomerID, &typ, &p.Kind,
		&system, &status, &p.StatusReason, &p.DebitAccountID, &p.SenderAccount, &p.Recipient.Name, &p.Recipient.Account,
		&p.Recipient.Address, &p.Recipient.Country, &p.Recipient.BIC, &amount, &p.Currency, &p.Title, &p.ExecutionDate,
		&p.FutureDated, &det, &p.CallbackURL, &p.BundleID, &p.RecurringID, &cutoff, &settle, &created, &updated)
	if err != nil {
		return Payment{}, err
	}
	p.Type, p.System, p.Status, p.Amount = Type(typ), System(system), Status(status), money.Amount(amount)
	p.CutoffAt, p.SettleAt, p.CreatedAt, p.UpdatedAt = fromMicros(cutoff), fromMicros(settle), fromMicros(created), fromMicros(updated)
	var d details
	if err := json.Unmarshal([]byte(det), &d); err != nil {
		return Payment{}, fmt.Errorf("payment %s details: %w", p.ID, err)
	}
	p.Tax, p.Split = d.Tax, d.Split
	return p, nil
}

func getBy(ctx context.Context, q store.Querier, where string, args ...any) (Payment, error) {
	p, err := scanPayment(q.QueryRowContext(ctx, `SELECT `+paymentColumns+` FROM payments WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Payment{}, newError(CodeNotFound, "paymentId", "no such payment", "nie ma takiej płatności")
	}
	return p, err
}

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Payment, error) {
	return s.listIn(ctx, s.db, where, args...)
}

func (s *Service) listIn(ctx context.Context, q store.Querier, where string, args ...any) ([]Payment, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+paymentColumns+` FROM payments WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Get returns a payment by its id.
func (s *Service) Get(ctx context.Context, id string) (Payment, error) {
	return getBy(ctx, s.db, `id = $1`, id)
}

// GetByTPPTransactionID returns the payment a TPP initiated with a key.
func (s *Service) GetByTPPTransactionID(ctx context.Context, tppID, key string) (Payment, error) {
	return getBy(ctx, s.db, `tpp_id = $1 AND tpp_transaction_id = $2`, tppID, key)
}

// GetByTPPTransactionIDIn is GetByTPPTransactionID reading through q (a
// transaction).
func (s *Service) GetByTPPTransactionIDIn(ctx context.Context, q store.Querier, tppID, key string) (Payment, error) {
	return getBy(ctx, q, `tpp_id = $1 AND tpp_transaction_id = $2`, tppID, key)
}

// History lists every status a payment has had, oldest first.
func (s *Service) History(ctx context.Context, id string) ([]Change, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, reason, at FROM payment_history WHERE payment_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var st string
		var at int64
		if err := rows.Scan(&st, &c.Reason, &at); err != nil {
			return nil, err
		}
		c.Status, c.At = Status(st), fromMicros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Notification is a status change to deliver to a TPP's callback URL.
type Notification struct {
	ID          string
	PaymentID   string
	CallbackURL string
	Status      Status
	At          time.Time
}

// PendingNotifications lists up to limit notifications not yet delivered,
// oldest first.
func (s *Service) PendingNotifications(ctx context.Context, limit int) ([]Notification, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, payment_id, callback_url, status, at FROM payment_notifications
		WHERE notified_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var st string
		var at int64
		if err := rows.Scan(&n.ID, &n.PaymentID, &n.CallbackURL, &st, &at); err != nil {
			return nil, err
		}
		n.Status, n.At = Status(st), fromMicros(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkNotified records that a notification was delivered.
func (s *Service) MarkNotified(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE payment_notifications SET notified_at = $1 WHERE id = $2 AND notified_at IS NULL`,
		micros(s.clock.Now()), id)
	return err
}
