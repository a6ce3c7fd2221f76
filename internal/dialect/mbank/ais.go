package mbank

import (
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/ledger"
)

// The mBank v3 account information resources. mBank publishes example
// requests, not schemas: the responses follow its sandbox's examples
// (shared/reference/polishapi-and-mbank.md §11.6) — PolishAPI's fields
// without the responseHeader, plain dates (YYYY-MM-DD), signed amounts (a
// debit is negative), upper-case statuses, the ledger's account id as
// accountId, and cursor links instead of pageInfo.

// Link is a hypermedia link, such as the next page of a list.
type Link struct {
	Rel    string `json:"rel"`
	Href   string `json:"href"`
	Action string `json:"action"`
}

// NextPage is the link to the next page of a list.
func NextPage(href string) []Link {
	return []Link{{Rel: "nextPage", Href: href, Action: "GET"}}
}

// DictionaryItem is a code with its description.
type DictionaryItem = polishapi.DictionaryItem

// NameAddress is a name and address in up to 4 lines of 35 characters.
type NameAddress = polishapi.NameAddress

// Account is an account in the list of GET /accounts.
type Account struct {
	AccountID       string         `json:"accountId"`
	AccountNumber   string         `json:"accountNumber"`
	AccountTypeName string         `json:"accountTypeName"`
	AccountType     DictionaryItem `json:"accountType"`
	Currency        string         `json:"currency"`
}

// AccountsResponse answers GET /accounts.
type AccountsResponse struct {
	Accounts []Account `json:"accounts"`
	Links    []Link    `json:"links,omitempty"`
}

// AccountDetails is an account's details and balances.
type AccountDetails struct {
	AccountID         string                         `json:"accountId"`
	AccountNumber     string                         `json:"accountNumber"`
	Name              string                         `json:"name,omitempty"`
	NameAddress       NameAddress                    `json:"nameAddress"`
	AccountType       DictionaryItem                 `json:"accountType"`
	AccountTypeName   string                         `json:"accountTypeName,omitempty"`
	AccountHolderType string                         `json:"accountHolderType"`
	AccountNameClient string                         `json:"accountNameClient,omitempty"`
	Currency          string                         `json:"currency"`
	AvailableBalance  string                         `json:"availableBalance"`
	BookingBalance    string                         `json:"bookingBalance"`
	PsuRelations      []polishapi.AccountPsuRelation `json:"psuRelations"`
	Bank              *polishapi.BankAccountInfo     `json:"bank,omitempty"`
}

// AccountResponse answers GET /accounts/{accountId}.
type AccountResponse struct {
	Account AccountDetails `json:"account"`
}

// Party is one side of a transaction.
type Party struct {
	AccountNumber string `json:"accountNumber,omitempty"`
	Name          string `json:"name,omitempty"`
}

// Transaction statuses, as the transactionStatus parameter spells them.
const (
	StatusDone      = "DONE"
	StatusPending   = "PENDING"
	StatusRejected  = "REJECTED"
	StatusCancelled = "CANCELLED"
	StatusScheduled = "SCHEDULED"
	StatusHold      = "HOLD"
)

// Transaction is an item of GET /accounts/{accountId}/transactions, and
// the body of a transaction's details.
type Transaction struct {
	AspspTransactionID     string            `json:"aspspTransactionId"`
	TransactionStatus      string            `json:"transactionStatus"`
	TransactionCategory    string            `json:"transactionCategory"`
	Amount                 string            `json:"amount"` // negative for a debit
	Currency               string            `json:"currency"`
	Description            string            `json:"description,omitempty"`
	TransactionType        string            `json:"transactionType,omitempty"`
	TradeDate              string            `json:"tradeDate,omitempty"`
	BookingDate            string            `json:"bookingDate,omitempty"`
	PostTransactionBalance string            `json:"postTransactionBalance,omitempty"`
	Sender                 *Party            `json:"sender,omitempty"`
	Recipient              *Party            `json:"recipient,omitempty"`
	RejectionReason        string            `json:"rejectionReason,omitempty"`
	HoldExpirationDate     string            `json:"holdExpirationDate,omitempty"`
	AuxData                map[string]string `json:"auxData,omitempty"`
}

// TransactionsResponse answers GET /accounts/{accountId}/transactions.
type TransactionsResponse struct {
	Transactions []Transaction `json:"transactions"`
	Links        []Link        `json:"links,omitempty"`
}

// TransactionResponse answers GET /accounts/{accountId}/transactions/{id}.
type TransactionResponse struct {
	Transaction Transaction `json:"transaction"`
}

