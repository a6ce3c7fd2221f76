package ais

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestCachedPagesFollowTheLedger reads pages of booked items as a TPP
// would, on two nodes sharing the database, while money moves: a page read
// again comes from memory, yet every posting booked since — on either node
// — is on the next read, and every page is the very page the database
// gives without the cache.
func TestCachedPagesFollowTheLedger(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		// The other node: services of its own over the same database.
		l2 := ledger.New(db, f.clock)
		nodeB := New(l2, consent.New(db, f.clock), access.New(db, l2, f.clock), db)
		uncached := New(f.l, f.consents, f.access, db)
		uncached.pages = nil
		funds := must(f.l.OpenAccount(ctx, ledger.Account{NRB: newNRB(t), CustomerID: f.corp.ID, Currency: "PLN",
			Type: ledger.TypeCorporate, Name: "Zasilenie", AllowNegative: true}))
		book := func(l *ledger.Ledger, title string) {
			t.Helper()
			if _, err := l.Transfer(ctx, ledger.TransferRequest{DebitAccountID: funds.ID, CreditAccountID: f.main.ID,
				Amount: 1_00, Currency: "PLN", Title: title}); err != nil {
				t.Fatal(err)
			}
		}
		c := f.consent("PSDPL-KNF-PAGES", f.anna, []consent.Privilege{done(365, f.main.NRB, consent.UsageMultiple)}, f.main.NRB)
		caller := callerOf(c)
		list := func(s *Service, pageID string) Page {
			t.Helper()
			p, err := s.List(ctx, caller, Query{Kind: KindDone, Account: AccountRef{Value: f.main.NRB}, PerPage: 2, PageID: pageID, PSUPresent: true})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		titles := func(p Page) []string {
			var out []string
			for _, x := range p.Postings {
				out = append(out, x.Title)
			}
			return out
		}
		sameAsDatabase := func(got Page) {
			t.Helper()
			if want := list(uncached, ""); !reflect.DeepEqual(got.Postings, want.Postings) {
				t.Fatalf("the cached first page differs from the database's:\n%v\n%v", titles(got), titles(want))
			}
		}

		for i := 1; i <= 3; i++ {
			book(f.l, fmt.Sprint("t", i))
		}
		first := list(f.svc, "")
		if got := titles(first); !reflect.DeepEqual(got, []string{"t3", "t2"}) || first.Next == "" {
			t.Fatalf("first page: %v, next %q", got, first.Next)
		}
		again := list(f.svc, "")
		if again.Memo == nil || again.Memo != first.Memo {
			t.Fatalf("the same page read again was not the cached one (memo %p, %p)", first.Memo, again.Memo)
		}
		sameAsDatabase(again)

		// A posting booked by the other node is on this node's next read.
		book(l2, "t4")
		if got := titles(list(f.svc, "")); !reflect.DeepEqual(got, []string{"t4", "t3"}) {
			t.Fatalf("after a posting booked by the other node: %v, want [t4 t3]", got)
		}
		sameAsDatabase(list(f.svc, ""))
		// And one booked here on the other node's (which cached the page before).
		if got := titles(list(nodeB, "")); !reflect.DeepEqual(got, []string{"t4", "t3"}) {
			t.Fatalf("node B: %v", got)
		}
		book(f.l, "t5")
		if got := titles(list(nodeB, "")); !reflect.DeepEqual(got, []string{"t5", "t4"}) {
			t.Fatalf("node B after a posting booked by node A: %v, want [t5 t4]", got)
		}

		// The next pages: cached too, and still what the database says —
		// a posting booked after the first page was read does not enter
		// the next pages (they continue below the first page's items).
		p1 := list(f.svc, "")
		book(f.l, "t6")
		p2 := list(f.svc, p1.Next)
		p2again := list(f.svc, p1.Next)
		p3 := list(f.svc, p2.Next)
		if got := titles(p2); !reflect.DeepEqual(got, []string{"t3", "t2"}) || !reflect.DeepEqual(titles(p2again), got) {
			t.Fatalf("second page %v, again %v; want [t3 t2]", got, titles(p2again))
		}
		if got := titles(p3); !reflect.DeepEqual(got, []string{"t1"}) || p3.Next != "" {
			t.Fatalf("third page %v next %q; want [t1] and no next", got, p3.Next)
		}
		if u := list(uncached, p1.Next); !reflect.DeepEqual(u.Postings, p2.Postings) {
			t.Fatalf("second page: cached %v, database %v", titles(p2), titles(u))
		}
		if got := titles(list(f.svc, "")); !reflect.DeepEqual(got, []string{"t6", "t5"}) {
			t.Fatalf("first page at the end: %v", got)
		}

		// The page is in memory, yet a TPP whose consent does not cover the
		// account — or whose consent was revoked — is refused, and nothing
		// is recorded: the check runs before the cache is looked at.
		other := f.consent("PSDPL-KNF-OTHER", f.anna, []consent.Privilege{done(365, f.save.NRB, consent.UsageMultiple)}, f.save.NRB)
		before := f.accesses()
		for _, who := range []Caller{
			callerOf(other), // another account's consent
			{TPPID: other.TPPID, ConsentID: c.ID, CustomerID: c.CustomerID}, // another TPP with this consent
		} {
			if p, err := f.svc.List(ctx, who, Query{Kind: KindDone, Account: AccountRef{Value: f.main.NRB}, PerPage: 2, PSUPresent: true}); err == nil {
				t.Fatalf("%s with consent %s read the cached page: %v", who.TPPID, who.ConsentID, titles(p))
			}
		}
		if _, err := f.consents.Revoke(ctx, c.ID, "psu", "test"); err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.List(ctx, caller, Query{Kind: KindDone, Account: AccountRef{Value: f.main.NRB}, PerPage: 2, PSUPresent: true}); err == nil {
			t.Fatalf("a revoked consent read the cached page: %v", titles(p))
		}
		if n := f.accesses() - before; n != 0 {
			t.Fatalf("%d accesses recorded for refused reads", n)
		}
	})
}

