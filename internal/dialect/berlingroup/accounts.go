package berlingroup

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/money"
)

// Amount is an amount with its currency.
type Amount struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// Balance is one balance of an account.
type Balance struct {
	BalanceAmount       Amount `json:"balanceAmount"`
	BalanceType         string `json:"balanceType"`
	CreditLimitIncluded *bool  `json:"creditLimitIncluded,omitempty"`
	ReferenceDate       string `json:"referenceDate,omitempty"`
}

// AccountDetails is an account in the account list and its details.
type AccountDetails struct {
	ResourceID      string          `json:"resourceId"`
	IBAN            string          `json:"iban"`
	Currency        string          `json:"currency"`
	Name            string          `json:"name,omitempty"`
	Product         string          `json:"product,omitempty"`
	CashAccountType string          `json:"cashAccountType"`
	Status          string          `json:"status"`
	Usage           string          `json:"usage,omitempty"`
	Balances        []Balance       `json:"balances,omitempty"`
	Links           map[string]link `json:"_links,omitempty"`
}

// Transaction is a booked or pending item.
type Transaction struct {
	TransactionID                     string            `json:"transactionId,omitempty"`
	EntryReference                    string            `json:"entryReference,omitempty"`
	BookingDate                       string            `json:"bookingDate,omitempty"`
	ValueDate                         string            `json:"valueDate,omitempty"`
	TransactionAmount                 Amount            `json:"transactionAmount"`
	CreditorName                      string            `json:"creditorName,omitempty"`
	CreditorAccount                   *AccountReference `json:"creditorAccount,omitempty"`
	DebtorName                        string            `json:"debtorName,omitempty"`
	DebtorAccount                     *AccountReference `json:"debtorAccount,omitempty"`
	RemittanceInformationUnstructured string            `json:"remittanceInformationUnstructured,omitempty"`
	BalanceAfterTransaction           *Balance          `json:"balanceAfterTransaction,omitempty"`
	Links                             map[string]link   `json:"_links,omitempty"`
}

// pageSize is how many booked items a page of transactions holds.
const pageSize = 100

// grant is the consent a call uses: the Consent-ID header, the TPP's,
// of this dialect, authorised and alive.
func (s *service) grant(r *http.Request, c *gateway.Caller) (bgConsent, consent.Consent, error) {
	return s.grantWith(r, c, nil)
}

// grantWith is grant reading also's columns in the consent's statement.
func (s *service) grantWith(r *http.Request, c *gateway.Caller, also *consent.Also) (bgConsent, consent.Consent, error) {
	id := r.Header.Get("Consent-ID")
	if id == "" {
		return bgConsent{}, consent.Consent{}, formatError("the Consent-ID header is missing: send the consentId the bank gave you",
			"brak nagłówka Consent-ID: wyślij consentId nadany przez bank")
	}
	rec, cons, err := s.loadConsentWith(r.Context(), c.OrgID, id, also)
	if err != nil {
		if ref, ok := err.(*gateway.Refusal); ok && string(ref.Code) == CodeConsentUnknown {
			ref.Status = http.StatusBadRequest // a header, not a path: 400 in the standard
		}
		return rec, cons, err
	}
	// Authorised and alive, by the consent service's rule (the consent as
	// just read; the check of the call's privilege reads it again).
	if err := consent.Usable(cons, c.OrgID); err != nil {
		return rec, cons, consentRefusal(err)
	}
	return rec, cons, nil
}

// check asks the consent service whether the call (a read of kind) may
// read, and counts it.
func (s *service) check(ctx context.Context, r *http.Request, c *gateway.Caller, cons consent.Consent, privilege, kind, nrb string, from time.Time) error {
	// In one statement where it allows the read (ais.Service.Record: the
	// consent, the privilege for the account, the account's API access,
	// the unattended accesses of the day, and the access recorded).
	if s.d.AIS != nil && nrb != "" {
		ok, err := s.d.AIS.Record(ctx, ais.Caller{TPPID: c.OrgID, ConsentID: cons.ID}, privilege, ais.AccountRef{Value: nrb}, psuPresent(r), from)
		if err != nil || ok {
			return err
		}
	}
	// The TPP's changing facts, when the call still owes them (package
	// live), before the consent service's check writes.
	if err := live.Confirm(ctx); err != nil {
		return err
	}
	_, err := s.d.Consents.Check(ctx, consent.Access{ConsentID: cons.ID, TPPID: c.OrgID, Privilege: privilege, Kind: kind,
		AccountNumber: nrb, PSUPresent: psuPresent(r), HistoryFrom: from, Consume: true})
	if err != nil {
		return consentRefusal(err)
	}
	return s.checkAccess(ctx, nrb, access.AIS)
}