// FundsConfirmationRequest is the body of POST /funds-confirmation.
type FundsConfirmationRequest struct {
	AccountNumber string `json:"accountNumber"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
}

// FundsConfirmationResponse answers POST /funds-confirmation.
type FundsConfirmationResponse struct {
	FundsAvailable bool `json:"fundsAvailable"`
}

// AccountOf is an account in the list.
func AccountOf(a ledger.Account) Account {
	return Account{
		AccountID: a.ID, AccountNumber: a.NRB, AccountTypeName: polishapi.AccountTypeName(a),
		AccountType: DictionaryItem{Code: a.Type, Description: polishapi.AccountTypeDescriptions[a.Type]},
		Currency:    a.Currency,
	}
}

// DetailsOf is an account's details.
func DetailsOf(a ledger.Account, owner ledger.Customer) AccountDetails {
	p := polishapi.Info(a, owner)
	return AccountDetails{
		AccountID: a.ID, AccountNumber: a.NRB, Name: owner.Name, NameAddress: p.NameAddress, AccountType: p.AccountType,
		AccountTypeName: p.AccountTypeName, AccountHolderType: p.AccountHolderType, AccountNameClient: p.AccountNameClient,
		Currency: a.Currency, AvailableBalance: p.AvailableBalance, BookingBalance: p.BookingBalance,
		PsuRelations: p.PsuRelations, Bank: p.Bank,
	}
}

func party(p ledger.Party) *Party {
	if p.Name == "" && p.Account == "" {
		return nil
	}
	return &Party{AccountNumber: p.Account, Name: p.Name}
}

// Done is a booked item of the account whose holder is self; its id is
// its transfer's id, which it had while pending too.
func Done(p ledger.Posting, self ledger.Party) Transaction {
	t := Transaction{
		AspspTransactionID: p.TransferID, TransactionStatus: StatusDone, Amount: p.Amount.String(), Currency: p.Currency,
		Description: p.Title, TransactionType: p.Kind, TradeDate: p.TradeDate, BookingDate: p.BookingDate,
		PostTransactionBalance: p.BalanceAfter.String(),
	}
	if p.Amount < 0 {
		t.TransactionCategory = polishapi.Debit
		t.Sender, t.Recipient = party(self), party(p.Counterparty)
	} else {
		t.TransactionCategory = polishapi.Credit
		t.Sender, t.Recipient = party(p.Counterparty), party(self)
	}
	return t
}

// statuses are the wire names of the ledger's statuses.
var statuses = map[ledger.Status]string{
	ledger.StatusBooked: StatusDone, ledger.StatusPending: StatusPending, ledger.StatusRejected: StatusRejected,
	ledger.StatusCancelled: StatusCancelled, ledger.StatusScheduled: StatusScheduled,
}

// Outgoing is a payment the account ordered that is not booked: pending,
// rejected, cancelled or scheduled (then its trade date is the day it is
// due).
func Outgoing(t ledger.Transfer) Transaction {
	tr := Transaction{
		AspspTransactionID: t.ID, TransactionStatus: statuses[t.Status], TransactionCategory: polishapi.Debit,
		Amount: (-t.Amount).String(), Currency: t.Currency, Description: t.Title, TransactionType: t.Kind,
		TradeDate: t.TradeDate, Sender: party(t.Debtor), Recipient: party(t.Creditor),
	}
	switch t.Status {
	case ledger.StatusScheduled:
		tr.TradeDate = t.ExecutionDate
	case ledger.StatusRejected:
		tr.RejectionReason = t.StatusReason
	}
	return tr
}

// Held is money reserved on the account whose holder is self: a card
// authorisation (its id is the hold's) or a payment waiting for clearing
// (its id is the payment's).
func Held(h ledger.Hold, self ledger.Party) Transaction {
	id, typ := h.ID, "card"
	if h.TransferID != "" {
		id, typ = h.TransferID, "transfer"
	}
	t := Transaction{
		AspspTransactionID: id, TransactionStatus: StatusHold, TransactionCategory: polishapi.Debit,
		Amount: (-h.Amount).String(), Currency: h.Currency, Description: h.Description, TransactionType: typ,
		TradeDate: ledger.DateOf(h.CreatedAt), HoldExpirationDate: ledger.DateOf(h.ExpiresAt), Sender: party(self),
	}
	if h.MerchantName != "" {
		t.Recipient = &Party{Name: h.MerchantName}
	}
	return t
}
