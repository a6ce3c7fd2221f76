package bank

import (
	"context"
	"strings"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/sca"
)

// decoupledPurpose marks the mobile-app challenge of a decoupled
// authorization request (authorizeExt): its decision completes the request.
const decoupledPurpose = "decoupled:"

// startDecoupled sends the customer's mobile app the request to approve: a
// mobile-app challenge, which the webhook tells the bank's mobile-app
// backend about (in the sandbox: POST /sandbox/mobile/approve decides it).
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
	if err == nil && b.mobile != nil {
		b.mobile.kick() // the mobile-app backend hears of it at once
	}
	return err
}

// decoupledDecision completes a decoupled request when the customer
// decides in the mobile app: the authorization server records the decision
// (once: a compare-and-set) and delivers the result to the TPP's callback;
// then the challenge is marked acted on. A crash between the two leaves the
// challenge decided and not acted on, and completeDecoupled finishes it. An
// error of the database leaves it for that sweep too; a refusal of the
// authorization server (the request expired or was decided) is final.
func (b *Bank) decoupledDecision(ctx context.Context, c sca.Challenge) {
	requestID, ok := strings.CutPrefix(c.Purpose, decoupledPurpose)
	if !ok {
		return // the consent page's own challenges are completed by the page
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
		if oauth.CodeOf(err) == "" {
			b.log.Error("decoupled decision, to be retried", "request", requestID, "err", err)
			return
		}
		b.log.Warn("decoupled decision refused", "request", requestID, "code", oauth.CodeOf(err))
	}
	if _, err := b.SCA.Consume(ctx, c.ID, c.CustomerID); err != nil && sca.CodeOf(err) != sca.CodeUsed {
		b.log.Error("decoupled decision: mark the challenge acted on", "request", requestID, "err", err)
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

// completeDecoupled completes decoupled decisions that were committed but
// not acted on (a crash, or a lost node, between the decision and its
// follow-up): Consume succeeds once per challenge, so several nodes may
// sweep at once.
func (b *Bank) completeDecoupled(ctx context.Context) {
	cs, err := b.SCA.DecidedUnconsumed(ctx, decoupledPurpose, 50)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("decoupled sweep", "err", err)
		}
		return
	}
	for _, c := range cs {
		b.decoupledDecision(ctx, c)
	}
}