// grantAccount is grant for a call on the account with resource id
// accountId (the path's), which is read in the consent's statement; the
// caller asks the result whether it is the consent's (in), after its own
// checks of the consent.
// extra, when not nil, is read in the same statement: its joins may refer
// to the account as a, its placeholders start at $3.
func (s *service) grantAccount(r *http.Request, c *gateway.Caller, extra *consent.Also) (bgConsent, consent.Consent, consentAccount, error) {
	ca := consentAccount{id: param(r, "accountId")}
	also := &consent.Also{Columns: ledger.AccountColumnsOf("a"),
		Joins: `LEFT JOIN accounts a ON a.id = $2`, Args: []any{ca.id}, Dest: ca.row.Dest()}
	if extra != nil {
		also.Columns += ", " + extra.Columns
		also.Joins += " " + extra.Joins
		also.Args = append(also.Args, extra.Args...)
		also.Dest = append(also.Dest, extra.Dest...)
	}
	rec, cons, err := s.grantWith(r, c, also)
	return rec, cons, ca, err
}

// consentAccount is the account a call names, as grantAccount read it.
type consentAccount struct {
	id  string
	row ledger.AccountRow
}

// in is the account when it is one of the consent's; any other id
// (another customer's account included) is unknown.
func (ca *consentAccount) in(cons consent.Consent) (ledger.Account, error) {
	a, found := ca.row.Account()
	if !found || !slices.Contains(cons.Accounts, a.NRB) || a.CustomerID != cons.CustomerID {
		return a, refuse(http.StatusNotFound, CodeResourceUnknown,
			"no account "+ca.id+" under this consent: use a resourceId from GET /v1/accounts",
			"ta zgoda nie obejmuje rachunku "+ca.id+": użyj resourceId z GET /v1/accounts")
	}
	return a, nil
}

func (s *service) details(a ledger.Account) AccountDetails {
	self := Prefix + "/v1/accounts/" + a.ID
	d := AccountDetails{ResourceID: a.ID, IBAN: ibanOf(a.NRB), Currency: a.Currency, Name: a.Name, Product: a.Type,
		CashAccountType: "CACC", Status: "enabled", Usage: "PRIV",
		Links: map[string]link{"self": {self}}}
	if a.Type == ledger.TypeBusiness || a.Type == ledger.TypeCorporate || a.Type == ledger.TypeVAT {
		d.Usage = "ORGA"
	}
	if a.Type == ledger.TypeSavings {
		d.CashAccountType = "SVGS"
	}
	return d
}

