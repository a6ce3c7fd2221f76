package ledger

// BookedItemsQuery is the SQL and arguments BookedItems runs for q (limit
// already checked), for tests that look at its plan.
func BookedItemsQuery(q BookedQuery, limit int) (string, []any) { return bookedItemsQuery(q, limit) }
