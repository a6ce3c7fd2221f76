// Package ais is account information as a domain service: the consent
// check of every AIS call (with the API access of the account and the 4
// unattended accesses a day), the page of an account's list, the sealing
// of page ids, an item's detail and the deletion of a consent. It knows
// no dialect and no transport: a dialect's handler decodes the request,
// calls the service and encodes the answer. Refusals are *Error (this
// package's), *consent.Error, *access.Error and *ledger.Error values.
//
// Rules common to every dialect:
//
//   - Every call passes the consent check with the operation's privilege
//     (PolishAPI spelling), the account, whether the customer is present,
//     and the earliest date asked. Consent refusals come before any word
//     about the account or item, so a TPP learns nothing of accounts outside
//     its consent.
//   - Lists are newest first and keyset-paginated: a page id carries the
//     position of the last item given, sealed with an HMAC under a secret the
//     bank's nodes share (ledger.Secret) and bound to the consent, the
//     account, the list and its filters. A page costs the same at any depth
//     of the history.
//   - A page at most 100 items (more is served as 100; none asked: 100).
//   - Without a date filter, a list of booked items covers bookings of the
//     last 90 days (DefaultHistoryDays), or the privilege's
//     maxAllowedHistoryLong if shorter; pending, rejected and cancelled
//     payments and holds likewise by their trade date; scheduled payments
//     are all listed. A date filter further back than maxAllowedHistoryLong
//     is refused (history_too_long).
//   - The next pages of a list, within ContinuationWindow of its first page,
//     are the same access: they are checked (consent alive, privilege,
//     account) but not counted against the 4 unattended accesses per day.
//   - An item's id is its transfer's id, which a pending payment keeps when
//     it is booked; a card hold's id is the hold's.
//   - Non-booked lists (pending, rejected, cancelled, scheduled) show the
//     payments the account ordered (its debits).
package ais

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// DefaultHistoryDays is how far back a list reaches without a date filter.
const DefaultHistoryDays = 90

// MaxPerPage is the largest page.
const MaxPerPage = 100

// ContinuationWindow is how long after a list's first page its next pages
// count as the same access.
const ContinuationWindow = time.Hour

// Kind is one of the lists of an account.
type Kind int

// The lists.
const (
	KindDone Kind = iota
	KindPending
	KindRejected
	KindCancelled
	KindScheduled
	KindHolds
)

var kinds = [...]struct {
	name      string
	privilege string
	status    ledger.Status
}{
	KindDone:      {"done", consent.PrivGetTransactionsDone, ledger.StatusBooked},
	KindPending:   {"pending", consent.PrivGetTransactionsPending, ledger.StatusPending},
	KindRejected:  {"rejected", consent.PrivGetTransactionsRejected, ledger.StatusRejected},
	KindCancelled: {"cancelled", consent.PrivGetTransactionsCancelled, ledger.StatusCancelled},
	KindScheduled: {"scheduled", consent.PrivGetTransactionsScheduled, ledger.StatusScheduled},
	KindHolds:     {"holds", consent.PrivGetHolds, ""},
}

// Privilege is the PolishAPI name of the privilege a list needs.
func (k Kind) Privilege() string { return kinds[k].privilege }

// DB is what the service needs of the store beyond plain queries: the one
// statement that checks and records an access (see check.go).
type DB interface {
	store.Querier
	WriteRow(ctx context.Context, q string, args []any, dest ...any) error
	InTx(ctx context.Context, fn func(*store.Tx) error) error
	Engine() store.Engine
}

// Service serves account information. It is safe for concurrent use.
type Service struct {
	ledger   *ledger.Ledger
	consents *consent.Service
	access   *access.Service // nil: every account's API access is active
	db       DB              // nil: the checks run as separate statements

	keyMu sync.Mutex
	key   []byte // the page ids' HMAC key, once loaded

	pages *pageCache // nil: off (see pages.go)
}

// New returns the service. access may be nil (every account's API access
// active); db may be nil (the consent check then runs as the consent,
// ledger and access services' separate statements, as the fallback path
// always does).
func New(l *ledger.Ledger, c *consent.Service, a *access.Service, db DB) *Service {
	return &Service{ledger: l, consents: c, access: a, db: db, pages: newPageCache(pageCacheItems)}
}

// Now is the bank's time (the movable clock).
func (s *Service) Now() time.Time { return s.ledger.Clock().Now() }

// Caller is who calls, as the transport established it.
type Caller struct {
	TPPID      string // the organizationIdentifier of the TPP's QWAC
	ConsentID  string // the access token's consent; "" when the call has no token
	CustomerID string // the access token's customer, if it names one
}

