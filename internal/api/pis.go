package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
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
//   - Concurrent initiations under one consent are taken one at a time on a
//     node; across nodes the privilege's compare-and-set decides, and a
//     duplicate that loses waits for the winner's payment to answer with it.
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

// replayWait bounds how long a duplicate initiation that lost the race for
// the privilege to another node waits for the winner's payment (on one
// node, the consent's lock makes it wait for the winner already).
var replayWait = time.Second

type pisService struct {
	payments *payment.Service
	consents *consent.Service
	ledger   *ledger.Ledger
	tokens   gateway.Tokens  // the access tokens inside getMultiplePayments
	access   *access.Service // API access and payment limits per account; nil: none
	limitsDB store.Querier   // where access counts the day totals

	locks sync.Map // consent id → *sync.Mutex
}

// pisHandlers are the payment operations of both dialects, for the route table (routes.go).
func pisHandlers(d Deps) map[string]gateway.Handler {
	if d.Payments == nil || d.Consents == nil || d.Ledger == nil {
		return nil
	}
	s := &pisService{payments: d.Payments, consents: d.Consents, ledger: d.Ledger, access: d.Access, limitsDB: d.DB}
	if d.OAuth != nil {
		s.tokens = Authenticator{S: d.OAuth}
	}
	return s.handlers()
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

func privilegeOf(c consent.Consent, name string) (consent.Privilege, bool) {
	for _, p := range c.Privileges {
		if p.Name == name {
			return p, true
		}
	}
	return consent.Privilege{}, false
}

// record is what an initiation records: a payment, a bundle or a recurring
// payment, found by the TPP's key.
type record struct {
	found     bool
	consentID string // of the consent that initiated it
	hash      string
}

// once runs the initiation a single-use privilege allows. prepare checks
// the body against the consent (and may fill the order from it); lookup
// finds what the TPP's key recorded; create records it. It returns whether
// the answer is a replay of what was recorded before.
func (s *pisService) once(ctx context.Context, c *gateway.Caller, privilege, hash string,
	prepare func(consent.Consent, consent.Privilege) error, lookup func() (record, error), create func() error) error {
	cons, err := s.check(ctx, c.Grant, c.OrgID, privilege, false)
	if consent.CodeOf(err) == consent.CodeUsageExhausted {
		// Wait for an initiation under way on this node, then look.
		defer s.lock(c.Grant.ConsentID)()
		return s.replay(ctx, c.Grant.ConsentID, hash, lookup, err, replayWait)
	}
	if err != nil {
		return refusal(err)
	}
	priv, _ := privilegeOf(cons, privilege)
	if err := prepare(cons, priv); err != nil {
		return refusal(err)
	}

	defer s.lock(cons.ID)()
	if rec, err := lookup(); err != nil {
		return refusal(err)
	} else if rec.found {
		return s.replay(ctx, cons.ID, hash, lookup, nil, 0)
	}
	if _, err := s.check(ctx, c.Grant, c.OrgID, privilege, true); err != nil {
		if consent.CodeOf(err) == consent.CodeUsageExhausted {
			return s.replay(ctx, cons.ID, hash, lookup, err, replayWait)
		}
		return refusal(err)
	}
	return refusal(create())
}

// lock takes the node's lock of a consent's initiations and returns its
// release.
func (s *pisService) lock(consentID string) func() {
	mu, _ := s.locks.LoadOrStore(consentID, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// replay answers an initiation whose key was recorded before: nil when it
// is the same request under the same consent (the caller renders what
// lookup found), the refusal otherwise. used is the refusal of a used
// privilege, returned when nothing was recorded under the key; wait is how
// long to wait for a concurrent initiation to record it.
func (s *pisService) replay(ctx context.Context, consentID, hash string, lookup func() (record, error), used error, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		rec, err := lookup()
		if err != nil {
			return refusal(err)
		}
		switch {
		case rec.found && rec.consentID == consentID && rec.hash == hash:
			return nil
		case rec.found && used == nil || rec.found && rec.consentID == consentID:
			return refusal(&payment.Error{Code: payment.CodeDuplicate, Field: "tppTransactionId",
				Message:   "the TPP's id of the payment was already used for another payment with a different body: use a new id for a new payment",
				MessagePL: "identyfikator płatności TPP użyto już dla innej płatności o innej treści: nowa płatność wymaga nowego identyfikatora"})
		case !rec.found && time.Now().Before(deadline):
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
			continue
		}
		if used == nil {
			used = &consent.Error{Code: consent.CodeUsageExhausted}
		}
		return refusal(used)
	}
}

// fillSender sets the sender of orders without one: the consent's payment's
// sender, or the account the customer chose when approving. It refuses a
// sender outside the consent's accounts.
func fillSender(cons consent.Consent, consented, o *payment.Order) error {
	var chosen string
	if len(cons.Accounts) > 0 {
		chosen = cons.Accounts[0]
	}
	if consented.SenderAccount == "" {
		consented.SenderAccount = chosen
		if o.SenderAccount != "" && len(cons.Accounts) > 0 && !containsAccount(cons.Accounts, o.SenderAccount) {
			return mismatch("sender.accountNumber", strings.Join(cons.Accounts, " or "), o.SenderAccount)
		}
		if o.SenderAccount != "" {
			consented.SenderAccount = o.SenderAccount
		}
	}
	if o.SenderAccount == "" {
		o.SenderAccount = consented.SenderAccount
	}
	if o.SenderAccount == "" {
		return &payment.Error{Code: payment.CodeInvalidSenderAccount, Field: "sender.accountNumber",
			Message:   "neither the consent nor the payment names the account to debit, and the customer chose none: name sender.accountNumber in the consent",
			MessagePL: "ani zgoda, ani płatność nie wskazują rachunku do obciążenia, a klient żadnego nie wybrał: podaj sender.accountNumber w zgodzie"}
	}
	o.CustomerID, o.ConsentID = cons.CustomerID, cons.ID
	return nil
}

func containsAccount(list []string, a string) bool {
	a = normAccount(a)
	for _, x := range list {
		if normAccount(x) == a {
			return true
		}
	}
	return false
}

// mismatch is the refusal of a payment that is not the consent's.
func mismatch(field, consented, got string) error {
	return refuse(http.StatusForbidden, CodePaymentMismatch,
		fmt.Sprintf("the payment differs from the one the customer authorised in the consent: %s is %q in the consent and %q here; initiate exactly the authorised payment, or ask the customer for a new consent",
			field, consented, got),
		fmt.Sprintf("płatność różni się od autoryzowanej przez klienta w zgodzie: %s w zgodzie to %q, a tu %q; zainicjuj dokładnie autoryzowaną płatność albo poproś klienta o nową zgodę",
			field, consented, got))
}

func normAccount(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) == 28 && strings.HasPrefix(s, "PL") {
		s = s[2:]
	}
	return s
}

func normText(s string) string { return strings.Join(strings.Fields(s), " ") }

// sameOrder compares the meaningful fields of the consented order and the
// one initiated, and refuses naming the first that differs. today stands
// for an empty execution date.
func sameOrder(want, got payment.Order, today string, names fieldNames) error {
	date := func(d string) string {
		if d == "" {
			return today
		}
		return d
	}
	type field struct {
		name      string
		want, got string
	}
	fields := []field{
		{"type", string(want.Type), string(got.Type)},
		{names.sender, normAccount(want.SenderAccount), normAccount(got.SenderAccount)},
		{names.recipientAccount, normAccount(want.Recipient.Account), normAccount(got.Recipient.Account)},
		{names.recipientName, normText(want.Recipient.Name), normText(got.Recipient.Name)},
		{"recipient.countryCode", strings.ToUpper(want.Recipient.Country), strings.ToUpper(got.Recipient.Country)},
		{"recipientBank.bicOrSwift", strings.ToUpper(want.Recipient.BIC), strings.ToUpper(got.Recipient.BIC)},
		{"transferData.amount", want.Amount.String(), got.Amount.String()},
		{"transferData.currency", want.Currency, got.Currency},
		{"transferData.description", normText(want.Title), normText(got.Title)},
		{"transferData.executionDate", date(want.ExecutionDate), date(got.ExecutionDate)},
	}
	if want.System != "" {
		fields = append(fields, field{"system", string(want.System), string(got.System)})
	}
	if want.DeliveryMode != "" {
		fields = append(fields, field{"deliveryMode", string(want.DeliveryMode), string(got.DeliveryMode)})
	}
	fields = append(fields, field{names.tax, taxString(want.Tax), taxString(got.Tax)},
		field{names.split, splitString(want.Split), splitString(got.Split)},
		field{names.recurrence, recurrenceString(want.Recurrence), recurrenceString(got.Recurrence)})
	for _, f := range fields {
		if f.want != f.got {
			return mismatch(f.name, f.want, f.got)
		}
	}
	return nil
}

// fieldNames are a dialect's names of the compared fields.
type fieldNames struct {
	sender, recipientAccount, recipientName, tax, split, recurrence string
}

var (
	polishNames = fieldNames{"sender.accountNumber", "recipient.accountNumber", "recipient.nameAddress", "usInfo", "split", "recurrence"}
	mbankNames  = fieldNames{"sender.accountNumber", "recipient.accountNumber", "recipient.name", "usInfo", "transactionInfoSp", "transferData.recurrence"}
)

func taxString(t *payment.TaxInfo) string {
	if t == nil {
		return ""
	}
	return strings.Join([]string{payment.NormalizeFormCode(t.FormCode), t.Period, string(t.PayerIDType), t.PayerID, t.ObligationID}, "/")
}

func splitString(sp *payment.SplitPayment) string {
	if sp == nil {
		return ""
	}
	return strings.Join([]string{sp.VATAmount.String(), sp.InvoiceNumber, sp.NIP, normText(sp.Description)}, "/")
}

func recurrenceString(r *payment.Recurrence) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("%s every %d %s until %s, days off %s", r.StartDate, r.PeriodValue, r.PeriodType, r.EndDate, r.DayOff)
}

