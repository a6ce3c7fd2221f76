package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// Reading and cancelling payments, bundles and recurring payments, in both
// dialects (see pis.go for the rules).

// readable tells whether the caller may read what consentID initiated for
// customerID: with the token of that consent, or with a consent holding
// privilege whose data names the record (or nothing).
func (s *pisService) readable(ctx context.Context, g *gateway.Grant, tppID, consentID, customerID, privilege string, names func(json.RawMessage) bool) error {
	if err := needToken(g); err != nil {
		return err
	}
	if consentID != "" && consentID == g.ConsentID {
		return nil
	}
	return s.privileged(ctx, g, tppID, customerID, privilege, names)
}

// privileged checks a privilege whose data must name the record, and uses
// it.
func (s *pisService) privileged(ctx context.Context, g *gateway.Grant, tppID, customerID, privilege string, names func(json.RawMessage) bool) error {
	cons, err := s.check(ctx, g, tppID, privilege, false)
	if err != nil {
		return refusal(err)
	}
	var priv consent.Privilege
	for _, p := range cons.Privileges {
		if p.Name == privilege {
			priv = p
			break
		}
	}
	if cons.CustomerID != customerID || !names(priv.Payment) {
		return refuse(http.StatusForbidden, CodePrivilegeMissing,
			"the consent's "+privilege+" is for another payment: use the token of the consent that initiated this one, or a consent naming it",
			"przywilej "+privilege+" zgody dotyczy innej płatności: użyj tokena zgody, która ją zainicjowała, albo zgody, która ją wskazuje")
	}
	if _, err := s.check(ctx, g, tppID, privilege, true); err != nil {
		return refusal(err)
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
	paymentNames   = namesID("paymentId", "tppTransactionId", "aspspPaymentId")
	bundleNames    = namesID("bundleId", "tppBundleId", "aspspBundleId")
	recurringNames = namesID("recurringPaymentId", "tppRecurringPaymentId", "aspspPaymentId")
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
	cancelPaymentNames   = mustName("paymentId", "aspspPaymentId")
	cancelBundleNames    = mustName("bundleId", "aspspBundleId")
	cancelRecurringNames = mustName("recurringPaymentId", "aspspPaymentId")
)

// findPayment finds a payment of the TPP by the bank's id or the TPP's.
func (s *pisService) findPayment(ctx context.Context, tppID, id, key string) (payment.Payment, error) {
	var p payment.Payment
	var err error
	switch {
	case id != "":
		p, err = s.payments.Get(ctx, id)
	case key != "":
		p, err = s.payments.GetByTPPTransactionID(ctx, tppID, key)
	default:
		return p, formatError("give paymentId or tppTransactionId", "podaj paymentId albo tppTransactionId")
	}
	if err == nil && p.TPPID != tppID {
		err = &payment.Error{Code: payment.CodeNotFound}
	}
	return p, refusal(err)
}

func (s *pisService) findBundle(ctx context.Context, tppID, id, key string) (payment.Bundle, error) {
	var b payment.Bundle
	var err error
	switch {
	case id != "":
		b, err = s.payments.GetBundle(ctx, id)
	case key != "":
		b, err = s.payments.GetBundleByTPPBundleID(ctx, tppID, key)
	default:
		return b, formatError("give bundleId or tppBundleId", "podaj bundleId albo tppBundleId")
	}
	if err == nil && b.TPPID != tppID {
		err = &payment.Error{Code: payment.CodeNotFound}
	}
	return b, refusal(err)
}

// bundleOwner is the consent and customer of a bundle (of its payments).
func bundleOwner(b payment.Bundle) (consentID, customerID string) {
	for _, p := range b.Payments {
		return p.ConsentID, p.CustomerID
	}
	return "", ""
}

func (s *pisService) findRecurring(ctx context.Context, tppID, id, key string) (payment.Recurring, error) {
	var r payment.Recurring
	var err error
	switch {
	case id != "":
		r, err = s.payments.GetRecurring(ctx, id)
	case key != "":
		// The TPP's id of a recurring payment is the key of its template.
		r, err = s.recurringByKey(ctx, tppID, key)
	default:
		return r, formatError("give recurringPaymentId or tppRecurringPaymentId", "podaj recurringPaymentId albo tppRecurringPaymentId")
	}
	if err == nil && r.TPPID != tppID {
		err = &payment.Error{Code: payment.CodeNotFound}
	}
	return r, refusal(err)
}

// recurringByKey finds a recurring payment by the TPP's id: the occurrences
// carry the recurring payment's id.
func (s *pisService) recurringByKey(ctx context.Context, tppID, key string) (payment.Recurring, error) {
	p, err := s.payments.GetByTPPTransactionID(ctx, tppID, key)
	if err == nil && p.RecurringID != "" {
		return s.payments.GetRecurring(ctx, p.RecurringID)
	}
	return payment.Recurring{}, &payment.Error{Code: payment.CodeNotFound, Field: "tppRecurringPaymentId",
		Message:   "no recurring payment of your organisation is known by this tppRecurringPaymentId: ask by recurringPaymentId",
		MessagePL: "nie znaleziono płatności cyklicznej Twojej organizacji o tym tppRecurringPaymentId: pytaj po recurringPaymentId"}
}
