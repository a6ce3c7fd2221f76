// Package polishapi is the PolishAPI 2.1.2 dialect (the "POST" dialect of
// the Polish Bank Association's standard): its wire types, and the
// translation of the ledger's items into them. Names follow the
// standard's definitions (shared/specs/polishapi/PolishAPI-ver2_1_2.yaml).
package polishapi

import (
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// RequestHeader is the requestHeader of any request: the union of
// RequestHeaderWithoutToken, RequestHeaderAIS and RequestHeaderAISCallback
// (the fields a request does not carry stay empty).
type RequestHeader struct {
	RequestID   string `json:"requestId"`
	UserAgent   string `json:"userAgent,omitempty"`
	IPAddress   string `json:"ipAddress,omitempty"`
	SendDate    string `json:"sendDate,omitempty"`
	TPPID       string `json:"tppId,omitempty"`
	Token       string `json:"token,omitempty"`
	IsDirectPSU bool   `json:"isDirectPsu,omitempty"`
	CallbackURL string `json:"callbackURL,omitempty"`
	APIKey      string `json:"apiKey,omitempty"`
}

// ResponseHeader is the responseHeader of every response.
type ResponseHeader = gateway.ResponseHeader

// NewResponseHeader answers the request with the given id at t.
func NewResponseHeader(requestID string, t time.Time) ResponseHeader {
	return ResponseHeader{RequestID: requestID, SendDate: gateway.FormatDateTime(t)}
}

// PageInfo carries the opaque ids of the neighbouring pages.
type PageInfo struct {
	PreviousPage string `json:"previousPage,omitempty"`
	NextPage     string `json:"nextPage,omitempty"`
}

// DictionaryItem is a code with its description.
type DictionaryItem struct {
	Code        string `json:"code,omitempty"`
	Description string `json:"description,omitempty"`
}

// NameAddress is a name and an address in up to 4 lines of 35 characters.
type NameAddress struct {
	Value []string `json:"value,omitempty"`
}

// BankAccountInfo is the bank that keeps an account.
type BankAccountInfo struct {
	BICOrSWIFT string   `json:"bicOrSwift,omitempty"`
	Name       string   `json:"name,omitempty"`
	Address    []string `json:"address,omitempty"`
}

// Bank is the bank of a counterparty.
type Bank struct {
	BICOrSWIFT  string   `json:"bicOrSwift,omitempty"`
	Name        string   `json:"name,omitempty"`
	Code        string   `json:"code,omitempty"`
	CountryCode string   `json:"countryCode,omitempty"`
	Address     []string `json:"address,omitempty"`
}

// AccountPsuRelation is how the PSU is related to an account.
type AccountPsuRelation struct {
	TypeOfRelation string `json:"typeOfRelation"`
	TypeOfProxy    string `json:"typeOfProxy,omitempty"`
	Stake          *int   `json:"stake,omitempty"`
}

// AccountsRequest is the body of getAccounts.
type AccountsRequest struct {
	RequestHeader     RequestHeader `json:"requestHeader"`
	TypeOfPsuRelation string        `json:"typeOfPsuRelation,omitempty"`
	PageID            string        `json:"pageId,omitempty"`
	PerPage           int           `json:"perPage,omitempty"`
}

// AccountBaseInfo is an account in the list of getAccounts.
type AccountBaseInfo struct {
	AccountNumber   string               `json:"accountNumber"`
	AccountTypeName string               `json:"accountTypeName"`
	AccountType     DictionaryItem       `json:"accountType"`
	PsuRelations    []AccountPsuRelation `json:"psuRelations"`
}

// AccountsResponse answers getAccounts.
type AccountsResponse struct {
	ResponseHeader ResponseHeader    `json:"responseHeader"`
	Accounts       []AccountBaseInfo `json:"accounts"`
	PageInfo       *PageInfo         `json:"pageInfo,omitempty"`
}

// AccountInfoRequest is the body of getAccount.
type AccountInfoRequest struct {
	RequestHeader RequestHeader `json:"requestHeader"`
	AccountNumber string        `json:"accountNumber"`
}

// AccountInfo is an account's details and balances.
type AccountInfo struct {
	AccountNumber     string               `json:"accountNumber"`
	NameAddress       NameAddress          `json:"nameAddress"`
	AccountType       DictionaryItem       `json:"accountType"`
	AccountTypeName   string               `json:"accountTypeName,omitempty"`
	AccountHolderType string               `json:"accountHolderType"`
	AccountNameClient string               `json:"accountNameClient,omitempty"`
	Currency          string               `json:"currency"`
	AvailableBalance  string               `json:"availableBalance"`
	BookingBalance    string               `json:"bookingBalance"`
	Bank              *BankAccountInfo     `json:"bank,omitempty"`
	PsuRelations      []AccountPsuRelation `json:"psuRelations"`
	AuxData           map[string]string    `json:"auxData,omitempty"`
}

// AccountResponse answers getAccount.
type AccountResponse struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	Account        AccountInfo    `json:"account"`
}

