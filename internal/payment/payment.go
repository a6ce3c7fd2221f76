// Package payment is the domain core of payment initiation (PIS): it
// validates a TPP's payment order with reasons a person can act on, records
// it idempotently by the TPP's transaction id, routes it (internal book
// transfer, Elixir, Express Elixir, SORBNET, SEPA, SWIFT), and drives it
// through its statuses as the clock moves: submitted, scheduled, pending,
// done, rejected, cancelled. Money moves only in the ledger: every payment
// has a ledger transfer with the payment's own id, so that a retried step can
// never move money twice.
//
// Dialects (PolishAPI, mBank) translate their wire bodies into an Order and
// render a Payment; the rules live here.
package payment

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Type is the kind of payment order, as the PolishAPI endpoints name them.
type Type string

const (
	Domestic Type = "domestic" // PLN to an NRB (also ZUS: a domestic payment to a ZUS account)
	EEA      Type = "eea"      // SEPA, in EUR, to an IBAN in the EEA
	NonEEA   Type = "noneea"   // SWIFT, to any account abroad
	Tax      Type = "tax"      // to a tax office: a tax micro-account or an office's account
)

// System is the clearing system a payment goes through.
type System string

const (
	SystemInternal      System = "INTERNAL" // a book transfer within the bank
	SystemElixir        System = "ELIXIR"
	SystemExpressElixir System = "EXPRESS_ELIXIR"
	SystemSorbnet       System = "SORBNET"
	SystemSEPA          System = "SEPA"
	SystemInstantSEPA   System = "INSTANT_SEPA"
	SystemTarget        System = "TARGET"
	SystemSwift         System = "SWIFT"
)

// DeliveryMode is the speed the TPP asked for.
type DeliveryMode string

const (
	ExpressD0  DeliveryMode = "EXPRESS_D0"
	StandardD1 DeliveryMode = "STANDARD_D1"
	UrgentD1   DeliveryMode = "URGENT_D1"
	StandardD2 DeliveryMode = "STANDARD_D2"
)

// Status is the general status of a payment (PolishAPI generalStatus).
type Status string

const (
	StatusSubmitted Status = "submitted" // accepted and recorded, not yet routed
	StatusScheduled Status = "scheduled" // future-dated: waits for its date; nothing held
	StatusPending   Status = "pending"   // money held or sent, waiting for clearing
	StatusDone      Status = "done"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
)

// Final tells whether no further change can happen.
func (s Status) Final() bool {
	return s == StatusDone || s == StatusRejected || s == StatusCancelled
}

// Recipient is the payee.
type Recipient struct {
	Name    string
	Account string // NRB for domestic and tax payments, IBAN (or another account id abroad) otherwise
	Address string
	Country string // ISO 3166 code, required abroad
	BIC     string // required for non-EEA payments
}

// PayerIDType is the type of the identifier of a tax payer (payorIdType).
type PayerIDType string

const (
	PayerNIP      PayerIDType = "N"
	PayerPESEL    PayerIDType = "P"
	PayerREGON    PayerIDType = "R"
	PayerIDCard   PayerIDType = "1"
	PayerPassport PayerIDType = "2"
	PayerOther    PayerIDType = "3"
)

// TaxInfo is the tax part of a payment to a tax office (usInfo).
type TaxInfo struct {
	FormCode     string      // tax form symbol: PIT-37, VAT-7, CIT-8...
	Period       string      // Elixir form: 26R, 26P01, 26K03, 26M10, 26D0205, 26J0504, or 0
	PayerIDType  PayerIDType // N, P, R, 1, 2, 3
	PayerID      string
	ObligationID string // optional: the decision or enforcement title
}

// SplitPayment is the split payment (MPP) part of a domestic payment.
type SplitPayment struct {
	VATAmount     money.Amount
	InvoiceNumber string
	NIP           string // the seller's NIP (IDC)
	Description   string // free text (TXT), optional
}

// Period is the unit of a recurrence.
type Period string

const (
	Day   Period = "day"
	Week  Period = "week"
	Month Period = "month"
)

// DayOffOffset says where an occurrence that falls on a day off moves.
type DayOffOffset string

const (
	Before DayOffOffset = "before"
	After  DayOffOffset = "after"
)

// Recurrence is the schedule of a recurring payment.
type Recurrence struct {
	StartDate   string // YYYY-MM-DD, the first occurrence (before moving off a day off)
	PeriodType  Period
	PeriodValue int
	EndDate     string // optional: no occurrence after it
	DayOff      DayOffOffset
}

// Order is a payment as a TPP ordered it, in no dialect's words.
type Order struct {
	Type             Type
	TPPID            string
	ConsentID        string
	CustomerID       string // when set, the sender account must be this customer's
	TPPTransactionID string // the TPP's idempotency key, unique per TPP
	SenderAccount    string // NRB of the payer's account at this bank
	Recipient        Recipient
	Amount           money.Amount
	Currency         string
	Title            string
	ExecutionDate    string // YYYY-MM-DD; empty or today for immediate, later for future-dated
	System           System // optional hint
	DeliveryMode     DeliveryMode
	Tax              *TaxInfo
	Split            *SplitPayment
	Recurrence       *Recurrence // set for a recurring payment (see InitiateRecurring)
	CallbackURL      string      // where status changes are notified, optional
	RequestHash      string      // sha256 of the request body as sent
}

// Consented is the payment a customer authorises in a consent, as a
// dialect reads it from the consent's privilege: one order, or a bundle's
// orders and their total.
type Consented struct {
	Orders []Order
	Total  money.Amount `json:",omitempty"`
	Bundle bool         `json:",omitempty"`
	// SenderRequired is set when the dialect requires every order to name
	// its sender account (PolishAPI's bundles); otherwise an order without
	// one is paid from the account the customer chooses.
	SenderRequired bool `json:",omitempty"`
}

