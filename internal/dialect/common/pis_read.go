package common

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// Reading and cancelling payments, bundles and recurring payments, in both
// dialects (see pis.go for the rules).

// Readable tells whether the caller may read what consentID initiated for
// customerID: with the token of that consent, or with a consent holding
// privilege whose data names the record (or nothing).
func (s *PIS) Readable(ctx context.Context, g *gateway.Grant, tppID, consentID, customerID, privilege string, names func(json.RawMessage) bool) error {
	if err := NeedToken(g); err != nil {
		return err
	}
	if consentID != "" && consentID == g.ConsentID {
		return nil
	}
	return s.Privileged(ctx, g, tppID, customerID, privilege, names)
}

// Privileged checks a privilege whose data must name the record, and uses
// it.
func (s *PIS) Privileged(ctx context.Context, g *gateway.Grant, tppID, customerID, privilege string, names func(json.RawMessage) bool) error {
	cons, err := s.Check(ctx, g, tppID, privilege, false)
	if err != nil {
		return Refusal(err)
	}
	var priv consent.Privilege
	for _, p := range cons.Privileges {
		if p.Name == privilege {
			priv = p
			break
		}
	}
	if cons.CustomerID != customerID || !names(priv.Payment) {
		return Refuse(http.StatusForbidden, CodePrivilegeMissing,
			"the consent's "+privilege+" is for another payment: use the token of the consent that initiated this one, or a consent naming it",
			"przywilej "+privilege+" zgody dotyczy innej płatności: użyj tokena zgody, która ją zainicjowała, albo zgody, która ją wskazuje")
	}
	if _, err := s.Check(ctx, g, tppID, privilege, true); err != nil {
		return Refusal(err)
	}
	return nil
}

// namesID tells whether privilege data names id under one of keys, or
// names nothing under any of them.
func namesID(keys ...string) func(id ...string) func(json.RawMessage) bool {
	return func(ids ...string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			var m map[string]any
			json.Unmarshal(raw, &m)
			named := false
			for _, k := range keys {
				v, _ := m[k].(string)
				if v == "" {
					continue
				}
				named = true
				for _, id := range ids {
					if id != "" && v == id {
						return true
					}
				}
			}
			return !named
		}
	}
}

var (
	PaymentNames   = namesID("paymentId", "tppTransactionId", "aspspPaymentId")
	BundleNames    = namesID("bundleId", "tppBundleId", "aspspBundleId")
	RecurringNames = namesID("recurringPaymentId", "tppRecurringPaymentId", "aspspPaymentId")
)

// mustName is namesID for cancellation: the privilege must name the record.
func mustName(keys ...string) func(ids ...string) func(json.RawMessage) bool {
	return func(ids ...string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			var m map[string]any
			json.Unmarshal(raw, &m)
			for _, k := range keys {
				if v, _ := m[k].(string); v != "" {
					for _, id := range ids {
						if id != "" && v == id {
							return true
						}
					}
				}
			}
			return false
		}
	}
}

var (
	CancelPaymentNames   = mustName("paymentId", "aspspPaymentId")
	CancelBundleNames    = mustName("bundleId", "aspspBundleId")
	CancelRecurringNames = mustName("recurringPaymentId", "aspspPaymentId")
)

// FindPayment finds a payment of the TPP by the bank's id or the TPP's.
func (s *PIS) FindPayment(ctx context.Context, tppID, id, key string) (payment.Payment, error) {
	var p payment.Payment
	var err error
	switch {
	case id != "":
		p, err = s.Payments.Get(ctx, id)
	case key != "":
		p, err = s.Payments.GetByTPPTransactionID(ctx, tppID, key)
	default:
		return p, FormatError("give paymentId or tppTransactionId", "podaj paymentId albo tppTransactionId")
	}
	if err == nil && p.TPPID != tppID {
		err = &payment.Error{Code: payment.CodeNotFound}
	}
	return p, Refusal(err)
}

func (s *PIS) FindBundle(ctx context.Context, tppID, id, key string) (payment.Bundle, error) {
	var b payment.Bundle
	var err error
	switch {
	case id != "":
		b, err = s.Payments.GetBundle(ctx, id)
	case key != "":
		b, err = s.Payments.GetBundleByTPPBundleID(ctx, tppID, key)
	default:
		return b, FormatError("give bundleId or tppBundleId", "podaj bundleId albo tppBundleId")
	}
	if err == nil && b.TPPID != tppID {
		err = &payment.Error{Code: payment.CodeNotFound}
	}
	return b, Refusal(err)
}

// bundleOwner is the consent and customer of a bundle (of its payments).
func bundleOwner(b payment.Bundle) (consentID, customerID string) {
	for _, p := range b.Payments {
		return p.ConsentID, p.CustomerID
	}
	return "", ""
}