// TransactionInfoRequest is the body of getTransactionsDone, …Pending,
// …Rejected, …Cancelled and …Scheduled; HoldRequest (getHolds) has the
// same fields.
type TransactionInfoRequest struct {
	RequestHeader       RequestHeader `json:"requestHeader"`
	AccountNumber       string        `json:"accountNumber"`
	ItemIDFrom          string        `json:"itemIdFrom,omitempty"`
	TransactionDateFrom string        `json:"transactionDateFrom,omitempty"`
	TransactionDateTo   string        `json:"transactionDateTo,omitempty"`
	BookingDateFrom     string        `json:"bookingDateFrom,omitempty"`
	BookingDateTo       string        `json:"bookingDateTo,omitempty"`
	MinAmount           string        `json:"minAmount,omitempty"`
	MaxAmount           string        `json:"maxAmount,omitempty"`
	PageID              string        `json:"pageId,omitempty"`
	PerPage             int           `json:"perPage,omitempty"`
	Type                string        `json:"type,omitempty"` // CREDIT or DEBIT
}

// HoldRequest is the body of getHolds.
type HoldRequest = TransactionInfoRequest

// SenderRecipient is one side of an item.
type SenderRecipient struct {
	AccountNumber      string       `json:"accountNumber,omitempty"`
	AccountMassPayment string       `json:"accountMassPayment,omitempty"`
	Bank               *Bank        `json:"bank,omitempty"`
	NameAddress        *NameAddress `json:"nameAddress,omitempty"`
}

// ItemInfoBase is what every item carries.
type ItemInfoBase struct {
	ItemID          string            `json:"itemId"`
	Amount          string            `json:"amount"`
	Currency        string            `json:"currency,omitempty"`
	Description     string            `json:"description,omitempty"`
	TransactionType string            `json:"transactionType,omitempty"`
	TradeDate       string            `json:"tradeDate,omitempty"`
	MCC             string            `json:"mcc,omitempty"`
	AuxData         map[string]string `json:"auxData,omitempty"`
}

// itemParties are the sides of an item.
type itemParties struct {
	Initiator *NameAddress     `json:"initiator,omitempty"`
	Sender    *SenderRecipient `json:"sender,omitempty"`
	Recipient *SenderRecipient `json:"recipient,omitempty"`
}

// TransactionInfo is a booked item (getTransactionsDone, and the base of a
// transaction's detail).
type TransactionInfo struct {
	ItemInfoBase
	TransactionCategory string          `json:"transactionCategory"`
	TransactionStatus   *DictionaryItem `json:"transactionStatus,omitempty"`
	itemParties
	BookingDate            string `json:"bookingDate,omitempty"`
	PostTransactionBalance string `json:"postTransactionBalance,omitempty"`
}

// TransactionPendingInfo is a payment not yet cleared.
type TransactionPendingInfo struct {
	ItemInfoBase
	TransactionCategory string `json:"transactionCategory"`
	itemParties
}

// TransactionRejectedInfo is a payment the bank rejected.
type TransactionRejectedInfo struct {
	ItemInfoBase
	TransactionCategory string `json:"transactionCategory"`
	itemParties
	RejectionReason string `json:"rejectionReason,omitempty"`
	RejectionDate   string `json:"rejectionDate,omitempty"`
}

