package ais

import (
	"context"
	"os"
	"sync"

	"github.com/psd2bank/psd2bank/internal/ledger"
)

// Pages of booked items, kept in memory.
//
// A posting never changes once booked, and an account's postings are
// numbered by its last_seq in the transaction that books them: when the
// consent check reads last_seq = n, every posting up to n is committed and
// none after it is. A page bounded by n (BeforeSeq ≤ n+1) is therefore a
// function of its BookedQuery alone, the same on every node at any later
// time — a page read again is not read from the database again. Nothing
// is trusted from memory that the database did not just confirm: the bound
// comes from the consent check's own statement on every call, so a new
// posting gives the first page a new key (and the old entry ages out), and
// the check itself — consent, privilege, account, API access, the day's
// count — runs and is recorded on every call as before.
//
// The cache holds at most pageCacheItems postings (about 1 kB each with
// the dialect's encoding of them, some 20 MB in all), dropping the oldest
// pages first. PSD2BANK_NO_PAGE_CACHE=1 turns it off (to measure pages
// read from the database).

// pageCacheItems bounds the postings the cache holds.
const pageCacheItems = 16384

// A Memo is a cached page's slot for what a dialect derives from it (its
// encoded items, the seal's hash over them), kept as long as the page.
type Memo struct {
	mu  sync.Mutex
	key any
	val any
}

// Get returns what Put kept under key.
func (m *Memo) Get(key any) (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.val == nil || m.key != key {
		return nil, false
	}
	return m.val, true
}

// Put keeps val under key, in place of what was kept before.
func (m *Memo) Put(key, val any) {
	m.mu.Lock()
	m.key, m.val = key, val
	m.mu.Unlock()
}

type cachedPage struct {
	postings []ledger.Posting // shared: never changed
	more     bool
	memo     Memo
}

type pageCache struct {
	mu    sync.Mutex
	m     map[ledger.BookedQuery]*cachedPage
	order []ledger.BookedQuery // oldest first
	items int
	limit int
}

func newPageCache(limit int) *pageCache {
	if limit <= 0 || os.Getenv("PSD2BANK_NO_PAGE_CACHE") == "1" {
		return nil
	}
	return &pageCache{m: make(map[ledger.BookedQuery]*cachedPage), limit: limit}
}

func (c *pageCache) get(q ledger.BookedQuery) *cachedPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

func (c *pageCache) put(q ledger.BookedQuery, p *cachedPage) {
	n := max(len(p.postings), 1)
	if n > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[q]; ok {
		return
	}
	for c.items+n > c.limit && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.items -= max(len(c.m[old].postings), 1)
		delete(c.m, old)
	}
	c.m[q] = p
	c.order = append(c.order, q)
	c.items += n
}

// BookedPage is a page of booked items of q's account, bounded by
// lastSeq, the account's last_seq as read in the call's consent statement
// (or after it): kept in memory as bookedPage keeps it, with the page's
// Memo (nil when pages are not kept), where a dialect keeps what it makes
// of the page under a key type of its own. For dialects whose lists are
// their own (Berlin Group).
func (s *Service) BookedPage(ctx context.Context, q ledger.BookedQuery, lastSeq int64) ([]ledger.Posting, bool, *Memo, error) {
	return s.bookedPage(ctx, q, lastSeq)
}

// bookedPage reads a page of booked items of an account whose last_seq
// the consent check read as lastSeq: from the cache when it holds the
// page, else from the ledger (and then kept). The page is bounded by
// lastSeq whether or not it is cached, so it is the same either way.
func (s *Service) bookedPage(ctx context.Context, q ledger.BookedQuery, lastSeq int64) ([]ledger.Posting, bool, *Memo, error) {
	if bound := lastSeq + 1; q.BeforeSeq <= 0 || q.BeforeSeq > bound {
		q.BeforeSeq = bound
	}
	if s.pages == nil {
		postings, more, err := s.ledger.BookedItems(ctx, q)
		return postings, more, nil, err
	}
	if p := s.pages.get(q); p != nil {
		return p.postings, p.more, &p.memo, nil
	}
	postings, more, err := s.ledger.BookedItems(ctx, q)
	if err != nil {
		return nil, false, nil, err
	}
	p := &cachedPage{postings: postings, more: more}
	s.pages.put(q, p)
	return postings, more, &p.memo, nil
}