// prepareOrder completes an order from the consent and checks it against
// the consented one and the domain's rules, before the privilege is used.
func (s *pisService) prepareOrder(ctx context.Context, cons consent.Consent, consented, o *payment.Order, names fieldNames) error {
	if err := fillSender(cons, consented, o); err != nil {
		return err
	}
	if err := sameOrder(*consented, *o, ledger.DateOf(s.now()), names); err != nil {
		return err
	}
	if o.Recurrence != nil {
		v := *o
		v.Recurrence, v.ExecutionDate = nil, ""
		if err := s.payments.Validate(v); err != nil {
			return err
		}
	} else if err := s.payments.Validate(*o); err != nil {
		return err
	}
	if err := s.ownSender(ctx, cons.CustomerID, o.SenderAccount); err != nil {
		return err
	}
	return s.allowed(ctx, *o)
}

// allowed checks the sender account's API access and the customer's limits
// for API payments (read only; reserve counts the payment).
func (s *pisService) allowed(ctx context.Context, o payment.Order) error {
	if s.access == nil {
		return nil
	}
	nrb, err := polish.NormalizeNRB(o.SenderAccount)
	if err != nil {
		return nil // Validate says why
	}
	if err := checkAccess(ctx, s.access, nrb, access.PIS); err != nil {
		return err
	}
	return accessRefusal(s.access.CheckPaymentLimit(ctx, nrb, o.Amount, o.Recurrence != nil, s.limitDay(o)))
}