// balances are the balances the ledger keeps, with their standard meaning:
// closingBooked at the end of yesterday, interimBooked now (booked items
// only), interimAvailable and expected (booked less the pending holds:
// what can be spent, without the overdraft).
func (s *service) balances(ctx context.Context, a ledger.Account) ([]Balance, error) {
	closing := money.Amount(0)
	items, _, err := s.d.Ledger.BookedItems(ctx, ledger.BookedQuery{AccountID: a.ID, ItemFilter: ledger.ItemFilter{BookingTo: s.yesterday()}, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(items) > 0 {
		closing = items[0].BalanceAfter
	}
	return s.balancesWith(a, closing), nil
}

// yesterday is the day before the bank's today (YYYY-MM-DD).
func (s *service) yesterday() string { return ledger.DateOf(s.now().Add(-24 * time.Hour)) }

// balancesWith are the balances of a, closing the booked balance at the
// end of yesterday (ledger.ClosingBalanceOf).
func (s *service) balancesWith(a ledger.Account, closing money.Amount) []Balance {
	now := s.now()
	today := ledger.DateOf(now)
	yesterday := ledger.DateOf(now.Add(-24 * time.Hour))
	no := new(bool)
	amt := func(v money.Amount) Amount { return Amount{Currency: a.Currency, Amount: v.String()} }
	return []Balance{
		{BalanceAmount: amt(closing), BalanceType: "closingBooked", ReferenceDate: yesterday},
		{BalanceAmount: amt(a.Booked), BalanceType: "interimBooked", ReferenceDate: today},
		{BalanceAmount: amt(a.Available), BalanceType: "interimAvailable", CreditLimitIncluded: no, ReferenceDate: today},
		{BalanceAmount: amt(a.Available), BalanceType: "expected", ReferenceDate: today},
	}
}

// hasBalances tells whether the consent gives the account's balances.
func hasBalances(rec bgConsent, nrb string) bool {
	switch rec.Kind {
	case kindExplicit:
		return slices.Contains(rec.Balances, nrb)
	case kindAvailable:
		return false
	}
	return true
}

func hasTransactions(rec bgConsent, nrb string) bool {
	switch rec.Kind {
	case kindExplicit:
		return slices.Contains(rec.Transactions, nrb)
	case kindAvailable, kindAvailableWithBa:
		return false
	}
	return true
}

func (s *service) getAccountList(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	withBalance := r.URL.Query().Get("withBalance") == "true"
	// The customer's accounts, with yesterday's closing balances when
	// asked, in the consent's statement (ledger.AccountListOf; $1 is the
	// consent's id there).
	var packed sql.NullString
	day, args := "", []any{ledger.PackSep()}
	if withBalance {
		day, args = "$3", append(args, s.yesterday())
	}
	rec, cons, err := s.grantWith(r, c, &consent.Also{
		Columns: s.d.Ledger.AccountListOf("(SELECT customer_id FROM consents WHERE id = $1)", day, "$2"),
		Args:    args, Dest: []any{&packed}})
	if err != nil {
		return err
	}
	listed, err := ledger.UnpackAccountList(packed.String)
	if err != nil {
		return err
	}
	byNRB := make(map[string]ledger.ListedAccount, len(listed))
	for _, la := range listed {
		byNRB[la.Account.NRB] = la
	}
	// A balance the consent does not give is refused before any access is
	// recorded.
	if withBalance {
		for _, nrb := range cons.Accounts {
			if !hasBalances(rec, nrb) {
				return refuse(http.StatusUnauthorized, CodeConsentInvalid,
					"withBalance: the consent does not give the balance of account "+consent.Mask(nrb),
					"withBalance: zgoda nie obejmuje salda rachunku "+consent.Mask(nrb))
			}
		}
	}
	checked := false // every account's check passed and recorded
	if cons.Scope == consent.ScopeAISAccounts {
		if err := s.check(ctx, r, c, cons, consent.PrivGetAccounts, consent.KindAccounts, "", time.Time{}); err != nil {
			return err
		}
	} else if s.d.AIS != nil {
		// Every account's check and access record in one statement, where
		// it allows them all; else each account's own check says why.
		if checked, err = s.d.AIS.RecordAll(ctx, ais.Caller{TPPID: c.OrgID, ConsentID: cons.ID}, consent.PrivGetAccount, cons.Accounts, psuPresent(r)); err != nil {
			return err
		}
	}
	var list []AccountDetails
	for _, nrb := range cons.Accounts {
		if cons.Scope == consent.ScopeAIS {
			if !checked {
				if err := s.check(ctx, r, c, cons, consent.PrivGetAccount, consent.KindAccounts, nrb, time.Time{}); err != nil {
					return err
				}
			}
		} else if err := s.checkAccess(ctx, nrb, access.AIS); err != nil {
			return err
		}
		la, found := byNRB[consent.NormalizeNRB(nrb)]
		a := la.Account
		if !found { // not the consent's customer's (the checks above refuse that)
			if a, err = s.d.Ledger.AccountByNRB(ctx, nrb); err != nil {
				return err
			}
		}
		d := s.details(a)
		if hasBalances(rec, nrb) {
			d.Links["balances"] = link{d.Links["self"].Href + "/balances"}
			if withBalance {
				if found {
					d.Balances = s.balancesWith(a, la.Closing)
				} else if d.Balances, err = s.balances(ctx, a); err != nil {
					return err
				}
			}
		}
		if hasTransactions(rec, nrb) {
			d.Links["transactions"] = link{d.Links["self"].Href + "/transactions"}
		}
		list = append(list, d)
	}
	if list == nil {
		list = []AccountDetails{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"accounts": list})
}

func (s *service) readAccountDetails(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	rec, cons, acct, err := s.grantAccount(r, c, nil)
	if err != nil {
		return err
	}
	if cons.Scope != consent.ScopeAIS {
		return consentWithout("account details")
	}
	a, err := acct.in(cons)
	if err != nil {
		return err
	}
	if err := s.check(ctx, r, c, cons, consent.PrivGetAccount, consent.KindAccount, a.NRB, time.Time{}); err != nil {
		return err
	}
	d := s.details(a)
	if hasBalances(rec, a.NRB) {
		d.Links["balances"] = link{d.Links["self"].Href + "/balances"}
		if r.URL.Query().Get("withBalance") == "true" {
			if d.Balances, err = s.balances(ctx, a); err != nil {
				return err
			}
		}
	}
	if hasTransactions(rec, a.NRB) {
		d.Links["transactions"] = link{d.Links["self"].Href + "/transactions"}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"account": d})
}

func consentWithout(what string) error {
	return refuse(http.StatusUnauthorized, CodeConsentInvalid,
		"the consent does not give "+what+": ask the customer for a consent that does",
		"zgoda nie obejmuje: "+what+"; poproś klienta o zgodę, która to obejmuje")
}

func (s *service) getBalances(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	// The closing balance too, in the consent's statement.
	var closing sql.NullInt64
	rec, cons, acct, err := s.grantAccount(r, c, &consent.Also{Columns: ledger.ClosingBalanceOf("a.id", "$3"),
		Args: []any{s.yesterday()}, Dest: []any{&closing}})
	if err != nil {
		return err
	}
	if cons.Scope != consent.ScopeAIS {
		return consentWithout("balances")
	}
	a, err := acct.in(cons)
	if err != nil {
		return err
	}
	if !hasBalances(rec, a.NRB) {
		return consentWithout("the balances of this account")
	}
	if err := s.check(ctx, r, c, cons, consent.PrivGetAccount, consent.KindBalances, a.NRB, time.Time{}); err != nil {
		return err
	}
	b := s.balancesWith(a, money.Amount(closing.Int64))
	return writeJSON(w, http.StatusOK, map[string]any{"account": AccountReference{IBAN: ibanOf(a.NRB), Currency: a.Currency}, "balances": b})
}

// txList is a transaction list's parameters. They are read before the
// consent's statement, which reads the page's links with the consent
// (ledger.PageBoundsOf), and judged after the consent's checks: err is
// the first fault found, reported then.
type txList struct {
	status, dateFrom, dateTo string
	from                     time.Time
	after, before            int64
	err                      error
}

func (s *service) readTxList(r *http.Request) (l txList) {
	q := r.URL.Query()
	if accept := r.Header.Get("Accept"); accept != "" && !strings.Contains(accept, "json") && !strings.Contains(accept, "*/*") {
		l.err = refuse(http.StatusNotAcceptable, CodeFormatError, "transaction lists are offered as application/json only (no camt.052/053 or MT94x)",
			"listy transakcji są dostępne tylko jako application/json (bez camt.052/053 i MT94x)")
		return l
	}
	l.status = q.Get("bookingStatus")
	switch l.status {
	case "booked", "pending", "both":
	case "":
		l.err = formatError("bookingStatus is required: booked, pending or both", "bookingStatus jest wymagane: booked, pending lub both")
		return l
	default:
		l.err = refuse(http.StatusBadRequest, CodeParameterNotSupport, "bookingStatus "+l.status+" is not offered: use booked, pending or both",
			"bookingStatus "+l.status+" nie jest oferowane: użyj booked, pending lub both")
		return l
	}
	if q.Has("deltaList") {
		l.err = refuse(http.StatusBadRequest, CodeParameterNotSupport, "deltaList is not offered: use entryReferenceFrom (the entryReference of the last transaction you have) or dateFrom",
			"deltaList nie jest oferowane: użyj entryReferenceFrom (entryReference ostatniej transakcji, którą masz) lub dateFrom")
		return l
	}
	// entryReferenceFrom: the booked items after the one with that
	// entryReference (this bank's are the item's sequence number).
	var err error
	if e := q.Get("entryReferenceFrom"); q.Has("entryReferenceFrom") {
		if l.after, err = strconv.ParseInt(e, 10, 64); err != nil || l.after <= 0 {
			l.err = formatError("entryReferenceFrom must be the entryReference of a booked transaction this bank gave you",
				"entryReferenceFrom musi być wartością entryReference zaksięgowanej transakcji podaną przez bank", "got ", e)
			return l
		}
	}
	l.dateFrom, l.dateTo = q.Get("dateFrom"), q.Get("dateTo")
	if l.dateFrom == "" && l.after > 0 {
		l.dateFrom = ledger.DateOf(s.now().AddDate(0, 0, -historyDays)) // as far back as the consent reaches
	}
	if l.dateFrom == "" {
		l.err = formatError("dateFrom is required (YYYY-MM-DD), unless entryReferenceFrom is given", "dateFrom jest wymagane (RRRR-MM-DD), chyba że podano entryReferenceFrom")
		return l
	}
	if l.from, err = time.Parse(time.DateOnly, l.dateFrom); err != nil {
		l.err = formatError("dateFrom must be a date YYYY-MM-DD", "dateFrom musi być datą RRRR-MM-DD", "got ", l.dateFrom)
		return l
	}
	if l.dateTo != "" {
		if _, err := time.Parse(time.DateOnly, l.dateTo); err != nil {
			l.err = formatError("dateTo must be a date YYYY-MM-DD", "dateTo musi być datą RRRR-MM-DD", "got ", l.dateTo)
			return l
		}
		if l.dateTo < l.dateFrom {
			l.err = refuse(http.StatusBadRequest, CodePeriodInvalid, "dateTo is before dateFrom", "dateTo jest wcześniejsze niż dateFrom")
			return l
		}
	}
	if p := q.Get("page"); p != "" {
		if l.before, err = strconv.ParseInt(p, 10, 64); err != nil || l.before <= 0 {
			l.err = formatError("page is not a page this bank gave in _links.next", "page nie jest stroną podaną przez bank w _links.next")
			return l
		}
	}
	return l
}

// query is the list's page of booked items on account.
func (l txList) query(account string) ledger.BookedQuery {
	return ledger.BookedQuery{AccountID: account, ItemFilter: ledger.ItemFilter{BookingFrom: l.dateFrom, BookingTo: l.dateTo},
		BeforeSeq: l.before, AfterSeq: l.after, Limit: pageSize}
}

func (s *service) getTransactionList(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	l := s.readTxList(r)
	// The booked page's links — the last page and the previous one — in
	// the consent's statement: the account is the path's ($2), the page
	// bounded by its last_seq as the statement reads it.
	var lastPage, prevPage sql.NullInt64
	var bounds *consent.Also
	if l.err == nil && l.status != "pending" {
		// Uncorrelated subqueries (the path's account, not the joined
		// row): each engine computes them once, not once a privilege row.
		cols, args, err := ledger.PageBoundsOf("$2", "(SELECT last_seq FROM accounts WHERE id = $2)", l.query(""), 3)
		if err != nil {
			return err
		}
		bounds = &consent.Also{Columns: cols, Args: args, Dest: []any{&lastPage, &prevPage}}
	}
	rec, cons, acct, err := s.grantAccount(r, c, bounds)
	if err != nil {
		return err
	}
	if cons.Scope != consent.ScopeAIS {
		return consentWithout("transactions")
	}
	a, err := acct.in(cons)
	if err != nil {
		return err
	}
	if !hasTransactions(rec, a.NRB) {
		return consentWithout("the transactions of this account")
	}
	if l.err != nil {
		return l.err
	}
	privilege := consent.PrivGetTransactionsDone
	if l.status == "pending" {
		privilege = consent.PrivGetTransactionsPending
	}
	// The pages after the first belong to the same read (a one-off
	// consent's one read of transactions).
	kind := consent.KindTransactions
	if l.before > 0 {
		kind = ""
	}
	if err := s.check(ctx, r, c, cons, privilege, kind, a.NRB, l.from); err != nil {
		return err
	}
	self := Prefix + "/v1/accounts/" + a.ID
	answer := txListAnswer{account: AccountReference{IBAN: ibanOf(a.NRB), Currency: a.Currency}}
	links := map[string]link{"account": {self}}
	answer.links = links
	if l.status != "pending" {
		bq := l.query(a.ID)
		var items []ledger.Posting
		var more bool
		var memo *ais.Memo
		if s.d.AIS != nil {
			// Bounded by the account's last_seq as the consent's statement
			// read it: a page that never changes, kept in memory (ais).
			items, more, memo, err = s.d.AIS.BookedPage(ctx, bq, a.LastSeq)
		} else {
			items, more, err = s.d.Ledger.BookedItems(ctx, bq)
		}
		if err != nil {
			return err
		}
		// The page's items as this dialect encodes them, kept with the
		// page: a page read again is not encoded again.
		key := bookedKey{a.ID}
		var kept *bookedPage
		if memo != nil {
			if v, ok := memo.Get(key); ok {
				kept = v.(*bookedPage)
			}
		}
		if kept == nil {
			list := make([]Transaction, 0, len(items))
			for _, p := range items {
				list = append(list, s.transaction(a, p))
			}
			booked, err := json.Marshal(list)
			if err != nil {
				return err
			}
			kept = &bookedPage{items: booked}
			if memo != nil {
				// The answer begins with the items (txListAnswer): the
				// Digest's hash over that beginning is kept with them.
				kept.digest = gateway.NewDigestPrefix(txListAnswer{booked: booked}.AppendPrefix(nil))
				memo.Put(key, kept)
			}
		}
		answer.booked = kept.items
		c.DigestPrefix = kept.digest
		base := self + "/transactions?bookingStatus=" + l.status + "&dateFrom=" + l.dateFrom
		if l.dateTo != "" {
			base += "&dateTo=" + l.dateTo
		}
		if l.after > 0 {
			base += "&entryReferenceFrom=" + strconv.FormatInt(l.after, 10)
		}
		pageLink := func(before int64) link {
			if before == 0 {
				return link{base}
			}
			return link{base + "&page=" + strconv.FormatInt(before, 10)}
		}
		links["first"] = pageLink(0)
		if more && len(items) > 0 {
			links["next"] = pageLink(items[len(items)-1].Seq)
		}
		if l.before > 0 && len(items) > 0 {
			links["previous"] = pageLink(prevPage.Int64)
		}
		links["last"] = pageLink(lastPage.Int64)
	}
	if l.status != "booked" && l.before == 0 {
		holds, _, err := s.d.Ledger.ActiveHolds(ctx, ledger.HoldQuery{AccountID: a.ID,
			ItemFilter: ledger.ItemFilter{TradeFrom: l.dateFrom, TradeTo: l.dateTo}, Limit: 1000})
		if err != nil {
			return err
		}
		pending := make([]Transaction, 0, len(holds))
		for _, h := range holds {
			t := Transaction{TransactionID: h.ID, TransactionAmount: Amount{Currency: h.Currency, Amount: (-h.Amount).String()},
				CreditorName: cut(h.MerchantName, 70), RemittanceInformationUnstructured: cut(h.Description, 140)}
			pending = append(pending, t)
		}
		answer.pending = pending
	}
	return writeJSON(w, http.StatusOK, answer)
}

// txListAnswer is a transaction list's answer: the bytes json.Marshal
// gives of {"transactions": {"booked": ..., "_links": ..., "pending": ...},
// "account": ...} (keys in its order; JSON's members have none), with the
// page's items written as kept (bookedKey) — not checked and copied again
// as a json.RawMessage would be. The items come first, so that an answer
// with the same page begins with the same bytes (AppendPrefix), whose
// Digest hash is kept with the page.
type txListAnswer struct {
	account AccountReference
	links   map[string]link
	booked  json.RawMessage // nil: no booked items asked
	pending []Transaction   // nil: no pending items asked
}

func (t txListAnswer) JSONSizeHint() int { return len(t.booked) + 300*len(t.pending) + 1024 }

func (t txListAnswer) AppendJSON(b []byte) []byte {
	b = t.AppendPrefix(b)
	if t.booked != nil {
		b = append(b, ',')
	}
	b = append(b, `"_links":`...)
	b = appendMarshalled(b, t.links)
	if t.pending != nil {
		b = appendMarshalled(append(b, `,"pending":`...), t.pending)
	}
	b = append(b, `},"account":`...)
	b = appendMarshalled(b, t.account)
	return append(b, '}')
}

// AppendPrefix appends the answer's beginning, up to its booked items
// (which it ends with when there are any).
func (t txListAnswer) AppendPrefix(b []byte) []byte {
	b = append(b, `{"transactions":{`...)
	if t.booked != nil {
		b = append(append(b, `"booked":`...), t.booked...)
	}
	return b
}

// bookedPage is what a page's ais.Memo keeps for this dialect: the page's
// items encoded and the Digest's hash over the answer's beginning up to
// them.
type bookedPage struct {
	items  json.RawMessage
	digest *gateway.DigestPrefix
}

// appendMarshalled appends json.Marshal's v (of this package's types,
// which it always encodes).
func appendMarshalled(b []byte, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic("berlingroup: " + err.Error())
	}
	return append(b, data...)
}

