package payment_test

import (
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestDueListsReadPartialIndexes checks, on both engines, that each of
// RunDue's lists is read from the partial index of its status (migration
// 29): a list that read the table instead would scan every payment ever
// made on every run.
func TestDueListsReadPartialIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, l := range payment.DueLists {
			plan := storetest.Plan(t, db, l.Query, l.Bound, 10)
			if !strings.Contains(plan, " "+l.Index) || strings.Contains(plan, "SCAN payments") || strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: the plan does not read index %s:\n%s", l.Index, l.Index, plan)
			}
		}
	})
}
