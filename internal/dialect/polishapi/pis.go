package polishapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// The payment initiation (PIS) wire types of PolishAPI 2.1.2 and their
// translation to the payment domain (payment.Order) and back.

// Execution modes (executionMode).
const (
	Immediate   = "Immediate"
	FutureDated = "FutureDated"
)

// Payment types of bundles and recurring payments (typeOfTransfers,
// typeOfPayment).
const (
	TypeDomestic = "domestic"
	TypeEEA      = "EEA"
	TypeNonEEA   = "nonEEA"
	TypeTax      = "tax"
)

// RecipientPIS is the payee of a payment: RecipientPIS, RecipientPISTax and
// RecipientPISForeign (which adds countryCode).
type RecipientPIS struct {
	AccountNumber string      `json:"accountNumber"`
	NameAddress   NameAddress `json:"nameAddress"`
	CountryCode   string      `json:"countryCode,omitempty"`
}

// SenderPIS is the payer: SenderPISDomestic and SenderPISForeign. Both
// fields are optional: the customer may choose the account at the bank.
type SenderPIS struct {
	AccountNumber string       `json:"accountNumber,omitempty"`
	NameAddress   *NameAddress `json:"nameAddress,omitempty"`
}

// TransferData is TransferData, TransferDataCurrencyRequired and
// TransferDataCurrencyRequiredTax (which has no description).
type TransferData struct {
	Description   string `json:"description,omitempty"`
	Amount        string `json:"amount"`
	ExecutionDate string `json:"executionDate,omitempty"`
	Currency      string `json:"currency,omitempty"`
}

// Payor identifies a tax payer.
type Payor struct {
	PayorID     string `json:"payorId"`
	PayorIDType string `json:"payorIdType"`
}

// TransactionInfoTax is the tax part of a payment to a tax office (usInfo).
type TransactionInfoTax struct {
	PayerInfo    Payor  `json:"payerInfo"`
	FormCode     string `json:"formCode"`
	PeriodID     string `json:"periodId,omitempty"`
	PeriodType   string `json:"periodType,omitempty"`
	Year         int    `json:"year,omitempty"`
	ObligationID string `json:"obligationId,omitempty"`
}

// PaymentOrder is the union of the single payment requests
// (PaymentDomesticRequest, PaymentEEARequest, PaymentNonEEARequest,
// PaymentTaxRequest), of their bundled variants (Payment*RequestBundled),
// of the payments of a recurring payment (Recurring*Payment) and of the pis
// privileges that carry a payment (PrivilegeDomesticTransfer,
// PrivilegeForeignTransferEEA, PrivilegeForeignTransferNonEEA,
// PrivilegeTaxTransfer): the fields one of them lacks stay empty.
type PaymentOrder struct {
	RequestHeader    *RequestHeader      `json:"requestHeader,omitempty"`
	ScopeUsageLimit  string              `json:"scopeUsageLimit,omitempty"`
	Recipient        RecipientPIS        `json:"recipient"`
	RecipientBank    *Bank               `json:"recipientBank,omitempty"`
	Sender           SenderPIS           `json:"sender"`
	TransferData     TransferData        `json:"transferData"`
	UsInfo           *TransactionInfoTax `json:"usInfo,omitempty"`
	TransferCharges  string              `json:"transferCharges,omitempty"`
	TPPTransactionID string              `json:"tppTransactionId,omitempty"`
	DeliveryMode     string              `json:"deliveryMode,omitempty"`
	System           string              `json:"system,omitempty"`
	Hold             bool                `json:"hold,omitempty"`
	ExecutionMode    string              `json:"executionMode,omitempty"`
}

// systems maps PolishAPI's system values to the domain's.
var systems = map[string]payment.System{
	"Elixir": payment.SystemElixir, "ExpressElixir": payment.SystemExpressElixir, "Sorbnet": payment.SystemSorbnet,
	"Internal": payment.SystemInternal, "SEPA": payment.SystemSEPA, "InstantSEPA": payment.SystemInstantSEPA,
	"Target": payment.SystemTarget, "Swift": payment.SystemSwift,
}

// deliveryModes maps PolishAPI's deliveryMode values to the domain's.
var deliveryModes = map[string]payment.DeliveryMode{
	"ExpressD0": payment.ExpressD0, "StandardD1": payment.StandardD1, "UrgentD1": payment.UrgentD1, "StandardD2": payment.StandardD2,
}

// amountPattern is the spec's pattern of amounts: two decimals, always.
var amountPattern = regexp.MustCompile(`^(0|([1-9][0-9]*))\.\d{2}$`)

