package sandbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// A first start that dies half way (here: the first statement that books
// the history fails, after the customers and accounts are in) leaves a
// bank that the next start detects, empties and builds again, instead of
// failing on duplicate keys forever. A database with data that was never
// a sandbox is refused untouched.
func TestInterruptedFirstStartIsRebuilt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var logged strings.Builder
		b := &Bank{cfg: Config{Seed: DefaultSeed}, log: slog.New(slog.NewTextHandler(&logged, nil)),
			hashPassword: func(p string) (string, error) { return "test-hash:" + p, nil }}
		crash := errors.New("kill -9")
		db.SetHook(func(q string) error {
			if strings.Contains(q, "postings") {
				return crash
			}
			return nil
		})
		if err := b.bootstrap(ctx, db); !errors.Is(err, crash) {
			t.Fatalf("first start: %v, want the injected failure", err)
		}
		db.SetHook(nil)
		var customers int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&customers)
		if customers == 0 {
			t.Fatal("the failure came before anything was written: the test shows nothing")
		}
		if err := b.bootstrap(ctx, db); err != nil {
			t.Fatalf("second start: %v", err)
		}
		if !strings.Contains(logged.String(), "interrupted") {
			t.Errorf("no clear message about the half-built bank: %s", logged.String())
		}
		var again, postings int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&again)
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM postings`).Scan(&postings)
		if again != customers || postings == 0 {
			t.Fatalf("rebuilt bank: %d customers (want %d), %d postings", again, customers, postings)
		}
		if seeded, _ := hasSetting(ctx, db, settingSeed); !seeded {
			t.Fatal("the rebuilt bank is not marked finished")
		}
		if building, _ := hasSetting(ctx, db, settingBuilding); building {
			t.Fatal("the building mark stayed")
		}
		// A third start changes nothing.
		if err := b.bootstrap(ctx, db); err != nil {
			t.Fatal(err)
		}
		// Data without a sandbox's marks is not the sandbox's to empty.
		db.ExecContext(ctx, `DELETE FROM settings`)
		b.log = slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := b.bootstrap(ctx, db); !errors.Is(err, ErrNotASandbox) {
			t.Fatalf("foreign data: %v", err)
		}
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&again)
		if again != customers {
			t.Fatalf("foreign data was touched: %d customers", again)
		}
	})
}

// TestNodesStartTogether starts two sandbox nodes at once on one new
// PostgreSQL database, as `psd2bank sandbox --db` on two machines: both
// must start, the bank built once (one node builds, the other waits, then
// finds it finished). Before the nodes' lock the second node failed, in
// the migrations or by taking the first one's build for an interrupted one.
func TestNodesStartTogether(t *testing.T) {
	t.Parallel()
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	const nodes = 2
	errs := make([]error, nodes)
	dbs := make([]*store.DB, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
		b := &Bank{cfg: Config{Seed: DefaultSeed}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			hashPassword: func(p string) (string, error) { return "test-hash:" + p, nil }}
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			if _, err := db.Migrate(ctx); err != nil {
				errs[i] = err
				return
			}
			errs[i] = b.bootstrap(ctx, db)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	if seeded, _ := hasSetting(ctx, dbs[0], settingSeed); !seeded {
		t.Error("the bank is not marked finished")
	}
	if building, _ := hasSetting(ctx, dbs[0], settingBuilding); building {
		t.Error("the building mark stayed")
	}
}