func (s *pisService) limitDay(o payment.Order) string {
	if o.ExecutionDate != "" {
		return o.ExecutionDate
	}
	return ledger.DateOf(s.now())
}

// reserve counts a new payment towards its day limit, atomically with the
// limit check; release gives it back when the payment was not made.
func (s *pisService) reserve(ctx context.Context, o payment.Order) (release func(), err error) {
	if s.access == nil || s.limitsDB == nil {
		return func() {}, nil
	}
	nrb, err := polish.NormalizeNRB(o.SenderAccount)
	if err != nil {
		return func() {}, nil
	}
	recurring, day := o.Recurrence != nil, s.limitDay(o)
	if err := s.access.RecordPayment(ctx, s.limitsDB, nrb, o.Amount, recurring, day); err != nil {
		return nil, accessRefusal(err)
	}
	return func() { s.access.ReleasePayment(context.WithoutCancel(ctx), s.limitsDB, nrb, o.Amount, recurring, day) }, nil
}

// ownSender checks, before the privilege is used, that the sender account
// is the customer's.
func (s *pisService) ownSender(ctx context.Context, customerID, number string) error {
	nrb, err := polish.NormalizeNRB(number)
	if err != nil {
		return nil // Validate says why
	}
	acct, err := s.ledger.AccountByNRB(ctx, nrb)
	if ledger.CodeOf(err) == ledger.CodeNotFound || err == nil && acct.CustomerID != customerID {
		return &payment.Error{Code: payment.CodeInvalidSenderAccount, Field: "sender.accountNumber",
			Message:   "the sender's account is not an account of the customer who gave the consent",
			MessagePL: "rachunek nadawcy nie jest rachunkiem klienta, który udzielił zgody"}
	}
	return err
}

// consentedOrder reads the payment of a consent's privilege.
func consentedOrder(priv consent.Privilege, read func(json.RawMessage) (payment.Order, error)) (payment.Order, error) {
	o, err := read(priv.Payment)
	if err != nil {
		return o, refuse(http.StatusForbidden, CodePaymentMismatch,
			"the payment in the consent's privilege "+priv.Name+" cannot be read: ask the customer for a new consent ("+err.Error()+")",
			"nie można odczytać płatności w przywileju "+priv.Name+" zgody: poproś klienta o nową zgodę ("+err.Error()+")")
	}
	return o, nil
}

// initiatePayment initiates a single payment: the common path of both
// dialects' single payments.
func (s *pisService) initiatePayment(ctx context.Context, c *gateway.Caller, privilege string, o payment.Order,
	read func(json.RawMessage) (payment.Order, error), names fieldNames) (payment.Payment, error) {
	var p payment.Payment
	lookup := func() (record, error) {
		got, err := s.payments.GetByTPPTransactionID(ctx, c.OrgID, o.TPPTransactionID)
		if payment.CodeOf(err) == payment.CodeNotFound {
			return record{}, nil
		}
		if err != nil {
			return record{}, err
		}
		p = got
		return record{found: true, consentID: got.ConsentID, hash: got.RequestHash}, nil
	}
	err := s.once(ctx, c, privilege, o.RequestHash, func(cons consent.Consent, priv consent.Privilege) error {
		want, err := consentedOrder(priv, read)
		if err != nil {
			return err
		}
		want.Type = o.Type
		return s.prepareOrder(ctx, cons, &want, &o, names)
	}, lookup, func() error {
		release, err := s.reserve(ctx, o)
		if err != nil {
			return err
		}
		p, err = s.payments.Initiate(ctx, o)
		if p.ID == "" || p.Status == payment.StatusRejected {
			release()
		}
		return err
	})
	if err != nil {
		return p, err
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

// ---------------------------------------------------------------------------
// Reading and cancelling

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
	priv, _ := privilegeOf(cons, privilege)
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

// ---------------------------------------------------------------------------
// PolishAPI

func (s *pisService) polishPayment(t payment.Type, privilege string) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req polishapi.PaymentOrder
		if err := decode(c, &req); err != nil {
			return err
		}
		o, err := req.Order(t)
		if err != nil {
			return refusal(err)
		}
		o.TPPID, o.RequestHash = c.OrgID, polishapi.RequestHash(c.Body)
		if req.RequestHeader != nil {
			o.CallbackURL = req.RequestHeader.CallbackURL
		}
		if err := s.checkCallback(r.Context(), c, o.CallbackURL); err != nil {
			return err
		}
		p, err := s.initiatePayment(r.Context(), c, privilege, o, func(raw json.RawMessage) (payment.Order, error) {
			var priv polishapi.PaymentOrder
			if err := json.Unmarshal(raw, &priv); err != nil {
				return payment.Order{}, err
			}
			return priv.Order(t)
		}, polishNames)
		if err != nil {
			return err
		}
		return gateway.WriteJSON(w, http.StatusOK, polishapi.AddPaymentResponse{ResponseHeader: s.header(c), PaymentID: p.ID,
			GeneralStatus: string(p.Status), DetailedStatus: polishapi.DetailedStatus(p)})
	}
}

