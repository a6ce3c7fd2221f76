package main

import (
	"flag"

	"github.com/psd2bank/psd2bank/internal/server"
)

// adminFlags adds --admin and --admin-addr to a command that serves the
// bank; the address it returns is "" unless --admin is given.
func adminFlags(fs *flag.FlagSet) func() string {
	on := fs.Bool("admin", false, "start the admin listener: net/http/pprof under /debug/pprof/ and /metrics (off by default)")
	addr := fs.String("admin-addr", server.DefaultAdminAddr, "the admin listener's `address` (keep it on loopback or a private network)")
	return func() string {
		if !*on {
			return ""
		}
		return *addr
	}
}
