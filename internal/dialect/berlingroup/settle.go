package berlingroup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// refusedMark in bank_id marks a single or bulk payment resource whose
// initiation the bank refused after the customer's approval: the sweep
// leaves it alone (a status read still answers the refusal).
const refusedMark = "-"

// settleWindow bounds the resources the sweep looks at: a payment's
// consent lasts 24 hours.
const settleWindow = 48 * time.Hour

// SettleDue initiates, in the domain, the payments whose authorisation the
// customer has given and that no status read has initiated yet, so that a
// payment is executed within one background period of the approval even
// when the TPP never asks. The bank runs it every few seconds on every
// node: the domain's key (the paymentId) makes each initiation happen once
// however many nodes and readers race. It returns how many resources it
// settled and how many the bank refused.
func SettleDue(ctx context.Context, d Deps) (settled, refused int, err error) {
	if d.DB == nil || d.Consents == nil || d.Payments == nil {
		return 0, 0, nil
	}
	if d.PIS == nil {
		d.PIS = pis.New(pis.Config{Consents: d.Consents, Payments: d.Payments, Ledger: d.Ledger, Access: d.Access})
	}
	s := &service{d: d}
	rows, err := d.DB.QueryContext(ctx, `SELECT `+paymentColumns+` FROM berlingroup_payments
		WHERE bank_id = '' AND created_at > $1 AND consent_id IN (SELECT id FROM consents WHERE status = 'authorised')
		ORDER BY created_at LIMIT 100`, s.now().Add(-settleWindow).UnixMicro())
	if err != nil {
		return 0, 0, fmt.Errorf("berlingroup: payments to settle: %w", err)
	}
	var due []bgPayment
	for rows.Next() {
		rec, err := scanPayment(rows)
		if err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("berlingroup: payments to settle: %w", err)
		}
		due = append(due, rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("berlingroup: payments to settle: %w", err)
	}
	for _, rec := range due {
		st, err := s.update(ctx, rec)
		mark := ""
		switch {
		case err != nil && isRefusal(err):
			mark, refused = refusedMark, refused+1
		case err != nil:
			return settled, refused, err
		case st.p.ID != "":
			mark = st.p.ID
		case st.bundle.ID != "":
			mark = st.bundle.ID
		}
		if st.rc.ID != "" {
			settled++ // periodic: settlePeriodic wrote its standing order's id
			continue
		}
		if mark == "" {
			continue // not yet initiable (the consent changed since the query)
		}
		if _, err := d.DB.ExecContext(ctx, `UPDATE berlingroup_payments SET bank_id = $1 WHERE id = $2 AND bank_id = ''`, mark, rec.ID); err != nil {
			return settled, refused, fmt.Errorf("berlingroup: mark settled payment: %w", err)
		}
		if mark != refusedMark {
			settled++
		}
	}
	return settled, refused, nil
}

// isRefusal tells a refusal the dialect answers (the domain's or its own)
// from a failure of the bank.
func isRefusal(err error) bool {
	if _, ok := fault.As(err); ok {
		return true
	}
	var r *gateway.Refusal
	return errors.As(err, &r)
}