func (s *pisService) polishBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req polishapi.PaymentsBundleRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	orders, total, err := polishBundleOrders(req)
	if err != nil {
		return refusal(err)
	}
	if req.TPPBundleID == "" {
		return formatError("tppBundleId is required", "tppBundleId jest wymagany")
	}
	bo := payment.BundleOrder{TPPID: c.OrgID, TPPBundleID: req.TPPBundleID, Orders: orders, TotalAmount: total,
		RequestHash: polishapi.RequestHash(c.Body)}
	callback := ""
	if req.RequestHeader != nil {
		callback = req.RequestHeader.CallbackURL
	}
	if err := s.checkCallback(ctx, c, callback); err != nil {
		return err
	}
	b, err := s.initiateBundle(ctx, c, bo, callback, func(raw json.RawMessage) ([]payment.Order, money.Amount, error) {
		var priv polishapi.PaymentsBundleRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return nil, 0, err
		}
		return polishBundleOrders(priv)
	}, polishNames)
	if err != nil {
		return err
	}
	out := polishapi.PaymentsBundleResponse{ResponseHeader: s.header(c), BundleID: b.ID, BundleStatus: string(b.Status),
		BundleDetailedStatus: polishapi.BundleDetailedStatus(b)}
	for _, p := range b.Payments {
		out.Payments = append(out.Payments, polishapi.InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func polishBundleOrders(req polishapi.PaymentsBundleRequest) ([]payment.Order, money.Amount, error) {
	t, ok := polishapi.PaymentTypeOf(req.TypeOfTransfers)
	if !ok {
		return nil, 0, &payment.Error{Code: payment.CodeInvalidBundle, Field: "typeOfTransfers",
			Message:   fmt.Sprintf("typeOfTransfers %q is not domestic, EEA, nonEEA or tax", req.TypeOfTransfers),
			MessagePL: fmt.Sprintf("typeOfTransfers %q to nie domestic, EEA, nonEEA ani tax", req.TypeOfTransfers)}
	}
	total, err := money.Parse(req.TransfersTotalAmount)
	if err != nil {
		return nil, 0, &payment.Error{Code: payment.CodeInvalidBundle, Field: "transfersTotalAmount",
			Message: "transfersTotalAmount is not an amount such as 100.00", MessagePL: "transfersTotalAmount nie jest kwotą, np. 100.00"}
	}
	var orders []payment.Order
	for i, tr := range req.Transfers() {
		o, err := tr.Order(t)
		if err != nil {
			return nil, 0, bundleItemError(i, err)
		}
		orders = append(orders, o)
	}
	return orders, total, nil
}

func bundleItemError(i int, err error) error {
	if pe, ok := err.(*payment.Error); ok {
		e := *pe
		e.Field = fmt.Sprintf("transfers[%d].%s", i, e.Field)
		return &e
	}
	return err
}

// initiateBundle initiates a bundle under its consent.
func (s *pisService) initiateBundle(ctx context.Context, c *gateway.Caller, bo payment.BundleOrder, callback string,
	read func(json.RawMessage) ([]payment.Order, money.Amount, error), names fieldNames) (payment.Bundle, error) {
	var b payment.Bundle
	lookup := func() (record, error) {
		got, err := s.payments.GetBundleByTPPBundleID(ctx, c.OrgID, bo.TPPBundleID)
		if payment.CodeOf(err) == payment.CodeNotFound {
			return record{}, nil
		}
		if err != nil {
			return record{}, err
		}
		b = got
		consentID, _ := bundleOwner(got)
		return record{found: true, consentID: consentID, hash: got.RequestHash}, nil
	}
	err := s.once(ctx, c, consent.PrivBundle, bo.RequestHash, func(cons consent.Consent, priv consent.Privilege) error {
		want, total, err := read(priv.Payment)
		if err != nil {
			_, err = consentedOrder(priv, func(json.RawMessage) (payment.Order, error) { return payment.Order{}, err })
			return err
		}
		if total != bo.TotalAmount {
			return mismatch("transfersTotalAmount", total.String(), bo.TotalAmount.String())
		}
		if len(want) != len(bo.Orders) {
			return mismatch("transfers", fmt.Sprint(len(want), " transfers"), fmt.Sprint(len(bo.Orders), " transfers"))
		}
		for i := range bo.Orders {
			o := &bo.Orders[i]
			o.TPPID, o.CallbackURL, o.RequestHash = bo.TPPID, callback, bo.RequestHash
			w := want[i]
			if err := fillSender(cons, &w, o); err != nil {
				return err
			}
			if err := sameOrder(w, *o, ledger.DateOf(s.now()), names); err != nil {
				ref := err.(*gateway.Refusal)
				ref.EN, ref.PL = fmt.Sprintf("transfer %d: %s", i+1, ref.EN), fmt.Sprintf("przelew %d: %s", i+1, ref.PL)
				return ref
			}
			if err := s.payments.Validate(*o); err != nil {
				return bundleItemError(i, err)
			}
			if err := s.ownSender(ctx, cons.CustomerID, o.SenderAccount); err != nil {
				return bundleItemError(i, err)
			}
		}
		return nil
	}, lookup, func() error {
		var err error
		b, err = s.payments.InitiateBundle(ctx, bo)
		return err
	})
	return b, err
}

func (s *pisService) polishRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req polishapi.RecurringPaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	read := func(req polishapi.RecurringPaymentRequest) (payment.Order, error) {
		t, ok := polishapi.PaymentTypeOf(req.TypeOfPayment)
		pay := req.Payment()
		if !ok || pay == nil {
			return payment.Order{}, &payment.Error{Code: payment.CodeInvalidRecurrence, Field: "typeOfPayment",
				Message:   fmt.Sprintf("typeOfPayment %q needs its payment (domesticPayment, EEAPayment, nonEEAPayment or taxPayment)", req.TypeOfPayment),
				MessagePL: fmt.Sprintf("typeOfPayment %q wymaga swojej płatności (domesticPayment, EEAPayment, nonEEAPayment lub taxPayment)", req.TypeOfPayment)}
		}
		o, err := pay.Order(t)
		rc := req.Recurrence.Recurrence()
		o.Recurrence = &rc
		return o, err
	}
	o, err := read(req)
	if err != nil {
		return refusal(err)
	}
	if req.TPPRecurringPaymentID == "" {
		return formatError("tppRecurringPaymentId is required", "tppRecurringPaymentId jest wymagany")
	}
	o.TPPID, o.TPPTransactionID, o.RequestHash = c.OrgID, req.TPPRecurringPaymentID, polishapi.RequestHash(c.Body)
	if req.RequestHeader != nil {
		o.CallbackURL = req.RequestHeader.CallbackURL
	}
	if err := s.checkCallback(ctx, c, o.CallbackURL); err != nil {
		return err
	}
	rec, err := s.initiateRecurring(ctx, c, consent.PrivRecurring, o, func(raw json.RawMessage) (payment.Order, error) {
		var priv polishapi.RecurringPaymentRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return payment.Order{}, err
		}
		return read(priv)
	}, polishNames)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.RecurringPaymentResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		Recurrence: polishapi.RecurrenceOf(rec.Recurrence), RecurringPaymentStatus: string(rec.Status),
		RecurringPaymentDetailedStatus: polishapi.RecurringDetailedStatus(rec)})
}

