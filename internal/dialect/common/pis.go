package common

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// Payment initiation (PIS) in both dialects, a translation of the wire to
// payment.Service under the consent's rules.
//
// Rules common to both dialects:
//
//   - The payment is part of the pis consent: the customer authorised the
//     payment in the consent's privilege (pis:domestic, pis:EEA, pis:nonEEA,
//     pis:tax, pis:bundle, pis:recurring), and the initiation must order the
//     same payment. The meaningful fields are compared, not the bytes: type,
//     sender account, recipient account, name, country and BIC, amount,
//     currency, title, execution date (none is today), system and delivery
//     mode where the consent names them, tax and split payment details, the
//     recurrence; the refusal (PAYMENT_NOT_IN_CONSENT) names the first field
//     that differs. Without a sender in the consent or the body, the payment
//     is debited from the account the customer chose when approving.
//   - The privilege is single-use: it is consumed when the payment is
//     recorded, and a second initiation with the same token is refused
//     (PRIVILEGE_USED) — unless it is the idempotent replay of the first:
//     the same TPP's id of the payment (PolishAPI tppTransactionId,
//     tppBundleId, tppRecurringPaymentId; mBank TPP-Payment-ID, TPP-Bundle-ID)
//     with the same body, under the same consent, which answers with the
//     payment already recorded. The body is compared by its SHA-256 as sent;
//     in PolishAPI without its requestHeader, which carries the request's own
//     id, date and token and differs in every retry.
//   - An initiation is one domain call (pis.Service) in one database
//     transaction: concurrent initiations under one consent run one after
//     the other on any number of nodes (the consent's row lock), and a
//     duplicate answers with the payment its predecessor recorded.
//   - A payment is read (getPayment, getBundle, getRecurringPayment,
//     getMultiplePayments with a token per payment, mBank's status link)
//     with the token of the consent that initiated it, or with a consent
//     holding pis:getPayment (mBank pis:payment), pis:getBundle or
//     pis:getRecurringPayment of the same customer, limited to the ids the
//     privilege names if it names any.
//   - A payment or bundle is cancelled (cancelPayments, mBank DELETE) with a
//     consent holding pis:cancelPayment (mBank pis:cancelPayment,
//     pis:cancelBundlePayments) that names it; a recurring payment with
//     pis:cancelRecurringPayment (mBank: pis:cancelPayment naming it). Only a
//     scheduled payment, or a pending one before its session's cut-off, can
//     be cancelled.
//   - A payment refused for lack of funds is recorded as rejected and the
//     initiation answers INSUFFICIENT_FUNDS (422), its replay too.
//   - requestHeader.callbackURL is kept on the payment for status
//     notifications.

// PIS is what the PolishAPI and mBank payment handlers share: the domain
// calls behind them (internal/pis for initiation, internal/payment for
// reading and cancelling) and the consent checks of reading and
// cancelling.
type PIS struct {
	Payments *payment.Service
	Consents *consent.Service
	Ledger   *ledger.Ledger
	Pis      *pis.Service
	Tokens   gateway.Tokens // the access tokens inside getMultiplePayments
}

// NewPIS is the PIS of d, or nil when d has no payments (the operations
// then stay not implemented).
func NewPIS(d Deps) *PIS {
	if d.Payments == nil || d.Consents == nil || d.Ledger == nil {
		return nil
	}
	s := &PIS{Payments: d.Payments, Consents: d.Consents, Ledger: d.Ledger,
		Pis: pis.New(pis.Config{Consents: d.Consents, Payments: d.Payments, Ledger: d.Ledger, Access: d.Access})}
	if d.OAuth != nil {
		s.Tokens = Authenticator{S: d.OAuth}
	}
	return s
}

// Now is the bank's clock.
func (s *PIS) Now() time.Time { return s.Ledger.Clock().Now() }

// ---------------------------------------------------------------------------
// The consent and the payment in it