// bookedKey is what this dialect keeps in a page's ais.Memo under (the
// pages are every dialect's): the page's items encoded, as the account
// whose resource id the items' links name gives them.
type bookedKey struct{ account string }

// transaction is a booked item in the standard's terms: a debit names
// the creditor, a credit the debtor.
func (s *service) transaction(a ledger.Account, p ledger.Posting) Transaction {
	t := Transaction{TransactionID: p.TransferID, EntryReference: strconv.FormatInt(p.Seq, 10), BookingDate: p.BookingDate,
		ValueDate: p.BookingDate, TransactionAmount: Amount{Currency: p.Currency, Amount: p.Amount.String()},
		RemittanceInformationUnstructured: cut(p.Title, 140),
		BalanceAfterTransaction:           &Balance{BalanceAmount: Amount{Currency: p.Currency, Amount: p.BalanceAfter.String()}, BalanceType: "interimBooked"}}
	var ref *AccountReference
	if p.Counterparty.Account != "" {
		acct := p.Counterparty.Account
		if len(acct) == 26 {
			acct = ibanOf(acct)
		}
		ref = &AccountReference{IBAN: acct}
	}
	name := cut(p.Counterparty.Name, 70)
	if p.Amount < 0 {
		t.CreditorName, t.CreditorAccount = name, ref
	} else {
		t.DebtorName, t.DebtorAccount = name, ref
	}
	t.Links = map[string]link{"transactionDetails": {Prefix + "/v1/accounts/" + a.ID + "/transactions/" + p.TransferID}}
	return t
}

