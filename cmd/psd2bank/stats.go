package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/psd2bank/psd2bank/internal/sandbox"
	"github.com/psd2bank/psd2bank/internal/stats"
	"github.com/psd2bank/psd2bank/internal/store"
)

// runStats writes a quarter's interface statistics (one row per day and
// interface) as CSV and JSON: docs/statistics.md documents the columns.
func runStats(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stats", stderr)
	quarter := fs.String("quarter", "", "the `quarter`, e.g. 2026Q4 (default: the last full quarter)")
	out := fs.String("out", "", "`directory` to write psd2bank-stats-QUARTER.csv and .json into")
	dsn := fs.String("db", "", "the bank's database `URL` (postgres://...); default the sandbox's SQLite file in --data")
	data := fs.String("data", sandbox.DefaultDataDir, "the sandbox's data `directory`, when --db is not given")
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *out == "" {
		return usageError{"stats needs --out DIR: where to write the quarter's CSV and JSON files"}
	}
	now := time.Now()
	q := stats.QuarterOf(now).Prev()
	if *quarter != "" {
		var err error
		if q, err = stats.ParseQuarter(*quarter); err != nil {
			return usageError{"--quarter: " + err.Error()}
		}
	}
	if *dsn == "" {
		path := filepath.Join(*data, "psd2bank.db")
		if _, err := os.Stat(path); err != nil {
			return usageError{fmt.Sprintf("no sandbox database at %s: give --data DIR of a sandbox, or --db URL", path)}
		}
		*dsn = path
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := stats.Build(ctx, db, q, now)
	if err != nil {
		return fmt.Errorf("%w (is the database migrated? run psd2bank migrate --db ...)", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	base := filepath.Join(*out, stats.FileName(q))
	var csvBuf, jsonBuf bytes.Buffer
	if err := rep.WriteCSV(&csvBuf); err != nil {
		return err
	}
	if err := rep.WriteJSON(&jsonBuf); err != nil {
		return err
	}
	if err := os.WriteFile(base+".csv", csvBuf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", jsonBuf.Bytes(), 0o644); err != nil {
		return err
	}
	for _, t := range rep.Totals {
		fmt.Fprintf(stdout, "%s %s: uptime %.4f%%, planned downtime %.0f s, unplanned %.0f s, %d calls, error rate %.4f%%\n",
			rep.Quarter, t.Interface, t.UptimePct, t.PlannedDowntimeS, t.UnplannedDowntimeS, t.Calls, t.ErrorRatePct)
	}
	fmt.Fprintf(stdout, "wrote %s.csv and %s.json\n", base, base)
	return nil
}

func init() {
	registerCommand(command{name: "stats", args: "[--quarter 2026Q4] --out DIR [--db URL | --data DIR]",
		summary: "the dedicated interface's quarterly statistics (availability, performance) as CSV and JSON", run: runStats})
}