// AccountRef is an account as a call names it: by number (PolishAPI) or
// by the ledger's id (mBank).
type AccountRef struct {
	Value string
	ByID  bool
}

// resolve finds the account a call names; found is false when the bank has
// no such account (which the TPP learns only after its consent check).
func (s *Service) resolve(ctx context.Context, ref AccountRef) (acct ledger.Account, number string, found bool, err error) {
	if ref.ByID {
		number = ref.Value
		acct, err = s.ledger.Account(ctx, ref.Value)
	} else {
		number = consent.NormalizeNRB(ref.Value)
		acct, err = s.ledger.AccountByNRB(ctx, number)
	}
	switch {
	case err == nil && acct.CustomerID != "":
		return acct, acct.NRB, true, nil
	case err == nil || ledger.CodeOf(err) == ledger.CodeNotFound:
		return ledger.Account{}, number, false, nil // the bank's own accounts are nobody's to read
	default:
		return ledger.Account{}, "", false, err
	}
}

// check passes the consent check of a call (consent.Check, the token's
// customer, the account's API access). continuation marks the next pages
// of a list whose first page was counted.
func (s *Service) check(ctx context.Context, c Caller, privilege, number string, psu bool, historyFrom time.Time, continuation bool) (consent.Consent, error) {
	if c.ConsentID == "" {
		return consent.Consent{}, tokenMissing()
	}
	// The token's and the TPP's changing facts, when the call still owes
	// them (package live), before this check's writes.
	if err := live.Confirm(ctx); err != nil {
		return consent.Consent{}, err
	}
	a := consent.Access{
		ConsentID: c.ConsentID, TPPID: c.TPPID, Privilege: privilege, AccountNumber: number,
		PSUPresent: psu, HistoryFrom: historyFrom, Consume: true,
	}
	if continuation {
		a.PSUPresent, a.Consume = true, false
	}
	if s.db != nil {
		// In one transaction: a refusal after the consent's check (the
		// token's customer, the account's API access) undoes the access
		// the consent's check recorded, which would otherwise count
		// towards the day's unattended accesses.
		var cons consent.Consent
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if cons, err = s.consents.CheckIn(ctx, tx, a); err != nil {
				return err
			}
			return s.afterConsent(ctx, tx, c, cons, number)
		})
		return cons, err
	}
	cons, err := s.consents.Check(ctx, a)
	if err != nil {
		return cons, err
	}
	return cons, s.afterConsent(ctx, nil, c, cons, number)
}

// afterConsent is what check checks once the consent allows the access:
// the token's customer and the account's API access (read through tx when
// not nil).
func (s *Service) afterConsent(ctx context.Context, tx *store.Tx, c Caller, cons consent.Consent, number string) error {
	if c.CustomerID != "" && cons.CustomerID != c.CustomerID {
		return &consent.Error{Code: consent.CodeUnknown}
	}
	if s.access == nil || number == "" {
		return nil
	}
	if tx != nil {
		return s.access.CheckIn(ctx, tx, number, access.AIS)
	}
	return s.access.Check(ctx, number, access.AIS)
}

// own makes sure the account checked is the consent's customer's, and
// returns the customer's side of its items.
func (s *Service) own(ctx context.Context, cons consent.Consent, acct ledger.Account, found bool) (ledger.Party, error) {
	if !found {
		return ledger.Party{}, accountUnknown()
	}
	if acct.CustomerID != cons.CustomerID {
		return ledger.Party{}, &consent.Error{Code: consent.CodeAccountNotInConsent}
	}
	owner, err := s.ledger.Customer(ctx, acct.CustomerID)
	if err != nil {
		return ledger.Party{}, err
	}
	return self(acct.NRB, owner.Name), nil
}

// self is the account holder's side of its own items.
func self(nrb, ownerName string) ledger.Party { return ledger.Party{Name: ownerName, Account: nrb} }

// Account resolves the account of a call (getAccount, mBank's account
// details), passes its consent check, and returns it with its owner.
func (s *Service) Account(ctx context.Context, c Caller, ref AccountRef, psu bool) (ledger.Account, ledger.Customer, error) {
	// The consent check (in one statement where it allows the access, see
	// check.go), then the account and its owner in one more.
	g, err := s.grant(ctx, c, consent.PrivGetAccount, ref, psu, time.Time{}, false, s.Now())
	if err != nil {
		return ledger.Account{}, ledger.Customer{}, err
	}
	return s.ledger.AccountWithOwner(ctx, g.accountID)
}

