package payment

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// RecordAndBook is Record for an initiation that also sets the payment
// going in the caller's transaction tx when that is one booking: an
// internal transfer due today is recorded once, with its final status
// (done, its history submitted → done written in the same statement or
// the next), and booked in the ledger (ledger.TransferIn) in tx, so that
// the payment, its booking and whatever the caller wrote commit or roll
// back together. Any other payment is recorded submitted, as Record does,
// and the caller sets it going with Execute after tx commits.
//
// known are accounts the caller read in tx, by NRB, with their owners'
// names (an entry with no ID: no such account); the sender and recipient
// found there are not read again. When the TPP used the order's key
// before, nothing is written and the payment recorded under it is
// returned with inserted false. A booking refused for lack of funds
// returns the ledger's CodeInsufficientFunds error: the caller rolls tx
// back and records the payment rejected the usual way (Record, then
// Execute).
func (s *Service) RecordAndBook(ctx context.Context, tx *store.Tx, o Order, known ...ledger.Known) (p Payment, inserted bool, err error) {
	if o.Recurrence != nil {
		return Payment{}, false, newError(CodeInvalidRequest, "recurrence", "a recurring payment is set up with InitiateRecurring",
			"płatność cykliczną zakłada się przez InitiateRecurring")
	}
	p, err = s.prepare(ctx, tx, o, known...)
	if err != nil {
		return Payment{}, false, err
	}
	now := s.clock.Now()
	if p.System != SystemInternal || p.FutureDated && p.ExecutionDate > dateOf(now) {
		q, inserted, err := insertOrFetch(ctx, tx, p)
		if err == nil && inserted {
			tx.AfterCommit(func() { s.observe(ctx, q, "") })
		}
		return q, inserted, err
	}
	var credit ledger.Known
	own := p.Recipient.Account
	if len(own) == 28 {
		own = own[2:] // a Polish IBAN
	}
	for _, k := range known {
		if k.NRB == own && k.ID != "" {
			credit = k
		}
	}
	if credit.ID == "" {
		acct, err := ledger.AccountByNRBIn(ctx, tx, own)
		if err != nil {
			return Payment{}, false, err
		}
		credit = ledger.Known{ID: acct.ID, NRB: acct.NRB, Currency: acct.Currency, Type: acct.Type, CustomerID: acct.CustomerID}
	}
	submitted := p
	p.Status, p.StatusReason, p.UpdatedAt = StatusDone, "booked", now
	inserted, err = insertBooked(ctx, tx, submitted, p)
	if err != nil || !inserted {
		if err == nil {
			var existing Payment
			existing, err = getBy(ctx, tx, `tpp_id = $1 AND tpp_transaction_id = $2`, p.TPPID, p.TPPTransactionID)
			return existing, false, err
		}
		return Payment{}, false, err
	}
	req := ledger.TransferRequest{ID: p.ID, Kind: p.Kind, DebitAccountID: p.DebitAccountID, CreditAccountID: credit.ID,
		Amount: p.Amount, Currency: p.Currency, Title: p.Title, ExecutionDate: p.ExecutionDate}
	if _, err := s.ledger.TransferIn(ctx, tx, req, append(known[:len(known):len(known)], credit)...); err != nil {
		return Payment{}, false, err
	}
	if p.CallbackURL != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO payment_notifications (id, payment_id, callback_url, status, at)
			VALUES ($1, $2, $3, $4, $5)`, ledger.NewID(), p.ID, p.CallbackURL, string(StatusDone), micros(now)); err != nil {
			return Payment{}, false, err
		}
	}
	tx.AfterCommit(func() {
		s.observe(ctx, submitted, "")
		s.observe(ctx, p, StatusSubmitted)
	})
	return p, true, nil
}

// insertBooked records p, booked at once, unless the TPP already used its
// key, with its history: submitted as first recorded, then p's status. On
// PostgreSQL the payment and its history are one statement.
func insertBooked(ctx context.Context, tx *store.Tx, submitted, p Payment) (bool, error) {
	d, err := json.Marshal(details{Tax: p.Tax, Split: p.Split})
	if err != nil {
		return false, err
	}
	args := []any{p.ID, p.TPPID, p.TPPTransactionID, p.RequestHash, p.ConsentID, p.CustomerID, string(p.Type), p.Kind, string(p.System),
		string(p.Status), p.StatusReason, p.DebitAccountID, p.SenderAccount, p.Recipient.Name, p.Recipient.Account,
		p.Recipient.Address, p.Recipient.Country, p.Recipient.BIC, int64(p.Amount), p.Currency, p.Title, p.ExecutionDate,
		p.FutureDated, string(d), p.CallbackURL, nullable(p.BundleID), nullable(p.RecurringID),
		micros(p.CutoffAt), micros(p.SettleAt), micros(p.CreatedAt), micros(p.UpdatedAt),
		ledger.NewID(), string(submitted.Status), submitted.StatusReason, ledger.NewID()}
	if tx.Engine() == store.Postgres {
		var n int
		err := tx.QueryRowContext(ctx, `WITH p AS (`+insertPaymentSQL+` RETURNING id),
			h AS (INSERT INTO payment_history (id, payment_id, status, reason, at)
				SELECT $32, p.id, $33, $34, $30 FROM p UNION ALL SELECT $35, p.id, $10, $11, $31 FROM p RETURNING 1)
			SELECT COUNT(*) FROM h`, args...).Scan(&n)
		if err != nil {
			return false, fmt.Errorf("record payment: %w", err)
		}
		return n == 2, nil
	}
	res, err := tx.ExecContext(ctx, insertPaymentSQL, args[:31]...)
	if err != nil {
		return false, fmt.Errorf("record payment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO payment_history (id, payment_id, status, reason, at) VALUES ($1, $2, $3, $4, $5), ($6, $2, $7, $8, $9)`,
		args[31], p.ID, args[32], args[33], args[29], args[34], args[9], args[10], args[30]); err != nil {
		return false, err
	}
	return true, nil
}

const insertPaymentSQL = `INSERT INTO payments
		(id, tpp_id, tpp_transaction_id, request_hash, consent_id, customer_id, type, kind, system, status, status_reason,
		 debit_account_id, sender_account, recipient_name, recipient_account, recipient_address, recipient_country, recipient_bic,
		 amount, currency, title, execution_date, future_dated, details, callback_url, bundle_id, recurring_id,
		 cutoff_at, settle_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
		        $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)
		ON CONFLICT (tpp_id, tpp_transaction_id) DO NOTHING`
