package payment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestDueListsReadPartialIndexes checks, on both engines, that each of
// RunDue's lists is read from the partial index of its status (migration
// 29): a list that read the table instead would scan every payment ever
// made on every run. On PostgreSQL sequential and bitmap scans are turned
// off, as an empty table would otherwise be read whole; the plan is the
// generic one (the bound and the batch unknown), which is what a prepared
// statement runs.
func TestDueListsReadPartialIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, l := range payment.DueLists {
			var plan []string
			err := db.InTx(ctx, func(tx *store.Tx) error {
				explain := `EXPLAIN QUERY PLAN ` + l.Query
				args := []any{int64(1), 10}
				if db.Engine() == store.Postgres {
					for _, s := range []string{"enable_seqscan = off", "enable_bitmapscan = off", "plan_cache_mode = force_generic_plan"} {
						if _, err := tx.ExecContext(ctx, `SET LOCAL `+s); err != nil {
							return err
						}
					}
					if _, err := tx.ExecContext(ctx, `PREPARE due_list AS `+l.Query); err != nil {
						return err
					}
					explain, args = `EXPLAIN EXECUTE due_list(NULL, NULL)`, nil
				}
				rows, err := tx.QueryContext(ctx, explain, args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					for i := range vals {
						vals[i] = new(any)
					}
					if err := rows.Scan(vals...); err != nil {
						return err
					}
					plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
				}
				if err := rows.Err(); err != nil {
					return err
				}
				if db.Engine() == store.Postgres {
					_, err = tx.ExecContext(ctx, `DEALLOCATE due_list`)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(plan, "\n")
			if !strings.Contains(joined, " "+l.Index) || strings.Contains(joined, "SCAN payments\n") || strings.HasSuffix(joined, "SCAN payments") || strings.Contains(joined, "Seq Scan") {
				t.Errorf("%s: the plan does not read index %s:\n%s", l.Index, l.Index, joined)
			}
		}
	})
}
