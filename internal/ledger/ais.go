package ledger

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// This file holds the queries of account information (AIS): the items of
// one account in each state, one keyset page at a time, with the filters
// of PolishAPI's ItemInfoRequestBase. Every list is newest first and every
// page starts from a key of the page before, never from an offset, so a
// page costs the same at any depth of the history.

// Side selects debits or credits of an account.
type Side int

const (
	AnySide Side = iota // both
	Debits              // money leaving the account
	Credits             // money entering it
)

// ItemFilter narrows a list of account items. Zero fields do not filter.
type ItemFilter struct {
	TradeFrom, TradeTo     string // trade (transaction) date, inclusive, "YYYY-MM-DD"
	BookingFrom, BookingTo string // booking date, inclusive; booked items only
	// MinAmount and MaxAmount bound the item's absolute amount, inclusive;
	// zero leaves that end open.
	MinAmount, MaxAmount money.Amount
	Side                 Side
}

// where appends the filter's conditions on the given columns to sb, and
// their arguments to args (only the arguments when sb is nil).
// amountSigned tells whether amount is signed (postings: negative for a
// debit) or always positive (transfers, holds: the side is fixed by the
// query).
func (f ItemFilter) where(sb *strings.Builder, args *[]any, trade, booking, amount string, amountSigned bool) {
	cond := func(format string, v any) {
		*args = append(*args, v)
		if sb != nil {
			fmt.Fprintf(sb, " AND "+format, len(*args))
		}
	}
	if f.TradeFrom != "" && trade != "" {
		cond(trade+" >= $%d", f.TradeFrom)
	}
	if f.TradeTo != "" && trade != "" {
		cond(trade+" <= $%d", f.TradeTo)
	}
	if f.BookingFrom != "" && booking != "" {
		cond(booking+" >= $%d", f.BookingFrom)
	}
	if f.BookingTo != "" && booking != "" {
		cond(booking+" <= $%d", f.BookingTo)
	}
	if !amountSigned {
		if f.MinAmount > 0 {
			cond(amount+" >= $%d", amt(f.MinAmount))
		}
		if f.MaxAmount > 0 {
			cond(amount+" <= $%d", amt(f.MaxAmount))
		}
		return
	}
	switch {
	case sb == nil:
	case f.Side == Debits:
		sb.WriteString(" AND " + amount + " < 0")
	case f.Side == Credits:
		sb.WriteString(" AND " + amount + " > 0")
	}
	// The absolute amount between the bounds: on the side asked, or on
	// either side.
	if f.MinAmount > 0 || f.MaxAmount > 0 {
		lo, hi := amt(f.MinAmount), amt(f.MaxAmount)
		if hi == 0 {
			hi = 1<<63 - 1
		}
		if lo == 0 {
			lo = 1
		}
		*args = append(*args, lo, hi, -hi, -lo)
		if sb == nil {
			return
		}
		n := len(*args)
		fmt.Fprintf(sb, " AND ((%s BETWEEN $%d AND $%d) OR (%s BETWEEN $%d AND $%d))", amount, n-3, n-2, amount, n-1, n)
	}
}

// earliestDate is the earliest of the non-empty dates ("YYYY-MM-DD").
func earliestDate(dates ...string) string {
	out := ""
	for _, d := range dates {
		if d != "" && (out == "" || d < out) {
			out = d
		}
	}
	return out
}

// pageLimit checks a page size; 0 means 100.
// keysetBound appends a keyset condition on (col, id): the rows strictly
// before (op "<") or after (op ">") the position (v, id) in that order.
func keysetBound(sb *strings.Builder, args *[]any, col, op string, v any, id string) {
	*args = append(*args, v, id)
	n := len(*args)
	fmt.Fprintf(sb, " AND (%s %s $%d OR (%s = $%d AND id %s $%d))", col, op, n-1, col, n-1, op, n)
}