// initiateRecurring sets up a recurring payment under its consent.
func (s *pisService) initiateRecurring(ctx context.Context, c *gateway.Caller, privilege string, o payment.Order,
	read func(json.RawMessage) (payment.Order, error), names fieldNames) (payment.Recurring, error) {
	var rec payment.Recurring
	lookup := func() (record, error) {
		got, err := s.recurringByKey(ctx, c.OrgID, o.TPPTransactionID)
		if payment.CodeOf(err) == payment.CodeNotFound {
			return record{}, nil
		}
		if err != nil {
			return record{}, err
		}
		rec = got
		return record{found: true, consentID: got.Order.ConsentID, hash: got.RequestHash}, nil
	}
	err := s.once(ctx, c, privilege, o.RequestHash, func(cons consent.Consent, priv consent.Privilege) error {
		want, err := consentedOrder(priv, read)
		if err != nil {
			return err
		}
		return s.prepareOrder(ctx, cons, &want, &o, names)
	}, lookup, func() error {
		release, err := s.reserve(ctx, o)
		if err != nil {
			return err
		}
		rec, err = s.payments.InitiateRecurring(ctx, o)
		if err != nil {
			release()
		}
		return err
	})
	return rec, err
}

func (s *pisService) polishGetPayment(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.PaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	p, err := s.readPayment(r.Context(), c.Grant, c.OrgID, req.PaymentID, req.TPPTransactionID)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.GetPaymentResponse{ResponseHeader: s.header(c), PaymentInfo: polishapi.InfoOf(p)})
}

// readPayment finds a payment and checks that the grant may read it.
func (s *pisService) readPayment(ctx context.Context, g *gateway.Grant, tppID, id, key string) (payment.Payment, error) {
	if err := needToken(g); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.findPayment(ctx, tppID, id, key)
	if err != nil {
		return p, err
	}
	return p, s.readable(ctx, g, tppID, p.ConsentID, p.CustomerID, consent.PrivGetPayment, paymentNames(p.ID, p.TPPTransactionID))
}

