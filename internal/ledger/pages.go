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