// TransactionCancelledInfo is a payment cancelled before it was executed.
type TransactionCancelledInfo struct {
	ItemInfoBase
	TransactionCategory string          `json:"transactionCategory"`
	TransactionStatus   *DictionaryItem `json:"transactionStatus,omitempty"`
	itemParties
}

// TransactionScheduledInfo is a future-dated payment.
type TransactionScheduledInfo = TransactionCancelledInfo

// HoldInfo is money reserved on the account.
type HoldInfo struct {
	ItemInfoBase
	HoldExpirationDate string `json:"holdExpirationDate,omitempty"`
	itemParties
}

// TransactionsDoneInfoResponse answers getTransactionsDone.
// The items come first and the response header last: an unchanged page's
// items are then the same first bytes of every answer, whose seal's hash
// the bank computes once (doneResponse). JSON's members have no order.
type TransactionsDoneInfoResponse struct {
	Transactions   []TransactionInfo `json:"transactions"`
	PageInfo       *PageInfo         `json:"pageInfo,omitempty"`
	ResponseHeader ResponseHeader    `json:"responseHeader"`
}

// TransactionPendingInfoResponse answers getTransactionsPending.
type TransactionPendingInfoResponse struct {
	ResponseHeader ResponseHeader           `json:"responseHeader"`
	Transactions   []TransactionPendingInfo `json:"transactions"`
	PageInfo       *PageInfo                `json:"pageInfo,omitempty"`
}

// TransactionRejectedInfoResponse answers getTransactionsRejected.
type TransactionRejectedInfoResponse struct {
	ResponseHeader ResponseHeader            `json:"responseHeader"`
	Transactions   []TransactionRejectedInfo `json:"transactions"`
	PageInfo       *PageInfo                 `json:"pageInfo,omitempty"`
}

// TransactionsCancelledInfoResponse answers getTransactionsCancelled and,
// with scheduled items, getTransactionsScheduled (the two responses have
// the same shape).
type TransactionsCancelledInfoResponse struct {
	ResponseHeader ResponseHeader             `json:"responseHeader"`
	Transactions   []TransactionCancelledInfo `json:"transactions"`
	PageInfo       *PageInfo                  `json:"pageInfo,omitempty"`
}

// HoldInfoResponse answers getHolds.
type HoldInfoResponse struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	Holds          []HoldInfo     `json:"holds"`
	PageInfo       *PageInfo      `json:"pageInfo,omitempty"`
}

// TransactionDetailRequest is the body of getTransactionDetail.
type TransactionDetailRequest struct {
	RequestHeader RequestHeader `json:"requestHeader"`
	ItemID        string        `json:"itemId"`
	AccountNumber string        `json:"accountNumber"`
	BookingDate   string        `json:"bookingDate,omitempty"`
}

// TransactionDetailResponse answers getTransactionDetail.
type TransactionDetailResponse struct {
	ResponseHeader     ResponseHeader  `json:"responseHeader"`
	BaseInfo           TransactionInfo `json:"baseInfo"`
	CardInfo           *CardInfo       `json:"cardInfo,omitempty"`
	RejectionReason    string          `json:"rejectionReason,omitempty"`
	HoldExpirationDate string          `json:"holdExpirationDate,omitempty"`
}

// CardInfo is the card of a card transaction.
type CardInfo struct {
	CardHolder string `json:"cardHolder,omitempty"`
	CardNumber string `json:"cardNumber,omitempty"`
}

// DeleteConsentRequest is the body of deleteConsent.
type DeleteConsentRequest struct {
	RequestHeader RequestHeader `json:"requestHeader"`
	ConsentID     string        `json:"consentId"`
}

// Account holder types.
const (
	HolderIndividual  = "individual"
	HolderCorporation = "corporation"
)

// Item categories.
const (
	Credit = "CREDIT"
	Debit  = "DEBIT"
)

// The bank as it appears on its accounts.
const (
	BankBIC  = "PSDBPLPW" // fictitious, like the bank code 0990
	BankName = "psd2bank"
)