// Accounts are the accounts of an ais-accounts consent (getAccounts), by
// number, that the bank keeps for the consent's customer and whose API
// access is active; a page of them, with the next page's id.
func (s *Service) Accounts(ctx context.Context, c Caller, psu bool, pageID string, perPage int) ([]ledger.Account, string, error) {
	if customer, numbers, ok, err := s.accountsOneStatement(ctx, c, psu); err != nil {
		return nil, "", err
	} else if ok {
		out, err := s.shownAccounts(ctx, customer, numbers)
		if err != nil {
			return nil, "", err
		}
		slices.SortFunc(out, func(a, b ledger.Account) int { return strings.Compare(a.NRB, b.NRB) }) // pages go by number
		return s.accountPage(ctx, c, out, pageID, perPage)
	}
	cons, err := s.check(ctx, c, consent.PrivGetAccounts, "", psu, time.Time{}, false)
	if err != nil {
		return nil, "", err
	}
	numbers := cons.Accounts
	if len(numbers) == 0 {
		numbers = consent.NamedAccounts(cons.Privileges)
	}
	out := make([]ledger.Account, 0, len(numbers))
	for _, n := range numbers {
		a, err := s.ledger.AccountByNRB(ctx, consent.NormalizeNRB(n))
		if ledger.CodeOf(err) == ledger.CodeNotFound {
			continue // closed since
		}
		if err != nil {
			return nil, "", err
		}
		if a.CustomerID != cons.CustomerID {
			continue
		}
		if s.access != nil && s.access.Check(ctx, a.NRB, access.AIS) != nil {
			continue // API access not active on it: not shown
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b ledger.Account) int { return strings.Compare(a.NRB, b.NRB) }) // pages go by number
	return s.accountPage(ctx, c, out, pageID, perPage)
}

// accountPage pages a consent's (short) list of accounts: a page id holds
// the number of the last account given.
func (s *Service) accountPage(ctx context.Context, c Caller, accts []ledger.Account, pageID string, perPage int) ([]ledger.Account, string, error) {
	if perPage <= 0 || perPage > MaxPerPage {
		perPage = MaxPerPage
	}
	scope := "accounts\x1f" + c.ConsentID
	start := 0
	if pageID != "" {
		cur, err := s.openCursor(ctx, pageID, scope)
		if err != nil {
			return nil, "", err
		}
		for start < len(accts) && accts[start].NRB <= cur.Key {
			start++
		}
	}
	end := min(start+perPage, len(accts))
	page := accts[start:end]
	next := ""
	if end < len(accts) {
		var err error
		if next, err = s.sealCursor(ctx, cursor{Key: page[len(page)-1].NRB, Issued: s.Now().Unix()}, scope); err != nil {
			return nil, "", err
		}
	}
	return page, next, nil
}

// maxHistory is the maxAllowedHistoryLong of a privilege for an account.
func maxHistory(c consent.Consent, privilege, nrb string) int {
	for _, p := range c.Privileges {
		if p.Name == privilege && (p.AccountNumber == "" || p.AccountNumber == nrb) {
			return p.MaxAllowedHistoryLong
		}
	}
	return 0
}

// earliest is the earliest of the non-empty dates.
func earliest(dates ...string) string {
	out := ""
	for _, d := range dates {
		if d != "" && (out == "" || d < out) {
			out = d
		}
	}
	return out
}

// day reads a "YYYY-MM-DD" as its midnight in Poland (zero if malformed).
func day(d string) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, d, polish.Warsaw)
	return t
}

// DeleteConsent revokes the TPP's consent with the TPP's consentId, and the
// consent it was exchanged from. Deleting a consent that is no longer
// active succeeds: the TPP's wish is met.
func (s *Service) DeleteConsent(ctx context.Context, tppID, tppConsentID string) error {
	if tppConsentID == "" {
		return invalid("consentId is required: the consentId your scope_details named",
			"consentId jest wymagany: consentId podany w scope_details")
	}
	cons, err := s.consents.GetByTPPConsentID(ctx, tppID, tppConsentID)
	if err != nil {
		if c := consent.CodeOf(err); c == consent.CodeNotFound || c == consent.CodeUnknown {
			return &consent.Error{Code: consent.CodeUnknown, Message: "your organisation has no consent with this consentId",
				MessagePL: "Twoja organizacja nie ma zgody o tym consentId"}
		}
		return err
	}
	for _, id := range []string{cons.ID, cons.ParentID} {
		if id == "" {
			continue
		}
		_, err := s.consents.Revoke(ctx, id, "tpp", "deleted by the TPP")
		switch consent.CodeOf(err) {
		case "":
			if err != nil {
				return err
			}
		case consent.CodeAlreadyRevoked, consent.CodeWrongState:
		default:
			return err
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