func (s *PIS) FindRecurring(ctx context.Context, tppID, id, key string) (payment.Recurring, error) {
	var r payment.Recurring
	var err error
	switch {
	case id != "":
		r, err = s.Payments.GetRecurring(ctx, id)
	case key != "":
		// The TPP's id of a recurring payment is the key of its template.
		r, err = s.RecurringByKey(ctx, tppID, key)
	default:
		return r, FormatError("give recurringPaymentId or tppRecurringPaymentId", "podaj recurringPaymentId albo tppRecurringPaymentId")
	}
	if err == nil && r.TPPID != tppID {
		err = &payment.Error{Code: payment.CodeNotFound}
	}
	return r, Refusal(err)
}

// RecurringByKey finds a recurring payment by the TPP's id: the occurrences
// carry the recurring payment's id.
func (s *PIS) RecurringByKey(ctx context.Context, tppID, key string) (payment.Recurring, error) {
	p, err := s.Payments.GetByTPPTransactionID(ctx, tppID, key)
	if err == nil && p.RecurringID != "" {
		return s.Payments.GetRecurring(ctx, p.RecurringID)
	}
	return payment.Recurring{}, &payment.Error{Code: payment.CodeNotFound, Field: "tppRecurringPaymentId",
		Message:   "no recurring payment of your organisation is known by this tppRecurringPaymentId: ask by recurringPaymentId",
		MessagePL: "nie znaleziono płatności cyklicznej Twojej organizacji o tym tppRecurringPaymentId: pytaj po recurringPaymentId"}
}

func BundleItemError(i int, err error) error {
	if pe, ok := err.(*payment.Error); ok {
		e := *pe
		e.Field = fmt.Sprintf("transfers[%d].%s", i, e.Field)
		return &e
	}
	return err
}

// ReadPayment finds a payment and checks that the grant may read it.
func (s *PIS) ReadPayment(ctx context.Context, g *gateway.Grant, tppID, id, key string) (payment.Payment, error) {
	if err := NeedToken(g); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.FindPayment(ctx, tppID, id, key)
	if err != nil {
		return p, err
	}
	return p, s.Readable(ctx, g, tppID, p.ConsentID, p.CustomerID, consent.PrivGetPayment, PaymentNames(p.ID, p.TPPTransactionID))
}

func (s *PIS) ReadBundle(ctx context.Context, c *gateway.Caller, id, key string) (payment.Bundle, error) {
	if err := NeedToken(c.Grant); err != nil {
		return payment.Bundle{}, err
	}
	b, err := s.FindBundle(ctx, c.OrgID, id, key)
	if err != nil {
		return b, err
	}
	consentID, customerID := bundleOwner(b)
	return b, s.Readable(ctx, c.Grant, c.OrgID, consentID, customerID, consent.PrivGetBundle, BundleNames(b.ID, b.TPPBundleID))
}

// CancelPayment cancels a payment under a consent with pis:cancelPayment
// naming it. A payment that cannot be cancelled is returned with the
// CodeNotCancellable error.
func (s *PIS) CancelPayment(ctx context.Context, c *gateway.Caller, id string) (payment.Payment, error) {
	if err := NeedToken(c.Grant); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.FindPayment(ctx, c.OrgID, id, "")
	if err != nil {
		return p, err
	}
	if err := s.Privileged(ctx, c.Grant, c.OrgID, p.CustomerID, consent.PrivCancelPayment, CancelPaymentNames(p.ID)); err != nil {
		return p, err
	}
	cancelled, err := s.Payments.Cancel(ctx, p.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
	if payment.CodeOf(err) == payment.CodeNotCancellable {
		if cur, gerr := s.Payments.Get(ctx, p.ID); gerr == nil {
			p = cur
		}
		return p, err
	}
	return cancelled, err
}

func (s *PIS) CancelBundle(ctx context.Context, c *gateway.Caller, id string) (payment.Bundle, []payment.Payment, error) {
	if err := NeedToken(c.Grant); err != nil {
		return payment.Bundle{}, nil, err
	}
	b, err := s.FindBundle(ctx, c.OrgID, id, "")
	if err != nil {
		return b, nil, err
	}
	_, customerID := bundleOwner(b)
	if err := s.Privileged(ctx, c.Grant, c.OrgID, customerID, consent.PrivCancelPayment, CancelBundleNames(b.ID)); err != nil {
		return b, nil, err
	}
	return s.Payments.CancelBundle(ctx, b.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
}

func (s *PIS) CancelRecurring(ctx context.Context, c *gateway.Caller, id, privilege string) (payment.Recurring, error) {
	if err := NeedToken(c.Grant); err != nil {
		return payment.Recurring{}, err
	}
	rec, err := s.FindRecurring(ctx, c.OrgID, id, "")
	if err != nil {
		return rec, err
	}
	if err := s.Privileged(ctx, c.Grant, c.OrgID, rec.CustomerID, privilege, CancelRecurringNames(rec.ID)); err != nil {
		return rec, err
	}
	rec, err = s.Payments.CancelRecurring(ctx, rec.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
	return rec, Refusal(err)
}
