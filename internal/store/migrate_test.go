package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// TestNodesMigrateTogether starts four nodes' migrations at once on a new
// PostgreSQL schema, as when a new version is rolled out to every node:
// every node must start (one applies the migrations while the others wait
// for the lock, then find nothing to do), and each migration must be
// applied once. Without the lock a node failed ("duplicate key value
// violates unique constraint") in most runs, when its start fell while
// the first node's migrations were under way: the rounds space the nodes'
// starts differently.
func TestNodesMigrateTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const nodes = 4
	strides := []int{0, 5, 10, 15, 20, 30, 45} // ms between the nodes' starts, per round
	for round := range strides {
		url := storetest.PostgresURL(t)
		dbs := make([]*store.DB, nodes)
		for i := range dbs {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		applied := make([][]int64, nodes)
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, db := range dbs {
			wg.Go(func() {
				<-start
				time.Sleep(time.Duration(i*strides[round]) * time.Millisecond) // nodes never start at one instant
				applied[i], errs[i] = db.Migrate(ctx)
			})
		}
		close(start)
		wg.Wait()
		total := 0
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, node %d: %v", round, i, err)
			}
			total += len(applied[i])
		}
		var rows, distinct int
		var newest int64
		if err := dbs[0].QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT version_id), MAX(version_id) FROM goose_db_version
			WHERE version_id > 0`).Scan(&rows, &distinct, &newest); err != nil {
			t.Fatal(err)
		}
		v, err := dbs[0].Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if total == 0 || total != rows || rows != distinct || v != newest {
			t.Errorf("round %d: migrations applied %d in all, %d recorded (%d distinct), version %d of %d: want each applied once",
				round, total, rows, distinct, v, newest)
		}
	}
}