func (s *pisService) polishGetMultiple(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.PaymentsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len(req.Payments) == 0 || len(req.Payments) > maxPerPage {
		return formatError(fmt.Sprintf("payments lists 1 to %d payments, each with its accessToken", maxPerPage),
			fmt.Sprintf("payments zawiera od 1 do %d płatności, każdą z jej accessToken", maxPerPage))
	}
	if s.tokens == nil {
		return gateway.NotImplemented("getMultiplePayments")
	}
	thumb := ""
	if c.QWACInfo != nil {
		thumb = c.QWACInfo.FingerprintS256
	}
	out := polishapi.PaymentsResponse{ResponseHeader: s.header(c)}
	for i, e := range req.Payments {
		g, err := s.tokens.Authenticate(r.Context(), e.AccessToken, c.OrgID, thumb)
		if err != nil {
			return entryError(i, refusal(err))
		}
		p, err := s.readPayment(r.Context(), &g, c.OrgID, e.PaymentID, e.TPPTransactionID)
		if err != nil {
			return entryError(i, err)
		}
		out.Payments = append(out.Payments, polishapi.InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

// entryError names the entry of getMultiplePayments a refusal is about.
func entryError(i int, err error) error {
	if ref, ok := err.(*gateway.Refusal); ok {
		r := *ref
		r.EN, r.PL = fmt.Sprintf("payments[%d]: %s", i, r.EN), fmt.Sprintf("payments[%d]: %s", i, r.PL)
		return &r
	}
	return err
}

func (s *pisService) polishGetBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.BundleRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	b, err := s.readBundle(r.Context(), c, req.BundleID, req.TPPBundleID)
	if err != nil {
		return err
	}
	out := polishapi.BundleResponse{ResponseHeader: s.header(c), BundleID: b.ID, TPPBundleID: b.TPPBundleID, BundleStatus: string(b.Status),
		BundleDetailedStatus: polishapi.BundleDetailedStatus(b)}
	if req.TransactionsIncluded {
		for _, p := range b.Payments {
			out.Payments = append(out.Payments, polishapi.InfoOf(p))
		}
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *pisService) readBundle(ctx context.Context, c *gateway.Caller, id, key string) (payment.Bundle, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Bundle{}, err
	}
	b, err := s.findBundle(ctx, c.OrgID, id, key)
	if err != nil {
		return b, err
	}
	consentID, customerID := bundleOwner(b)
	return b, s.readable(ctx, c.Grant, c.OrgID, consentID, customerID, consent.PrivGetBundle, bundleNames(b.ID, b.TPPBundleID))
}

func (s *pisService) polishGetRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.RecurringPaymentStatusRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := needToken(c.Grant); err != nil {
		return err
	}
	rec, err := s.findRecurring(r.Context(), c.OrgID, req.RecurringPaymentID, req.TPPRecurringPaymentID)
	if err != nil {
		return err
	}
	if err := s.readable(r.Context(), c.Grant, c.OrgID, rec.Order.ConsentID, rec.CustomerID, consent.PrivGetRecurringPayment,
		recurringNames(rec.ID, rec.TPPRecurringID)); err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.RecurringPaymentStatusResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		TPPRecurringPaymentID:  rec.TPPRecurringID,
		RecurringPaymentStatus: string(rec.Status), RecurringPaymentDetailedStatus: polishapi.RecurringDetailedStatus(rec)})
}

