package mbank

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
)

// Account information (AIS): each handler decodes the request, calls the
// AIS domain service (internal/ais) and encodes its answer.

// mbankPSUPresent tells whether the customer takes part in the call:
// PSU-Session: true, or the customer's IP address.
func mbankPSUPresent(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("PSU-Session"), "true") || r.Header.Get("PSU-IP-Address") != ""
}

// nextHref is the address of the next page: the same request with the
// cursor.
func nextHref(r *http.Request, next string) []Link {
	if next == "" {
		return nil
	}
	q := r.URL.Query()
	q.Set("cursor", next)
	return NextPage(r.URL.Path + "?" + q.Encode())
}

func (s *aisService) mbankAccounts(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	q := r.URL.Query()
	size, err := pageSize(q)
	if err != nil {
		return err
	}
	page, next, err := s.svc.Accounts(r.Context(), common.AISCaller(c), mbankPSUPresent(r), q.Get("cursor"), size)
	if err != nil {
		return aisRefusal(err)
	}
	out := AccountsResponse{Accounts: make([]Account, 0, len(page)), Links: nextHref(r, next)}
	for _, a := range page {
		out.Accounts = append(out.Accounts, AccountOf(a))
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
	acct, owner, err := s.svc.Account(r.Context(), common.AISCaller(c), ais.AccountRef{Value: chi.URLParam(r, "accountId"), ByID: true}, mbankPSUPresent(r))
	if err != nil {
		return aisRefusal(err)
	}
	return gateway.WriteJSON(w, http.StatusOK, AccountResponse{Account: DetailsOf(acct, owner)})
}

func (s *aisService) mbankTransactions(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	q := r.URL.Query()
	kind := ais.KindDone
	if st := strings.ToUpper(q.Get("transactionStatus")); st != "" {
		found := false
		for i, k := range transactionStatuses {
			if k == st {
				kind, found = ais.Kind(i), true
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
	if err := common.CheckDates(f); err != nil {
		return err
	}
	var err error
	if f.MinAmount, f.MaxAmount, err = common.AmountRange(q.Get("minAmount"), q.Get("maxAmount")); err != nil {
		return err
	}
	switch strings.ToUpper(q.Get("type")) {
	case "":
	case "CREDIT":
		f.Side = ledger.Credits
	case "DEBIT":
		f.Side = ledger.Debits
	default:
		return formatError("type is CREDIT or DEBIT", "type to CREDIT albo DEBIT")
	}
	size, err := pageSize(q)
	if err != nil {
		return err
	}
	page, err := s.svc.List(r.Context(), common.AISCaller(c), ais.Query{
		Kind: kind, Account: ais.AccountRef{Value: chi.URLParam(r, "accountId"), ByID: true}, Filter: f,
		ItemIDFrom: q.Get("transactionIdFrom"), PerPage: size, PageID: q.Get("cursor"), PSUPresent: mbankPSUPresent(r),
	})
	if err != nil {
		return aisRefusal(err)
	}
	if page.Memo != nil && len(page.Transfers) == 0 && len(page.Holds) == 0 {
		// A page of booked items read before: its items encoded then, and
		// the seal's hash over them, are kept with it (as PolishAPI's).
		key := itemsKey{page.Self}
		var items *jws.Prefix
		if v, ok := page.Memo.Get(key); ok {
			items = v.(*jws.Prefix)
		} else {
			list := make([]Transaction, 0, len(page.Postings))
			for _, p := range page.Postings {
				list = append(list, Done(p, page.Self))
			}
			enc, err := json.Marshal(list)
			if err != nil {
				return err
			}
			items = jws.NewPrefix(append([]byte(`{"transactions":`), enc...))
			page.Memo.Put(key, items)
		}
		c.SealPrefix = items
		return gateway.WriteJSON(w, http.StatusOK, doneAnswer{items: items, links: nextHref(r, page.Next)})
	}
	items := make([]Transaction, 0, len(page.Postings)+len(page.Transfers)+len(page.Holds))
	for _, p := range page.Postings {
		items = append(items, Done(p, page.Self))
	}
	for _, t := range page.Transfers {
		items = append(items, Outgoing(t))
	}
	for _, h := range page.Holds {
		items = append(items, Held(h, page.Self))
	}
	return gateway.WriteJSON(w, http.StatusOK, TransactionsResponse{Transactions: items, Links: nextHref(r, page.Next)})
}

func (s *aisService) mbankTransactionDetails(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	it, self, err := s.svc.Detail(r.Context(), common.AISCaller(c), ais.AccountRef{Value: chi.URLParam(r, "accountId"), ByID: true},
		chi.URLParam(r, "transactionId"), mbankPSUPresent(r))
	if err != nil {
		return aisRefusal(err)
	}
	var t Transaction
	switch {
	case it.Posting != nil:
		t = Done(*it.Posting, self)
	case it.Transfer != nil:
		t = Outgoing(*it.Transfer)
	default:
		t = Held(*it.Hold, self)
	}
	return gateway.WriteJSON(w, http.StatusOK, TransactionResponse{Transaction: t})
}

func (s *aisService) mbankDeleteConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	if err := s.svc.DeleteConsent(r.Context(), c.OrgID, chi.URLParam(r, "consentId")); err != nil {
		return aisRefusal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// itemsKey is what this dialect keeps in a page's Memo (ais.Memo) under —
// a type of its own, as the pages are every dialect's: the page's items
// encoded as they are seen from the account self, behind the answer's
// beginning, {"transactions":, as a jws.Prefix.
type itemsKey struct{ self ledger.Party }

// doneAnswer is TransactionsResponse of a kept page of booked items: the
// bytes json.Marshal gives of it, the items appended as kept.
type doneAnswer struct {
	items *jws.Prefix // {"transactions":[...]
	links []Link
}

func (d doneAnswer) JSONSizeHint() int { return len(d.items.Bytes()) + 256 }

func (d doneAnswer) AppendJSON(b []byte) []byte {
	b = append(b, d.items.Bytes()...)
	if len(d.links) > 0 {
		enc, err := json.Marshal(d.links)
		if err != nil { // unreachable: strings only
			panic("mbank: " + err.Error())
		}
		b = append(append(b, `,"links":`...), enc...)
	}
	return append(b, '}')
}