// invalid is a payment error of the wire's reading, reported like the
// domain's own.
func invalid(code payment.Code, field, en, pl string, args ...any) *payment.Error {
	return &payment.Error{Code: code, Field: field, Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

// Order translates a payment of type t into the domain's words. The TPP,
// consent and customer are the caller's to set.
func (p PaymentOrder) Order(t payment.Type) (payment.Order, error) {
	o := payment.Order{
		Type: t, TPPTransactionID: p.TPPTransactionID, SenderAccount: p.Sender.AccountNumber,
		Recipient: payment.Recipient{Account: p.Recipient.AccountNumber, Country: p.Recipient.CountryCode},
		Currency:  strings.ToUpper(p.TransferData.Currency), Title: p.TransferData.Description,
		ExecutionDate: p.TransferData.ExecutionDate,
	}
	o.Recipient.Name, o.Recipient.Address = splitNameAddress(p.Recipient.NameAddress.Value)
	if o.Currency == "" && (t == payment.Domestic || t == payment.Tax) {
		o.Currency = "PLN"
	}
	if p.RecipientBank != nil {
		o.Recipient.BIC = strings.ToUpper(p.RecipientBank.BICOrSWIFT)
	}
	amount, err := money.Parse(p.TransferData.Amount)
	if err == nil && !amountPattern.MatchString(p.TransferData.Amount) {
		err = fmt.Errorf("not two decimals")
	}
	if err != nil {
		return o, invalid(payment.CodeInvalidAmount, "transferData.amount",
			"transferData.amount %q is not an amount with two decimals, such as 100.00", "transferData.amount %q nie jest kwotą z dwoma miejscami po przecinku, np. 100.00",
			p.TransferData.Amount)
	}
	o.Amount = amount
	if p.System != "" {
		s, ok := systems[p.System]
		if !ok {
			return o, invalid(payment.CodeInvalidSystem, "system", "system %q is not served by this bank: use Elixir, ExpressElixir, Sorbnet, Internal, SEPA, InstantSEPA, Target or Swift",
				"system %q nie jest obsługiwany przez bank: użyj Elixir, ExpressElixir, Sorbnet, Internal, SEPA, InstantSEPA, Target lub Swift", p.System)
		}
		o.System = s
	}
	if p.DeliveryMode != "" {
		d, ok := deliveryModes[p.DeliveryMode]
		if !ok {
			return o, invalid(payment.CodeInvalidRequest, "deliveryMode", "deliveryMode %q is not ExpressD0, StandardD1, UrgentD1 or StandardD2",
				"deliveryMode %q to nie ExpressD0, StandardD1, UrgentD1 ani StandardD2", p.DeliveryMode)
		}
		o.DeliveryMode = d
	}
	switch p.ExecutionMode {
	case "", Immediate:
	case FutureDated:
		if o.ExecutionDate == "" {
			return o, invalid(payment.CodeInvalidExecutionDate, "transferData.executionDate",
				"a FutureDated payment needs transferData.executionDate", "płatność FutureDated wymaga transferData.executionDate")
		}
	default:
		return o, invalid(payment.CodeInvalidRequest, "executionMode", "executionMode %q is neither Immediate nor FutureDated",
			"executionMode %q to ani Immediate, ani FutureDated", p.ExecutionMode)
	}
	if p.UsInfo != nil {
		o.Tax = &payment.TaxInfo{
			FormCode: p.UsInfo.FormCode, Period: TaxPeriod(*p.UsInfo), PayerIDType: payment.PayerIDType(strings.ToUpper(p.UsInfo.PayerInfo.PayorIDType)),
			PayerID: p.UsInfo.PayerInfo.PayorID, ObligationID: p.UsInfo.ObligationID,
		}
	}
	return o, nil
}

// TaxPeriod writes PolishAPI's period of a tax payment (year, periodType,
// periodId) in the Elixir form the domain uses: 2026, "M", "10" is 26M10;
// 2026, "R" is 26R; no period is 0. A periodId already in the Elixir form
// is taken as it is.
func TaxPeriod(t TransactionInfoTax) string {
	typ, id := strings.ToUpper(strings.TrimSpace(t.PeriodType)), strings.ToUpper(strings.TrimSpace(t.PeriodID))
	switch {
	case len(id) >= 3 && id[0] >= '0' && id[0] <= '9' && id[1] >= '0' && id[1] <= '9' && id[2] >= 'A':
		return id
	case t.Year == 0 && typ == "" && id == "":
		return "0"
	}
	return fmt.Sprintf("%02d%s%s", t.Year%100, typ, id)
}

// splitNameAddress reads nameAddress lines: the name, then the address.
func splitNameAddress(lines []string) (name, address string) {
	var rest []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		if name == "" {
			name = l
			continue
		}
		rest = append(rest, l)
	}
	return name, strings.Join(rest, ", ")
}

// RequestHash is the idempotency hash of a request: the SHA-256 of its body
// as sent, without its requestHeader (which carries the request's own id,
// date and token and so differs in every retry). The other members are
// hashed as sent, in key order.
func RequestHash(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		sum := sha256.Sum256(body)
		return hex.EncodeToString(sum[:])
	}
	delete(m, "requestHeader")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(m) // map keys sorted; raw members compacted, not reordered
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// PaymentTypeOf maps typeOfTransfers/typeOfPayment to the domain's type.
func PaymentTypeOf(s string) (payment.Type, bool) {
	switch s {
	case TypeDomestic:
		return payment.Domestic, true
	case TypeEEA:
		return payment.EEA, true
	case TypeNonEEA:
		return payment.NonEEA, true
	case TypeTax:
		return payment.Tax, true
	}
	return "", false
}

// AddPaymentResponse answers domestic, EEA, nonEEA and tax.
type AddPaymentResponse struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	PaymentID      string         `json:"paymentId"`
	GeneralStatus  string         `json:"generalStatus"`
	DetailedStatus string         `json:"detailedStatus"`
}

