package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Hold is money reserved on an account: a card authorisation, or an
// outgoing payment waiting for clearing.
type Hold struct {
	ID           string
	AccountID    string
	Amount       money.Amount
	Currency     string
	Status       string // active, released, consumed
	Kind         string // card, transfer
	Description  string
	MerchantName string
	MerchantCity string
	TransferID   string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	ClosedAt     time.Time
}

// PlaceHold reserves money on an account, if its available balance covers it.
func (l *Ledger) PlaceHold(ctx context.Context, h Hold) (Hold, error) {
	if h.Amount <= 0 {
		return Hold{}, errorf(CodeInvalid, "a hold must be greater than zero, got %s", h.Amount)
	}
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		if h.ID == "" {
			h.ID = NewID()
		}
		if h.Kind == "" {
			h.Kind = "card"
		}
		if h.CreatedAt.IsZero() || h.CreatedAt.After(now) {
			h.CreatedAt = now // an authorisation made earlier keeps its time
		}
		if h.ExpiresAt.IsZero() {
			h.ExpiresAt = now.Add(7 * 24 * time.Hour)
		}
		var currency, nrb string
		err := tx.QueryRowContext(ctx, `SELECT currency, nrb FROM accounts WHERE id = $1`, h.AccountID).Scan(&currency, &nrb)
		if errors.Is(err, sql.ErrNoRows) {
			return errorf(CodeNotFound, "no account with id %s", h.AccountID)
		}
		if err != nil {
			return err
		}
		if h.Currency == "" {
			h.Currency = currency
		}
		if h.Currency != currency {
			return errorf(CodeCurrencyMismatch, "the account is kept in %s, the hold is in %s", currency, h.Currency)
		}
		return placeHold(ctx, tx, h, nrb)
	})
	if err != nil {
		return Hold{}, err
	}
	h.Status = "active"
	return h, nil
}

func placeHold(ctx context.Context, q store.Querier, h Hold, nrb string) error {
	var avail int64
	err := q.QueryRowContext(ctx, `UPDATE accounts SET available_balance = available_balance - $1
		WHERE id = $2 AND (allow_negative OR available_balance + overdraft_limit - $1 >= 0)
		RETURNING available_balance`, amt(h.Amount), h.AccountID).Scan(&avail)
	if errors.Is(err, sql.ErrNoRows) {
		return errorf(CodeInsufficientFunds, "insufficient funds: the available balance of account %s does not cover %s %s",
			maskNRB(nrb), h.Amount, h.Currency)
	}
	if err != nil {
		return fmt.Errorf("hold on account %s: %w", h.AccountID, err)
	}
	var transfer any
	if h.TransferID != "" {
		transfer = h.TransferID
	}
	_, err = q.ExecContext(ctx, `INSERT INTO holds
		(id, account_id, amount, currency, status, kind, description, merchant_name, merchant_city, transfer_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $10, $11)`,
		h.ID, h.AccountID, amt(h.Amount), h.Currency, h.Kind, h.Description, h.MerchantName, h.MerchantCity,
		transfer, micros(h.CreatedAt), micros(h.ExpiresAt))
	return err
}

// ReleaseHold gives back the money of an active hold (an authorisation that
// expired or was reversed).
func (l *Ledger) ReleaseHold(ctx context.Context, id string) error {
	return l.db.InTx(ctx, func(tx *store.Tx) error {
		return closeHold(ctx, tx, id, "released", l.clock.Now(), true)
	})
}

// closeHold ends an active hold. A released hold makes its money available
// again; a consumed one is about to be booked.
func closeHold(ctx context.Context, q store.Querier, id, status string, now time.Time, giveBack bool) error {
	var account string
	var amount int64
	err := q.QueryRowContext(ctx, `UPDATE holds SET status = $1, closed_at = $2
		WHERE id = $3 AND status = 'active' RETURNING account_id, amount`, status, micros(now), id).Scan(&account, &amount)
	if errors.Is(err, sql.ErrNoRows) {
		return errorf(CodeConflict, "hold %s is not active", id)
	}
	if err != nil {
		return err
	}
	if giveBack {
		_, err = q.ExecContext(ctx, `UPDATE accounts SET available_balance = available_balance + $1 WHERE id = $2`, amount, account)
	}
	return err
}

// CaptureHold books a card hold: the amount goes from the account to the
// card clearing account, and the hold is consumed in the same transaction.
func (l *Ledger) CaptureHold(ctx context.Context, id string, title string) (Transfer, error) {
	var out Transfer
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		h, err := getHold(ctx, tx, id)
		if err != nil {
			return err
		}
		if h.Status != "active" {
			return errorf(CodeConflict, "hold %s is %s, not active", id, h.Status)
		}
		var clearing string
		err = tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE type = $1 AND currency = $2 AND customer_id IS NULL
			ORDER BY id LIMIT 1`, TypeClearing, h.Currency).Scan(&clearing)
		if errors.Is(err, sql.ErrNoRows) {
			return errorf(CodeNotFound, "the bank has no clearing account in %s", h.Currency)
		}
		if err != nil {
			return err
		}
		t, err := l.prepare(ctx, tx, TransferRequest{
			Kind: "card", DebitAccountID: h.AccountID, CreditAccountID: clearing,
			Creditor: Party{Name: h.MerchantName}, Amount: h.Amount, Currency: h.Currency, Title: title,
			TradeDate: DateOf(h.CreatedAt),
		}, now)
		if err != nil {
			return err
		}
		t.Status, t.HoldID, t.BookingDate = StatusBooked, h.ID, DateOf(now)
		if err := insertTransfer(ctx, tx, t); err != nil {
			return err
		}
		if err := closeHold(ctx, tx, h.ID, "consumed", now, false); err != nil {
			return err
		}
		out = t
		return book(ctx, tx, t, now, true)
	})
	return out, err
}

const holdColumns = `id, account_id, amount, currency, status, kind, description, merchant_name, merchant_city,
	COALESCE(transfer_id, ''), created_at, expires_at, COALESCE(closed_at, 0)`

func scanHold(row rowScanner) (Hold, error) {
	var h Hold
	var amount, created, expires, closed int64
	err := row.Scan(&h.ID, &h.AccountID, &amount, &h.Currency, &h.Status, &h.Kind, &h.Description, &h.MerchantName,
		&h.MerchantCity, &h.TransferID, &created, &expires, &closed)
	h.Amount = money.Amount(amount)
	h.CreatedAt, h.ExpiresAt = fromMicros(created), fromMicros(expires)
	if closed != 0 {
		h.ClosedAt = fromMicros(closed)
	}
	return h, err
}

func getHold(ctx context.Context, q store.Querier, id string) (Hold, error) {
	h, err := scanHold(q.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM holds WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Hold{}, errorf(CodeNotFound, "no hold with id %s", id)
	}
	return h, err
}

// Holds lists the active holds of an account, newest first.
func (l *Ledger) Holds(ctx context.Context, accountID string) ([]Hold, error) {
	return queryAll(ctx, l.db, scanHold, `SELECT `+holdColumns+` FROM holds
		WHERE account_id = $1 AND status = 'active' ORDER BY created_at DESC, id DESC`, accountID)
}
