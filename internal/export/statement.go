// Package export writes account statements in the file formats that Polish
// bookkeeping software imports: a spreadsheet-friendly CSV, SWIFT MT940 in the
// two Polish dialects of field 86, ISO 20022 camt.053.001.02 and the tax
// authority's JPK_WB(1). It also reads MT940 back (ParseMT940).
//
// The package knows nothing of HTTP, the ledger or the APIs: callers fill a
// Statement, and every writer first checks it with Statement.Check, so that a
// file never disagrees with itself (opening balance + items = closing
// balance, and every balance after an item is the running sum).
//
// Dates (Statement.From and To, Item.BookingDate and ValueDate) are calendar
// dates: each writer takes their year, month and day in the Europe/Warsaw time
// zone (polish.Warsaw), so both midnight in Warsaw and midnight UTC name the
// intended day. Instants (Statement.CreatedAt) are printed in Warsaw time,
// except in JPK_WB, which uses UTC.
//
// The package is pure: no clock, no I/O beyond the io.Writer it is given,
// standard library only.
package export

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// Account is the account a statement is for, with what the formats say about
// its owner and bank.
type Account struct {
	// IBAN is the account number: an IBAN, or a 26-digit Polish NRB, which
	// is read as "PL" followed by the NRB. Spaces are allowed.
	IBAN string
	// Currency is the ISO 4217 code of the account, such as "PLN".
	Currency string
	// OwnerName is the full name of the account holder.
	OwnerName string
	// OwnerNIP is the holder's tax number (required by JPK_WB).
	OwnerNIP string
	// OwnerREGON is the holder's REGON, optional.
	OwnerREGON string
	// OwnerAddress is the holder's address (required by JPK_WB).
	OwnerAddress Address
	// BankName is the name of the bank that keeps the account.
	BankName string
	// BIC is the bank's BIC, optional.
	BIC string
}

// Address is a Polish postal address in the fields of the Ministry of
// Finance's TAdresPolski (used by JPK_WB).
type Address struct {
	Voivodeship string // województwo, such as "mazowieckie"
	County      string // powiat
	Commune     string // gmina
	Street      string // ulica, optional
	HouseNumber string // numer domu
	FlatNumber  string // numer lokalu, optional
	City        string // miejscowość
	PostalCode  string // kod pocztowy, "00-001"
	PostOffice  string // poczta; City when empty
}

// Line returns the address on one line, as in "ul. Marszałkowska 1/2,
// 00-001 Warszawa".
func (a Address) Line() string {
	street := strings.TrimSpace(a.Street + " " + a.HouseNumber)
	if a.FlatNumber != "" {
		street += "/" + a.FlatNumber
	}
	city := strings.TrimSpace(a.PostalCode + " " + a.City)
	switch {
	case street == "":
		return city
	case city == "":
		return street
	}
	return street + ", " + city
}

// Statement is an account statement for a period: the balances at its ends
// and every booked item in between, in booking order.
type Statement struct {
	Account        Account
	From, To       time.Time // first and last day of the period (dates)
	OpeningBalance money.Amount
	ClosingBalance money.Amount
	Items          []Item
	CreatedAt      time.Time // when the statement was made
}

// Item is one booked entry of a statement.
type Item struct {
	// ID is the bank's stable identifier of the transaction.
	ID          string
	BookingDate time.Time // date
	ValueDate   time.Time // date; BookingDate when zero
	// Amount is signed: negative for a debit, positive for a credit.
	Amount money.Amount
	// BalanceAfter is the account balance after this item, when
	// HasBalanceAfter says that the bank gave it.
	BalanceAfter    money.Amount
	HasBalanceAfter bool
	// Currency is the currency of Amount; empty means the account's.
	Currency string
	// Title is the payment title (tytuł przelewu), up to 140 characters in
	// Polish transfers but sometimes longer.
	Title               string
	CounterpartyName    string
	CounterpartyAccount string // IBAN, NRB or another account identifier
	CounterpartyAddress string
	// Type is the bank's transaction type: a code (such as "TRF" or "944")
	// or a description (such as "PRZELEW PRZYCHODZĄCY").
	Type string
	// Reference is the end-to-end or customer reference, optional.
	Reference string
}

// IsDebit reports whether the item takes money from the account.
func (it Item) IsDebit() bool { return it.Amount < 0 }

// ErrInconsistent is wrapped by every error that Statement.Check returns.
var ErrInconsistent = errors.New("statement is inconsistent")

// StatementError describes what Statement.Check found wrong. Index is the
// 0-based position of the first item that disagrees, or -1 when the problem
// is with the statement as a whole.
type StatementError struct {
	Index  int
	ID     string
	Reason string
}

func (e *StatementError) Error() string {
	if e.Index < 0 {
		return "export: " + e.Reason
	}
	return fmt.Sprintf("export: item %d (id %q): %s", e.Index+1, e.ID, e.Reason)
}

// Unwrap returns ErrInconsistent.
func (e *StatementError) Unwrap() error { return ErrInconsistent }

