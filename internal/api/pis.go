package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
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

type pisService struct {
	payments *payment.Service
	consents *consent.Service
	ledger   *ledger.Ledger
	pis      *pis.Service
	tokens   gateway.Tokens // the access tokens inside getMultiplePayments
}

// pisHandlers are the payment operations of both dialects, for the route table (routes.go).
func pisHandlers(d Deps) map[string]gateway.Handler {
	if d.Payments == nil || d.Consents == nil || d.Ledger == nil {
		return nil
	}
	s := newPISService(d.Payments, d.Consents, d.Ledger, d.Access)
	if d.OAuth != nil {
		s.tokens = Authenticator{S: d.OAuth}
	}
	return s.handlers()
}

func newPISService(payments *payment.Service, consents *consent.Service, l *ledger.Ledger, a *access.Service) *pisService {
	return &pisService{payments: payments, consents: consents, ledger: l,
		pis: pis.New(pis.Config{Consents: consents, Payments: payments, Ledger: l, Access: a})}
}

func (s *pisService) handlers() map[string]gateway.Handler {
	return map[string]gateway.Handler{
		"polishapi.domestic":               s.polishPayment(payment.Domestic, consent.PrivDomestic),
		"polishapi.EEA":                    s.polishPayment(payment.EEA, consent.PrivEEA),
		"polishapi.nonEEA":                 s.polishPayment(payment.NonEEA, consent.PrivNonEEA),
		"polishapi.tax":                    s.polishPayment(payment.Tax, consent.PrivTax),
		"polishapi.bundle":                 s.polishBundle,
		"polishapi.recurring":              s.polishRecurring,
		"polishapi.getPayment":             s.polishGetPayment,
		"polishapi.getBundle":              s.polishGetBundle,
		"polishapi.getRecurringPayment":    s.polishGetRecurring,
		"polishapi.getMultiplePayments":    s.polishGetMultiple,
		"polishapi.cancelPayments":         s.polishCancel,
		"polishapi.cancelRecurringPayment": s.polishCancelRecurring,
		"mbank.domestic":                   s.mbankDomestic,
		"mbank.paymentStatus":              s.mbankStatus,
		"mbank.cancelPayment":              s.mbankCancel,
		"mbank.bundleDomestic":             s.mbankBundle,
		"mbank.bundleStatus":               s.mbankBundleStatus,
		"mbank.cancelBundle":               s.mbankCancelBundle,
	}
}

func (s *pisService) now() time.Time { return s.ledger.Clock().Now() }

func (s *pisService) header(c *gateway.Caller) polishapi.ResponseHeader {
	return polishapi.NewResponseHeader(c.RequestID, s.now())
}

// ---------------------------------------------------------------------------
// The consent and the payment in it

func needToken(g *gateway.Grant) error {
	if g == nil {
		return refuse(http.StatusUnauthorized, gateway.CodeTokenMissing,
			"this operation needs an access token", "ta operacja wymaga tokena dostępowego")
	}
	return nil
}

// check passes the consent check of privilege for the grant's consent.
func (s *pisService) check(ctx context.Context, g *gateway.Grant, tppID, privilege string, consume bool) (consent.Consent, error) {
	if err := needToken(g); err != nil {
		return consent.Consent{}, err
	}
	cons, err := s.consents.Check(ctx, consent.Access{ConsentID: g.ConsentID, TPPID: tppID, Privilege: privilege,
		PSUPresent: true, Consume: consume})
	if err != nil {
		return cons, err
	}
	if g.CustomerID != "" && cons.CustomerID != g.CustomerID {
		return cons, &consent.Error{Code: consent.CodeUnknown}
	}
	return cons, nil
}

// grant is the domain's view of the caller's token.
func grant(c *gateway.Caller) pis.Grant {
	return pis.Grant{TPPID: c.OrgID, ConsentID: c.Grant.ConsentID, CustomerID: c.Grant.CustomerID}
}

// initiatePayment initiates a single payment: the common path of both
// dialects' single payments.
func (s *pisService) initiatePayment(ctx context.Context, c *gateway.Caller, privilege string, o payment.Order,
	read func(json.RawMessage) (payment.Order, error), names pis.FieldNames) (payment.Payment, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.pis.Initiate(ctx, pis.Request{Grant: grant(c), Privileges: []string{privilege}, Order: o,
		Consented: func(priv consent.Privilege) (payment.Order, error) { return consentedOrder(priv, read) }, Names: names})
	if err != nil {
		return p, refusal(err)
	}
	return p, rejected(p)
}

// rejected is the refusal of a payment rejected at its initiation (for
// lack of funds), for the first answer and its replays alike.
func rejected(p payment.Payment) error {
	if p.Status != payment.StatusRejected {
		return nil
	}
	w := paymentErrors[payment.CodeInsufficientFunds]
	r := &gateway.Refusal{Status: w.status, Code: w.code, EN: w.en + " (payment " + p.ID + ")", PL: w.pl + " (płatność " + p.ID + ")"}
	if p.StatusReason != "" {
		r.Detail = p.StatusReason
	}
	return r
}

func requestHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
