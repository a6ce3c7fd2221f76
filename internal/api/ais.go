package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// Account information (AIS) in both dialects, read live from the ledger.
//
// Rules common to both dialects:
//
//   - Every call passes consent.Check with the operation's privilege (PolishAPI
//     spelling), the account, whether the customer is present (PolishAPI
//     requestHeader.isDirectPsu; mBank PSU-Session: true or a PSU-IP-Address
//     header), and the earliest date asked. Consent refusals come before any
//     word about the account or item, so a TPP learns nothing of accounts
//     outside its consent.
//   - Lists are newest first and keyset-paginated: a page id (PolishAPI
//     pageInfo.nextPage, mBank's cursor) carries the position of the last
//     item given, sealed with an HMAC under a secret the bank's nodes share
//     (ledger.Secret) and bound to the consent, the account, the list and its
//     filters. A page costs the same at any depth of the history.
//   - A page at most 100 items (PolishAPI perPage, mBank pageSize; more is
//     served as 100). Without perPage a page holds 100.
//   - Without a date filter, a list of booked items covers bookings of the
//     last 90 days (defaultHistoryDays), or the privilege's
//     maxAllowedHistoryLong if shorter; pending, rejected and cancelled
//     payments and holds likewise by their trade date; scheduled payments
//     are all listed. A date filter further back than maxAllowedHistoryLong
//     is refused (HISTORY_TOO_LONG).
//   - The next pages of a list, within continuationWindow of its first page,
//     are the same access: they are checked (consent alive, privilege,
//     account) but not counted against the 4 unattended accesses per day.
//   - An item's id is its transfer's id, which a pending payment keeps when
//     it is booked; a card hold's id is the hold's.
//   - Non-booked lists (pending, rejected, cancelled, scheduled) show the
//     payments the account ordered (its debits): PolishAPI's "pending" are
//     outgoing payments not yet cleared.

// defaultHistoryDays is how far back a list reaches without a date filter.
const defaultHistoryDays = 90

// maxPerPage is the largest page.
const maxPerPage = 100

// continuationWindow is how long after a list's first page its next pages
// count as the same access.
const continuationWindow = time.Hour

// listKind is one of the lists of an account.
type listKind int

const (
	kindDone listKind = iota
	kindPending
	kindRejected
	kindCancelled
	kindScheduled
	kindHolds
)

var kinds = [...]struct {
	name      string
	privilege string
	status    ledger.Status
	mbank     string
}{
	kindDone:      {"done", consent.PrivGetTransactionsDone, ledger.StatusBooked, mbank.StatusDone},
	kindPending:   {"pending", consent.PrivGetTransactionsPending, ledger.StatusPending, mbank.StatusPending},
	kindRejected:  {"rejected", consent.PrivGetTransactionsRejected, ledger.StatusRejected, mbank.StatusRejected},
	kindCancelled: {"cancelled", consent.PrivGetTransactionsCancelled, ledger.StatusCancelled, mbank.StatusCancelled},
	kindScheduled: {"scheduled", consent.PrivGetTransactionsScheduled, ledger.StatusScheduled, mbank.StatusScheduled},
	kindHolds:     {"holds", consent.PrivGetHolds, "", mbank.StatusHold},
}

// aisService serves account information.
type aisService struct {
	ledger   *ledger.Ledger
	consents *consent.Service
	access   *access.Service // nil: every account's API access is active

	keyMu sync.Mutex
	key   []byte // the page ids' HMAC key, once loaded
}

// aisHandlers are the account information operations of both dialects, for the route table (routes.go).
func aisHandlers(d Deps) map[string]gateway.Handler {
	if d.Ledger == nil || d.Consents == nil {
		return nil // not configured: the operations stay not implemented
	}
	s := &aisService{ledger: d.Ledger, consents: d.Consents, access: d.Access}
	return map[string]gateway.Handler{
		"polishapi.getAccounts":              s.polishGetAccounts,
		"polishapi.getAccount":               s.polishGetAccount,
		"polishapi.getTransactionsDone":      s.polishTransactions(kindDone),
		"polishapi.getTransactionsPending":   s.polishTransactions(kindPending),
		"polishapi.getTransactionsRejected":  s.polishTransactions(kindRejected),
		"polishapi.getTransactionsCancelled": s.polishTransactions(kindCancelled),
		"polishapi.getTransactionsScheduled": s.polishTransactions(kindScheduled),
		"polishapi.getHolds":                 s.polishTransactions(kindHolds),
		"polishapi.getTransactionDetail":     s.polishTransactionDetail,
		"polishapi.deleteConsent":            s.polishDeleteConsent,
		"mbank.accounts":                     s.mbankAccounts,
		"mbank.accountDetails":               s.mbankAccountDetails,
		"mbank.transactions":                 s.mbankTransactions,
		"mbank.transactionDetails":           s.mbankTransactionDetails,
		"mbank.deleteConsent":                s.mbankDeleteConsent,
	}
}

