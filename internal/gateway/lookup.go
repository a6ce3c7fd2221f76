package gateway

import (
	"context"
	"net/http"
	"strings"
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
			st, grant, tokenErr, ok, err := l.StatusAndToken(r.Context(), orgID, token, req.caller.QWACInfo.FingerprintS256)
			if err != nil {
				return TPPStatus{}, err
			}
			if ok {
				req.looked = &lookedUp{token: token, grant: grant, err: tokenErr}
				return st, nil
			}
		}
	}
	return g.Directory.TPPStatus(r.Context(), orgID)
}

// authenticateToken is check 8's answer: read at check 4 when it was.
func (g *Gateway) authenticateToken(r *http.Request, req *request, token string) (Grant, error) {
	if l := req.looked; l != nil && l.token == token {
		return l.grant, l.err
	}
	return g.Tokens.Authenticate(r.Context(), token, req.caller.OrgID, req.caller.QWACInfo.FingerprintS256)
}
