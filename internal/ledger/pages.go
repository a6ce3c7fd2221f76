package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The pages of BookedItems, backwards and to the end: a page is the Limit
// items older than its BeforeSeq (newest first), so the page before a
// page and the page of the oldest items are found by counting Limit items
// up from a sequence number.

// PreviousBookedPage returns the BeforeSeq of the page before the page of
// q whose newest item has sequence number newest: the q.Limit items just
// newer, under q's filter (and q.AfterSeq). 0 means the first page.
func (l *Ledger) PreviousBookedPage(ctx context.Context, q BookedQuery, newest int64) (int64, error) {
	return l.pageAbove(ctx, q, max(newest, q.AfterSeq))
}

// LastBookedPage returns the BeforeSeq of the page of the q.Limit oldest
// items under q's filter (and q.AfterSeq). 0 means the first page.
func (l *Ledger) LastBookedPage(ctx context.Context, q BookedQuery) (int64, error) {
	return l.pageAbove(ctx, q, q.AfterSeq)
}

// pageAbove is the sequence number of the item q.Limit+1 up from floor
// (exclusive) under q's filter, or 0 when there are not that many.
func (l *Ledger) pageAbove(ctx context.Context, q BookedQuery, floor int64) (int64, error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return 0, err
	}
	var sb strings.Builder
	sb.WriteString(`SELECT seq FROM postings WHERE account_id = $1 AND seq > $2`)
	args := []any{q.AccountID, floor}
	q.ItemFilter.where(&sb, &args, "trade_date", "booking_date", "amount", true)
	args = append(args, limit)
	fmt.Fprintf(&sb, " ORDER BY seq LIMIT 1 OFFSET $%d", len(args))
	var seq int64
	err = l.db.QueryRowContext(ctx, sb.String(), args...).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("page bounds: %w", err)
	}
	return seq, nil
}

// PageBoundsOf is LastBookedPage and PreviousBookedPage as two columns of
// another statement — one that reads the account, such as the consent's
// statement of a Berlin Group transaction list — so that a page's links
// cost no statement of their own. account is the SQL expression of q's
// account id and lastSeq of the bound of the page q reads (the account's
// last_seq as the same statement reads it, see ais.Service.BookedPage);
// their placeholders are numbered from first and args are their values.
// The columns are: the BeforeSeq of the last page (LastBookedPage's), and
// the BeforeSeq of the page before the page of q (PreviousBookedPage's
// for the page's newest item, which the column finds itself: the newest
// item under q's filter older than q.BeforeSeq and not after lastSeq);
// each NULL where its function gives 0 — the second always on the first
// page (q.BeforeSeq 0), which has none before it, and when the page is
// empty, where it means nothing. TestPageBoundsOfAgree runs both
// against the functions.
func PageBoundsOf(account, lastSeq string, q BookedQuery, first int) (columns string, args []any, err error) {
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return "", nil, err
	}
	all := make([]any, first-1, first+16) // numbered from first: where numbers by the count
	pageAbove := func(floor string) string {
		var sb strings.Builder
		sb.WriteString(`(SELECT seq FROM postings WHERE account_id = ` + account + ` AND seq > ` + floor)
		q.ItemFilter.where(&sb, &all, "trade_date", "booking_date", "amount", true)
		all = append(all, limit)
		fmt.Fprintf(&sb, " ORDER BY seq LIMIT 1 OFFSET $%d)", len(all))
		return sb.String()
	}
	// The last page counts up from q.AfterSeq, or from the first day as a
	// sequence bound where that is higher (as bookedItemsQuery makes it;
	// one expression, so that the walk up the index starts there and not
	// at the account's oldest item).
	all = append(all, q.AfterSeq)
	floor := fmt.Sprintf("$%d", len(all))
	if q.BookingFrom != "" {
		all = append(all, q.BookingFrom)
		floor = fmt.Sprintf(`(SELECT CASE WHEN d.seq > %s THEN d.seq ELSE %s END FROM (SELECT COALESCE((SELECT seq FROM postings
			WHERE account_id = %s AND booking_date < $%d ORDER BY booking_date DESC, seq DESC LIMIT 1), 0) AS seq) d)`,
			floor, floor, account, len(all))
	}
	last := pageAbove(floor)
	if q.BeforeSeq <= 0 { // the first page: none before it
		return last + ", CAST(NULL AS BIGINT)", all[first-1:], nil
	}
	// The page's newest item: the first one down from its bound (a
	// backward walk of the index that stops there; MAX would walk them all).
	all = append(all, q.BeforeSeq, q.AfterSeq)
	var newest strings.Builder
	fmt.Fprintf(&newest, `(SELECT seq FROM postings WHERE account_id = %s AND seq < $%d AND seq > $%d AND seq <= %s`,
		account, len(all)-1, len(all), lastSeq)
	q.ItemFilter.where(&newest, &all, "trade_date", "booking_date", "amount", true)
	newest.WriteString(" ORDER BY seq DESC LIMIT 1)")
	previous := pageAbove(newest.String())
	return last + ", " + previous, all[first-1:], nil
}
