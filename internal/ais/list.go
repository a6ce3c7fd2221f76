package ais

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
)

// Query asks for a page of one of an account's lists.
type Query struct {
	Kind       Kind
	Account    AccountRef
	Filter     ledger.ItemFilter
	ItemIDFrom string // only items newer than this one (incremental sync)
	PerPage    int    // 1..100; other values: 100
	PageID     string // the page id of the previous page; "" for the first
	PSUPresent bool   // the customer takes part in the call
}

// Page is a page of a list: postings (done), transfers (pending, rejected,
// cancelled, scheduled) or holds.
type Page struct {
	Self      ledger.Party // the account holder's side of the items
	Postings  []ledger.Posting
	Transfers []ledger.Transfer
	Holds     []ledger.Hold
	Next      string // the next page's id; "" on the last page
	// Memo, when not nil, is kept with Postings, which are then shared
	// with other calls, of every dialect (never to be changed): a dialect
	// keeps there what it derives from them alone, under a key of a type
	// of its own (see pages.go).
	Memo *Memo
}

// scope is what a page id is bound to: the consent, the list, the
// account and the filters as asked.
func (q Query) scope(consentID string) string {
	f := q.Filter
	return strings.Join([]string{kinds[q.Kind].name, consentID, q.Account.Value, f.TradeFrom, f.TradeTo, f.BookingFrom,
		f.BookingTo, strconv.FormatInt(int64(f.MinAmount), 10), strconv.FormatInt(int64(f.MaxAmount), 10),
		strconv.Itoa(int(f.Side)), q.ItemIDFrom}, "\x1f")
}

// List serves a page of one of an account's lists, after the consent check
// (which counts the access unless the page continues a list).
func (s *Service) List(ctx context.Context, c Caller, q Query) (Page, error) {
	k := kinds[q.Kind]
	limit := q.PerPage
	if limit <= 0 || limit > MaxPerPage {
		limit = MaxPerPage
	}
	if q.Kind != KindDone {
		q.Filter.BookingFrom, q.Filter.BookingTo = "", "" // only booked items have a booking date
	}
	if c.ConsentID == "" {
		return Page{}, tokenMissing()
	}
	scope := q.scope(c.ConsentID)
	now := s.Now()
	var cur cursor
	continuation := false
	if q.PageID != "" {
		var err error
		if cur, err = s.openCursor(ctx, q.PageID, scope); err != nil {
			return Page{}, err
		}
		continuation = now.Sub(time.Unix(cur.Issued, 0)) < ContinuationWindow
	} else {
		cur.Issued = now.Unix()
	}

	// How far back: the filter's earliest date, or the default window
	// (fixed on the first page and carried by the page ids).
	explicit := earliest(q.Filter.TradeFrom, q.Filter.BookingFrom)
	from := explicit
	if from == "" {
		from = cur.From
	}
	var historyFrom time.Time
	if from != "" {
		historyFrom = day(from)
	}

	g, err := s.grant(ctx, c, k.privilege, q.Account, q.PSUPresent, historyFrom, continuation, now)
	if err != nil {
		return Page{}, err
	}
	page := Page{Self: g.self}

	if explicit == "" && q.Kind != KindScheduled {
		if cur.From == "" {
			days := DefaultHistoryDays
			if m := g.maxHistory; m > 0 && m < days {
				days = m
			}
			cur.From = ledger.DateOf(now.AddDate(0, 0, -days))
		}
		if q.Kind == KindDone {
			q.Filter.BookingFrom = cur.From
		} else {
			q.Filter.TradeFrom = cur.From
		}
	}

	switch q.Kind {
	case KindDone:
		bq := ledger.BookedQuery{AccountID: g.accountID, ItemFilter: q.Filter, Limit: limit}
		if cur.Key != "" {
			if bq.BeforeSeq, err = strconv.ParseInt(cur.Key, 10, 64); err != nil {
				return Page{}, pageInvalid()
			}
		}
		if q.ItemIDFrom != "" {
			p, err := s.ledger.BookedItem(ctx, g.accountID, q.ItemIDFrom)
			if err != nil {
				return Page{}, itemIDFromUnknown(err)
			}
			bq.AfterSeq = p.Seq
		}
		var more bool
		if page.Postings, more, page.Memo, err = s.bookedPage(ctx, bq, g.lastSeq); err != nil {
			return Page{}, err
		}
		if more {
			cur.Key = itoa(page.Postings[len(page.Postings)-1].Seq)
			if page.Next, err = s.sealCursor(ctx, cur, scope); err != nil {
				return Page{}, err
			}
		}
	case KindHolds:
		hq := ledger.HoldQuery{AccountID: g.accountID, ItemFilter: q.Filter, Limit: limit}
		if cur.Key != "" {
			at, id, ok := strings.Cut(cur.Key, "|")
			n, err := strconv.ParseInt(at, 10, 64)
			if !ok || err != nil {
				return Page{}, pageInvalid()
			}
			hq.Before = ledger.HoldKey{CreatedAt: n, ID: id}
		}
		if q.ItemIDFrom != "" {
			h, err := s.holdItem(ctx, g.accountID, q.ItemIDFrom)
			if err != nil {
				return Page{}, itemIDFromUnknown(err)
			}
			hq.After = h.Key()
		}
		var more bool
		if page.Holds, more, err = s.ledger.ActiveHolds(ctx, hq); err != nil {
			return Page{}, err
		}
		if more {
			k := page.Holds[len(page.Holds)-1].Key()
			cur.Key = itoa(k.CreatedAt) + "|" + k.ID
			if page.Next, err = s.sealCursor(ctx, cur, scope); err != nil {
				return Page{}, err
			}
		}
	default:
		oq := ledger.OutgoingQuery{AccountID: g.accountID, Status: k.status, ItemFilter: q.Filter, Limit: limit}
		if cur.Key != "" {
			date, id, ok := strings.Cut(cur.Key, "|")
			if !ok {
				return Page{}, pageInvalid()
			}
			oq.Before = ledger.TransferKey{Date: date, ID: id}
		}
		if q.ItemIDFrom != "" {
			t, err := s.ledger.GetTransfer(ctx, q.ItemIDFrom)
			if err == nil && (t.DebitAccountID != g.accountID || t.Status != k.status) {
				err = itemUnknown()
			}
			if err != nil {
				return Page{}, itemIDFromUnknown(err)
			}
			oq.After = t.Key()
		}
		var more bool
		if page.Transfers, more, err = s.ledger.OutgoingTransfers(ctx, oq); err != nil {
			return Page{}, err
		}
		if more {
			k := page.Transfers[len(page.Transfers)-1].Key()
			cur.Key = k.Date + "|" + k.ID
			if page.Next, err = s.sealCursor(ctx, cur, scope); err != nil {
				return Page{}, err
			}
		}
	}
	return page, nil
}

