package berlingroup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/payment"
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

// settle brings the payment resource up to date: once the customer has
// authorised it, the payment is initiated in the domain by pis.Initiate —
// in one transaction the privilege used, the key (the paymentId) applied,
// API access and limits checked and counted, the payment recorded and, for
// an internal transfer due today, booked — so that any number of status
// reads and the bank's sweep (SettleDue), on any node, initiate it once.
// It returns the domain's payment, if any, and the consent.
func (s *service) settle(ctx context.Context, rec bgPayment) (payment.Payment, consent.Consent, error) {
	cons, err := s.d.Consents.Get(ctx, rec.ConsentID)
	if err != nil {
		return payment.Payment{}, cons, consentRefusal(err)
	}
	p, err := s.d.Payments.GetByTPPTransactionID(ctx, rec.TPPID, rec.ID)
	if err == nil {
		return p, cons, nil
	}
	if payment.CodeOf(err) != payment.CodeNotFound {
		return p, cons, err
	}
	if cons.Status != consent.StatusAuthorised || s.d.PIS == nil {
		return payment.Payment{}, cons, nil
	}
	p, err = s.d.PIS.Initiate(ctx, pis.Request{
		Grant:      pis.Grant{TPPID: rec.TPPID, ConsentID: cons.ID, CustomerID: cons.CustomerID},
		Privileges: []string{products[rec.Product].privilege},
		Order:      rec.Order,
		Consented:  consentedOrder(rec.Order),
		Names:      bgNames,
	})
	if err != nil && p.ID == "" {
		return p, cons, initiationRefusal(err)
	}
	return p, cons, nil
}

// consentedOrder reads the order the customer authorised from the
// privilege; a consent made before the privileges carried the domain's
// order falls back to the order the bank recorded with the resource when
// it was created (the TPP cannot change it after).
func consentedOrder(recorded payment.Order) func(consent.Privilege) (payment.Order, error) {
	return func(priv consent.Privilege) (payment.Order, error) {
		if priv.Order != nil && len(priv.Order.Orders) == 1 && !priv.Order.Bundle {
			return priv.Order.Orders[0], nil
		}
		if priv.Order != nil {
			return payment.Order{}, fmt.Errorf("the consent carries %d payments, not one", len(priv.Order.Orders))
		}
		return recorded, nil
	}
}

// initiationRefusal is the dialect's answer to a refused initiation: the
// consent's, API access's or the payment's words.
func initiationRefusal(err error) error {
	switch {
	case fault.Find(err, "consent") != nil:
		return consentRefusal(err)
	case fault.Find(err, "access") != nil:
		return accessRefusal(err)
	}
	return paymentRefusal(err)
}