// PaymentInfo is a payment's status.
type PaymentInfo struct {
	PaymentID        string `json:"paymentId"`
	TPPTransactionID string `json:"tppTransactionId"`
	GeneralStatus    string `json:"generalStatus"`
	DetailedStatus   string `json:"detailedStatus"`
	ExecutionMode    string `json:"executionMode"`
}

// InfoOf renders a payment's status.
func InfoOf(p payment.Payment) PaymentInfo {
	mode := Immediate
	if p.FutureDated {
		mode = FutureDated
	}
	return PaymentInfo{PaymentID: p.ID, TPPTransactionID: p.TPPTransactionID, GeneralStatus: string(p.Status),
		DetailedStatus: DetailedStatus(p), ExecutionMode: mode}
}

// DetailedStatus says where a payment is, in words (detailedStatus is the
// bank's free text).
func DetailedStatus(p payment.Payment) string {
	switch p.Status {
	case payment.StatusSubmitted:
		return "accepted, being routed"
	case payment.StatusScheduled:
		return "scheduled for " + p.ExecutionDate
	case payment.StatusPending:
		s := "sent by " + string(p.System)
		if !p.SettleAt.IsZero() {
			s += ", clears at " + p.SettleAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		return s
	case payment.StatusDone:
		return "booked"
	case payment.StatusRejected, payment.StatusCancelled:
		if p.StatusReason != "" {
			return string(p.Status) + ": " + p.StatusReason
		}
	}
	return string(p.Status)
}

// PaymentRequest is the body of getPayment: the payment by the bank's id or
// the TPP's.
type PaymentRequest struct {
	RequestHeader    RequestHeader `json:"requestHeader"`
	PaymentID        string        `json:"paymentId,omitempty"`
	TPPTransactionID string        `json:"tppTransactionId,omitempty"`
}

// GetPaymentResponse answers getPayment.
type GetPaymentResponse struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	PaymentInfo
}

// PaymentTokenEntry is one payment of getMultiplePayments, with the access
// token that reads it.
type PaymentTokenEntry struct {
	PaymentID        string `json:"paymentId,omitempty"`
	TPPTransactionID string `json:"tppTransactionId,omitempty"`
	AccessToken      string `json:"accessToken"`
}

// PaymentsRequest is the body of getMultiplePayments.
type PaymentsRequest struct {
	RequestHeader RequestHeader       `json:"requestHeader"`
	Payments      []PaymentTokenEntry `json:"payments"`
}

// PaymentsResponse answers getMultiplePayments.
type PaymentsResponse struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	Payments       []PaymentInfo  `json:"payments,omitempty"`
}

// CancelPaymentsRequest is the body of cancelPayments: a payment or a
// bundle.
type CancelPaymentsRequest struct {
	RequestHeader RequestHeader `json:"requestHeader"`
	PaymentID     string        `json:"paymentId,omitempty"`
	BundleID      string        `json:"bundleId,omitempty"`
}

// CancelPaymentsResponse lists the payments that could not be cancelled.
type CancelPaymentsResponse struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	Payments       []PaymentInfo  `json:"payments,omitempty"`
}

// PrivilegeCancelPayment is the data of pis:cancelPayment.
type PrivilegeCancelPayment struct {
	PaymentID string `json:"paymentId,omitempty"`
	BundleID  string `json:"bundleId,omitempty"`
}