func (s *service) getTransactionDetails(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	// The item too, in the consent's statement; judged after the checks.
	var item ledger.PostingRow
	rec, cons, acct, err := s.grantAccount(r, c, &consent.Also{Columns: ledger.PostingColumnsOf("pt"),
		Joins: `LEFT JOIN postings pt ON pt.account_id = a.id AND pt.transfer_id = $3`, Args: []any{param(r, "transactionId")},
		Dest: item.Dest()})
	if err != nil {
		return err
	}
	if cons.Scope != consent.ScopeAIS {
		return consentWithout("transaction details")
	}
	a, err := acct.in(cons)
	if err != nil {
		return err
	}
	if !hasTransactions(rec, a.NRB) {
		return consentWithout("the transactions of this account")
	}
	if err := s.check(ctx, r, c, cons, consent.PrivGetTransactionDetail, consent.KindTransactionDetails, a.NRB, time.Time{}); err != nil {
		return err
	}
	p, found := item.Posting()
	if !found {
		return refuse(http.StatusNotFound, CodeResourceUnknown, "no booked transaction "+param(r, "transactionId")+" on this account",
			"na tym rachunku nie ma zaksięgowanej transakcji "+param(r, "transactionId"))
	}
	t := s.transaction(a, p)
	t.Links = nil
	return writeJSON(w, http.StatusOK, map[string]any{"transactionsDetails": t})
}

// cut keeps s within the standard's length (in characters).
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
