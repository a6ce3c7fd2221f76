package api

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// Account information (AIS) in both dialects: each handler decodes the
// request, calls the AIS domain service (internal/ais: the consent check,
// the page, the page ids) and encodes its answer. The rules are the
// service's; see its package comment.

// listKind is one of the lists of an account.
type listKind = ais.Kind

const (
	kindDone      = ais.KindDone
	kindPending   = ais.KindPending
	kindRejected  = ais.KindRejected
	kindCancelled = ais.KindCancelled
	kindScheduled = ais.KindScheduled
	kindHolds     = ais.KindHolds
)

// kinds names the lists, and gives mBank's transactionStatus of each.
var kinds = [...]struct {
	name  string
	mbank string
}{
	kindDone:      {"done", mbank.StatusDone},
	kindPending:   {"pending", mbank.StatusPending},
	kindRejected:  {"rejected", mbank.StatusRejected},
	kindCancelled: {"cancelled", mbank.StatusCancelled},
	kindScheduled: {"scheduled", mbank.StatusScheduled},
	kindHolds:     {"holds", mbank.StatusHold},
}

// maxPerPage is the largest page of any list.
const maxPerPage = ais.MaxPerPage

// aisService holds the AIS handlers of both dialects.
type aisService struct {
	svc *ais.Service
}