// Check reports whether the statement adds up: a valid account number and
// currency, From not after To, every item booked within [From, To] in
// non-decreasing booking order and in the account's currency, every known
// BalanceAfter equal to the opening balance plus the items up to and
// including it, and the opening balance plus all items equal to the closing
// balance. The error, a *StatementError wrapping ErrInconsistent, names the
// first item that disagrees.
func (s Statement) Check() error {
	whole := func(format string, args ...any) error {
		return &StatementError{Index: -1, Reason: fmt.Sprintf(format, args...)}
	}
	if _, err := s.Account.iban(); err != nil {
		return whole("account number: %v", err)
	}
	if !isCurrencyCode(s.Account.Currency) {
		return whole("account currency %q is not a three-letter ISO 4217 code", s.Account.Currency)
	}
	if s.From.IsZero() || s.To.IsZero() {
		return whole("the period has no start or no end date")
	}
	from, to := dateOf(s.From), dateOf(s.To)
	if from.After(to) {
		return whole("the period starts on %s, after its end on %s", isoDate(s.From), isoDate(s.To))
	}
	running := s.OpeningBalance
	var previous time.Time
	for i, it := range s.Items {
		bad := func(format string, args ...any) error {
			return &StatementError{Index: i, ID: it.ID, Reason: fmt.Sprintf(format, args...)}
		}
		if it.BookingDate.IsZero() {
			return bad("no booking date")
		}
		booked := dateOf(it.BookingDate)
		if booked.Before(from) || booked.After(to) {
			return bad("booked on %s, outside the period %s to %s", isoDate(it.BookingDate), isoDate(s.From), isoDate(s.To))
		}
		if i > 0 && booked.Before(previous) {
			return bad("booked on %s, before the item above it (%s); items must be in booking order", isoDate(it.BookingDate), previous.Format(time.DateOnly))
		}
		previous = booked
		if it.Currency != "" && it.Currency != s.Account.Currency {
			return bad("currency %s differs from the account's %s", it.Currency, s.Account.Currency)
		}
		sum, err := money.Add(running, it.Amount)
		if err != nil {
			return bad("%v", err)
		}
		running = sum
		if it.HasBalanceAfter && it.BalanceAfter != running {
			return bad("balance after is %s, but the opening balance %s plus items 1 to %d is %s", it.BalanceAfter, s.OpeningBalance, i+1, running)
		}
	}
	if running != s.ClosingBalance {
		return whole("closing balance is %s, but the opening balance %s plus the %d items is %s (a difference of %s)",
			s.ClosingBalance, s.OpeningBalance, len(s.Items), running, s.ClosingBalance-running)
	}
	return nil
}

// balances returns the balance after each item, computed from the opening
// balance. Call it only on a statement that passed Check.
func (s Statement) balances() []money.Amount {
	out := make([]money.Amount, len(s.Items))
	running := s.OpeningBalance
	for i, it := range s.Items {
		running += it.Amount
		out[i] = running
	}
	return out
}

// iban returns the account number as an IBAN in electronic form.
func (a Account) iban() (string, error) {
	return normalizeAccount(a.IBAN)
}

// normalizeAccount returns an IBAN in electronic form, reading a bare 26-digit
// number as a Polish NRB.
func normalizeAccount(s string) (string, error) {
	compact := strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(compact) == 26 && allDigits(compact) {
		nrb, err := polish.NormalizeNRB(compact)
		if err != nil {
			return "", err
		}
		return "PL" + nrb, nil
	}
	return polish.NormalizeIBAN(compact)
}

// counterpartyIBAN returns the counterparty's account as an IBAN when it is a
// valid IBAN or NRB; ok is false otherwise, and raw is the account without
// spaces.
func counterpartyIBAN(s string) (iban string, raw string, ok bool) {
	raw = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if raw == "" {
		return "", "", false
	}
	iban, err := normalizeAccount(raw)
	if err != nil {
		return "", raw, false
	}
	return iban, raw, true
}

// dateOf returns midnight UTC of the calendar day of t in Warsaw, for
// comparing dates.
func dateOf(t time.Time) time.Time {
	y, m, d := t.In(polish.Warsaw).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// isoDate formats the Warsaw date of t as 2006-01-02.
func isoDate(t time.Time) string { return dateOf(t).Format(time.DateOnly) }

// valueDate returns the item's value date, or its booking date when it has
// none.
func (it Item) valueDate() time.Time {
	if it.ValueDate.IsZero() {
		return it.BookingDate
	}
	return it.ValueDate
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// abs returns the magnitude of a. Amounts that passed Check are within
// ±money.Max, so negation cannot overflow.
func abs(a money.Amount) money.Amount {
	if a < 0 {
		return -a
	}
	return a
}

// commaDecimal formats a non-negative amount with a decimal comma: "1234,56".
func commaDecimal(a money.Amount) string {
	return strings.Replace(a.String(), ".", ",", 1)
}
