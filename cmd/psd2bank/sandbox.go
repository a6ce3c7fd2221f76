package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/psd2bank/psd2bank/internal/sandbox"
)

func runSandbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sandbox", stderr)
	var cfg sandbox.Config
	var hosts listFlag
	fs.StringVar(&cfg.DataDir, "data", sandbox.DefaultDataDir, "data `directory`, created on first start and reused later")
	fs.StringVar(&cfg.APIAddr, "api-addr", sandbox.DefaultAPIAddr, "TPP API listener (HTTPS, client certificates): PolishAPI under /v2_1_2.1, mBank under /{bankId}/v3, Berlin Group under /berlingroup/v1")
	fs.StringVar(&cfg.WebAddr, "web-addr", sandbox.DefaultWebAddr, "web listener: internet banking, portal, back office, sandbox tools, /healthz, /metrics")
	fs.Var(&hosts, "api-host", "extra host `name` for the API's server certificate (repeatable)")
	fs.StringVar(&cfg.DB, "db", "", "PostgreSQL `URL` to keep the bank in, instead of the SQLite file in the data directory")
	fs.Int64Var(&cfg.Seed, "seed", sandbox.DefaultSeed, "seed of the synthetic customers and history (first start only)")
	applyHashFlags := hashFlags(fs)
	adminAddr := adminFlags(fs)
	newLog := logFlags(fs, "text", true)
	if err := parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	applyHashFlags()
	cfg.APIHosts, cfg.AdminAddr = hosts, adminAddr()
	log, err := newLog(stderr)
	if err != nil {
		return err
	}
	bank, err := sandbox.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer bank.Close()
	return bank.Serve(ctx, stdout)
}