// Clone is a copy of c that shares nothing with it.
func (c Consented) Clone() *Consented {
	c.Orders = slices.Clone(c.Orders)
	for i := range c.Orders {
		o := &c.Orders[i]
		if o.Tax != nil {
			t := *o.Tax
			o.Tax = &t
		}
		if o.Split != nil {
			sp := *o.Split
			o.Split = &sp
		}
		if o.Recurrence != nil {
			r := *o.Recurrence
			o.Recurrence = &r
		}
	}
	return &c
}

// Payment is a recorded payment and where it is.
type Payment struct {
	ID               string
	TPPID            string
	TPPTransactionID string
	RequestHash      string
	ConsentID        string
	CustomerID       string
	Type             Type
	Kind             string // internal, elixir, express_elixir, sorbnet, tax, zus, split, sepa, swift
	System           System
	Status           Status
	StatusReason     string
	DebitAccountID   string
	SenderAccount    string
	Recipient        Recipient
	Amount           money.Amount
	Currency         string
	Title            string // as booked (for tax and split payments, built from their fields)
	ExecutionDate    string
	FutureDated      bool
	Tax              *TaxInfo
	Split            *SplitPayment
	CallbackURL      string
	BundleID         string
	RecurringID      string
	// CutoffAt is the last moment a pending payment can be cancelled (the
	// cut-off of its Elixir session); zero when it cannot be.
	CutoffAt time.Time
	// SettleAt is when a pending payment clears.
	SettleAt  time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TransferID is the id of the payment's ledger transfer: the payment's own.
func (p Payment) TransferID() string { return p.ID }

// Change is one entry of a payment's status history.
type Change struct {
	Status Status
	Reason string
	At     time.Time
}

// DB is the storage the service needs.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// Config configures a Service.
type Config struct {
	DB     DB
	Ledger *ledger.Ledger
	Clock  clock.Clock // defaults to the ledger's clock
	// ExpressElixirMax is the largest amount sent by Express Elixir;
	// polish.ExpressElixirMax when zero.
	ExpressElixirMax money.Amount
	Log              *slog.Logger
	// Obs logs and counts every payment's status changes, once committed
	// (nil: nothing).
	Obs *obs.Observer
}

// Service initiates payments and moves them along.
type Service struct {
	db         DB
	ledger     *ledger.Ledger
	clock      clock.Clock
	expressMax money.Amount
	log        *slog.Logger
	obs        *obs.Observer
}

// New returns a payment service.
func New(cfg Config) *Service {
	s := &Service{db: cfg.DB, ledger: cfg.Ledger, clock: cfg.Clock, expressMax: cfg.ExpressElixirMax, log: cfg.Log, obs: cfg.Obs}
	if s.clock == nil {
		s.clock = cfg.Ledger.Clock()
	}
	if s.expressMax <= 0 {
		s.expressMax = polish.ExpressElixirMax
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// DB returns the storage the service runs on, for callers that record a
// payment inside a transaction of their own (Record).
func (s *Service) DB() DB { return s.db }

// Clock returns the service's clock.
func (s *Service) Clock() clock.Clock { return s.clock }

// Code classifies a payment error: a fault.Code of the "payment" domain,
// stable; the transports map them to their statuses and wire codes.
type Code = fault.Code

var (
	CodeInvalidType             = fault.Define("payment", "invalid_type")
	CodeInvalidSenderAccount    = fault.Define("payment", "invalid_sender_account")
	CodeInvalidRecipientAccount = fault.Define("payment", "invalid_recipient_account")
	CodeInvalidRecipientName    = fault.Define("payment", "invalid_recipient_name")
	CodeInvalidRecipient        = fault.Define("payment", "invalid_recipient")
	CodeInvalidTitle            = fault.Define("payment", "invalid_title")
	CodeInvalidAmount           = fault.Define("payment", "invalid_amount")
	CodeInvalidCurrency         = fault.Define("payment", "invalid_currency")
	CodeInvalidExecutionDate    = fault.Define("payment", "invalid_execution_date")
	CodeInvalidSystem           = fault.Define("payment", "invalid_system")
	CodeLimitExceeded           = fault.Define("payment", "limit_exceeded")
	CodeInvalidTaxInfo          = fault.Define("payment", "invalid_tax_info")
	CodeInvalidSplitPayment     = fault.Define("payment", "invalid_split_payment")
	CodeInvalidRecurrence       = fault.Define("payment", "invalid_recurrence")
	CodeInvalidRequest          = fault.Define("payment", "invalid_request")
	CodeInvalidBundle           = fault.Define("payment", "invalid_bundle")
	CodeInsufficientFunds       = fault.Define("payment", "insufficient_funds")
	CodeDuplicate               = fault.Define("payment", "duplicate") // the idempotency key was used for another body
	CodeNotFound                = fault.Define("payment", "not_found")
	CodeNotCancellable          = fault.Define("payment", "not_cancellable")
	CodeNotInConsent            = fault.Define("payment", "not_in_consent") // the payment is not the one the customer authorised
)

// Error is a payment error (the bank's one error type, fault.Error): a
// code and the field it is about for machines, a message in English and in
// Polish for people.
type Error = fault.Error

func newError(code Code, field, en, pl string) *Error {
	return &Error{Code: code, Field: field, Message: en, MessagePL: pl}
}

func errorf(code Code, field string, en string, pl string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(en, args...), MessagePL: fmt.Sprintf(pl, args...)}
}

// CodeOf returns the code of a payment error in err's chain, or "".
func CodeOf(err error) Code { return fault.CodeIn(err, "payment") }