func (s *aisService) now() time.Time { return s.ledger.Clock().Now() }

// ---------------------------------------------------------------------------
// Accounts and the consent check

// accountRef is an account as a call names it: by number (PolishAPI) or by
// the ledger's id (mBank).
type accountRef struct {
	value string
	byID  bool
}

// resolve finds the account a call names; found is false when the bank has
// no such account (which the TPP learns only after its consent check).
func (s *aisService) resolve(ctx context.Context, ref accountRef) (acct ledger.Account, number string, found bool, err error) {
	if ref.byID {
		number = ref.value
		acct, err = s.ledger.Account(ctx, ref.value)
	} else {
		number = consent.NormalizeNRB(ref.value)
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

// check passes the consent check of a call. continuation marks the next
// pages of a list whose first page was counted.
func (s *aisService) check(ctx context.Context, c *gateway.Caller, privilege, number string, psu bool, historyFrom time.Time, continuation bool) (consent.Consent, error) {
	if c.Grant == nil {
		return consent.Consent{}, refuse(http.StatusUnauthorized, gateway.CodeTokenMissing,
			"this operation needs an access token", "ta operacja wymaga tokena dostępowego")
	}
	a := consent.Access{
		ConsentID: c.Grant.ConsentID, TPPID: c.OrgID, Privilege: privilege, AccountNumber: number,
		PSUPresent: psu, HistoryFrom: historyFrom, Consume: true,
	}
	if continuation {
		a.PSUPresent, a.Consume = true, false
	}
	cons, err := s.consents.Check(ctx, a)
	if err != nil {
		return cons, refusal(err)
	}
	if c.Grant.CustomerID != "" && cons.CustomerID != c.Grant.CustomerID {
		return cons, refusal(&consent.Error{Code: consent.CodeUnknown})
	}
	if err := checkAccess(ctx, s.access, number, access.AIS); err != nil {
		return cons, err
	}
	return cons, nil
}

// account resolves the account of a call and passes its consent check.
func (s *aisService) account(ctx context.Context, c *gateway.Caller, privilege string, ref accountRef, psu bool) (ledger.Account, ledger.Party, error) {
	acct, number, found, err := s.resolve(ctx, ref)
	if err != nil {
		return acct, ledger.Party{}, err
	}
	cons, err := s.check(ctx, c, privilege, number, psu, time.Time{}, false)
	if err != nil {
		return acct, ledger.Party{}, err
	}
	return s.own(ctx, cons, acct, found)
}

// own makes sure the account checked is the consent's customer's, and
// returns the customer's side of its items.
func (s *aisService) own(ctx context.Context, cons consent.Consent, acct ledger.Account, found bool) (ledger.Account, ledger.Party, error) {
	if !found {
		return acct, ledger.Party{}, accountUnknown()
	}
	if acct.CustomerID != cons.CustomerID {
		return acct, ledger.Party{}, refusal(&consent.Error{Code: consent.CodeAccountNotInConsent})
	}
	owner, err := s.ledger.Customer(ctx, acct.CustomerID)
	if err != nil {
		return acct, ledger.Party{}, err
	}
	return acct, polishapi.Self(acct, owner.Name), nil
}

// consentAccounts are the accounts of an ais-accounts consent, by number,
// that the bank keeps for the consent's customer.
func (s *aisService) consentAccounts(ctx context.Context, c *gateway.Caller, psu bool) ([]ledger.Account, error) {
	cons, err := s.check(ctx, c, consent.PrivGetAccounts, "", psu, time.Time{}, false)
	if err != nil {
		return nil, err
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
			return nil, err
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
	return out, nil
}

// ---------------------------------------------------------------------------
// Lists of items

// itemQuery is a request for a page of one of an account's lists, in
// either dialect.
type itemQuery struct {
	kind       listKind
	account    accountRef
	filter     ledger.ItemFilter
	itemIDFrom string
	perPage    int
	pageID     string
	psuPresent bool
}

// itemPage is a page of a list.
type itemPage struct {
	account   ledger.Account
	self      ledger.Party
	postings  []ledger.Posting
	transfers []ledger.Transfer
	holds     []ledger.Hold
	next      string // the next page's id; "" on the last page
}

// scope is what a page id is bound to: the consent, the list, the
// account and the filters as asked.
func (q itemQuery) scope(consentID string) string {
	f := q.filter
	return strings.Join([]string{kinds[q.kind].name, consentID, q.account.value, f.TradeFrom, f.TradeTo, f.BookingFrom,
		f.BookingTo, strconv.FormatInt(int64(f.MinAmount), 10), strconv.FormatInt(int64(f.MaxAmount), 10),
		strconv.Itoa(int(f.Side)), q.itemIDFrom}, "\x1f")
}

// list serves a page of one of an account's lists.
func (s *aisService) list(ctx context.Context, c *gateway.Caller, q itemQuery) (itemPage, error) {
	k := kinds[q.kind]
	limit := q.perPage
	if limit <= 0 || limit > maxPerPage {
		limit = maxPerPage
	}
	if q.kind != kindDone {
		q.filter.BookingFrom, q.filter.BookingTo = "", "" // only booked items have a booking date
	}
	if c.Grant == nil {
		_, err := s.check(ctx, c, k.privilege, "", false, time.Time{}, false)
		return itemPage{}, err
	}
	scope := q.scope(c.Grant.ConsentID)
	now := s.now()
	var cur cursor
	continuation := false
	if q.pageID != "" {
		var err error
		if cur, err = s.openCursor(ctx, q.pageID, scope); err != nil {
			return itemPage{}, err
		}
		continuation = now.Sub(time.Unix(cur.Issued, 0)) < continuationWindow
	} else {
		cur.Issued = now.Unix()
	}

	// How far back: the filter's earliest date, or the default window
	// (fixed on the first page and carried by the page ids).
	explicit := earliest(q.filter.TradeFrom, q.filter.BookingFrom)
	from := explicit
	if from == "" {
		from = cur.From
	}
	var historyFrom time.Time
	if from != "" {
		historyFrom, _ = time.ParseInLocation(time.DateOnly, from, polish.Warsaw)
	}

	acct, number, found, err := s.resolve(ctx, q.account)
	if err != nil {
		return itemPage{}, err
	}
	cons, err := s.check(ctx, c, k.privilege, number, q.psuPresent, historyFrom, continuation)
	if err != nil {
		return itemPage{}, err
	}
	page := itemPage{}
	if page.account, page.self, err = s.own(ctx, cons, acct, found); err != nil {
		return itemPage{}, err
	}

	if explicit == "" && q.kind != kindScheduled {
		if cur.From == "" {
			days := defaultHistoryDays
			if m := maxHistory(cons, k.privilege, acct.NRB); m > 0 && m < days {
				days = m
			}
			cur.From = ledger.DateOf(now.AddDate(0, 0, -days))
		}
		if q.kind == kindDone {
			q.filter.BookingFrom = cur.From
		} else {
			q.filter.TradeFrom = cur.From
		}
	}

	switch q.kind {
	case kindDone:
		bq := ledger.BookedQuery{AccountID: acct.ID, ItemFilter: q.filter, Limit: limit}
		if cur.Key != "" {
			if bq.BeforeSeq, err = strconv.ParseInt(cur.Key, 10, 64); err != nil {
				return itemPage{}, pageInvalid()
			}
		}
		if q.itemIDFrom != "" {
			p, err := s.ledger.BookedItem(ctx, acct.ID, q.itemIDFrom)
			if err != nil {
				return itemPage{}, itemIDFromUnknown(err)
			}
			bq.AfterSeq = p.Seq
		}
		var more bool
		if page.postings, more, err = s.ledger.BookedItems(ctx, bq); err != nil {
			return itemPage{}, refusal(err)
		}
		if more {
			cur.Key = strconv.FormatInt(page.postings[len(page.postings)-1].Seq, 10)
			if page.next, err = s.sealCursor(ctx, cur, scope); err != nil {
				return itemPage{}, err
			}
		}
	case kindHolds:
		hq := ledger.HoldQuery{AccountID: acct.ID, ItemFilter: q.filter, Limit: limit}
		if cur.Key != "" {
			at, id, ok := strings.Cut(cur.Key, "|")
			n, err := strconv.ParseInt(at, 10, 64)
			if !ok || err != nil {
				return itemPage{}, pageInvalid()
			}
			hq.Before = ledger.HoldKey{CreatedAt: n, ID: id}
		}
		if q.itemIDFrom != "" {
			h, err := s.holdItem(ctx, acct.ID, q.itemIDFrom)
			if err != nil {
				return itemPage{}, itemIDFromUnknown(err)
			}
			hq.After = h.Key()
		}
		var more bool
		if page.holds, more, err = s.ledger.ActiveHolds(ctx, hq); err != nil {
			return itemPage{}, refusal(err)
		}
		if more {
			k := page.holds[len(page.holds)-1].Key()
			cur.Key = strconv.FormatInt(k.CreatedAt, 10) + "|" + k.ID
			if page.next, err = s.sealCursor(ctx, cur, scope); err != nil {
				return itemPage{}, err
			}
		}
	default:
		oq := ledger.OutgoingQuery{AccountID: acct.ID, Status: k.status, ItemFilter: q.filter, Limit: limit}
		if cur.Key != "" {
			date, id, ok := strings.Cut(cur.Key, "|")
			if !ok {
				return itemPage{}, pageInvalid()
			}
			oq.Before = ledger.TransferKey{Date: date, ID: id}
		}
		if q.itemIDFrom != "" {
			t, err := s.ledger.GetTransfer(ctx, q.itemIDFrom)
			if err == nil && (t.DebitAccountID != acct.ID || t.Status != k.status) {
				err = itemUnknown()
			}
			if err != nil {
				return itemPage{}, itemIDFromUnknown(err)
			}
			oq.After = t.Key()
		}
		var more bool
		if page.transfers, more, err = s.ledger.OutgoingTransfers(ctx, oq); err != nil {
			return itemPage{}, refusal(err)
		}
		if more {
			k := page.transfers[len(page.transfers)-1].Key()
			cur.Key = k.Date + "|" + k.ID
			if page.next, err = s.sealCursor(ctx, cur, scope); err != nil {
				return itemPage{}, err
			}
		}
	}
	return page, nil
}

// holdItem finds a hold of an account by its item id: the hold's id, or
// for a payment waiting for clearing the payment's.
func (s *aisService) holdItem(ctx context.Context, accountID, id string) (ledger.Hold, error) {
	h, err := s.ledger.HoldOn(ctx, accountID, id)
	if ledger.CodeOf(err) != ledger.CodeNotFound {
		return h, err
	}
	t, err2 := s.ledger.GetTransfer(ctx, id)
	if err2 != nil || t.HoldID == "" || t.DebitAccountID != accountID {
		return h, err
	}
	return s.ledger.HoldOn(ctx, accountID, t.HoldID)
}

func itemIDFromUnknown(err error) error {
	var ref *gateway.Refusal
	if ledger.CodeOf(err) == ledger.CodeNotFound || errors.As(err, &ref) && ref.Code == CodeItemUnknown {
		return formatError("itemIdFrom names no item of this list on this account",
			"itemIdFrom nie wskazuje żadnej pozycji tej listy na tym rachunku")
	}
	return err
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

// ---------------------------------------------------------------------------
// Page ids

// cursor is the content of a page id.
type cursor struct {
	Key    string `json:"k"`           // the last item given: its position in the list
	From   string `json:"f,omitempty"` // the default window's first day, fixed on the first page
	Issued int64  `json:"t"`           // when the list's first page was served (Unix seconds)
}

// pageKey is the HMAC key of page ids, shared by the bank's nodes.
func (s *aisService) pageKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key == nil {
		k, err := s.ledger.Secret(ctx, "ais-page-id")
		if err != nil {
			return nil, err
		}
		s.key = k
	}
	return s.key, nil
}

func (s *aisService) mac(payload, scope string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// sealCursor makes a page id: the cursor and an HMAC over it and the
// scope.
func (s *aisService) sealCursor(ctx context.Context, c cursor, scope string) (string, error) {
	if _, err := s.pageKey(ctx); err != nil {
		return "", err
	}
	data, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(data)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload, scope)), nil
}

// openCursor checks a page id against the scope and reads it.
func (s *aisService) openCursor(ctx context.Context, pageID, scope string) (cursor, error) {
	if _, err := s.pageKey(ctx); err != nil {
		return cursor{}, err
	}
	payload, sig, ok := strings.Cut(pageID, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(mac, s.mac(payload, scope)) {
		return cursor{}, pageInvalid()
	}
	data, err := base64.RawURLEncoding.DecodeString(payload)
	var c cursor
	if err != nil || json.Unmarshal(data, &c) != nil || c.Key == "" {
		return cursor{}, pageInvalid()
	}
	return c, nil
}

// ---------------------------------------------------------------------------
// Transaction detail

// item is one item of an account, whichever its state.
type item struct {
	posting  *ledger.Posting
	transfer *ledger.Transfer
	hold     *ledger.Hold
}

// findItem looks an item up by its id on an account: a booked item, a
// payment the account ordered, or a hold.
func (s *aisService) findItem(ctx context.Context, acct ledger.Account, id string) (item, time.Time, error) {
	if p, err := s.ledger.BookedItem(ctx, acct.ID, id); err == nil {
		t, _ := time.ParseInLocation(time.DateOnly, p.BookingDate, polish.Warsaw)
		return item{posting: &p}, t, nil
	} else if ledger.CodeOf(err) != ledger.CodeNotFound {
		return item{}, time.Time{}, err
	}
	if t, err := s.ledger.GetTransfer(ctx, id); err == nil && t.DebitAccountID == acct.ID && t.Status != ledger.StatusBooked {
		var from time.Time
		if t.Status != ledger.StatusScheduled {
			from, _ = time.ParseInLocation(time.DateOnly, t.TradeDate, polish.Warsaw)
		}
		return item{transfer: &t}, from, nil
	} else if err != nil && ledger.CodeOf(err) != ledger.CodeNotFound {
		return item{}, time.Time{}, err
	}
	if h, err := s.ledger.HoldOn(ctx, acct.ID, id); err == nil {
		return item{hold: &h}, h.CreatedAt, nil
	} else if ledger.CodeOf(err) != ledger.CodeNotFound {
		return item{}, time.Time{}, err
	}
	return item{}, time.Time{}, nil
}

// detail finds an item of an account after the consent check, which is
// asked for the item's date.
func (s *aisService) detail(ctx context.Context, c *gateway.Caller, ref accountRef, itemID string, psu bool) (item, ledger.Party, error) {
	acct, number, found, err := s.resolve(ctx, ref)
	if err != nil {
		return item{}, ledger.Party{}, err
	}
	var it item
	var from time.Time
	if found && itemID != "" {
		if it, from, err = s.findItem(ctx, acct, itemID); err != nil {
			return item{}, ledger.Party{}, err
		}
	}
	cons, err := s.check(ctx, c, consent.PrivGetTransactionDetail, number, psu, from, false)
	if err != nil {
		return item{}, ledger.Party{}, err
	}
	_, self, err := s.own(ctx, cons, acct, found)
	if err != nil {
		return item{}, ledger.Party{}, err
	}
	if it.posting == nil && it.transfer == nil && it.hold == nil {
		return item{}, ledger.Party{}, itemUnknown()
	}
	return it, self, nil
}

// ---------------------------------------------------------------------------
// Deleting a consent

// deleteConsent revokes the TPP's consent with the TPP's consentId, and the
// consent it was exchanged from. Deleting a consent that is no longer
// active succeeds: the TPP's wish is met.
func (s *aisService) deleteConsent(ctx context.Context, tppID, tppConsentID string) error {
	if tppConsentID == "" {
		return formatError("consentId is required: the consentId your scope_details named",
			"consentId jest wymagany: consentId podany w scope_details")
	}
	cons, err := s.consents.GetByTPPConsentID(ctx, tppID, tppConsentID)
	if err != nil {
		if c := consent.CodeOf(err); c == consent.CodeNotFound || c == consent.CodeUnknown {
			return refuse(http.StatusForbidden, CodeConsentUnknown,
				"your organisation has no consent with this consentId", "Twoja organizacja nie ma zgody o tym consentId")
		}
		return refusal(err)
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
			return refusal(err)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// PolishAPI

// decode reads a PolishAPI body.
func decode(c *gateway.Caller, v any) error {
	if err := strictjson.Decode(c.Body, v, strictjson.Options{}); err != nil {
		return formatError("the request body does not match the operation's schema: "+err.Error(),
			"treść żądania nie pasuje do schematu operacji: "+err.Error())
	}
	return nil
}

func (s *aisService) responseHeader(c *gateway.Caller) polishapi.ResponseHeader {
	return polishapi.NewResponseHeader(c.RequestID, s.now())
}

func pageInfo(next string) *polishapi.PageInfo {
	if next == "" {
		return nil
	}
	return &polishapi.PageInfo{NextPage: next}
}

func (s *aisService) polishGetAccounts(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.AccountsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	accts, err := s.consentAccounts(r.Context(), c, req.RequestHeader.IsDirectPSU)
	if err != nil {
		return err
	}
	if req.TypeOfPsuRelation != "" && req.TypeOfPsuRelation != "Owner" {
		accts = nil // the customer owns every account of the consent
	}
	page, next, err := s.accountPage(r.Context(), c, accts, req.PageID, req.PerPage)
	if err != nil {
		return err
	}
	out := polishapi.AccountsResponse{ResponseHeader: s.responseHeader(c), Accounts: make([]polishapi.AccountBaseInfo, 0, len(page))}
	for _, a := range page {
		out.Accounts = append(out.Accounts, polishapi.BaseInfo(a))
	}
	out.PageInfo = pageInfo(next)
	return gateway.WriteJSON(w, http.StatusOK, out)
}

// accountPage pages a consent's (short) list of accounts: a page id holds
// the number of the last account given.
func (s *aisService) accountPage(ctx context.Context, c *gateway.Caller, accts []ledger.Account, pageID string, perPage int) ([]ledger.Account, string, error) {
	if perPage <= 0 || perPage > maxPerPage {
		perPage = maxPerPage
	}
	scope := "accounts\x1f" + c.Grant.ConsentID
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
		if next, err = s.sealCursor(ctx, cursor{Key: page[len(page)-1].NRB, Issued: s.now().Unix()}, scope); err != nil {
			return nil, "", err
		}
	}
	return page, next, nil
}

func (s *aisService) polishGetAccount(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.AccountInfoRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.AccountNumber == "" {
		return formatError("accountNumber is required", "accountNumber jest wymagany")
	}
	acct, _, err := s.account(r.Context(), c, consent.PrivGetAccount, accountRef{value: req.AccountNumber}, req.RequestHeader.IsDirectPSU)
	if err != nil {
		return err
	}
	owner, err := s.ledger.Customer(r.Context(), acct.CustomerID)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.AccountResponse{
		ResponseHeader: s.responseHeader(c), Account: polishapi.Info(acct, owner),
	})
}

// polishFilter reads the filters of a PolishAPI TransactionInfoRequest.
func polishFilter(req polishapi.TransactionInfoRequest) (ledger.ItemFilter, error) {
	f := ledger.ItemFilter{
		TradeFrom: req.TransactionDateFrom, TradeTo: req.TransactionDateTo,
		BookingFrom: req.BookingDateFrom, BookingTo: req.BookingDateTo,
	}
	if err := checkDates(f); err != nil {
		return f, err
	}
	var err error
	if f.MinAmount, f.MaxAmount, err = amountRange(req.MinAmount, req.MaxAmount); err != nil {
		return f, err
	}
	switch strings.ToUpper(req.Type) {
	case "":
	case polishapi.Credit:
		f.Side = ledger.Credits
	case polishapi.Debit:
		f.Side = ledger.Debits
	default:
		return f, formatError("type is CREDIT or DEBIT", "type to CREDIT albo DEBIT")
	}
	return f, nil
}

func checkDates(f ledger.ItemFilter) error {
	for _, d := range []string{f.TradeFrom, f.TradeTo, f.BookingFrom, f.BookingTo} {
		if d == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return formatError("dates are YYYY-MM-DD, got "+strconv.Quote(d), "daty mają postać RRRR-MM-DD, otrzymano "+strconv.Quote(d))
		}
	}
	return nil
}

func amountRange(lo, hi string) (money.Amount, money.Amount, error) {
	var out [2]money.Amount
	for i, s := range []string{lo, hi} {
		if s == "" {
			continue
		}
		a, err := money.Parse(s)
		if err != nil {
			return 0, 0, formatError("minAmount and maxAmount are amounts such as 100.00, got "+strconv.Quote(s),
				"minAmount i maxAmount to kwoty, np. 100.00, otrzymano "+strconv.Quote(s))
		}
		out[i] = a
	}
	return out[0], out[1], nil
}

// polishTransactions serves getTransactionsDone, …Pending, …Rejected,
// …Cancelled, …Scheduled and getHolds.
func (s *aisService) polishTransactions(kind listKind) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req polishapi.TransactionInfoRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.AccountNumber == "" {
			return formatError("accountNumber is required", "accountNumber jest wymagany")
		}
		f, err := polishFilter(req)
		if err != nil {
			return err
		}
		if kind == kindHolds && f.Side == ledger.Credits {
			return formatError("holds are debits: type is DEBIT or absent", "blokady to obciążenia: type to DEBIT albo brak")
		}
		page, err := s.list(r.Context(), c, itemQuery{
			kind: kind, account: accountRef{value: req.AccountNumber}, filter: f, itemIDFrom: req.ItemIDFrom,
			perPage: req.PerPage, pageID: req.PageID, psuPresent: req.RequestHeader.IsDirectPSU,
		})
		if err != nil {
			return err
		}
		h, pi := s.responseHeader(c), pageInfo(page.next)
		var out any
		switch kind {
		case kindDone:
			items := make([]polishapi.TransactionInfo, 0, len(page.postings))
			for _, p := range page.postings {
				items = append(items, polishapi.Done(p, page.self))
			}
			out = polishapi.TransactionsDoneInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindPending:
			items := make([]polishapi.TransactionPendingInfo, 0, len(page.transfers))
			for _, t := range page.transfers {
				items = append(items, polishapi.Pending(t))
			}
			out = polishapi.TransactionPendingInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindRejected:
			items := make([]polishapi.TransactionRejectedInfo, 0, len(page.transfers))
			for _, t := range page.transfers {
				items = append(items, polishapi.Rejected(t))
			}
			out = polishapi.TransactionRejectedInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindCancelled, kindScheduled:
			items := make([]polishapi.TransactionCancelledInfo, 0, len(page.transfers))
			for _, t := range page.transfers {
				if kind == kindScheduled {
					items = append(items, polishapi.Scheduled(t))
				} else {
					items = append(items, polishapi.Cancelled(t))
				}
			}
			out = polishapi.TransactionsCancelledInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindHolds:
			items := make([]polishapi.HoldInfo, 0, len(page.holds))
			for _, hd := range page.holds {
				items = append(items, polishapi.HoldItem(hd, page.self))
			}
			out = polishapi.HoldInfoResponse{ResponseHeader: h, Holds: items, PageInfo: pi}
		}
		return gateway.WriteJSON(w, http.StatusOK, out)
	}
}

