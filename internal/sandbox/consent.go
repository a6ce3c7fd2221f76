package sandbox

import (
	"context"
	"strings"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/sca"
)

// WebURL is the web listener's address (http://host:port) once it listens.
func (b *Bank) WebURL() string {
	if u, ok := b.webURL.Load().(string); ok {
		return u
	}
	return "http://" + DefaultWebAddr
}

// decoupledPurpose marks the mobile-app challenge of a decoupled
// authorization request (authorizeExt): its decision completes the request.
const decoupledPurpose = "decoupled:"

// startDecoupled sends the customer's mobile app the request to approve.
func (b *Bank) startDecoupled(ctx context.Context, res oauth.AuthorizeResult, login string) error {
	customer, err := b.SCA.Customer(ctx, login)
	if err != nil {
		return err
	}
	p, err := b.OAuth.Request(ctx, res.RequestID)
	if err != nil {
		return err
	}
	_, err = b.SCA.StartMobile(ctx, customer, decoupledPurpose+res.RequestID,
		"Zgoda dla "+nonEmpty(p.TPPName, p.TPPID)+": "+string(p.Scope))
	return err
}

// decoupledDecision completes a decoupled request when the customer
// decides in the mobile app: the authorization server delivers the result
// to the TPP's callback.
func (b *Bank) decoupledDecision(ctx context.Context, c sca.Challenge) {
	requestID, ok := strings.CutPrefix(c.Purpose, decoupledPurpose)
	if !ok {
		return // the consent page's own challenges are completed by the page
	}
	if _, err := b.SCA.Consume(ctx, c.ID, c.CustomerID); err != nil {
		b.log.Error("decoupled decision", "request", requestID, "err", err)
		return
	}
	var err error
	if c.Status != sca.StatusApproved {
		_, err = b.OAuth.Reject(ctx, requestID, c.CustomerID)
	} else {
		var accounts []string
		if accounts, err = b.decoupledAccounts(ctx, requestID, c.CustomerID); err == nil {
			_, err = b.OAuth.Approve(ctx, requestID, c.CustomerID, accounts)
		}
	}
	if err != nil {
		b.log.Error("decoupled decision", "request", requestID, "err", err)
	}
}

// decoupledAccounts are the accounts a decoupled approval covers: those the
// TPP named, or else (the customer cannot choose in the app) all the
// customer's own accounts.
func (b *Bank) decoupledAccounts(ctx context.Context, requestID, customerID string) ([]string, error) {
	p, err := b.OAuth.Request(ctx, requestID)
	if err != nil {
		return nil, err
	}
	if len(p.Accounts) > 0 || p.Scope == consent.ScopePIS {
		return p.Accounts, nil
	}
	accts, err := b.Ledger.AccountsOf(ctx, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(accts))
	for _, a := range accts {
		out = append(out, a.NRB)
	}
	return out, nil
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
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