func (s *pisService) polishCancel(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req polishapi.CancelPaymentsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	var left []payment.Payment
	switch {
	case req.PaymentID != "" && req.BundleID != "":
		return formatError("give paymentId or bundleId, not both", "podaj paymentId albo bundleId, nie oba")
	case req.PaymentID != "":
		p, err := s.cancelPayment(ctx, c, req.PaymentID)
		if payment.CodeOf(err) == payment.CodeNotCancellable {
			left = []payment.Payment{p}
		} else if err != nil {
			return refusal(err)
		}
	case req.BundleID != "":
		var err error
		if _, left, err = s.cancelBundle(ctx, c, req.BundleID); err != nil {
			return refusal(err)
		}
	default:
		return formatError("give paymentId or bundleId", "podaj paymentId albo bundleId")
	}
	if len(left) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	out := polishapi.CancelPaymentsResponse{ResponseHeader: s.header(c)}
	for _, p := range left {
		out.Payments = append(out.Payments, polishapi.InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

// cancelPayment cancels a payment under a consent with pis:cancelPayment
// naming it. A payment that cannot be cancelled is returned with the
// CodeNotCancellable error.
func (s *pisService) cancelPayment(ctx context.Context, c *gateway.Caller, id string) (payment.Payment, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.findPayment(ctx, c.OrgID, id, "")
	if err != nil {
		return p, err
	}
	if err := s.privileged(ctx, c.Grant, c.OrgID, p.CustomerID, consent.PrivCancelPayment, cancelPaymentNames(p.ID)); err != nil {
		return p, err
	}
	cancelled, err := s.payments.Cancel(ctx, p.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
	if payment.CodeOf(err) == payment.CodeNotCancellable {
		if cur, gerr := s.payments.Get(ctx, p.ID); gerr == nil {
			p = cur
		}
		return p, err
	}
	return cancelled, err
}

func (s *pisService) cancelBundle(ctx context.Context, c *gateway.Caller, id string) (payment.Bundle, []payment.Payment, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Bundle{}, nil, err
	}
	b, err := s.findBundle(ctx, c.OrgID, id, "")
	if err != nil {
		return b, nil, err
	}
	_, customerID := bundleOwner(b)
	if err := s.privileged(ctx, c.Grant, c.OrgID, customerID, consent.PrivCancelPayment, cancelBundleNames(b.ID)); err != nil {
		return b, nil, err
	}
	return s.payments.CancelBundle(ctx, b.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
}

func (s *pisService) polishCancelRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.CancelRecurringPaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.RecurringPaymentID == "" {
		return formatError("recurringPaymentId is required", "recurringPaymentId jest wymagany")
	}
	rec, err := s.cancelRecurring(r.Context(), c, req.RecurringPaymentID, consent.PrivCancelRecurringPayment)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.CancelRecurringPaymentResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		TPPRecurringPaymentID: rec.TPPRecurringID, RecurringPaymentStatus: string(rec.Status),
		RecurringPaymentDetailedStatus: polishapi.RecurringDetailedStatus(rec)})
}

func (s *pisService) cancelRecurring(ctx context.Context, c *gateway.Caller, id, privilege string) (payment.Recurring, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Recurring{}, err
	}
	rec, err := s.findRecurring(ctx, c.OrgID, id, "")
	if err != nil {
		return rec, err
	}
	if err := s.privileged(ctx, c.Grant, c.OrgID, rec.CustomerID, privilege, cancelRecurringNames(rec.ID)); err != nil {
		return rec, err
	}
	rec, err = s.payments.CancelRecurring(ctx, rec.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
	return rec, refusal(err)
}

// ---------------------------------------------------------------------------
// mBank

// mbankBase is the request's /{bankId}/v3 prefix.
func mbankBase(r *http.Request) string {
	if bank := chi.URLParam(r, "bankId"); bank != "" {
		return "/" + bank + "/v3"
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) >= 2 && parts[1] == "v3" {
		return "/" + parts[0] + "/v3"
	}
	return "/v3"
}

func (s *pisService) mbankDomestic(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req mbank.DomesticPayment
	if err := json.Unmarshal(c.Body, &req); err != nil {
		return formatError("the body is not a domestic payment: "+err.Error(), "treść nie jest przelewem krajowym: "+err.Error())
	}
	key := r.Header.Get("TPP-Payment-ID")
	if key == "" {
		return formatError("the TPP-Payment-ID header, your id of the payment, is required", "nagłówek TPP-Payment-ID, Twój identyfikator płatności, jest wymagany")
	}
	req.TPPPaymentID = ""
	o, err := req.Order()
	if err != nil {
		return refusal(err)
	}
	o.TPPID, o.TPPTransactionID, o.RequestHash = c.OrgID, key, requestHash(c.Body)
	read := func(raw json.RawMessage) (payment.Order, error) {
		var priv mbank.DomesticPrivilege
		if err := json.Unmarshal(raw, &priv); err != nil {
			return payment.Order{}, err
		}
		if priv.DomesticPaymentRequest == nil {
			return payment.Order{}, fmt.Errorf("pis:domestic has no domesticPaymentRequest")
		}
		return priv.DomesticPaymentRequest.Order()
	}
	base := mbankBase(r)
	if o.Recurrence != nil {
		rec, err := s.mbankRecurring(ctx, c, o, read)
		if err != nil {
			return err
		}
		return gateway.WriteJSON(w, http.StatusCreated, mbank.RecurringOf(rec, base+"/payments/domestic/"+rec.ID))
	}
	p, err := s.initiatePayment(ctx, c, consent.PrivDomestic, o, read, mbankNames)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusCreated, mbank.PaymentOf(p, base+"/payments/domestic/"+p.ID))
}

// mbankRecurring sets up a RECURRING domestic payment: mBank has no
// pis:recurring, its pis:domestic carries the recurrence.
func (s *pisService) mbankRecurring(ctx context.Context, c *gateway.Caller, o payment.Order, read func(json.RawMessage) (payment.Order, error)) (payment.Recurring, error) {
	privilege := consent.PrivRecurring
	if _, err := s.check(ctx, c.Grant, c.OrgID, privilege, false); consent.CodeOf(err) == consent.CodePrivilegeMissing {
		privilege = consent.PrivDomestic
	}
	return s.initiateRecurring(ctx, c, privilege, o, read, mbankNames)
}

