package payment

// DueLists are RunDue's lists: the SQL that reads each, a value of its
// bound and its index.
var DueLists = []struct {
	Query string
	Bound any
	Index string
}{
	{`SELECT ` + paymentColumns + ` FROM payments WHERE ` + staleList, int64(1), "payments_stale"},
	{`SELECT ` + paymentColumns + ` FROM payments WHERE ` + scheduledList, "2026-01-01", "payments_scheduled"},
	{`SELECT ` + paymentColumns + ` FROM payments WHERE ` + pendingList, int64(1), "payments_due"},
}
