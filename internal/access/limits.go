package access

import (
	"context"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Kind is the kind of API payment a limit applies to.
type Kind string

// The kinds.
const (
	OneOff    Kind = "one_off"
	Recurring Kind = "recurring"
)

func kindOf(recurring bool) Kind {
	if recurring {
		return Recurring
	}
	return OneOff
}

// Limit is the limit of one kind of API payment on an account, in the
// account's currency; zero is no limit.
type Limit struct {
	PerPayment money.Amount
	PerDay     money.Amount
	Actor      string    // who set it last; "" when never set
	UpdatedAt  time.Time // zero when never set
}

// Limits are an account's limits of API payments.
type Limits struct {
	OneOff    Limit
	Recurring Limit
}

// Of returns the limit of a kind.
func (l Limits) Of(k Kind) Limit {
	if k == Recurring {
		return l.Recurring
	}
	return l.OneOff
}

// Limits returns an account's limits (no limit where never set).
func (s *Service) Limits(ctx context.Context, nrb string) (Limits, error) {
	return s.limits(ctx, s.db, nrb)
}

func (s *Service) limits(ctx context.Context, q store.Querier, nrb string) (Limits, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, per_payment, per_day, actor, updated_at FROM account_limits WHERE account_nrb = $1`, nrb)
	if err != nil {
		return Limits{}, fmt.Errorf("read limits: %w", err)
	}
	defer rows.Close()
	var out Limits
	for rows.Next() {
		var kind, actor string
		var per, day, at int64
		if err := rows.Scan(&kind, &per, &day, &actor, &at); err != nil {
			return Limits{}, err
		}
		l := Limit{PerPayment: money.Amount(per), PerDay: money.Amount(day), Actor: actor, UpdatedAt: fromMicros(at)}
		if Kind(kind) == Recurring {
			out.Recurring = l
		} else {
			out.OneOff = l
		}
	}
	return out, rows.Err()
}

// SetLimits sets the limits of one kind of API payment on one of
// customerID's accounts, after the caller has confirmed the change with SCA
// (method is recorded in the audit). Zero removes a limit; a day limit
// below the payment limit is refused.
func (s *Service) SetLimits(ctx context.Context, customerID, nrb string, kind Kind, perPayment, perDay money.Amount, method string) (Limits, error) {
	if kind != OneOff && kind != Recurring {
		return Limits{}, newError(CodeInvalid, "unknown kind of payment %q: use one_off or recurring",
			"nieznany rodzaj płatności %q: użyj one_off lub recurring", kind)
	}
	if perPayment < 0 || perDay < 0 {
		return Limits{}, newError(CodeInvalid, "a limit cannot be negative", "limit nie może być ujemny")
	}
	if perDay != 0 && perPayment > perDay {
		return Limits{}, newError(CodeInvalid, "the limit per payment (%s) is above the limit per day (%s)",
			"limit na płatność (%s) jest wyższy niż limit dzienny (%s)", perPayment, perDay)
	}
	c, err := s.ledger.Customer(ctx, customerID)
	if err != nil {
		return Limits{}, err
	}
	a, err := s.account(ctx, nrb)
	if err != nil {
		return Limits{}, err
	}
	if a.CustomerID != customerID {
		return Limits{}, errNotYours(nrb)
	}
	var out Limits
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := s.clock.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_limits (account_nrb, kind, per_payment, per_day, actor, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (account_nrb, kind) DO UPDATE SET per_payment = EXCLUDED.per_payment, per_day = EXCLUDED.per_day,
				actor = EXCLUDED.actor, updated_at = EXCLUDED.updated_at`,
			nrb, string(kind), int64(perPayment), int64(perDay), c.Login, micros(now)); err != nil {
			return fmt.Errorf("write limits: %w", err)
		}
		if err := s.audit(ctx, tx, AuditEntry{Actor: c.Login, Channel: ChannelInternetBanking, Action: ActionLimitsSet,
			CustomerID: customerID, Subject: nrb, Detail: fmt.Sprintf("%s: per payment %s, per day %s %s (0 = none); SCA: %s",
				kind, perPayment, perDay, a.Currency, method)}); err != nil {
			return err
		}
		out, err = s.limits(ctx, tx, nrb)
		return err
	})
	return out, err
}

// limitError names the exceeded limit.
func limitError(kind Kind, perDay bool, limit, used money.Amount, nrb string) *Error {
	name, en, pl := string(kind)+".per_payment", "per payment", "na jedną płatność"
	if perDay {
		name, en, pl = string(kind)+".per_day", "per day", "dzienny"
	}
	ken, kpl := "one-off", "jednorazowych"
	if kind == Recurring {
		ken, kpl = "recurring", "cyklicznych"
	}
	e := &Error{Code: CodeLimitExceeded, Limit: name, LimitAmount: int64(limit),
		Message:   fmt.Sprintf("the payment exceeds the limit of %s API payments %s on account %s: %s", ken, en, maskNRB(nrb), limit),
		MessagePL: fmt.Sprintf("płatność przekracza limit %s płatności przez API %s na rachunku %s: %s", kpl, pl, maskNRB(nrb), limit)}
	if perDay {
		e.Message += fmt.Sprintf(" (already used today: %s)", used)
		e.MessagePL += fmt.Sprintf(" (wykorzystano dziś: %s)", used)
	}
	return e
}