// PrivilegePayment is the data of pis:getPayment, pis:getBundle,
// pis:getRecurringPayment and pis:cancelRecurringPayment: the ids they are
// limited to, when any.
type PrivilegePayment struct {
	PaymentID             string `json:"paymentId,omitempty"`
	TPPTransactionID      string `json:"tppTransactionId,omitempty"`
	BundleID              string `json:"bundleId,omitempty"`
	TPPBundleID           string `json:"tppBundleId,omitempty"`
	RecurringPaymentID    string `json:"recurringPaymentId,omitempty"`
	TPPRecurringPaymentID string `json:"tppRecurringPaymentId,omitempty"`
}

// PaymentsBundleRequest is the body of bundle (and the data of
// pis:bundle, without requestHeader and tppBundleId).
type PaymentsBundleRequest struct {
	RequestHeader        *RequestHeader `json:"requestHeader,omitempty"`
	ScopeUsageLimit      string         `json:"scopeUsageLimit,omitempty"`
	TPPBundleID          string         `json:"tppBundleId,omitempty"`
	TransfersTotalAmount string         `json:"transfersTotalAmount"`
	TypeOfTransfers      string         `json:"typeOfTransfers"`
	DomesticTransfers    []PaymentOrder `json:"domesticTransfers,omitempty"`
	EEATransfers         []PaymentOrder `json:"EEATransfers,omitempty"`
	NonEEATransfers      []PaymentOrder `json:"nonEEATransfers,omitempty"`
	TaxTransfers         []PaymentOrder `json:"taxTransfers,omitempty"`
}

// Transfers returns the transfers of the bundle's type.
func (b PaymentsBundleRequest) Transfers() []PaymentOrder {
	switch b.TypeOfTransfers {
	case TypeDomestic:
		return b.DomesticTransfers
	case TypeEEA:
		return b.EEATransfers
	case TypeNonEEA:
		return b.NonEEATransfers
	case TypeTax:
		return b.TaxTransfers
	}
	return nil
}

// PaymentsBundleResponse answers bundle.
type PaymentsBundleResponse struct {
	ResponseHeader       ResponseHeader `json:"responseHeader"`
	BundleID             string         `json:"bundleId"`
	BundleStatus         string         `json:"bundleStatus"`
	BundleDetailedStatus string         `json:"bundleDetailedStatus"`
	Payments             []PaymentInfo  `json:"payments,omitempty"`
}

// BundleRequest is the body of getBundle.
type BundleRequest struct {
	RequestHeader        RequestHeader `json:"requestHeader"`
	BundleID             string        `json:"bundleId,omitempty"`
	TPPBundleID          string        `json:"tppBundleId,omitempty"`
	TransactionsIncluded bool          `json:"transactionsIncluded"`
}

// BundleResponse answers getBundle.
type BundleResponse struct {
	ResponseHeader       ResponseHeader `json:"responseHeader"`
	BundleID             string         `json:"bundleId"`
	TPPBundleID          string         `json:"tppBundleId"`
	BundleStatus         string         `json:"bundleStatus"`
	BundleDetailedStatus string         `json:"bundleDetailedStatus"`
	Payments             []PaymentInfo  `json:"payments,omitempty"`
}

// BundleDetailedStatus says in words how far a bundle is.
func BundleDetailedStatus(b payment.Bundle) string {
	counts := map[payment.Status]int{}
	for _, p := range b.Payments {
		counts[p.Status]++
	}
	var parts []string
	for _, st := range []payment.Status{payment.StatusDone, payment.StatusPending, payment.StatusScheduled,
		payment.StatusSubmitted, payment.StatusRejected, payment.StatusCancelled} {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) == 0 {
		return string(b.Status)
	}
	return strings.Join(parts, ", ")
}

// RecurringFrequency is how often a recurring payment is made.
type RecurringFrequency struct {
	PeriodType  string `json:"periodType"`
	PeriodValue int    `json:"periodValue"`
}

// RecurringTransferParameters is a recurring payment's schedule.
type RecurringTransferParameters struct {
	StartDate        string             `json:"startDate"`
	Frequency        RecurringFrequency `json:"frequency"`
	EndDate          string             `json:"endDate,omitempty"`
	DayOffOffsetType string             `json:"dayOffOffsetType"`
}

// Recurrence translates the schedule into the domain's words.
func (r RecurringTransferParameters) Recurrence() payment.Recurrence {
	return payment.Recurrence{StartDate: r.StartDate, PeriodType: payment.Period(strings.ToLower(r.Frequency.PeriodType)),
		PeriodValue: r.Frequency.PeriodValue, EndDate: r.EndDate, DayOff: payment.DayOffOffset(strings.ToLower(r.DayOffOffsetType))}
}

