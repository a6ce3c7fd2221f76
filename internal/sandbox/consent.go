package sandbox

import (
	"context"

	"github.com/psd2bank/psd2bank/internal/ledger"
)

// WebURL is the web listener's address (http://host:port) once it listens.
func (b *Bank) WebURL() string {
	if u, ok := b.webURL.Load().(string); ok {
		return u
	}
	return "http://" + DefaultWebAddr
}

// activateFirms turns API access on for the test firms' accounts (company
// and corporate accounts start "not activated", as at the bank; the sandbox
// wants them usable at once). An account blocked on purpose stays blocked.
func (b *Bank) activateFirms(ctx context.Context) error {
	customers, err := b.Ledger.Customers(ctx)
	if err != nil {
		return err
	}
	var nrbs []string
	for _, c := range customers {
		if c.Segment == ledger.Retail {
			continue
		}
		accts, err := b.Ledger.AccountsOf(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, a := range accts {
			nrbs = append(nrbs, a.NRB)
		}
	}
	return b.Access.EnsureActive(ctx, nrbs...)
}