// NeedToken refuses a call without an access token.
func NeedToken(g *gateway.Grant) error {
	if g == nil {
		return Refuse(http.StatusUnauthorized, gateway.CodeTokenMissing,
			"this operation needs an access token", "ta operacja wymaga tokena dostępowego")
	}
	return nil
}

// Check passes the consent check of privilege for the grant's consent.
func (s *PIS) Check(ctx context.Context, g *gateway.Grant, tppID, privilege string, consume bool) (consent.Consent, error) {
	if err := NeedToken(g); err != nil {
		return consent.Consent{}, err
	}
	cons, err := s.Consents.Check(ctx, consent.Access{ConsentID: g.ConsentID, TPPID: tppID, Privilege: privilege,
		PSUPresent: true, Consume: consume})
	if err != nil {
		return cons, err
	}
	if g.CustomerID != "" && cons.CustomerID != g.CustomerID {
		return cons, &consent.Error{Code: consent.CodeUnknown}
	}
	return cons, nil
}

// Grant is the domain's view of the caller's token.
func Grant(c *gateway.Caller) pis.Grant {
	return pis.Grant{TPPID: c.OrgID, ConsentID: c.Grant.ConsentID, CustomerID: c.Grant.CustomerID}
}

// InitiatePayment initiates a single payment: the common path of both
// dialects' single payments.
func (s *PIS) InitiatePayment(ctx context.Context, c *gateway.Caller, privilege string, o payment.Order,
	read func(json.RawMessage) (payment.Order, error), names pis.FieldNames) (payment.Payment, error) {
	if err := NeedToken(c.Grant); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.Pis.Initiate(ctx, pis.Request{Grant: Grant(c), Privileges: []string{privilege}, Order: o,
		Consented: func(priv consent.Privilege) (payment.Order, error) { return ConsentedOrder(priv, read) }, Names: names})
	if err != nil {
		return p, Refusal(err)
	}
	return p, Rejected(p)
}

// Rejected is the refusal of a payment rejected at its initiation (for
// lack of funds), for the first answer and its replays alike.
func Rejected(p payment.Payment) error {
	if p.Status != payment.StatusRejected {
		return nil
	}
	w := Errors[payment.CodeInsufficientFunds]
	r := &gateway.Refusal{Status: w.Status, Code: w.Code, EN: w.EN + " (payment " + p.ID + ")", PL: w.PL + " (płatność " + p.ID + ")"}
	if p.StatusReason != "" {
		r.Detail = p.StatusReason
	}
	return r
}

// RequestHash is the SHA-256 of a body, hex.
func RequestHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// InitiateBundle initiates a bundle under its consent.
func (s *PIS) InitiateBundle(ctx context.Context, c *gateway.Caller, bo payment.BundleOrder, callback string,
	read func(json.RawMessage) ([]payment.Order, money.Amount, error), names pis.FieldNames) (payment.Bundle, error) {
	if err := NeedToken(c.Grant); err != nil {
		return payment.Bundle{}, err
	}
	b, err := s.Pis.InitiateBundle(ctx, pis.BundleRequest{Grant: Grant(c), Bundle: bo, Callback: callback,
		Consented: func(priv consent.Privilege) ([]payment.Order, money.Amount, error) {
			return ConsentedBundle(priv, read)
		}, Names: names})
	return b, Refusal(err)
}

// InitiateRecurring sets up a recurring payment under its consent, with
// the first of privileges the consent holds.
func (s *PIS) InitiateRecurring(ctx context.Context, c *gateway.Caller, privileges []string, o payment.Order,
	read func(json.RawMessage) (payment.Order, error), names pis.FieldNames) (payment.Recurring, error) {
	if err := NeedToken(c.Grant); err != nil {
		return payment.Recurring{}, err
	}
	rec, err := s.Pis.InitiateRecurring(ctx, pis.Request{Grant: Grant(c), Privileges: privileges, Order: o,
		Consented: func(priv consent.Privilege) (payment.Order, error) { return ConsentedOrder(priv, read) }, Names: names})
	return rec, Refusal(err)
}
