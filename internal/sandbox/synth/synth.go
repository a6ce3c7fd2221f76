// Package synth generates the sandbox bank's synthetic data: test customers
// in the three segments, their accounts, and two years of realistic history
// up to a given moment, plus what is in flight at that moment (card holds,
// outgoing transfers waiting for the next Elixir session, future-dated
// transfers). Load writes a Dataset into a ledger.
//
// # Determinism
//
// Generate is a pure function of its seed and now: the same seed and the
// same instant give a byte-identical Dataset. Randomness comes from
// math/rand/v2 PCG sources seeded with seed, and the generator never depends
// on map iteration order. The customers, their identity numbers, logins,
// phone numbers and account numbers do not depend on the seed at all, so
// that they can be documented; the seed only shapes the history. Every
// identifier is a UUIDv7 string whose 48-bit time prefix is the item's time
// in milliseconds (BookedAt for history, the creation time otherwise) and
// whose other bits come from the seeded source.
//
// # Customers
//
// All customers log in with Password ("sandbox-password-1"):
//
//	login              segment    accounts
//	jan.kowalski       retail     personal PLN, savings PLN, personal EUR
//	anna.nowak         retail     personal PLN, savings PLN
//	piotr.wisniewski   retail     personal PLN
//	katarzyna.wojcik   retail     personal PLN
//	kwiaciarnia.roza   company    business PLN, VAT PLN
//	budowa.polska      corporate  corporate PLN (current), corporate PLN (payroll), corporate EUR, VAT PLN
//
// Jan Kowalski is paid by Budowa Polska S.A. and Piotr Wiśniewski by
// Kwiaciarnia Róża Sp. z o.o. (internal transfers); Anna Nowak and Katarzyna
// Wójcik are paid by employers at other banks. Account numbers are
// polish.OwnNRB of "1000" + the 4-digit customer number + the 8-digit account
// number; the bank's clearing accounts are "9000000000000985" (PLN) and
// "9000000000000978" (EUR), after the ISO 4217 numeric codes.
//
// # Times
//
// Times are Warsaw wall-clock times where the rails give them: incoming
// Elixir transfers are credited in the delivery window of one of the day's
// three sessions, outgoing ones are booked when a session settles, on
// business days (polish.ElixirSessions); internal transfers happen at any
// hour people make them; card payments are booked in the night batch of
// 03:00-06:00 after the purchase, with TradeDate the day of the purchase;
// interest is capitalised at 23:30 on the last day of the month and fees
// are charged at 06:00-06:15 on the first.
//
// # Kinds
//
// The Kind of every transfer is one of the Kind constants: salary, card,
// elixir, internal, tax, zus, split, sepa, fee and interest. An outside
// counterparty (another bank, a merchant, the tax office, ZUS) is on the
// bank's clearing account of the currency, with its name and account number
// in the Party; fees and interest name the bank itself and its clearing
// account, because the ledger has no income or expense accounts.
package synth

import (
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
)

// Password is the password of every test customer.
const Password = "sandbox-password-1"

// Kinds of transfer in the synthetic history (ledger.TransferRequest.Kind).
const (
	// KindSalary is pay from an employer to an employee: from another bank
	// to a retail customer, from a firm's account to a retail customer of
	// this bank, or from a firm's payroll account to employees at other
	// banks.
	KindSalary = "salary"
	// KindCard is a card payment or a cash withdrawal, booked after the
	// purchase (TradeDate is the day of the purchase).
	KindCard = "card"
	// KindElixir is a domestic transfer in PLN to or from another bank:
	// bills, rent, loan instalments, supplier invoices, card acquirers'
	// settlements, opening balances.
	KindElixir = "elixir"
	// KindInternal is a transfer between two accounts of this bank that is
	// not pay and not a split payment.
	KindInternal = "internal"
	// KindTax is a payment to a tax micro-account (VAT-7, CIT-8, PIT-4R,
	// PIT-37) with the title in the tax format, a tax refund, or the tax
	// withheld on interest.
	KindTax = "tax"
	// KindZUS is a payment of social security contributions to the payer's
	// contribution account (numer rachunku składkowego) at ZUS.
	KindZUS = "zus"
	// KindSplit is one leg of a split payment (mechanizm podzielonej
	// płatności): the net amount to or from a firm's main account, or the
	// VAT to or from its VAT account. Both legs carry the same
	// "/VAT/…/IDC/…/INV/…/TXT/…" title.
	KindSplit = "split"
	// KindSEPA is a euro transfer to or from a bank in SEPA.
	KindSEPA = "sepa"
	// KindFee is a bank fee.
	KindFee = "fee"
	// KindInterest is interest capitalised on a savings account.
	KindInterest = "interest"
)

// Kinds lists every kind the generator uses.
var Kinds = []string{KindSalary, KindCard, KindElixir, KindInternal, KindTax, KindZUS, KindSplit, KindSEPA, KindFee, KindInterest}

// PSU is one test customer as written to psus.json (see the sandbox
// contract): what a TPP developer needs to log in and find the accounts.
type PSU struct {
	Login    string       `json:"login"`
	Password string       `json:"password"`
	PESEL    string       `json:"pesel"` // for a firm, of the person who acts for it
	Phone    string       `json:"phone"` // E.164: +48 and nine digits starting with 6
	Segment  string       `json:"segment"`
	Name     string       `json:"name"`
	NIP      string       `json:"nip,omitempty"`   // firms only
	REGON    string       `json:"regon,omitempty"` // firms only
	Accounts []PSUAccount `json:"accounts"`
}

// PSUAccount is one account of a PSU.
type PSUAccount struct {
	Number   string `json:"number"` // 26-digit NRB without spaces
	Currency string `json:"currency"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	ID       string `json:"id"` // the ledger account id
}

// Dataset is everything Generate makes and Load writes.
type Dataset struct {
	PSUs []PSU
	// Customers have an empty PasswordHash: Load hashes the PSU's password.
	Customers []ledger.Customer
	// Accounts are the bank's clearing accounts (one per currency, first)
	// and the customers' accounts. Booked, Available and LastSeq state what
	// the ledger must show once Load has run: the balance after the whole
	// history, that balance less the active holds and the pending
	// transfers, and the number of booked items. The ledger opens every
	// account empty whatever they say.
	Accounts []ledger.Account
	// History is chronological (BookedAt never decreases), with every ID
	// filled in.
	History []ledger.HistoricalTransfer
	// Holds are card authorisations of the last day or so, not yet
	// captured.
	Holds []ledger.Hold
	// Pending are outgoing transfers submitted today, waiting for the next
	// Elixir session (ledger.Submit).
	Pending []ledger.TransferRequest
	// Scheduled are future-dated transfers, due in the next 1-60 days
	// (ledger.Schedule).
	Scheduled []ledger.TransferRequest
}

// HistoryDays is how far back the history reaches from now: the accounts
// are opened at 08:00 in Warsaw on the day HistoryDays-1 days before now's
// day, so that all of the history lies within HistoryDays days before now.
const HistoryDays = 730

// Generate makes the dataset of a seed as it stands at now: history booked
// from the opening of the accounts almost HistoryDays days before now up to
// now, holds and pending transfers of
// the last hours, and transfers scheduled after now. The same seed and now
// always give the same dataset.
func Generate(seed int64, now time.Time) *Dataset {
	g := newGen(seed, now)
	g.setup()
	g.plan()
	g.run()
	g.inFlight()
	g.finish()
	return g.ds
}