// AccountTypeDescriptions describe the ledger's account types, in Polish
// as banks' dictionaries do.
var AccountTypeDescriptions = map[string]string{
	ledger.TypePersonal:  "Rachunek osobisty",
	ledger.TypeSavings:   "Rachunek oszczędnościowy",
	ledger.TypeBusiness:  "Rachunek firmowy",
	ledger.TypeVAT:       "Rachunek VAT",
	ledger.TypeCorporate: "Rachunek bieżący",
}

// HolderType is the accountHolderType of a customer.
func HolderType(c ledger.Customer) string {
	if c.Segment == ledger.Retail {
		return HolderIndividual
	}
	return HolderCorporation
}

// AccountTypeName is the account's name as the bank's products call it, at
// most 32 characters.
func AccountTypeName(a ledger.Account) string {
	name := a.Name
	if name == "" {
		name = AccountTypeDescriptions[a.Type]
	}
	return truncate(name, 32)
}

// BaseInfo is an account in the list of getAccounts. The PSU is its owner:
// the ledger keeps no other relations.
func BaseInfo(a ledger.Account) AccountBaseInfo {
	return AccountBaseInfo{
		AccountNumber:   a.NRB,
		AccountTypeName: AccountTypeName(a),
		AccountType:     DictionaryItem{Code: a.Type, Description: AccountTypeDescriptions[a.Type]},
		PsuRelations:    []AccountPsuRelation{{TypeOfRelation: "Owner"}},
	}
}

// Info is an account's details for getAccount.
func Info(a ledger.Account, owner ledger.Customer) AccountInfo {
	avail := a.Available
	if avail < 0 {
		avail = 0 // the standard's availableBalance is never negative
	}
	return AccountInfo{
		AccountNumber:     a.NRB,
		NameAddress:       NameAddressOf(owner.Name, owner.Address),
		AccountType:       DictionaryItem{Code: a.Type, Description: AccountTypeDescriptions[a.Type]},
		AccountTypeName:   AccountTypeName(a),
		AccountHolderType: HolderType(owner),
		AccountNameClient: truncate(a.Name, 32),
		Currency:          a.Currency,
		AvailableBalance:  avail.String(),
		BookingBalance:    a.Booked.String(),
		Bank:              &BankAccountInfo{BICOrSWIFT: BankBIC, Name: BankName},
		PsuRelations:      []AccountPsuRelation{{TypeOfRelation: "Owner"}},
	}
}

// NameAddressOf splits a name and an address into at most 4 lines of at
// most 35 characters: the name first, then the address's comma-separated
// parts.
func NameAddressOf(name, address string) NameAddress {
	var lines []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && len(s) <= 35 && lines == nil { // the usual short name: one line, nothing to cut
			lines = []string{s}
			return
		}
		for s != "" && len(lines) < 4 {
			r := []rune(s)
			n := min(len(r), 35)
			lines = append(lines, strings.TrimSpace(string(r[:n])))
			s = strings.TrimSpace(string(r[n:]))
		}
	}
	add(name)
	if address != "" {
		for _, part := range strings.Split(address, ",") {
			add(part)
		}
	}
	if len(lines) == 0 {
		lines = []string{"-"}
	}
	return NameAddress{Value: lines}
}

// party is one side of an item as the wire shows it.
func party(p ledger.Party) *SenderRecipient {
	if p.Name == "" && p.Account == "" {
		return nil
	}
	sr := &SenderRecipient{AccountNumber: p.Account}
	if p.Name != "" {
		na := NameAddressOf(p.Name, "")
		sr.NameAddress = &na
	}
	if nrb, err := polish.NormalizeNRB(p.Account); err == nil {
		if name, ok := polish.BankName(nrb); ok {
			sr.Bank = &Bank{Name: truncate(name, 70), Code: nrb[2:10], CountryCode: "PL"}
		}
	}
	return sr
}

// Self is the account holder's side of its own items.
func Self(a ledger.Account, ownerName string) ledger.Party {
	return ledger.Party{Name: ownerName, Account: a.NRB}
}

