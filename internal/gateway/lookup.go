package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/live"
)

// CallerLookup is optional on Tokens: it answers the TPP's status in the
// registry (check 4, Directory.TPPStatus) and authenticates the access
// token (check 8, Tokens.Authenticate) in one statement, read at check 4.
// The checks still run in their order with the same refusals; only the
// round trip is shared. ok false: not available here (the gateway asks
// Directory and Tokens separately).
type CallerLookup interface {
	StatusAndToken(ctx context.Context, orgID, accessToken, qwacThumbprint string) (st TPPStatus, g Grant, tokenErr error, ok bool, err error)
}

// LiveLookup is optional on a CallerLookup: StatusAndToken from what an
// earlier read of the same token kept, without reading (ok false: nothing
// kept, or the kept token would be refused — then the read says why). The
// TPP is taken as active and the token as unrevoked: tokenHash and tppNorm
// name them for the statement that must prove it (package live,
// Operation.LiveInStatement).
type LiveLookup interface {
	CachedStatusAndToken(orgID, accessToken, qwacThumbprint string) (st TPPStatus, g Grant, tokenHash, tppNorm string, ok bool)
}

// LiveDirectory is optional on Directory: TPPStatus as an earlier read found
// it, the TPP then active, without reading (ok false: nothing kept). The
// TPP is taken as active: tppNorm names it for the statement that must
// prove it (package live, Operation.LiveInStatement, for an operation
// without an access token).
type LiveDirectory interface {
	CachedTPPStatus(orgID string) (st TPPStatus, tppNorm string, ok bool)
}

// lookedUp is an access token authenticated together with the TPP's
// status, for check 8.
type lookedUp struct {
	token string
	grant Grant
	err   error
}

// tppStatus is check 4's read: with the access token's when the operation
// needs one and Tokens can read both at once.
func (g *Gateway) tppStatus(r *http.Request, req *request, orgID string) (TPPStatus, error) {
	if l, ok := g.Tokens.(CallerLookup); ok && req.op.Token {
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token != "" {
			thumbprint := req.caller.QWACInfo.FingerprintS256
			if ll, ok := l.(LiveLookup); ok && req.op.LiveInStatement {
				// Only a kept registration check 4 allows (one approved for
				// production since it was kept is read again, not refused).
				if st, grant, h, norm, ok := ll.CachedStatusAndToken(orgID, token, thumbprint); ok && g.statusRefusal(req, st, orgID) == nil {
					req.looked = &lookedUp{token: token, grant: grant}
					req.live = live.New(h, norm, g.liveEnvironment(), func(ctx context.Context) error {
						return g.confirmLive(ctx, req, l, orgID, token, thumbprint, grant)
					})
					return st, nil
				}
			}
			st, grant, tokenErr, ok, err := l.StatusAndToken(r.Context(), orgID, token, thumbprint)
			if err != nil {
				return TPPStatus{}, err
			}
			if ok {
				req.looked = &lookedUp{token: token, grant: grant, err: tokenErr}
				return st, nil
			}
		}
	}
	if ld, ok := g.Directory.(LiveDirectory); ok && req.op.LiveInStatement && !req.op.Token {
		if st, norm, ok := ld.CachedTPPStatus(orgID); ok && g.statusRefusal(req, st, orgID) == nil {
			req.live = live.New("", norm, g.liveEnvironment(), func(ctx context.Context) error {
				return g.confirmStatus(ctx, req, orgID)
			})
			return st, nil
		}
	}
	return g.Directory.TPPStatus(r.Context(), orgID)
}

// liveEnvironment is the environment a TPP must be in (package live): in
// production, production; in the sandbox, any.
func (g *Gateway) liveEnvironment() string {
	if g.Mode == Production {
		return "production"
	}
	return ""
}

// confirmStatus reads the TPP's registration that a call took from what
// was kept (LiveDirectory) and gives check 4's refusal, if it no longer
// allows the call.
func (g *Gateway) confirmStatus(ctx context.Context, req *request, orgID string) error {
	st, err := g.Directory.TPPStatus(ctx, orgID)
	if err != nil {
		return g.unavailable(err)
	}
	if ref := g.statusRefusal(req, st, orgID); ref != nil {
		return ref
	}
	return nil
}

// confirmLive reads the TPP's registration and the access token that a
// call took from the cache (LiveLookup) and gives check 4's or check 8's
// refusal, in that order, if they no longer allow the call.
func (g *Gateway) confirmLive(ctx context.Context, req *request, l CallerLookup, orgID, token, thumbprint string, kept Grant) error {
	st, grant, tokenErr, ok, err := l.StatusAndToken(ctx, orgID, token, thumbprint)
	if err != nil {
		return g.unavailable(err)
	}
	if !ok {
		return g.unavailable(errors.New("the TPP and access token lookup is not available"))
	}
	if ref := g.statusRefusal(req, st, orgID); ref != nil {
		return ref
	}
	if tokenErr != nil {
		return tokenErr
	}
	if grant != kept {
		return g.unavailable(errors.New("an access token's kept grant differs from its row"))
	}
	return nil
}

// authenticateToken is check 8's answer: read at check 4 when it was.
func (g *Gateway) authenticateToken(r *http.Request, req *request, token string) (Grant, error) {
	if l := req.looked; l != nil && l.token == token {
		return l.grant, l.err
	}
	return g.Tokens.Authenticate(r.Context(), token, req.caller.OrgID, req.caller.QWACInfo.FingerprintS256)
}