func (s *aisService) polishTransactionDetail(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.TransactionDetailRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.AccountNumber == "" || req.ItemID == "" {
		return formatError("accountNumber and itemId are required", "accountNumber i itemId są wymagane")
	}
	it, self, err := s.detail(r.Context(), c, accountRef{value: req.AccountNumber}, req.ItemID, req.RequestHeader.IsDirectPSU)
	if err != nil {
		return err
	}
	var out polishapi.TransactionDetailResponse
	switch {
	case it.posting != nil:
		out = polishapi.DetailOfPosting(*it.posting, self)
	case it.transfer != nil:
		out = polishapi.DetailOfTransfer(*it.transfer)
	default:
		out = polishapi.DetailOfHold(*it.hold, self)
	}
	out.ResponseHeader = s.responseHeader(c)
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *aisService) polishDeleteConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.DeleteConsentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.deleteConsent(r.Context(), c.OrgID, req.ConsentID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---------------------------------------------------------------------------
// mBank v3

// mbankPSUPresent tells whether the customer takes part in the call:
// PSU-Session: true, or the customer's IP address.
func mbankPSUPresent(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("PSU-Session"), "true") || r.Header.Get("PSU-IP-Address") != ""
}

// nextHref is the address of the next page: the same request with the
// cursor.
func nextHref(r *http.Request, next string) []mbank.Link {
	if next == "" {
		return nil
	}
	q := r.URL.Query()
	q.Set("cursor", next)
	return mbank.NextPage(r.URL.Path + "?" + q.Encode())
}