// CheckPaymentLimit tells whether an API payment of amount (in the
// account's currency) from the account fits its limits: the limit per
// payment, and the limit per day together with what RecordPayment has
// counted for day ("YYYY-MM-DD", the payment's execution date). A payment
// over a limit gets a *Error with CodeLimitExceeded whose Limit names it
// (e.g. "one_off.per_day"). It only reads; RecordPayment counts the payment.
func (s *Service) CheckPaymentLimit(ctx context.Context, accountNRB string, amount money.Amount, recurring bool, day string) error {
	kind := kindOf(recurring)
	ls, err := s.limits(ctx, s.db, accountNRB)
	if err != nil {
		return err
	}
	l := ls.Of(kind)
	if l.PerPayment > 0 && amount > l.PerPayment {
		return limitError(kind, false, l.PerPayment, 0, accountNRB)
	}
	if l.PerDay == 0 {
		return nil
	}
	used, err := s.usedOn(ctx, s.db, accountNRB, day, kind)
	if err != nil {
		return err
	}
	if used+amount > l.PerDay {
		return limitError(kind, true, l.PerDay, used, accountNRB)
	}
	return nil
}

// usedOn is what API payments of kind have used of the day limit.
func (s *Service) usedOn(ctx context.Context, q store.Querier, nrb, day string, kind Kind) (money.Amount, error) {
	var used int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(total), 0) FROM api_payment_totals WHERE account_nrb = $1 AND day = $2 AND kind = $3`,
		nrb, day, string(kind)).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("read payment totals: %w", err)
	}
	return money.Amount(used), nil
}

// RecordPayment counts an accepted API payment towards the day limit of
// its kind, in the caller's transaction q (the one that stores the
// payment), so that the count and the payment commit together. It checks
// the limits again, atomically: when the day total would go over the limit
// (a concurrent payment came first) nothing is counted and the answer is
// the CodeLimitExceeded refusal, on which the caller rolls back.
//
// The day totals are kept by this package rather than summed from the
// payments table, so that the check is one small indexed read and the
// access package does not depend on how payments are stored. A payment
// rejected or cancelled later keeps counting for its day (the bank's
// conservative reading of a limit); ReleasePayment gives it back when the
// caller prefers.
func (s *Service) RecordPayment(ctx context.Context, q store.Querier, accountNRB string, amount money.Amount, recurring bool, day string) error {
	if amount <= 0 {
		return newError(CodeInvalid, "a payment amount must be positive", "kwota płatności musi być dodatnia")
	}
	ls, err := s.limits(ctx, q, accountNRB)
	if err != nil {
		return err
	}
	return s.RecordPaymentWithin(ctx, q, accountNRB, amount, recurring, day, ls.Of(kindOf(recurring)))
}

// RecordPaymentWithin is RecordPayment with the account's limit of the
// payment's kind read by the caller in the same transaction q (with the
// account, in one statement): one statement instead of two.
func (s *Service) RecordPaymentWithin(ctx context.Context, q store.Querier, accountNRB string, amount money.Amount, recurring bool, day string, l Limit) error {
	if amount <= 0 {
		return newError(CodeInvalid, "a payment amount must be positive", "kwota płatności musi być dodatnia")
	}
	kind := kindOf(recurring)
	if l.PerPayment > 0 && amount > l.PerPayment {
		return limitError(kind, false, l.PerPayment, 0, accountNRB)
	}
	if l.PerDay > 0 && amount > l.PerDay {
		used, _ := s.usedOn(ctx, q, accountNRB, day, kind)
		return limitError(kind, true, l.PerDay, used, accountNRB)
	}
	res, err := q.ExecContext(ctx, `INSERT INTO api_payment_totals (account_nrb, day, kind, total, payments)
		VALUES ($1, $2, $3, $4, 1)
		ON CONFLICT (account_nrb, day, kind) DO UPDATE SET total = api_payment_totals.total + EXCLUDED.total,
			payments = api_payment_totals.payments + 1
		WHERE CAST($5 AS BIGINT) = 0 OR api_payment_totals.total + EXCLUDED.total <= CAST($5 AS BIGINT)`,
		accountNRB, day, string(kind), int64(amount), int64(l.PerDay))
	if err != nil {
		return fmt.Errorf("count API payment: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		used, _ := s.usedOn(ctx, q, accountNRB, day, kind)
		return limitError(kind, true, l.PerDay, used, accountNRB)
	}
	return nil
}

// ReleasePayment takes a counted payment back off its day total (a payment
// rejected before it left the bank), in the caller's transaction q.
func (s *Service) ReleasePayment(ctx context.Context, q store.Querier, accountNRB string, amount money.Amount, recurring bool, day string) error {
	_, err := q.ExecContext(ctx, `UPDATE api_payment_totals SET total = CASE WHEN total > $4 THEN total - $4 ELSE 0 END,
		payments = CASE WHEN payments > 0 THEN payments - 1 ELSE 0 END
		WHERE account_nrb = $1 AND day = $2 AND kind = $3`, accountNRB, day, string(kindOf(recurring)), int64(amount))
	if err != nil {
		return fmt.Errorf("release API payment: %w", err)
	}
	return nil
}
