// Package live carries what an API call still has to prove of the facts
// that change under it: that its access token has not been revoked and
// that its TPP is active (and, in production, has production access).
//
// The gateway reads those facts with the token (check 4 and 8 of the
// pipeline): one statement of every call. The rest of a token's row never
// changes — whose it is, its consent, customer, scope, expiry and the
// certificate it is bound to — so the authorization server keeps it once
// read (oauth.Server.Cached), and for the account information reads, whose
// consent check is one statement that also records the access (ais), the
// changing facts are checked in that statement instead of a read of their
// own: its selection holds no row unless the token is unrevoked and the TPP
// active (Cond), so nothing is recorded and nothing is answered otherwise.
// On every node, at the moment of the access, as exactly as the read.
//
// When that statement does not grant the access (it is refused, or is
// left to the full check) the call confirms the facts with the read
// (Check.Confirm), before anything else is written, and the gateway
// answers with the read's refusal, in the pipeline's order, when there is
// one. The gateway confirms them itself after a handler that proved
// nothing (Check.Settle), so no answer leaves on a fact not checked.
package live

import (
	"context"
	"fmt"
	"sync"
)

// Check is the facts a call owes, and how it settles them.
type Check struct {
	TokenHash   string // the access token's hash, as oauth_tokens keeps it; "" when the call has none
	TPP         string // the TPP's normalised organisation id (tpps.norm_id)
	Environment string // the environment the TPP must be in; "" any
	// confirm reads the facts: nil when they hold, else the refusal
	// (or the error that kept it from reading them).
	confirm func(context.Context) error

	mu      sync.Mutex
	settled bool  // proven by a statement, or confirmed by the read
	err     error // the read's refusal or error, once settled
}

// New is a check owed, confirmed when needed by confirm.
func New(tokenHash, tpp, environment string, confirm func(context.Context) error) *Check {
	return &Check{TokenHash: tokenHash, TPP: tpp, Environment: environment, confirm: confirm}
}

type key struct{}

// With is ctx carrying c to the statements that can prove it.
func With(ctx context.Context, c *Check) context.Context { return context.WithValue(ctx, key{}, c) }

// From is the check ctx carries, or nil.
func From(ctx context.Context) *Check {
	c, _ := ctx.Value(key{}).(*Check)
	return c
}

// Cond is a condition, for the WHERE of a statement that grants an access,
// that holds when the access token is unrevoked ($first, its hash; empty
// when none is owed) and the TPP active ($first+1, its normalised id; empty
// when none is owed) in the environment required ($first+2; empty for
// any): its parameters are given by Args. It is the changing part of
// oauth.Server.AuthenticateWithTPP's read and of the gateway's check 4.
func Cond(first int) string {
	return fmt.Sprintf(`
	  AND (CAST($%[1]d AS TEXT) = '' OR
	       EXISTS (SELECT 1 FROM oauth_tokens lt WHERE lt.hash = $%[1]d AND lt.kind = 'access' AND lt.revoked_at = 0))
	  AND (CAST($%[2]d AS TEXT) = '' OR
	       EXISTS (SELECT 1 FROM tpps lp WHERE lp.norm_id = $%[2]d AND lp.status = 'active'
	               AND (CAST($%[3]d AS TEXT) = '' OR lp.environment = $%[3]d)))`, first, first+1, first+2)
}

// Args are Cond's parameters for the check ctx carries: none owed when it
// carries none, or one already settled.
func Args(ctx context.Context) []any {
	c := From(ctx)
	if c == nil {
		return []any{"", "", ""}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.settled {
		return []any{"", "", ""}
	}
	return []any{c.TokenHash, c.TPP, c.Environment}
}

// Proven records that a statement with Cond and Args(ctx) granted an
// access: the facts held when it ran.
func Proven(ctx context.Context) {
	if c := From(ctx); c != nil {
		c.mu.Lock()
		c.settled = true
		c.mu.Unlock()
	}
}

// Confirm reads the facts ctx's check owes, unless settled already, and
// returns the refusal (or error) when they do not hold; nil when ctx
// carries no check. Call it before a write that does not prove them.
func Confirm(ctx context.Context) error {
	if c := From(ctx); c != nil {
		return c.Settle(ctx)
	}
	return nil
}

// Settle is Confirm of c.
func (c *Check) Settle(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.settled {
		c.err = c.confirm(ctx)
		c.settled = true
	}
	return c.err
}

// Refusal is the refusal the read gave, if it was read and gave one.
func (c *Check) Refusal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Kept is what a node keeps of facts that never change (an access token's
// row but its revocation, a TPP's registration but its status), by key,
// for the calls that prove the rest (Cond). Bounded: emptied when it holds
// Max. The zero value is ready to use, with Max 0 meaning 4,096.
type Kept[V any] struct {
	Max int

	mu sync.RWMutex
	m  map[string]V
}

// Get is what is kept under key.
func (k *Kept[V]) Get(key string) (V, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	v, ok := k.m[key]
	return v, ok
}

// Put keeps v under key.
func (k *Kept[V]) Put(key string, v V) {
	max := k.Max
	if max <= 0 {
		max = 4096
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= max {
		k.m = make(map[string]V)
	}
	k.m[key] = v
}
