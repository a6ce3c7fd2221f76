package stats_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

// BenchmarkRecord is the recording's cost per call on the request path:
// Begin, Label and End (the middleware's work without the HTTP wrapping),
// from parallel goroutines, flushing every 5 s as Run does.
func BenchmarkRecord(b *testing.B) {
	db := storetest.SQLite(b)
	rec := stats.New(stats.Config{DB: db})
	stop := rec.Start(context.Background())
	defer stop()
	services := []string{"AIS", "PIS", "CAF", "AS"}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		ctx := context.Background()
		for pb.Next() {
			c := rec.Begin(stats.API)
			stats.Label(stats.WithCall(ctx, c), "polishapi", services[i%4])
			rec.End(c, 200)
			i++
		}
	})
}

// BenchmarkStorage writes a day of minute rows — every minute, 12 keys
// (AIS, PIS, CAF, AS in two dialects, IB and CONSENT, and OTHER) — and
// reports the bytes the rows take on each engine: storage grows with
// minutes and keys, not with calls.
func BenchmarkStorage(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var db *store.DB
			var dir string
			if engine == "sqlite" {
				dir = b.TempDir()
				var err error
				if db, err = store.Open(context.Background(), filepath.Join(dir, "s.db")); err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Migrate(context.Background()); err != nil {
					b.Fatal(err)
				}
			} else {
				db = storetest.Postgres(b)
			}
			ctx := context.Background()
			var rows int
			for n := 0; n < b.N; n++ {
				clk := clock.NewFixed(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n))
				rec := stats.New(stats.Config{DB: db, Clock: clk, Stopwatch: clk})
				for m := 0; m < 1440; m++ {
					for _, d := range []string{"polishapi", "mbank"} {
						for _, s := range []string{"AIS", "PIS", "CAF", "AS"} {
							for range 3 {
								c := rec.Begin(stats.API)
								stats.Label(stats.WithCall(ctx, c), d, s)
								clk.Advance(time.Millisecond)
								rec.End(c, 200)
							}
						}
					}
					rec.End(rec.Begin(stats.API), 404) // OTHER
					for _, s := range []string{stats.ServiceIB, stats.ServiceConsent} {
						c := rec.Begin(stats.Web)
						stats.Label(stats.WithCall(ctx, c), "", s)
						rec.End(c, 200)
					}
					clk.Advance(time.Minute - 24*time.Millisecond)
					if m%60 == 59 {
						if err := rec.Flush(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
				rows += 1440 * 11
			}
			b.StopTimer()
			var bytes int64
			if engine == "postgres" {
				if err := db.QueryRowContext(ctx, `SELECT pg_total_relation_size('stats_minute')`).Scan(&bytes); err != nil {
					b.Fatal(err)
				}
			} else {
				db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
				var pages, size int64
				db.QueryRowContext(ctx, `SELECT COUNT(*) FROM stats_minute`).Scan(&rows)
				if err := db.QueryRowContext(ctx, `SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'stats_minute%' OR name LIKE 'sqlite_autoindex_stats_minute%'`).Scan(&size); err != nil {
					fi, _ := os.Stat(filepath.Join(dir, "s.db"))
					size = fi.Size()
				}
				_ = pages
				bytes = size
			}
			var n int
			db.QueryRowContext(ctx, `SELECT COUNT(*) FROM stats_minute`).Scan(&n)
			b.ReportMetric(float64(bytes)/float64(n), "bytes/row")
			b.ReportMetric(float64(n), "rows")
		})
	}
}
