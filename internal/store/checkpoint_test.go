package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackgroundCheckpoints writes about 4,000 pages while readers look
// rows up all the time: the writer never checkpoints (wal_autocheckpoint(0)), the
// background checkpoints copy the log into the database file, and the log
// starts again instead of growing with every write (it would hold all 4,000
// pages, 16 MiB, if it never restarted).
func TestBackgroundCheckpoints(t *testing.T) {
	// Not parallel: it sets the package's checkpoint knobs.
	every, restart := checkpointEvery, walRestartPages
	checkpointEvery, walRestartPages = 20*time.Millisecond, 500
	defer func() { checkpointEvery, walRestartPages = every, restart }()

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var auto int
	if err := db.write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the writer's wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var v string
				db.QueryRowContext(ctx, `SELECT v FROM t WHERE id = 1`).Scan(&v)
			}
		}()
	}
	page := strings.Repeat("x", 3500) // about a page a row
	maxWAL := int64(0)
	for i := range 4000 / 20 {
		if err := db.InTx(ctx, func(tx *Tx) error {
			for j := range 20 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, i*20+j, page); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path + "-wal"); err == nil {
			maxWAL = max(maxWAL, st.Size())
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	readers.Wait()
	if limit := int64(4 * walRestartPages * 4096); maxWAL > limit {
		t.Errorf("the log grew to %d bytes, want it restarted before %d", maxWAL, limit)
	}
	// Once the writes stop, the background copies everything into the file.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 4000*3500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d bytes after the writes: the log was not copied into it", st.Size())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 4000 {
		t.Fatalf("%d rows (%v), want 4000", n, err)
	}
}
