package main

import (
	"flag"

	"github.com/psd2bank/psd2bank/internal/sca"
)

// hashFlags adds the password-hash limits to a command's flags
// (PSD2BANK_ARGON2_CONCURRENCY, PSD2BANK_ARGON2_WAIT) and returns the
// function that applies them once the flags are parsed.
func hashFlags(fs *flag.FlagSet) func() {
	n := fs.Int("argon2-concurrency", sca.DefaultHashConcurrency,
		"password hashes (argon2id, 19 MiB each) computed at once; other log-ins wait, then get 503 with Retry-After")
	wait := fs.Duration("argon2-wait", sca.DefaultHashWait, "how long a log-in waits for a password-hash slot")
	return func() { sca.SetHashLimit(*n, *wait) }
}
