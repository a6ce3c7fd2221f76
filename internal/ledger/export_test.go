package ledger

import "github.com/psd2bank/psd2bank/internal/store"

// BookedItemsQuery is the SQL and arguments BookedItems runs for q (limit
// already checked), for tests that look at its plan.
func BookedItemsQuery(q BookedQuery, limit int, engine store.Engine) (string, []any) {
	return bookedItemsQuery(q, limit, engine)
}

// UnpackPostings cuts a packed page into its items.
func UnpackPostings(packed, accountID string, max int) ([]Posting, error) {
	return unpackPostings(packed, accountID, max)
}
