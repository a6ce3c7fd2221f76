package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/psd2bank/psd2bank/internal/store"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	dsn := fs.String("db", "", "database: a PostgreSQL `URL` (postgres://...) or an SQLite file path")
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *dsn == "" {
		return usageError{"migrate needs --db (or PSD2BANK_DB): a PostgreSQL URL or an SQLite file path"}
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := db.Version(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "database is up to date at version %d\n", v)
		return nil
	}
	fmt.Fprintf(stdout, "applied migrations %v; database is at version %d\n", applied, v)
	return nil
}