func TestMemoKeyed(t *testing.T) {
	t.Parallel()
	var m Memo
	anna := ledger.Party{Name: "Anna", Account: "1"}
	if _, ok := m.Get(anna); ok {
		t.Fatal("an empty memo gave a value")
	}
	m.Put(anna, "encoded for Anna")
	if v, ok := m.Get(anna); !ok || v != "encoded for Anna" {
		t.Fatalf("Get after Put: %v %v", v, ok)
	}
	// The holder renamed: what was encoded with the old name is not given.
	if _, ok := m.Get(ledger.Party{Name: "Anna Nowak", Account: "1"}); ok {
		t.Fatal("the memo gave the value kept under another holder")
	}
}

func TestPageCacheBounded(t *testing.T) {
	t.Parallel()
	c := &pageCache{m: map[ledger.BookedQuery]*cachedPage{}, limit: 10}
	page := func(n int) *cachedPage { return &cachedPage{postings: make([]ledger.Posting, n)} }
	for i := range 20 {
		c.put(ledger.BookedQuery{AccountID: "a", BeforeSeq: int64(i)}, page(3))
		if c.items > c.limit || len(c.m) != len(c.order) {
			t.Fatalf("after %d pages: %d items held (limit %d), %d keys, %d in order", i+1, c.items, c.limit, len(c.m), len(c.order))
		}
	}
	if len(c.m) != 3 || c.get(ledger.BookedQuery{AccountID: "a", BeforeSeq: 19}) == nil || c.get(ledger.BookedQuery{AccountID: "a", BeforeSeq: 16}) != nil {
		t.Fatalf("kept %d pages; want the newest 3", len(c.m))
	}
	c.put(ledger.BookedQuery{AccountID: "big"}, page(11)) // larger than the whole cache: not kept
	if c.get(ledger.BookedQuery{AccountID: "big"}) != nil || c.items > c.limit {
		t.Fatal("a page larger than the cache was kept")
	}
}