// holdItem finds a hold of an account by its item id: the hold's id, or
// for a payment waiting for clearing the payment's.
func (s *Service) holdItem(ctx context.Context, accountID, id string) (ledger.Hold, error) {
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
	if ledger.CodeOf(err) == ledger.CodeNotFound || CodeOf(err) == CodeItemUnknown {
		return invalid("itemIdFrom names no item of this list on this account",
			"itemIdFrom nie wskazuje żadnej pozycji tej listy na tym rachunku")
	}
	return err
}

// ---------------------------------------------------------------------------
// Page ids

// cursor is the content of a page id.
type cursor struct {
	Key    string `json:"k"`           // the last item given: its position in the list
	From   string `json:"f,omitempty"` // the default window's first day, fixed on the first page
	Issued int64  `json:"t"`           // when the list's first page was served (Unix seconds)
}

// pageKey is the HMAC key of page ids, shared by the bank's nodes (it
// cannot change once made, so each node reads it once).
func (s *Service) pageKey(ctx context.Context) ([]byte, error) {
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

func mac(key []byte, payload, scope string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// sealCursor makes a page id: the cursor and an HMAC over it and the
// scope.
func (s *Service) sealCursor(ctx context.Context, c cursor, scope string) (string, error) {
	key, err := s.pageKey(ctx)
	if err != nil {
		return "", err
	}
	data, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(data)
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac(key, payload, scope)), nil
}

// openCursor checks a page id against the scope and reads it.
func (s *Service) openCursor(ctx context.Context, pageID, scope string) (cursor, error) {
	key, err := s.pageKey(ctx)
	if err != nil {
		return cursor{}, err
	}
	payload, sig, ok := strings.Cut(pageID, ".")
	m, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(m, mac(key, payload, scope)) {
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

// Item is one item of an account, whichever its state: exactly one of
// the three is set.
type Item struct {
	Posting  *ledger.Posting
	Transfer *ledger.Transfer
	Hold     *ledger.Hold
}

// findItem looks an item up by its id on an account: a booked item, a
// payment the account ordered, or a hold.
func (s *Service) findItem(ctx context.Context, acct ledger.Account, id string) (Item, time.Time, error) {
	if p, err := s.ledger.BookedItem(ctx, acct.ID, id); err == nil {
		return Item{Posting: &p}, day(p.BookingDate), nil
	} else if ledger.CodeOf(err) != ledger.CodeNotFound {
		return Item{}, time.Time{}, err
	}
	if t, err := s.ledger.GetTransfer(ctx, id); err == nil && t.DebitAccountID == acct.ID && t.Status != ledger.StatusBooked {
		var from time.Time
		if t.Status != ledger.StatusScheduled {
			from = day(t.TradeDate)
		}
		return Item{Transfer: &t}, from, nil
	} else if err != nil && ledger.CodeOf(err) != ledger.CodeNotFound {
		return Item{}, time.Time{}, err
	}
	if h, err := s.ledger.HoldOn(ctx, acct.ID, id); err == nil {
		return Item{Hold: &h}, h.CreatedAt, nil
	} else if ledger.CodeOf(err) != ledger.CodeNotFound {
		return Item{}, time.Time{}, err
	}
	return Item{}, time.Time{}, nil
}

// Detail finds an item of an account after the consent check, which is
// asked for the item's date. It returns the item and the account holder's
// side of it.
func (s *Service) Detail(ctx context.Context, c Caller, ref AccountRef, itemID string, psu bool) (Item, ledger.Party, error) {
	// A booked item (what a TPP mostly asks for) in one statement, then the
	// consent check for its date in one more, as a list's (check.go).
	if s.db != nil && ref.Value != "" && itemID != "" && c.ConsentID != "" {
		value := ref.Value
		if !ref.ByID {
			value = consent.NormalizeNRB(value)
		}
		p, err := s.ledger.BookedItemOn(ctx, value, ref.ByID, itemID)
		if err == nil {
			g, err := s.grant(ctx, c, consent.PrivGetTransactionDetail, ref, psu, day(p.BookingDate), false, s.Now())
			if err != nil {
				return Item{}, ledger.Party{}, err
			}
			if g.accountID != p.AccountID { // one account by the same name: cannot differ
				return Item{}, ledger.Party{}, fmt.Errorf("item %s is on account %s, the check's is %s", itemID, p.AccountID, g.accountID)
			}
			return Item{Posting: &p}, g.self, nil
		}
		if ledger.CodeOf(err) != ledger.CodeNotFound {
			return Item{}, ledger.Party{}, err
		}
		// Not booked (a payment, a hold) or not there: the separate reads.
	}
	acct, number, found, err := s.resolve(ctx, ref)
	if err != nil {
		return Item{}, ledger.Party{}, err
	}
	var it Item
	var from time.Time
	if found && itemID != "" {
		if it, from, err = s.findItem(ctx, acct, itemID); err != nil {
			return Item{}, ledger.Party{}, err
		}
	}
	cons, err := s.check(ctx, c, consent.PrivGetTransactionDetail, number, psu, from, false)
	if err != nil {
		return Item{}, ledger.Party{}, err
	}
	self, err := s.own(ctx, cons, acct, found)
	if err != nil {
		return Item{}, ledger.Party{}, err
	}
	if it.Posting == nil && it.Transfer == nil && it.Hold == nil {
		return Item{}, ledger.Party{}, itemUnknown()
	}
	return it, self, nil
}

// SealPosition makes the page id that continues list q of the consent
// after the item at position (a booked item's sequence number, as the
// page ids of done lists carry it), as if the list's first page had been
// served at issued. Tests and tools use it to start deep in a history.
func (s *Service) SealPosition(ctx context.Context, consentID string, q Query, position string, issued time.Time) (string, error) {
	return s.sealCursor(ctx, cursor{Key: position, Issued: issued.Unix()}, q.scope(consentID))
}
