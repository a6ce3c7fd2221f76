package payment

// DueLists are RunDue's lists: the SQL that reads each and its index.
var DueLists = []struct{ Query, Index string }{
	{`SELECT ` + paymentColumns + ` FROM payments WHERE ` + staleList, "payments_stale"},
	{`SELECT ` + paymentColumns + ` FROM payments WHERE ` + scheduledList, "payments_scheduled"},
	{`SELECT ` + paymentColumns + ` FROM payments WHERE ` + pendingList, "payments_due"},
}