// DateTime renders a moment as the standard's date-time, in Polish time.
func DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(polish.Warsaw).Format("2006-01-02T15:04:05.000Z07:00")
}

// DayTime renders a calendar day ("YYYY-MM-DD") as a date-time: its
// midnight in Poland.
func DayTime(day string) string {
	t, err := time.ParseInLocation(time.DateOnly, day, polish.Warsaw)
	if err != nil {
		return ""
	}
	return DateTime(t)
}

func abs(a money.Amount) money.Amount {
	if a < 0 {
		return -a
	}
	return a
}

func truncate(s string, n int) string {
	if len(s) <= n { // no more bytes than n: no more characters either
		return s
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// DoneItems maps a page of booked items of one account (whose holder is
// self), as Done does item by item. What the items share — the holder's
// side, the status, and often their days and counterparties — is built
// once per page and shared (the items are only encoded).
func DoneItems(ps []ledger.Posting, self ledger.Party) []TransactionInfo {
	out := make([]TransactionInfo, 0, len(ps))
	sh := shared{self: self, selfParty: party(self), status: bookedStatus()}
	if self.Name != "" {
		na := NameAddressOf(self.Name, "")
		sh.initiator = &na
	}
	days := map[string]string{}
	parties := map[ledger.Party]*SenderRecipient{}
	for _, p := range ps {
		d, ok := days[p.TradeDate]
		if !ok {
			d = DayTime(p.TradeDate)
			days[p.TradeDate] = d
		}
		cp, ok := parties[p.Counterparty]
		if !ok {
			cp = party(p.Counterparty)
			parties[p.Counterparty] = cp
		}
		out = append(out, done(p, sh, d, cp))
	}
	return out
}

// shared is what the items of one account's page have in common.
type shared struct {
	self      ledger.Party
	selfParty *SenderRecipient
	initiator *NameAddress // the holder, for debits
	status    *DictionaryItem
}

// Done is a booked item of account a (whose holder is self). Its id is its
// transfer's id, the same id the item had while it was pending.
func Done(p ledger.Posting, self ledger.Party) TransactionInfo {
	sh := shared{self: self, selfParty: party(self), status: bookedStatus()}
	if self.Name != "" && p.Amount < 0 {
		na := NameAddressOf(self.Name, "")
		sh.initiator = &na
	}
	return done(p, sh, DayTime(p.TradeDate), party(p.Counterparty))
}

func done(p ledger.Posting, sh shared, tradeDay string, counterparty *SenderRecipient) TransactionInfo {
	t := TransactionInfo{
		ItemInfoBase: ItemInfoBase{
			ItemID: p.TransferID, Amount: abs(p.Amount).String(), Currency: p.Currency,
			Description: truncate(p.Title, 140), TransactionType: p.Kind, TradeDate: tradeDay,
		},
		TransactionStatus:      sh.status,
		BookingDate:            DateTime(p.BookedAt),
		PostTransactionBalance: p.BalanceAfter.String(),
	}
	if p.Amount < 0 {
		t.TransactionCategory = Debit
		t.Sender, t.Recipient = sh.selfParty, counterparty
	} else {
		t.TransactionCategory = Credit
		t.Sender, t.Recipient = counterparty, sh.selfParty
	}
	if sh.self.Name != "" && p.Amount < 0 {
		t.Initiator = sh.initiator
	}
	return t
}

func bookedStatus() *DictionaryItem {
	return &DictionaryItem{Code: "booked", Description: "Zaksięgowana"}
}

func transferBase(t ledger.Transfer) ItemInfoBase {
	return ItemInfoBase{
		ItemID: t.ID, Amount: t.Amount.String(), Currency: t.Currency, Description: truncate(t.Title, 140),
		TransactionType: t.Kind, TradeDate: DayTime(t.TradeDate),
	}
}

func transferParties(t ledger.Transfer) itemParties {
	p := itemParties{Sender: party(t.Debtor), Recipient: party(t.Creditor)}
	if t.Debtor.Name != "" {
		na := NameAddressOf(t.Debtor.Name, "")
		p.Initiator = &na
	}
	return p
}

// Pending is an outgoing payment of the account not yet cleared.
func Pending(t ledger.Transfer) TransactionPendingInfo {
	return TransactionPendingInfo{ItemInfoBase: transferBase(t), TransactionCategory: Debit, itemParties: transferParties(t)}
}

// Rejected is an outgoing payment the bank rejected.
func Rejected(t ledger.Transfer) TransactionRejectedInfo {
	return TransactionRejectedInfo{
		ItemInfoBase: transferBase(t), TransactionCategory: Debit, itemParties: transferParties(t),
		RejectionReason: truncate(t.StatusReason, 140), RejectionDate: DateTime(t.UpdatedAt),
	}
}

// statusNames describe the transfer statuses in the transactionStatus
// dictionary.
var statusNames = map[ledger.Status]string{
	ledger.StatusScheduled: "Zaplanowana",
	ledger.StatusPending:   "Oczekująca",
	ledger.StatusBooked:    "Zaksięgowana",
	ledger.StatusRejected:  "Odrzucona",
	ledger.StatusCancelled: "Anulowana",
}

// Cancelled is an outgoing payment cancelled before it was executed, or,
// for a scheduled transfer, one waiting for its date.
func Cancelled(t ledger.Transfer) TransactionCancelledInfo {
	return TransactionCancelledInfo{
		ItemInfoBase: transferBase(t), TransactionCategory: Debit, itemParties: transferParties(t),
		TransactionStatus: &DictionaryItem{Code: string(t.Status), Description: statusNames[t.Status]},
	}
}

// Scheduled is a future-dated outgoing payment; its trade date is the day
// it is due.
func Scheduled(t ledger.Transfer) TransactionScheduledInfo {
	c := Cancelled(t)
	c.TradeDate = DayTime(t.ExecutionDate)
	return c
}

// HoldItem is money reserved on the account a (whose holder is self): a card
// authorisation (its id is the hold's) or an outgoing payment waiting for
// clearing (its id is the payment's, the id it keeps when booked).
func HoldItem(h ledger.Hold, self ledger.Party) HoldInfo {
	id := h.ID
	typ := "card"
	if h.TransferID != "" {
		id, typ = h.TransferID, "transfer"
	}
	hi := HoldInfo{
		ItemInfoBase: ItemInfoBase{
			ItemID: id, Amount: h.Amount.String(), Currency: h.Currency, Description: truncate(h.Description, 140),
			TransactionType: typ, TradeDate: DateTime(h.CreatedAt),
		},
		HoldExpirationDate: DateTime(h.ExpiresAt),
	}
	hi.Sender = party(self)
	if h.MerchantName != "" {
		na := NameAddressOf(h.MerchantName, h.MerchantCity)
		hi.Recipient = &SenderRecipient{NameAddress: &na}
	}
	return hi
}

// DetailOfPosting is the detail of a booked item.
func DetailOfPosting(p ledger.Posting, self ledger.Party) TransactionDetailResponse {
	return TransactionDetailResponse{BaseInfo: Done(p, self)}
}

// DetailOfTransfer is the detail of an outgoing payment not booked (yet).
func DetailOfTransfer(t ledger.Transfer) TransactionDetailResponse {
	c := Cancelled(t)
	d := TransactionDetailResponse{BaseInfo: TransactionInfo{
		ItemInfoBase: c.ItemInfoBase, TransactionCategory: Debit, TransactionStatus: c.TransactionStatus, itemParties: c.itemParties,
	}}
	if t.Status == ledger.StatusRejected {
		d.RejectionReason = truncate(t.StatusReason, 140)
	}
	return d
}

// DetailOfHold is the detail of a card hold.
func DetailOfHold(h ledger.Hold, self ledger.Party) TransactionDetailResponse {
	hi := HoldItem(h, self)
	status := &DictionaryItem{Code: "hold", Description: "Blokada"}
	return TransactionDetailResponse{
		BaseInfo: TransactionInfo{
			ItemInfoBase: hi.ItemInfoBase, TransactionCategory: Debit, TransactionStatus: status, itemParties: hi.itemParties,
		},
		HoldExpirationDate: hi.HoldExpirationDate,
	}
}