func (s *pisService) mbankStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	id := chi.URLParam(r, "paymentId")
	if err := needToken(c.Grant); err != nil {
		return err
	}
	href := mbankBase(r) + "/payments/domestic/" + id
	p, err := s.findPayment(ctx, c.OrgID, id, "")
	if payment.CodeOf(err) == payment.CodeNotFound || refusalCode(err) == CodePaymentUnknown {
		rec, rerr := s.findRecurring(ctx, c.OrgID, id, "")
		if rerr != nil {
			return err
		}
		if err := s.readable(ctx, c.Grant, c.OrgID, rec.Order.ConsentID, rec.CustomerID, consent.PrivGetPayment, recurringNames(rec.ID)); err != nil {
			return err
		}
		return gateway.WriteJSON(w, http.StatusOK, mbank.RecurringOf(rec, href))
	}
	if err != nil {
		return err
	}
	if err := s.readable(ctx, c.Grant, c.OrgID, p.ConsentID, p.CustomerID, consent.PrivGetPayment, paymentNames(p.ID)); err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.PaymentOf(p, href))
}

func refusalCode(err error) gateway.Code {
	if ref, ok := err.(*gateway.Refusal); ok {
		return ref.Code
	}
	return ""
}

func (s *pisService) mbankCancel(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	id := chi.URLParam(r, "paymentId")
	href := mbankBase(r) + "/payments/domestic/" + id
	if err := needToken(c.Grant); err != nil {
		return err
	}
	if _, err := s.findPayment(ctx, c.OrgID, id, ""); refusalCode(err) == CodePaymentUnknown {
		if _, rerr := s.findRecurring(ctx, c.OrgID, id, ""); rerr == nil {
			rec, err := s.cancelRecurring(ctx, c, id, consent.PrivCancelPayment)
			if err != nil {
				return err
			}
			return gateway.WriteJSON(w, http.StatusOK, mbank.RecurringOf(rec, href))
		}
	}
	p, err := s.cancelPayment(ctx, c, id)
	if err != nil {
		return refusal(err)
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.PaymentOf(p, href))
}

func (s *pisService) mbankBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req mbank.BundleRequest
	if err := json.Unmarshal(c.Body, &req); err != nil {
		return formatError("the body is not a bundle of domestic payments: "+err.Error(), "treść nie jest paczką przelewów krajowych: "+err.Error())
	}
	key := r.Header.Get("TPP-Bundle-ID")
	if key == "" {
		return formatError("the TPP-Bundle-ID header, your id of the bundle, is required", "nagłówek TPP-Bundle-ID, Twój identyfikator paczki, jest wymagany")
	}
	orders, total, err := mbankBundleOrders(req)
	if err != nil {
		return refusal(err)
	}
	bo := payment.BundleOrder{TPPID: c.OrgID, TPPBundleID: key, Orders: orders, TotalAmount: total, RequestHash: requestHash(c.Body)}
	b, err := s.initiateBundle(ctx, c, bo, "", func(raw json.RawMessage) ([]payment.Order, money.Amount, error) {
		var priv mbank.BundlePrivilege
		if err := json.Unmarshal(raw, &priv); err != nil {
			return nil, 0, err
		}
		if priv.BundleDomesticPaymentsRequest == nil {
			return nil, 0, fmt.Errorf("pis:bundle-domestic has no bundleDomesticPaymentsRequest")
		}
		return mbankBundleOrders(*priv.BundleDomesticPaymentsRequest)
	}, mbankNames)
	if err != nil {
		return err
	}
	base := mbankBase(r)
	return gateway.WriteJSON(w, http.StatusCreated, mbank.BundleOf(b, base+"/payments/bundle/domestic/"+b.ID,
		func(id string) string { return base + "/payments/domestic/" + id }, true))
}

func mbankBundleOrders(req mbank.BundleRequest) ([]payment.Order, money.Amount, error) {
	total, err := money.Parse(req.TransfersTotalAmount)
	if err != nil {
		return nil, 0, &payment.Error{Code: payment.CodeInvalidBundle, Field: "transfersTotalAmount",
			Message: "transfersTotalAmount is not an amount such as 100.00", MessagePL: "transfersTotalAmount nie jest kwotą, np. 100.00"}
	}
	var orders []payment.Order
	for i, tr := range req.Transfers {
		o, err := tr.Order()
		if err != nil {
			return nil, 0, bundleItemError(i, err)
		}
		if o.Recurrence != nil {
			return nil, 0, bundleItemError(i, &payment.Error{Code: payment.CodeInvalidBundle, Field: "executionMode",
				Message: "a bundle holds no recurring payments", MessagePL: "paczka nie zawiera płatności cyklicznych"})
		}
		orders = append(orders, o)
	}
	return orders, total, nil
}

func (s *pisService) mbankBundleStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	b, err := s.readBundle(r.Context(), c, chi.URLParam(r, "bundleId"), "")
	if err != nil {
		return err
	}
	base := mbankBase(r)
	return gateway.WriteJSON(w, http.StatusOK, mbank.BundleOf(b, base+"/payments/bundle/domestic/"+b.ID,
		func(id string) string { return base + "/payments/domestic/" + id }, r.URL.Query().Get("transactionsIncluded") == "true"))
}

func (s *pisService) mbankCancelBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	b, _, err := s.cancelBundle(ctx, c, chi.URLParam(r, "bundleId"))
	if err != nil {
		return refusal(err)
	}
	base := mbankBase(r)
	return gateway.WriteJSON(w, http.StatusOK, mbank.BundleOf(b, base+"/payments/bundle/domestic/"+b.ID,
		func(id string) string { return base + "/payments/domestic/" + id }, true))
}