// RecurrenceOf renders a schedule.
func RecurrenceOf(r payment.Recurrence) RecurringTransferParameters {
	return RecurringTransferParameters{StartDate: r.StartDate, Frequency: RecurringFrequency{PeriodType: string(r.PeriodType), PeriodValue: r.PeriodValue},
		EndDate: r.EndDate, DayOffOffsetType: string(r.DayOff)}
}

// RecurringPaymentRequest is the body of recurring (and the data of
// pis:recurring, without requestHeader and tppRecurringPaymentId).
type RecurringPaymentRequest struct {
	RequestHeader         *RequestHeader              `json:"requestHeader,omitempty"`
	ScopeUsageLimit       string                      `json:"scopeUsageLimit,omitempty"`
	TPPRecurringPaymentID string                      `json:"tppRecurringPaymentId,omitempty"`
	Recurrence            RecurringTransferParameters `json:"recurrence"`
	TypeOfPayment         string                      `json:"typeOfPayment"`
	DomesticPayment       *PaymentOrder               `json:"domesticPayment,omitempty"`
	EEAPayment            *PaymentOrder               `json:"EEAPayment,omitempty"`
	NonEEAPayment         *PaymentOrder               `json:"nonEEAPayment,omitempty"`
	TaxPayment            *PaymentOrder               `json:"taxPayment,omitempty"`
}

// Payment returns the payment of the request's type, or nil.
func (r RecurringPaymentRequest) Payment() *PaymentOrder {
	switch r.TypeOfPayment {
	case TypeDomestic:
		return r.DomesticPayment
	case TypeEEA:
		return r.EEAPayment
	case TypeNonEEA:
		return r.NonEEAPayment
	case TypeTax:
		return r.TaxPayment
	}
	return nil
}

// RecurringPaymentResponse answers recurring.
type RecurringPaymentResponse struct {
	ResponseHeader                 ResponseHeader              `json:"responseHeader"`
	RecurringPaymentID             string                      `json:"recurringPaymentId"`
	Recurrence                     RecurringTransferParameters `json:"recurrence"`
	RecurringPaymentStatus         string                      `json:"recurringPaymentStatus"`
	RecurringPaymentDetailedStatus string                      `json:"recurringPaymentDetailedStatus"`
}

// RecurringPaymentStatusRequest is the body of getRecurringPayment.
type RecurringPaymentStatusRequest struct {
	RequestHeader         RequestHeader `json:"requestHeader"`
	RecurringPaymentID    string        `json:"recurringPaymentId,omitempty"`
	TPPRecurringPaymentID string        `json:"tppRecurringPaymentId,omitempty"`
}

// RecurringPaymentStatusResponse answers getRecurringPayment.
type RecurringPaymentStatusResponse struct {
	ResponseHeader                 ResponseHeader `json:"responseHeader"`
	RecurringPaymentID             string         `json:"recurringPaymentId"`
	TPPRecurringPaymentID          string         `json:"tppRecurringPaymentId"`
	RecurringPaymentStatus         string         `json:"recurringPaymentStatus"`
	RecurringPaymentDetailedStatus string         `json:"recurringPaymentDetailedStatus"`
}

// CancelRecurringPaymentRequest is the body of cancelRecurringPayment.
type CancelRecurringPaymentRequest struct {
	RequestHeader      RequestHeader `json:"requestHeader"`
	RecurringPaymentID string        `json:"recurringPaymentId"`
}

// CancelRecurringPaymentResponse answers cancelRecurringPayment.
type CancelRecurringPaymentResponse struct {
	ResponseHeader                 ResponseHeader `json:"responseHeader"`
	RecurringPaymentID             string         `json:"recurringPaymentId"`
	TPPRecurringPaymentID          string         `json:"tppRecurringPaymentId"`
	RecurringPaymentStatus         string         `json:"recurringPaymentStatus"`
	RecurringPaymentDetailedStatus string         `json:"recurringPaymentDetailedStatus"`
}

// RecurringDetailedStatus says in words where a recurring payment is.
func RecurringDetailedStatus(r payment.Recurring) string {
	switch r.Status {
	case payment.RecurringSubmitted, payment.RecurringInProgress:
		return fmt.Sprintf("%d made, next on %s", r.Occurrences, r.NextDate)
	case payment.RecurringCancelled:
		if r.StatusReason != "" {
			return "cancelled: " + r.StatusReason
		}
	case payment.RecurringClosed:
		return fmt.Sprintf("closed after %d payments", r.Occurrences)
	}
	return string(r.Status)
}