func (s *aisService) mbankAccounts(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	accts, err := s.consentAccounts(r.Context(), c, mbankPSUPresent(r))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	size, err := pageSize(q)
	if err != nil {
		return err
	}
	page, next, err := s.accountPage(r.Context(), c, accts, q.Get("cursor"), size)
	if err != nil {
		return err
	}
	out := mbank.AccountsResponse{Accounts: make([]mbank.Account, 0, len(page)), Links: nextHref(r, next)}
	for _, a := range page {
		out.Accounts = append(out.Accounts, mbank.AccountOf(a))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func pageSize(q url.Values) (int, error) {
	v := q.Get("pageSize")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, formatError("pageSize is a number from 1 to 100", "pageSize to liczba od 1 do 100")
	}
	return n, nil
}

func (s *aisService) mbankAccountDetails(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	acct, _, err := s.account(r.Context(), c, consent.PrivGetAccount, accountRef{value: chi.URLParam(r, "accountId"), byID: true}, mbankPSUPresent(r))
	if err != nil {
		return err
	}
	owner, err := s.ledger.Customer(r.Context(), acct.CustomerID)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.AccountResponse{Account: mbank.DetailsOf(acct, owner)})
}

func (s *aisService) mbankTransactions(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	q := r.URL.Query()
	kind := kindDone
	if st := strings.ToUpper(q.Get("transactionStatus")); st != "" {
		found := false
		for i, k := range kinds {
			if k.mbank == st {
				kind, found = listKind(i), true
			}
		}
		if !found {
			return formatError("transactionStatus is DONE, PENDING, REJECTED, CANCELLED, SCHEDULED or HOLD",
				"transactionStatus to DONE, PENDING, REJECTED, CANCELLED, SCHEDULED albo HOLD")
		}
	}
	f := ledger.ItemFilter{
		TradeFrom: q.Get("transactionDateFrom"), TradeTo: q.Get("transactionDateTo"),
		BookingFrom: q.Get("bookingDateFrom"), BookingTo: q.Get("bookingDateTo"),
	}
	if err := checkDates(f); err != nil {
		return err
	}
	var err error
	if f.MinAmount, f.MaxAmount, err = amountRange(q.Get("minAmount"), q.Get("maxAmount")); err != nil {
		return err
	}
	switch strings.ToUpper(q.Get("type")) {
	case "":
	case polishapi.Credit:
		f.Side = ledger.Credits
	case polishapi.Debit:
		f.Side = ledger.Debits
	default:
		return formatError("type is CREDIT or DEBIT", "type to CREDIT albo DEBIT")
	}
	size, err := pageSize(q)
	if err != nil {
		return err
	}
	page, err := s.list(r.Context(), c, itemQuery{
		kind: kind, account: accountRef{value: chi.URLParam(r, "accountId"), byID: true}, filter: f,
		itemIDFrom: q.Get("transactionIdFrom"), perPage: size, pageID: q.Get("cursor"), psuPresent: mbankPSUPresent(r),
	})
	if err != nil {
		return err
	}
	items := make([]mbank.Transaction, 0, len(page.postings)+len(page.transfers)+len(page.holds))
	for _, p := range page.postings {
		items = append(items, mbank.Done(p, page.self))
	}
	for _, t := range page.transfers {
		items = append(items, mbank.Outgoing(t))
	}
	for _, h := range page.holds {
		items = append(items, mbank.Held(h, page.self))
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.TransactionsResponse{Transactions: items, Links: nextHref(r, page.next)})
}

func (s *aisService) mbankTransactionDetails(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	it, self, err := s.detail(r.Context(), c, accountRef{value: chi.URLParam(r, "accountId"), byID: true},
		chi.URLParam(r, "transactionId"), mbankPSUPresent(r))
	if err != nil {
		return err
	}
	var t mbank.Transaction
	switch {
	case it.posting != nil:
		t = mbank.Done(*it.posting, self)
	case it.transfer != nil:
		t = mbank.Outgoing(*it.transfer)
	default:
		t = mbank.Held(*it.hold, self)
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.TransactionResponse{Transaction: t})
}

func (s *aisService) mbankDeleteConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	if err := s.deleteConsent(r.Context(), c.OrgID, chi.URLParam(r, "consentId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
