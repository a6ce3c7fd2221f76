// Package faulttest checks a transport's table of domain codes against
// every code the domain packages define.
package faulttest

import (
	"slices"
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

// NotFound are the codes that mean "there is no such thing": each
// transport answers them alike (404, but for an unknown consent, which
// PolishAPI, mBank and Berlin Group answer 403 CONSENT_UNKNOWN). sca's
// not_found is "no such challenge of this customer", which the pages
// answer as forbidden (another customer's challenge is not told apart).
var NotFound = []fault.Code{
	"access.not_found", "access.unknown_account", "ais.account_unknown", "ais.item_unknown",
	"consent.consent_not_found", "consent.consent_unknown", "ledger.not_found", "oauth.request_unknown",
	"payment.not_found", "tpp.not_found",
}

// CheckNotFound fails t for every code of NotFound that is not defined or
// whose status (by status) is not want(code).
func CheckNotFound(t testing.TB, name string, status func(fault.Code) int, want func(fault.Code) int) {
	t.Helper()
	defined := fault.Codes()
	for _, c := range NotFound {
		if !slices.Contains(defined, c) {
			t.Errorf("%s is not a code any more: update faulttest.NotFound", c)
			continue
		}
		if got := status(c); got != want(c) {
			t.Errorf("%s: %s answers %d, want %d (not found means the same everywhere)", name, c, got, want(c))
		}
	}
}