// aisHandlers are the account information operations of both dialects, for the route table (routes.go).
func aisHandlers(d Deps) map[string]gateway.Handler {
	if d.Ledger == nil || d.Consents == nil {
		return nil // not configured: the operations stay not implemented
	}
	db, _ := d.DB.(ais.DB) // the one-statement consent check; without it the separate checks
	s := &aisService{svc: ais.New(d.Ledger, d.Consents, d.Access, db)}
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

// aisCaller is the caller as the AIS service knows it.
func aisCaller(c *gateway.Caller) ais.Caller {
	out := ais.Caller{TPPID: c.OrgID}
	if c.Grant != nil {
		out.ConsentID, out.CustomerID = c.Grant.ConsentID, c.Grant.CustomerID
	}
	return out
}

// aisRefusal renders a refusal of the AIS service in the gateway's terms.
func aisRefusal(err error) error {
	var e *ais.Error
	if !errors.As(err, &e) {
		return accessRefusal(refusal(err))
	}
	switch e.Code {
	case ais.CodeTokenMissing:
		return refuse(http.StatusUnauthorized, gateway.CodeTokenMissing, e.Message, e.MessagePL)
	case ais.CodeAccountUnknown:
		return refuse(http.StatusNotFound, CodeAccountUnknown, e.Message, e.MessagePL)
	case ais.CodeItemUnknown:
		return refuse(http.StatusNotFound, CodeItemUnknown, e.Message, e.MessagePL)
	case ais.CodePageInvalid:
		return refuse(http.StatusBadRequest, CodePageInvalid, e.Message, e.MessagePL)
	default:
		return formatError(e.Message, e.MessagePL)
	}
}

// decode reads a PolishAPI body.
func decode(c *gateway.Caller, v any) error {
	if err := strictjson.Decode(c.Body, v, strictjson.Options{}); err != nil {
		return formatError("the request body does not match the operation's schema: "+err.Error(),
			"treść żądania nie pasuje do schematu operacji: "+err.Error())
	}
	return nil
}

func (s *aisService) responseHeader(c *gateway.Caller) polishapi.ResponseHeader {
	return polishapi.NewResponseHeader(c.RequestID, s.svc.Now())
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
	page, next, err := s.svc.Accounts(r.Context(), aisCaller(c), req.RequestHeader.IsDirectPSU, req.PageID, req.PerPage)
	if err != nil {
		return aisRefusal(err)
	}
	if req.TypeOfPsuRelation != "" && req.TypeOfPsuRelation != "Owner" {
		page, next = nil, "" // the customer owns every account of the consent
	}
	out := polishapi.AccountsResponse{ResponseHeader: s.responseHeader(c), Accounts: make([]polishapi.AccountBaseInfo, 0, len(page))}
	for _, a := range page {
		out.Accounts = append(out.Accounts, polishapi.BaseInfo(a))
	}
	out.PageInfo = pageInfo(next)
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *aisService) polishGetAccount(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.AccountInfoRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.AccountNumber == "" {
		return formatError("accountNumber is required", "accountNumber jest wymagany")
	}
	acct, owner, err := s.svc.Account(r.Context(), aisCaller(c), ais.AccountRef{Value: req.AccountNumber}, req.RequestHeader.IsDirectPSU)
	if err != nil {
		return aisRefusal(err)
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
		page, err := s.svc.List(r.Context(), aisCaller(c), ais.Query{
			Kind: kind, Account: ais.AccountRef{Value: req.AccountNumber}, Filter: f, ItemIDFrom: req.ItemIDFrom,
			PerPage: req.PerPage, PageID: req.PageID, PSUPresent: req.RequestHeader.IsDirectPSU,
		})
		if err != nil {
			return aisRefusal(err)
		}
		h, pi := s.responseHeader(c), pageInfo(page.Next)
		var out any
		switch kind {
		case kindDone:
			out = polishapi.TransactionsDoneInfoResponse{ResponseHeader: h, Transactions: polishapi.DoneItems(page.Postings, page.Self), PageInfo: pi}
		case kindPending:
			items := make([]polishapi.TransactionPendingInfo, 0, len(page.Transfers))
			for _, t := range page.Transfers {
				items = append(items, polishapi.Pending(t))
			}
			out = polishapi.TransactionPendingInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindRejected:
			items := make([]polishapi.TransactionRejectedInfo, 0, len(page.Transfers))
			for _, t := range page.Transfers {
				items = append(items, polishapi.Rejected(t))
			}
			out = polishapi.TransactionRejectedInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindCancelled, kindScheduled:
			items := make([]polishapi.TransactionCancelledInfo, 0, len(page.Transfers))
			for _, t := range page.Transfers {
				if kind == kindScheduled {
					items = append(items, polishapi.Scheduled(t))
				} else {
					items = append(items, polishapi.Cancelled(t))
				}
			}
			out = polishapi.TransactionsCancelledInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindHolds:
			items := make([]polishapi.HoldInfo, 0, len(page.Holds))
			for _, hd := range page.Holds {
				items = append(items, polishapi.HoldItem(hd, page.Self))
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
	it, self, err := s.svc.Detail(r.Context(), aisCaller(c), ais.AccountRef{Value: req.AccountNumber}, req.ItemID, req.RequestHeader.IsDirectPSU)
	if err != nil {
		return aisRefusal(err)
	}
	var out polishapi.TransactionDetailResponse
	switch {
	case it.Posting != nil:
		out = polishapi.DetailOfPosting(*it.Posting, self)
	case it.Transfer != nil:
		out = polishapi.DetailOfTransfer(*it.Transfer)
	default:
		out = polishapi.DetailOfHold(*it.Hold, self)
	}
	out.ResponseHeader = s.responseHeader(c)
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *aisService) polishDeleteConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.DeleteConsentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.svc.DeleteConsent(r.Context(), c.OrgID, req.ConsentID); err != nil {
		return aisRefusal(err)
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
	q := r.URL.Query()
	size, err := pageSize(q)
	if err != nil {
		return err
	}
	page, next, err := s.svc.Accounts(r.Context(), aisCaller(c), mbankPSUPresent(r), q.Get("cursor"), size)
	if err != nil {
		return aisRefusal(err)
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
	acct, owner, err := s.svc.Account(r.Context(), aisCaller(c), ais.AccountRef{Value: chi.URLParam(r, "accountId"), ByID: true}, mbankPSUPresent(r))
	if err != nil {
		return aisRefusal(err)
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
	page, err := s.svc.List(r.Context(), aisCaller(c), ais.Query{
		Kind: kind, Account: ais.AccountRef{Value: chi.URLParam(r, "accountId"), ByID: true}, Filter: f,
		ItemIDFrom: q.Get("transactionIdFrom"), PerPage: size, PageID: q.Get("cursor"), PSUPresent: mbankPSUPresent(r),
	})
	if err != nil {
		return aisRefusal(err)
	}
	items := make([]mbank.Transaction, 0, len(page.Postings)+len(page.Transfers)+len(page.Holds))
	for _, p := range page.Postings {
		items = append(items, mbank.Done(p, page.Self))
	}
	for _, t := range page.Transfers {
		items = append(items, mbank.Outgoing(t))
	}
	for _, h := range page.Holds {
		items = append(items, mbank.Held(h, page.Self))
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.TransactionsResponse{Transactions: items, Links: nextHref(r, page.Next)})
}

func (s *aisService) mbankTransactionDetails(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	it, self, err := s.svc.Detail(r.Context(), aisCaller(c), ais.AccountRef{Value: chi.URLParam(r, "accountId"), ByID: true},
		chi.URLParam(r, "transactionId"), mbankPSUPresent(r))
	if err != nil {
		return aisRefusal(err)
	}
	var t mbank.Transaction
	switch {
	case it.Posting != nil:
		t = mbank.Done(*it.Posting, self)
	case it.Transfer != nil:
		t = mbank.Outgoing(*it.Transfer)
	default:
		t = mbank.Held(*it.Hold, self)
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.TransactionResponse{Transaction: t})
}

func (s *aisService) mbankDeleteConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	if err := s.svc.DeleteConsent(r.Context(), c.OrgID, chi.URLParam(r, "consentId")); err != nil {
		return aisRefusal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
