package mbank

import (
	"fmt"
	"strings"

	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// The mBank v3 payment initiation resources (its collection's PIS folder,
// shared/reference/polishapi-and-mbank.md §11.5): POST /payments/domestic
// with the TPP's id of the payment in the TPP-Payment-ID header, a status
// link (links[0].href, GET) carrying the bank's payment id, DELETE to
// cancel; bundles likewise under /payments/bundle/domestic with
// TPP-Bundle-ID. Enumerations are upper case; a recurring payment is a
// domestic one with executionMode RECURRING and transferData.recurrence,
// a split payment one with splitPayment and transactionInfoSp.

// Payment statuses, upper case.
const (
	PaymentSubmitted = "SUBMITTED"
	PaymentScheduled = "SCHEDULED"
	PaymentPending   = "PENDING"
	PaymentDone      = "DONE"
	PaymentRejected  = "REJECTED"
	PaymentCancelled = "CANCELLED"
)

// Execution modes.
const (
	ExecImmediate   = "IMMEDIATE"
	ExecFutureDated = "FUTURE_DATED"
	ExecRecurring   = "RECURRING"
)

// AddressStructured is an ISO 20022 postal address.
type AddressStructured struct {
	CountryCode        string `json:"countryCode,omitempty"`
	TownName           string `json:"townName,omitempty"`
	TownLocationName   string `json:"townLocationName,omitempty"`
	DistrictName       string `json:"districtName,omitempty"`
	CountrySubDivision string `json:"countrySubDivision,omitempty"`
	PostBox            string `json:"postBox,omitempty"`
	SubDepartment      string `json:"subDepartment,omitempty"`
	Room               string `json:"room,omitempty"`
	BuildingName       string `json:"buildingName,omitempty"`
	StreetName         string `json:"streetName,omitempty"`
	BuildingNumber     string `json:"buildingNumber,omitempty"`
	PostCode           string `json:"postCode,omitempty"`
	Department         string `json:"department,omitempty"`
	Floor              string `json:"floor,omitempty"`
}

// String is the address on one line: street and number, post code and town.
func (a AddressStructured) String() string {
	street := strings.TrimSpace(a.StreetName + " " + a.BuildingNumber)
	town := strings.TrimSpace(a.PostCode + " " + a.TownName)
	var parts []string
	for _, p := range []string{street, town} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// NameAddressStructured is a name with a structured address.
type NameAddressStructured struct {
	Name              string             `json:"name,omitempty"`
	AddressStructured *AddressStructured `json:"addressStructured,omitempty"`
}

// Identifiers identify a party (a LEI, for example).
type Identifiers struct {
	IDType  string `json:"idType,omitempty"`
	IDValue string `json:"idValue,omitempty"`
	Issuer  string `json:"issuer,omitempty"`
}

// UltimateParty is the ultimate recipient or sender.
type UltimateParty struct {
	NameAddressStructured *NameAddressStructured `json:"nameAddressStructured,omitempty"`
	Identifiers           *Identifiers           `json:"identifiers,omitempty"`
}

// PaymentParty is the recipient or the sender of a payment.
type PaymentParty struct {
	AccountNumber         string                 `json:"accountNumber,omitempty"`
	Name                  string                 `json:"name,omitempty"`
	NameAddressStructured *NameAddressStructured `json:"nameAddressStructured,omitempty"`
	Address               *struct {
		Country     string   `json:"country,omitempty"`
		AddressLine []string `json:"addressLine,omitempty"`
	} `json:"address,omitempty"` // v2
	Identifiers       *Identifiers   `json:"identifiers,omitempty"`
	UltimateRecipient *UltimateParty `json:"ultimateRecipient,omitempty"`
	UltimateSender    *UltimateParty `json:"ultimateSender,omitempty"`
}

// address is the party's address on one line.
func (p PaymentParty) address() (address, country string) {
	if n := p.NameAddressStructured; n != nil && n.AddressStructured != nil {
		return n.AddressStructured.String(), n.AddressStructured.CountryCode
	}
	if p.Address != nil {
		return strings.Join(p.Address.AddressLine, ", "), p.Address.Country
	}
	return "", ""
}

// Recurrence is a recurring payment's schedule.
type Recurrence struct {
	StartDate string `json:"startDate"`
	Frequency struct {
		PeriodType  string `json:"periodType"`
		PeriodValue int    `json:"periodValue"`
	} `json:"frequency"`
	EndDate          string `json:"endDate,omitempty"`
	DayOffOffsetType string `json:"dayOffOffsetType"`
}

// TransferData is the money and the title.
type TransferData struct {
	Description      string         `json:"description,omitempty"`
	Amount           string         `json:"amount"`
	Currency         string         `json:"currency,omitempty"`
	ExecutionDate    string         `json:"executionDate,omitempty"`
	Recurrence       *Recurrence    `json:"recurrence,omitempty"`
	AdditionalFields map[string]any `json:"additionalFields,omitempty"`
}

// TransactionInfoSp is the split payment part.
type TransactionInfoSp struct {
	SpInvoiceNumber           string `json:"spInvoiceNumber"`
	SpTaxIdentificationNumber string `json:"spTaxIdentificationNumber"`
	SpTaxAmount               string `json:"spTaxAmount"`
	SpDescription             string `json:"spDescription,omitempty"`
}

// DomesticPayment is the body of POST /payments/domestic, a transfer of a
// bundle (with its tppPaymentId), and the domesticPaymentRequest of the
// pis:domestic privilege.
type DomesticPayment struct {
	TPPPaymentID      string             `json:"tppPaymentId,omitempty"`
	Recipient         PaymentParty       `json:"recipient"`
	Sender            PaymentParty       `json:"sender"`
	TransferData      TransferData       `json:"transferData"`
	DeliveryMode      string             `json:"deliveryMode,omitempty"`
	System            string             `json:"system,omitempty"`
	Hold              bool               `json:"hold,omitempty"`
	ExecutionMode     string             `json:"executionMode,omitempty"`
	SplitPayment      bool               `json:"splitPayment,omitempty"`
	TransactionInfoSp *TransactionInfoSp `json:"transactionInfoSp,omitempty"`
}

// DomesticPrivilege is the data of mBank's pis:domestic privilege.
type DomesticPrivilege struct {
	ScopeUsageLimit        string           `json:"scopeUsageLimit,omitempty"`
	DomesticPaymentRequest *DomesticPayment `json:"domesticPaymentRequest"`
}

// BundlePrivilege is the data of pis:bundle-domestic.
type BundlePrivilege struct {
	ScopeUsageLimit               string         `json:"scopeUsageLimit,omitempty"`
	BundleDomesticPaymentsRequest *BundleRequest `json:"bundleDomesticPaymentsRequest"`
}

// IDsPrivilege is the data of pis:payment, pis:cancelPayment and
// pis:cancelBundlePayments: the bank's id they are limited to.
type IDsPrivilege struct {
	ScopeUsageLimit string `json:"scopeUsageLimit,omitempty"`
	AspspPaymentID  string `json:"aspspPaymentId,omitempty"`
	AspspBundleID   string `json:"aspspBundleId,omitempty"`
}

// BundleRequest is the body of POST /payments/bundle/domestic.
type BundleRequest struct {
	TransfersTotalAmount string            `json:"transfersTotalAmount"`
	Transfers            []DomesticPayment `json:"transfers"`
}

// systems maps mBank's system values to the domain's.
var systems = map[string]payment.System{
	"ELIXIR": payment.SystemElixir, "EXPRESS_ELIXIR": payment.SystemExpressElixir, "SORBNET": payment.SystemSorbnet,
	"INTERNAL": payment.SystemInternal,
}

var deliveryModes = map[string]payment.DeliveryMode{
	"EXPRESS_D0": payment.ExpressD0, "STANDARD_D1": payment.StandardD1, "URGENT_D1": payment.UrgentD1, "STANDARD_D2": payment.StandardD2,
}

func invalid(code payment.Code, field, en, pl string, args ...any) *payment.Error {
	return &payment.Error{Code: code, Field: field, Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

// Order translates a domestic payment into the domain's words; the TPP's
// id of the payment (TPP-Payment-ID) and the TPP, consent and customer are
// the caller's to set. A RECURRING payment gets its Recurrence.
func (p DomesticPayment) Order() (payment.Order, error) {
	o := payment.Order{
		Type: payment.Domestic, TPPTransactionID: p.TPPPaymentID, SenderAccount: p.Sender.AccountNumber,
		Recipient: payment.Recipient{Account: p.Recipient.AccountNumber, Name: strings.TrimSpace(p.Recipient.Name)},
		Currency:  strings.ToUpper(p.TransferData.Currency), Title: p.TransferData.Description, ExecutionDate: p.TransferData.ExecutionDate,
	}
	o.Recipient.Address, _ = p.Recipient.address()
	if o.Currency == "" {
		o.Currency = "PLN"
	}
	amount, err := money.Parse(p.TransferData.Amount)
	if err != nil {
		return o, invalid(payment.CodeInvalidAmount, "transferData.amount",
			"transferData.amount %q is not an amount with two decimals, such as 100.00", "transferData.amount %q nie jest kwotą z dwoma miejscami po przecinku, np. 100.00",
			p.TransferData.Amount)
	}
	o.Amount = amount
	if p.System != "" {
		s, ok := systems[strings.ToUpper(p.System)]
		if !ok {
			return o, invalid(payment.CodeInvalidSystem, "system", "system %q is not served: use ELIXIR, EXPRESS_ELIXIR, SORBNET or INTERNAL",
				"system %q nie jest obsługiwany: użyj ELIXIR, EXPRESS_ELIXIR, SORBNET lub INTERNAL", p.System)
		}
		o.System = s
	}
	if p.DeliveryMode != "" {
		d, ok := deliveryModes[strings.ToUpper(p.DeliveryMode)]
		if !ok {
			return o, invalid(payment.CodeInvalidRequest, "deliveryMode", "deliveryMode %q is not EXPRESS_D0, STANDARD_D1, URGENT_D1 or STANDARD_D2",
				"deliveryMode %q to nie EXPRESS_D0, STANDARD_D1, URGENT_D1 ani STANDARD_D2", p.DeliveryMode)
		}
		o.DeliveryMode = d
	}
	switch strings.ToUpper(p.ExecutionMode) {
	case "", ExecImmediate, ExecFutureDated:
		if p.TransferData.Recurrence != nil {
			return o, invalid(payment.CodeInvalidRecurrence, "executionMode", "transferData.recurrence needs executionMode RECURRING",
				"transferData.recurrence wymaga executionMode RECURRING")
		}
	case ExecRecurring:
		r := p.TransferData.Recurrence
		if r == nil {
			return o, invalid(payment.CodeInvalidRecurrence, "transferData.recurrence", "a RECURRING payment needs transferData.recurrence",
				"płatność RECURRING wymaga transferData.recurrence")
		}
		o.Recurrence = &payment.Recurrence{StartDate: r.StartDate, PeriodType: payment.Period(strings.ToLower(r.Frequency.PeriodType)),
			PeriodValue: r.Frequency.PeriodValue, EndDate: r.EndDate, DayOff: payment.DayOffOffset(strings.ToLower(r.DayOffOffsetType))}
	default:
		return o, invalid(payment.CodeInvalidRequest, "executionMode", "executionMode %q is not IMMEDIATE, FUTURE_DATED or RECURRING",
			"executionMode %q to nie IMMEDIATE, FUTURE_DATED ani RECURRING", p.ExecutionMode)
	}
	if p.SplitPayment || p.TransactionInfoSp != nil {
		sp := p.TransactionInfoSp
		if sp == nil {
			return o, invalid(payment.CodeInvalidSplitPayment, "transactionInfoSp", "a split payment needs transactionInfoSp",
				"płatność podzielona wymaga transactionInfoSp")
		}
		vat, err := money.Parse(sp.SpTaxAmount)
		if err != nil {
			return o, invalid(payment.CodeInvalidSplitPayment, "transactionInfoSp.spTaxAmount",
				"spTaxAmount %q is not an amount with two decimals", "spTaxAmount %q nie jest kwotą z dwoma miejscami po przecinku", sp.SpTaxAmount)
		}
		o.Split = &payment.SplitPayment{VATAmount: vat, InvoiceNumber: sp.SpInvoiceNumber, NIP: sp.SpTaxIdentificationNumber, Description: sp.SpDescription}
	}
	return o, nil
}

// StatusOf is a payment's status in mBank's words.
func StatusOf(s payment.Status) string { return strings.ToUpper(string(s)) }

// PaymentResponse answers the initiation, the status GET and the DELETE of
// a payment: its status and the link to read it.
type PaymentResponse struct {
	AspspPaymentID string `json:"aspspPaymentId"`
	TPPPaymentID   string `json:"tppPaymentId"`
	Status         string `json:"status"`
	DetailedStatus string `json:"detailedStatus"`
	ExecutionMode  string `json:"executionMode"`
	Links          []Link `json:"links"`
}

// PaymentOf renders a payment, with its status link href.
func PaymentOf(p payment.Payment, href string) PaymentResponse {
	mode := ExecImmediate
	switch {
	case p.RecurringID != "":
		mode = ExecRecurring
	case p.FutureDated:
		mode = ExecFutureDated
	}
	return PaymentResponse{AspspPaymentID: p.ID, TPPPaymentID: p.TPPTransactionID, Status: StatusOf(p.Status),
		DetailedStatus: polishapi.DetailedStatus(p), ExecutionMode: mode, Links: StatusLink(href)}
}

// StatusLink is the link to a payment's or a bundle's status.
func StatusLink(href string) []Link {
	return []Link{{Rel: "status", Href: href, Action: "GET"}}
}

// RecurringResponse answers the initiation of a recurring payment.
type RecurringResponse struct {
	AspspPaymentID string     `json:"aspspPaymentId"`
	TPPPaymentID   string     `json:"tppPaymentId"`
	Status         string     `json:"status"`
	DetailedStatus string     `json:"detailedStatus"`
	ExecutionMode  string     `json:"executionMode"`
	Recurrence     Recurrence `json:"recurrence"`
	Links          []Link     `json:"links"`
}

// RecurringOf renders a recurring payment: its status is upper case
// (SUBMITTED, INPROGRESS, CANCELLED, CLOSE).
func RecurringOf(r payment.Recurring, href string) RecurringResponse {
	out := RecurringResponse{AspspPaymentID: r.ID, TPPPaymentID: r.TPPRecurringID, Status: strings.ToUpper(string(r.Status)),
		DetailedStatus: polishapi.RecurringDetailedStatus(r), ExecutionMode: ExecRecurring, Links: StatusLink(href)}
	out.Recurrence.StartDate, out.Recurrence.EndDate = r.Recurrence.StartDate, r.Recurrence.EndDate
	out.Recurrence.Frequency.PeriodType = strings.ToUpper(string(r.Recurrence.PeriodType))
	out.Recurrence.Frequency.PeriodValue = r.Recurrence.PeriodValue
	out.Recurrence.DayOffOffsetType = strings.ToUpper(string(r.Recurrence.DayOff))
	return out
}

// BundleResponse answers a bundle's initiation, status and cancellation.
type BundleResponse struct {
	AspspBundleID  string            `json:"aspspBundleId"`
	TPPBundleID    string            `json:"tppBundleId"`
	Status         string            `json:"status"`
	DetailedStatus string            `json:"detailedStatus"`
	Payments       []PaymentResponse `json:"payments,omitempty"`
	// CancelledPayments is, in the answer to a cancellation, how many of
	// the bundle's payments it cancelled (0: nothing was cancelled), and
	// NotCancelled the aspspPaymentIds of those it could not cancel
	// (booked, or past their cut-off).
	CancelledPayments *int     `json:"cancelledPayments,omitempty"`
	NotCancelled      []string `json:"notCancelledPayments,omitempty"`
	Links             []Link   `json:"links"`
}

// CancelledBundleOf renders the answer to a bundle's cancellation: the
// bundle with its payments, how many payments this cancellation cancelled,
// those it could not, and in detailedStatus, in words, which.
func CancelledBundleOf(b payment.Bundle, cancelled int, refused []payment.Payment, href string, paymentHref func(id string) string) BundleResponse {
	out := BundleOf(b, href, paymentHref, true)
	out.CancelledPayments = &cancelled
	for _, p := range refused {
		out.NotCancelled = append(out.NotCancelled, p.ID)
	}
	switch {
	case cancelled == 0 && len(refused) > 0:
		out.DetailedStatus = fmt.Sprintf("nothing was cancelled: %s already executed (booked or past the cut-off) and can no longer be cancelled; %s",
			payments(len(refused)), out.DetailedStatus)
	case cancelled == 0:
		out.DetailedStatus = "nothing was cancelled: the bundle's payments were already cancelled; " + out.DetailedStatus
	case len(refused) > 0:
		out.DetailedStatus = fmt.Sprintf("%s cancelled, %s could not be (already executed); %s",
			payments(cancelled), payments(len(refused)), out.DetailedStatus)
	default:
		out.DetailedStatus = fmt.Sprintf("%s cancelled; %s", payments(cancelled), out.DetailedStatus)
	}
	return out
}

func payments(n int) string {
	if n == 1 {
		return "1 payment"
	}
	return fmt.Sprintf("%d payments", n)
}

// BundleOf renders a bundle; paymentHref gives each payment's status link,
// and the payments are listed when withPayments.
func BundleOf(b payment.Bundle, href string, paymentHref func(id string) string, withPayments bool) BundleResponse {
	out := BundleResponse{AspspBundleID: b.ID, TPPBundleID: b.TPPBundleID, Status: bundleStatus(b.Status),
		DetailedStatus: polishapi.BundleDetailedStatus(b), Links: StatusLink(href)}
	if withPayments {
		for _, p := range b.Payments {
			out.Payments = append(out.Payments, PaymentOf(p, paymentHref(p.ID)))
		}
	}
	return out
}

func bundleStatus(s payment.BundleStatus) string {
	switch s {
	case payment.BundleInProgress:
		return "IN_PROGRESS"
	case payment.BundlePartiallyDone:
		return "PARTIALLY_DONE"
	}
	return strings.ToUpper(string(s))
}
