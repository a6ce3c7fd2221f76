package polishapi

import (
	"github.com/psd2bank/psd2bank/internal/dialect/common"

	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// Account information (AIS): each handler decodes the
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

// maxPerPage is the largest page of any list.
const maxPerPage = ais.MaxPerPage

// aisService holds the AIS handlers.
type aisService struct {
	svc *ais.Service
}

// aisHandlers are the account information operations.
func aisHandlers(d common.Deps) map[string]gateway.Handler {
	if d.Ledger == nil || d.Consents == nil {
		return nil // not configured: the operations stay not implemented
	}
	s := &aisService{svc: d.AISService()}
	return map[string]gateway.Handler{
		"getAccounts":              s.polishGetAccounts,
		"getAccount":               s.polishGetAccount,
		"getTransactionsDone":      s.polishTransactions(kindDone),
		"getTransactionsPending":   s.polishTransactions(kindPending),
		"getTransactionsRejected":  s.polishTransactions(kindRejected),
		"getTransactionsCancelled": s.polishTransactions(kindCancelled),
		"getTransactionsScheduled": s.polishTransactions(kindScheduled),
		"getHolds":                 s.polishTransactions(kindHolds),
		"getTransactionDetail":     s.polishTransactionDetail,
		"deleteConsent":            s.polishDeleteConsent,
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

func (s *aisService) responseHeader(c *gateway.Caller) ResponseHeader {
	return NewResponseHeader(c.RequestID, s.svc.Now())
}

func pageInfo(next string) *PageInfo {
	if next == "" {
		return nil
	}
	return &PageInfo{NextPage: next}
}

func (s *aisService) polishGetAccounts(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req AccountsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	page, next, err := s.svc.Accounts(r.Context(), common.AISCaller(c), req.RequestHeader.IsDirectPSU, req.PageID, req.PerPage)
	if err != nil {
		return aisRefusal(err)
	}
	if req.TypeOfPsuRelation != "" && req.TypeOfPsuRelation != "Owner" {
		page, next = nil, "" // the customer owns every account of the consent
	}
	out := AccountsResponse{ResponseHeader: s.responseHeader(c), Accounts: make([]AccountBaseInfo, 0, len(page))}
	for _, a := range page {
		out.Accounts = append(out.Accounts, BaseInfo(a))
	}
	out.PageInfo = pageInfo(next)
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *aisService) polishGetAccount(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req AccountInfoRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.AccountNumber == "" {
		return formatError("accountNumber is required", "accountNumber jest wymagany")
	}
	acct, owner, err := s.svc.Account(r.Context(), common.AISCaller(c), ais.AccountRef{Value: req.AccountNumber}, req.RequestHeader.IsDirectPSU)
	if err != nil {
		return aisRefusal(err)
	}
	return gateway.WriteJSON(w, http.StatusOK, AccountResponse{
		ResponseHeader: s.responseHeader(c), Account: Info(acct, owner),
	})
}

// polishFilter reads the filters of a PolishAPI TransactionInfoRequest.
func polishFilter(req TransactionInfoRequest) (ledger.ItemFilter, error) {
	f := ledger.ItemFilter{
		TradeFrom: req.TransactionDateFrom, TradeTo: req.TransactionDateTo,
		BookingFrom: req.BookingDateFrom, BookingTo: req.BookingDateTo,
	}
	if err := common.CheckDates(f); err != nil {
		return f, err
	}
	var err error
	if f.MinAmount, f.MaxAmount, err = common.AmountRange(req.MinAmount, req.MaxAmount); err != nil {
		return f, err
	}
	switch strings.ToUpper(req.Type) {
	case "":
	case Credit:
		f.Side = ledger.Credits
	case Debit:
		f.Side = ledger.Debits
	default:
		return f, formatError("type is CREDIT or DEBIT", "type to CREDIT albo DEBIT")
	}
	return f, nil
}

// polishTransactions serves getTransactionsDone, …Pending, …Rejected,
// …Cancelled, …Scheduled and getHolds.
func (s *aisService) polishTransactions(kind listKind) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req TransactionInfoRequest
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
		page, err := s.svc.List(r.Context(), common.AISCaller(c), ais.Query{
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
			// TransactionsDoneInfoResponse{h, DoneItems(page.Postings, page.Self), pi}, appended
			d := doneResponse{Header: h, Postings: page.Postings, Self: page.Self, PageInfo: pi}
			if page.Memo != nil {
				// A page read before: its items encoded then, and the
				// seal's hash over them, are kept with it.
				key := itemsKey{page.Self}
				if v, ok := page.Memo.Get(key); ok {
					d.Items = v.(*jws.Prefix)
				} else {
					d.Items = jws.NewPrefix(d.appendItems(make([]byte, 0, d.JSONSizeHint())))
					page.Memo.Put(key, d.Items)
				}
				c.SealPrefix = d.Items
			}
			out = d
		case kindPending:
			items := make([]TransactionPendingInfo, 0, len(page.Transfers))
			for _, t := range page.Transfers {
				items = append(items, Pending(t))
			}
			out = TransactionPendingInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindRejected:
			items := make([]TransactionRejectedInfo, 0, len(page.Transfers))
			for _, t := range page.Transfers {
				items = append(items, Rejected(t))
			}
			out = TransactionRejectedInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindCancelled, kindScheduled:
			items := make([]TransactionCancelledInfo, 0, len(page.Transfers))
			for _, t := range page.Transfers {
				if kind == kindScheduled {
					items = append(items, Scheduled(t))
				} else {
					items = append(items, Cancelled(t))
				}
			}
			out = TransactionsCancelledInfoResponse{ResponseHeader: h, Transactions: items, PageInfo: pi}
		case kindHolds:
			items := make([]HoldInfo, 0, len(page.Holds))
			for _, hd := range page.Holds {
				items = append(items, HoldItem(hd, page.Self))
			}
			out = HoldInfoResponse{ResponseHeader: h, Holds: items, PageInfo: pi}
		}
		return gateway.WriteJSON(w, http.StatusOK, out)
	}
}

func (s *aisService) polishTransactionDetail(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req TransactionDetailRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.AccountNumber == "" || req.ItemID == "" {
		return formatError("accountNumber and itemId are required", "accountNumber i itemId są wymagane")
	}
	it, self, err := s.svc.Detail(r.Context(), common.AISCaller(c), ais.AccountRef{Value: req.AccountNumber}, req.ItemID, req.RequestHeader.IsDirectPSU)
	if err != nil {
		return aisRefusal(err)
	}
	var out TransactionDetailResponse
	switch {
	case it.Posting != nil:
		out = DetailOfPosting(*it.Posting, self)
	case it.Transfer != nil:
		out = DetailOfTransfer(*it.Transfer)
	default:
		out = DetailOfHold(*it.Hold, self)
	}
	out.ResponseHeader = s.responseHeader(c)
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *aisService) polishDeleteConsent(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req DeleteConsentRequest
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

// itemsKey is what this dialect keeps in a page's Memo under: the encoded
// items of the holder's side (a type of its own, as the pages are shared
// by every dialect).
type itemsKey struct{ self ledger.Party }