// queryPage runs a page query that asked for limit+1 rows and tells
// whether more follow.
func queryPage[T any](ctx context.Context, q store.Querier, scan func(rowScanner) (T, error), limit int, query string, args ...any) ([]T, bool, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	out := make([]T, 0, min(limit+1, 101)) // a page, without regrowing
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

func pageLimit(n int) (int, error) {
	if n <= 0 {
		return 100, nil
	}
	if n > 1000 {
		return 0, errorf(CodeInvalid, "a page holds at most 1000 items, %d were asked", n)
	}
	return n, nil
}

// BookedQuery selects booked items (postings) of one account, newest
// first, keyset-paginated on the account's item sequence.
type BookedQuery struct {
	AccountID string
	ItemFilter
	BeforeSeq int64 // only items older than this sequence number; 0 means from the newest
	AfterSeq  int64 // only items newer than this (incremental sync); 0 means no bound
	Limit     int   // 1..1000; default 100
}

const postingColumns = `id, account_id, seq, transfer_id, amount, balance_after, currency, kind, title,
	counterparty_name, counterparty_account, trade_date, booking_date, booked_at`

// PostingColumnsOf are the columns PostingRow reads, of the postings table
// named alias (for another service's statement that joins it).
func PostingColumnsOf(alias string) string {
	cols := strings.Split(postingColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// PostingRow scans PostingColumnsOf, which may all be NULL (a LEFT JOIN
// that found no item).
type PostingRow struct {
	id, account, transfer, currency, kind, title, cpName, cpAccount, trade, booking sql.NullString
	seq, amount, balance, bookedAt                                                  sql.NullInt64
}

// Dest are the scan destinations of PostingColumnsOf.
func (r *PostingRow) Dest() []any {
	return []any{&r.id, &r.account, &r.seq, &r.transfer, &r.amount, &r.balance, &r.currency, &r.kind,
		&r.title, &r.cpName, &r.cpAccount, &r.trade, &r.booking, &r.bookedAt}
}

// Posting is the item read; found is false when there was none.
func (r *PostingRow) Posting() (p Posting, found bool) {
	if !r.id.Valid {
		return Posting{}, false
	}
	return Posting{ID: r.id.String, AccountID: r.account.String, Seq: r.seq.Int64, TransferID: r.transfer.String,
		Amount: money.Amount(r.amount.Int64), BalanceAfter: money.Amount(r.balance.Int64), Currency: r.currency.String,
		Kind: r.kind.String, Title: r.title.String, Counterparty: Party{Name: r.cpName.String, Account: r.cpAccount.String},
		TradeDate: r.trade.String, BookingDate: r.booking.String, BookedAt: fromMicros(r.bookedAt.Int64)}, true
}

// ClosingBalanceOf is SQL for the booked balance of an account at the end
// of a day: the balance after its last item booked on or before the day
// (NULL when it has none). account is an SQL expression of the account's
// id, day a placeholder of the day (YYYY-MM-DD). An account's items are
// booked in sequence order, so their booking dates never decrease with seq.
func ClosingBalanceOf(account, day string) string {
	return `(SELECT cb.balance_after FROM postings cb WHERE cb.account_id = ` + account + ` AND cb.booking_date <= ` + day +
		` ORDER BY cb.booking_date DESC, cb.seq DESC LIMIT 1)`
}

func scanPosting(row rowScanner) (Posting, error) {
	var p Posting
	var amount, balance, booked int64
	err := row.Scan(&p.ID, &p.AccountID, &p.Seq, &p.TransferID, &amount, &balance, &p.Currency, &p.Kind,
		&p.Title, &p.Counterparty.Name, &p.Counterparty.Account, &p.TradeDate, &p.BookingDate, &booked)
	p.Amount, p.BalanceAfter, p.BookedAt = money.Amount(amount), money.Amount(balance), fromMicros(booked)
	return p, err
}

// BookedItems returns a page of an account's booked items, newest first,
// and whether more follow. Unlike Postings it also filters by trade date,
// amount and side.
func (l *Ledger) BookedItems(ctx context.Context, q BookedQuery) ([]Posting, bool, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return nil, false, err
	}
	query, args := bookedItemsQuery(q, limit, engineOf(l.db))
	var packed string
	if err := l.db.QueryRowContext(ctx, query, args...).Scan(&packed); err != nil {
		return nil, false, err
	}
	page, err := unpackPostings(packed, q.AccountID, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(page) > limit {
		return page[:limit], true, nil
	}
	return page, false, nil
}

// engineOf is the engine of db (SQLite when it does not say).
func engineOf(db any) store.Engine {
	if e, ok := db.(interface{ Engine() store.Engine }); ok {
		return e.Engine()
	}
	return store.SQLite
}

// bookedItemsQuery is the SQL of a page of booked items and its arguments:
// one row of one column, the page packed (packedPosting). The page reads
// only the postings_page index (migration 28), which holds every column in
// the order (account_id, seq).
func bookedItemsQuery(q BookedQuery, limit int, engine store.Engine) (string, []any) {
	before := q.BeforeSeq
	if before <= 0 {
		before = 1<<63 - 1
	}
	// The SQL depends on which filters are set, not on their values: made
	// once per shape, the arguments every time.
	from := earliestDate(q.TradeFrom, q.BookingFrom)
	shape := bookedShape{engine: engine, from: from != "", bookingTo: q.BookingTo != "", tradeFrom: q.TradeFrom != "",
		tradeTo: q.TradeTo != "", bookingFrom: q.BookingFrom != "", min: q.MinAmount > 0, max: q.MaxAmount > 0, side: q.Side}
	if engine == store.Postgres && !shape.tradeFrom && !shape.tradeTo && !shape.min && !shape.max && q.Side == AnySide {
		shape.window = limit + 1
	}
	bookedSQL.RLock()
	query, ok := bookedSQL.m[shape]
	bookedSQL.RUnlock()
	var sb *strings.Builder
	if !ok {
		sb = new(strings.Builder)
	}
	write := func(format string, n ...any) {
		if sb != nil {
			fmt.Fprintf(sb, format, n...)
		}
	}
	// The subquery picks the page's items in order; string_agg joins them
	// in the order they come, which neither engine promises: the order is
	// checked when they are cut apart (an ORDER BY in the aggregate would
	// sort them again, a third of the query's time on SQLite).
	item := packedPostingSQLite
	if engine == store.Postgres {
		item = packedPostingPostgres
	}
	args := make([]any, 0, 8)
	args = append(args, q.AccountID, before, q.AfterSeq, packSep)
	if shape.window > 0 {
		// PostgreSQL, no filter but dates: the page as a window of
		// sequence numbers (see bookedWindowSQL).
		if from != "" {
			args = append(args, from)
		}
		if q.BookingTo != "" {
			args = append(args, q.BookingTo)
		}
		if sb != nil {
			query = bookedWindowSQL(item, shape)
			bookedSQL.Lock()
			bookedSQL.m[shape] = query
			bookedSQL.Unlock()
		}
		return query, args
	}
	write(`SELECT COALESCE(string_agg(item, ''), '') FROM (SELECT seq, %s AS item FROM postings
	WHERE account_id = $1 AND seq < $2 AND seq > $3`, item)
	// Date bounds become sequence bounds too: an account's items are booked
	// in sequence order, so its booking dates never decrease with seq, and
	// an item traded on or after a day is booked on or after it. Found on
	// the (account_id, booking_date, seq) index, they keep a page's cost
	// independent of how much history lies outside the dates, where the
	// date conditions alone would have the scan walk all of it.
	if from != "" {
		args = append(args, from)
		write(` AND seq > COALESCE((SELECT seq FROM postings WHERE account_id = $1 AND booking_date < $%d
			ORDER BY booking_date DESC, seq DESC LIMIT 1), 0)`, len(args))
	}
	if q.BookingTo != "" {
		args = append(args, q.BookingTo)
		write(` AND seq < COALESCE((SELECT seq FROM postings WHERE account_id = $1 AND booking_date > $%d
			ORDER BY booking_date, seq LIMIT 1), $2)`, len(args))
	}
	q.ItemFilter.where(sb, &args, "trade_date", "booking_date", "amount", true)
	args = append(args, limit+1)
	if sb != nil {
		fmt.Fprintf(sb, " ORDER BY seq DESC LIMIT $%d) page", len(args))
		query = sb.String()
		bookedSQL.Lock()
		bookedSQL.m[shape] = query
		bookedSQL.Unlock()
	}
	return query, args
}

// bookedWindowSQL is the page query on PostgreSQL when only dates filter
// the items: arguments $1 the account, $2 the sequence number the page
// ends before, $3 the one it starts after, $4 packSep, then the earliest
// date (when shape.from) and the last booking date (when shape.bookingTo).
//
// An account's items are numbered 1, 2, 3, … without a gap (the ledger
// takes each posting's seq from the account's last_seq in the posting's
// own transaction, and postings are never deleted: CheckInvariants, which
// the ledger's concurrency tests run, says so), and with only dates to
// filter by, every item between the bounds belongs to the page. So the
// page is the window of shape.window sequence numbers below the upper
// bound, and no plan reads more rows than that. This matters because PostgreSQL plans a prepared
// statement for its parameters' values (a custom plan, about 0.15 ms of
// planning) until a plan for any values (the generic plan) looks no
// dearer, and the generic plan's guess at how many of an account's rows
// lie between two unknown bounds is a small constant fraction: with the
// bounds as plain parameters a 1,000,000-item account was planned anew on
// every page while a 10,000-item one used the generic plan, and the
// generic plan of a small guess could sort the whole account. Here every
// bound is a subquery's value, unknown to either plan, and the limit is in
// the text: the generic plan is taken after the first five, and whatever
// it is, it reads one window.
func bookedWindowSQL(item string, shape bookedShape) string {
	lower := "(SELECT $3::bigint)"
	upper := "$2, (SELECT max(seq) + 1 FROM postings WHERE account_id = $1)"
	n := 4
	if shape.from {
		n++
		lower += fmt.Sprintf(`, COALESCE((SELECT seq FROM postings WHERE account_id = $1 AND booking_date < $%d
			ORDER BY booking_date DESC, seq DESC LIMIT 1), 0)`, n)
	}
	if shape.bookingTo {
		n++
		upper += fmt.Sprintf(`, COALESCE((SELECT seq FROM postings WHERE account_id = $1 AND booking_date > $%d
			ORDER BY booking_date, seq LIMIT 1), $2)`, n)
	}
	return fmt.Sprintf(`SELECT COALESCE(string_agg(item, ''), '') FROM (SELECT seq, %s AS item FROM postings
	WHERE account_id = $1 AND seq > GREATEST(%s) AND seq < LEAST(%s) AND seq >= LEAST(%s) - %d
	ORDER BY seq DESC LIMIT %d) page`, item, lower, upper, upper, shape.window, shape.window)
}

// bookedShape is what the SQL of a page of booked items depends on.
type bookedShape struct {
	engine                                                     store.Engine
	from, bookingTo, tradeFrom, tradeTo, bookingFrom, min, max bool
	side                                                       Side
	window                                                     int // bookedWindowSQL's page: the limit + 1; 0 for another query
}

// bookedSQL holds the SQL of each shape met (a few hundred at most, and
// on PostgreSQL as many again for each page size a TPP asks for).
var bookedSQL = struct {
	sync.RWMutex
	m map[bookedShape]string
}{m: map[bookedShape]string{}}

// A page of booked items reads 100 rows of 14 columns; the database
// driver allocates for every value of every row (a string and its
// interface for a text, an interface for an integer): 1,000 allocations a
// page. The page is read instead as one value: each item packed into one
// text (packedPosting), the items joined by string_agg, cut apart here
// without copying.
//
// An item is its identifiers, codes, dates and integers (not the account,
// which the query names) — none of which holds a control character — each
// followed by packSep, then the byte lengths of its three free texts
// (title, counterparty's name and account), each followed by packSep, then
// those texts back to back. The lengths are the UTF-8 bytes Go receives:
// SQLite's octet_length of a text in a UTF-8 database (NULs and all); on
// PostgreSQL, of the text converted to UTF-8, whatever the server's
// encoding. The item is made by concat on both engines, not format: format's
// %s stops at a NUL on SQLite, and concat is the faster (PostgreSQL needs
// the separator's type said once).
const (
	packSep    = "\x1f"
	packFields = 13 // before the texts

	packedPostingSQLite = `concat(seq, $4, amount, $4, balance_after, $4, booked_at, $4, id, $4, transfer_id, $4, currency, $4,
	kind, $4, trade_date, $4, booking_date, $4, octet_length(title), $4, octet_length(counterparty_name), $4,
	octet_length(counterparty_account), $4, title, counterparty_name, counterparty_account)`
	packedPostingPostgres = `concat(seq, $4::text, amount, $4, balance_after, $4, booked_at, $4, id, $4, transfer_id, $4, currency, $4,
	kind, $4, trade_date, $4, booking_date, $4, octet_length(convert_to(title, 'UTF8')), $4,
	octet_length(convert_to(counterparty_name, 'UTF8')), $4, octet_length(convert_to(counterparty_account, 'UTF8')), $4,
	title, counterparty_name, counterparty_account)`
)

// unpackPostings cuts a packed page of the account's into its items (at
// most max).
func unpackPostings(packed, accountID string, max int) ([]Posting, error) {
	bad := func(what string) error { return fmt.Errorf("read booked items: %s in the packed page", what) }
	var out []Posting
	for packed != "" {
		if out == nil {
			out = make([]Posting, 0, min(max, 1001))
		}
		var f [packFields]string
		for i := range f {
			var ok bool
			if f[i], packed, ok = strings.Cut(packed, packSep); !ok {
				return nil, bad("a short item")
			}
		}
		var n [7]int64 // seq, amount, balance, booked at, three lengths
		for i, s := range [...]string{f[0], f[1], f[2], f[3], f[10], f[11], f[12]} {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, bad("a number that is not one")
			}
			n[i] = v
		}
		texts := n[4] + n[5] + n[6]
		if n[4] < 0 || n[5] < 0 || n[6] < 0 || texts > int64(len(packed)) {
			return nil, bad("a text length past the end")
		}
		out = append(out, Posting{
			Seq: n[0], Amount: money.Amount(n[1]), BalanceAfter: money.Amount(n[2]), BookedAt: fromMicros(n[3]),
			ID: f[4], AccountID: accountID, TransferID: f[5], Currency: f[6], Kind: f[7], TradeDate: f[8], BookingDate: f[9],
			Title: packed[:n[4]], Counterparty: Party{Name: packed[n[4] : n[4]+n[5]], Account: packed[n[4]+n[5] : texts]},
		})
		packed = packed[texts:]
	}
	if len(out) > max {
		return nil, bad("more items than asked")
	}
	for i := 1; i < len(out); i++ {
		if out[i].Seq >= out[i-1].Seq { // joined out of order: put them newest first
			slices.SortFunc(out, func(a, b Posting) int { return cmp.Compare(b.Seq, a.Seq) })
			break
		}
	}
	return out, nil
}

// BookedItem returns the booked item of a transfer on an account: the
// item's id in the API is its transfer's id, which a pending payment keeps
// when it is booked.
func (l *Ledger) BookedItem(ctx context.Context, accountID, transferID string) (Posting, error) {
	p, err := scanPosting(l.db.QueryRowContext(ctx, `SELECT `+postingColumns+` FROM postings
		WHERE transfer_id = $1 AND account_id = $2`, transferID, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return Posting{}, errorf(CodeNotFound, "no booked item %s on this account", transferID)
	}
	return p, err
}

// BookedItemOn is BookedItem on the account whose number (byID: whose
// id) is account, in one statement.
func (l *Ledger) BookedItemOn(ctx context.Context, account string, byID bool, transferID string) (Posting, error) {
	col := "nrb"
	if byID {
		col = "id"
	}
	p, err := scanPosting(l.db.QueryRowContext(ctx, `SELECT `+postingColumns+` FROM postings
		WHERE transfer_id = $1 AND account_id = (SELECT a.id FROM accounts a WHERE a.`+col+` = $2)`, transferID, account))
	if errors.Is(err, sql.ErrNoRows) {
		return Posting{}, errorf(CodeNotFound, "no booked item %s on this account", transferID)
	}
	return p, err
}

// TransferKey is a position in a list of transfers, which are ordered by
// execution date and id, newest first.
type TransferKey struct {
	Date string // execution date
	ID   string
}

// IsZero tells whether the key is unset.
func (k TransferKey) IsZero() bool { return k.ID == "" }

// Key returns the transfer's position in a list.
func (t Transfer) Key() TransferKey { return TransferKey{Date: t.ExecutionDate, ID: t.ID} }

// OutgoingQuery selects the transfers that an account ordered (it is the
// debit side) in one status other than booked: pending, scheduled,
// rejected or cancelled. Booked items are postings: see BookedItems.
type OutgoingQuery struct {
	AccountID string
	Status    Status
	ItemFilter
	Before TransferKey // only transfers after this one in the list (older); zero: from the newest
	After  TransferKey // only transfers before this one in the list (newer); zero: no bound
	Limit  int         // 1..1000; default 100
}

// OutgoingTransfers returns a page of the transfers an account ordered in a
// status, newest execution date first, and whether more follow. A filter
// for credits gives nothing: the account is the debit side of each.
func (l *Ledger) OutgoingTransfers(ctx context.Context, q OutgoingQuery) ([]Transfer, bool, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return nil, false, err
	}
	if q.Status == StatusBooked || q.Status == "" {
		return nil, false, errorf(CodeInvalid, "outgoing transfers are listed by a status other than booked, not %q", q.Status)
	}
	if q.Side == Credits {
		return nil, false, nil
	}
	var sb strings.Builder
	sb.WriteString(`SELECT ` + transferColumns + ` FROM transfers WHERE debit_account_id = $1 AND status = $2`)
	args := []any{q.AccountID, string(q.Status)}
	if !q.Before.IsZero() {
		keysetBound(&sb, &args, "execution_date", "<", q.Before.Date, q.Before.ID)
	}
	if !q.After.IsZero() {
		keysetBound(&sb, &args, "execution_date", ">", q.After.Date, q.After.ID)
	}
	q.ItemFilter.where(&sb, &args, "trade_date", "", "amount", false)
	args = append(args, limit+1)
	fmt.Fprintf(&sb, " ORDER BY execution_date DESC, id DESC LIMIT $%d", len(args))
	return queryPage(ctx, l.db, scanTransfer, limit, sb.String(), args...)
}

// HoldKey is a position in a list of holds, which are ordered by the time
// they were placed and id, newest first.
type HoldKey struct {
	CreatedAt int64 // microseconds since the epoch
	ID        string
}

// IsZero tells whether the key is unset.
func (k HoldKey) IsZero() bool { return k.ID == "" }

// Key returns the hold's position in a list.
func (h Hold) Key() HoldKey { return HoldKey{CreatedAt: micros(h.CreatedAt), ID: h.ID} }

// HoldQuery selects the active holds of an account.
type HoldQuery struct {
	AccountID string
	ItemFilter
	Before HoldKey // only holds after this one in the list (older); zero: from the newest
	After  HoldKey // only holds before this one in the list (newer); zero: no bound
	Limit  int     // 1..1000; default 100
}

// ActiveHolds returns a page of an account's active holds, newest first,
// and whether more follow. The trade-date filter applies to the day the
// hold was placed (in Poland); a filter for credits gives nothing.
func (l *Ledger) ActiveHolds(ctx context.Context, q HoldQuery) ([]Hold, bool, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return nil, false, err
	}
	if q.Side == Credits {
		return nil, false, nil
	}
	var sb strings.Builder
	sb.WriteString(`SELECT ` + holdColumns + ` FROM holds WHERE account_id = $1 AND status = 'active'`)
	args := []any{q.AccountID}
	if !q.Before.IsZero() {
		keysetBound(&sb, &args, "created_at", "<", q.Before.CreatedAt, q.Before.ID)
	}
	if !q.After.IsZero() {
		keysetBound(&sb, &args, "created_at", ">", q.After.CreatedAt, q.After.ID)
	}
	f := q.ItemFilter
	if f.TradeFrom != "" {
		from, err := dayStart(f.TradeFrom)
		if err != nil {
			return nil, false, err
		}
		args = append(args, from)
		fmt.Fprintf(&sb, " AND created_at >= $%d", len(args))
	}
	if f.TradeTo != "" {
		to, err := dayStart(f.TradeTo)
		if err != nil {
			return nil, false, err
		}
		args = append(args, to+int64(24*time.Hour/time.Microsecond))
		fmt.Fprintf(&sb, " AND created_at < $%d", len(args))
	}
	f.TradeFrom, f.TradeTo, f.BookingFrom, f.BookingTo = "", "", "", ""
	f.where(&sb, &args, "", "", "amount", false)
	args = append(args, limit+1)
	fmt.Fprintf(&sb, " ORDER BY created_at DESC, id DESC LIMIT $%d", len(args))
	return queryPage(ctx, l.db, scanHold, limit, sb.String(), args...)
}

// dayStart is the first instant of a Polish calendar day, in microseconds.
// (Days around a DST change are 23 or 25 hours long; a filter by day is
// close enough at their edges.)
func dayStart(day string) (int64, error) {
	t, err := time.ParseInLocation(time.DateOnly, day, warsaw)
	if err != nil {
		return 0, errorf(CodeInvalid, "%q is not a date (YYYY-MM-DD)", day)
	}
	return micros(t), nil
}

// HoldOn returns a hold of an account (active or not) by id.
func (l *Ledger) HoldOn(ctx context.Context, accountID, id string) (Hold, error) {
	h, err := getHold(ctx, l.db, id)
	if err == nil && h.AccountID != accountID {
		return Hold{}, errorf(CodeNotFound, "no hold with id %s on this account", id)
	}
	return h, err
}

// Secret returns the bank's secret of the given name: 32 random bytes made
// on first use and kept in the database, so that every node of the bank
// shares it (for example, the key that makes page tokens tamper-evident).
func (l *Ledger) Secret(ctx context.Context, name string) ([]byte, error) {
	key := "secret." + name
	var v string
	err := l.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		var b [32]byte
		rand.Read(b[:])
		// Two nodes may race here: the first insert wins and both read it.
		if _, err := l.db.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			key, hex.EncodeToString(b[:])); err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		err = l.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = $1`, key).Scan(&v)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return hex.DecodeString(v)
}
