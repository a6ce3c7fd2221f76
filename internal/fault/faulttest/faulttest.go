// Package faulttest checks a transport's table of domain codes against
// every code the domain packages define.
package faulttest

import (
	"testing"

	// Every domain package that defines codes, so that fault.Codes holds
	// them all.
	_ "github.com/psd2bank/psd2bank/internal/access"
	_ "github.com/psd2bank/psd2bank/internal/ais"
	_ "github.com/psd2bank/psd2bank/internal/consent"
	_ "github.com/psd2bank/psd2bank/internal/ledger"
	_ "github.com/psd2bank/psd2bank/internal/oauth"
	_ "github.com/psd2bank/psd2bank/internal/payment"
	_ "github.com/psd2bank/psd2bank/internal/sca"
	_ "github.com/psd2bank/psd2bank/internal/tpp"

	"github.com/psd2bank/psd2bank/internal/fault"
)

// Domains are the packages whose codes every transport maps.
var Domains = []string{"access", "ais", "consent", "ledger", "oauth", "payment", "sca", "tpp"}

// CheckTable fails t for every domain code that table (a transport's,
// named name) has no entry for.
func CheckTable(t testing.TB, name string, has func(fault.Code) bool) {
	t.Helper()
	codes := fault.Codes()
	seen := map[string]int{}
	for _, c := range codes {
		seen[c.Domain()]++
		if !has(c) {
			t.Errorf("%s has no entry for %s: add how the code answers there", name, c)
		}
	}
	for _, d := range Domains {
		if seen[d] == 0 {
			t.Errorf("no codes of %s are defined: is the package linked in?", d)
		}
	}
}
