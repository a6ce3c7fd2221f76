package gateway

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
)

// Wire is what the pipeline needs to know of a dialect: where the request
// id is, how a request is signed and checked, what an error looks like and
// how the bank signs its answer. Each dialect implements it in its own
// package (internal/dialect/...); the gateway has no other knowledge of
// dialects, so a new one plugs in without touching the others.
type Wire interface {
	// Name is the dialect's name, written to the audit and the Caller.
	Name() Dialect
	// RequestID finds the request id and checks any TPP id the request
	// names against c.OrgID (c.Body is read). It returns the id as far as
	// it is known, also with a refusal, for the audit and the error body.
	// The gateway then checks that the id is a UUID.
	RequestID(r *http.Request, c *Caller, op Operation) (string, *Refusal)
	// VerifyRequest checks the request's signature, made with a QSealC of
	// c.OrgID with a role for op.Service (use g.VerifySealed or
	// g.VerifySeal), and returns that certificate.
	VerifyRequest(r *http.Request, c *Caller, op Operation, g *Gateway) (*x509.Certificate, *Refusal)
	// ErrorBody is the dialect's HTTP status and error body for a
	// refusal, in lang.
	ErrorBody(ref *Refusal, requestID, lang string, now time.Time) (int, any)
	// SignResponse sets the headers that carry the bank's signature of an
	// answer with body to the request c (c.RequestID may be empty when
	// the request was refused early).
	SignResponse(h http.Header, c *Caller, body []byte, seal *jws.Signer) error
}

// TokenBinder is implemented by a dialect that repeats the access token
// inside the request (PolishAPI's requestHeader.token): CheckToken is
// called with the Authorization header's token before it is checked.
type TokenBinder interface {
	CheckToken(c *Caller, token string) *Refusal
}

// EmptySigner is implemented by a dialect whose answers without a body
// (204) are signed too.
type EmptySigner interface {
	SignsEmptyAnswers() bool
}

// Refuse makes a refusal with a detail (formatted with fmt.Sprint), for
// the dialects' pipeline checks.
func Refuse(status int, code Code, en, pl string, detail ...any) *Refusal {
	return refuse(status, code, en, pl, detail...)
}

// SameOrg compares organisation identifiers, treating the Polish NCA's
// two names (KNF and PFSA) as one.
func SameOrg(a, b string) bool { return sameOrg(a, b) }

// VerifySeal checks a QSealC chain as the pipeline checks seals: chained
// to a trusted QTSP, valid, not revoked (cached for a minute), of the
// organisation orgID and with a role for service. It returns the
// certificate's details.
func (g *Gateway) VerifySeal(ctx context.Context, chain []*x509.Certificate, orgID string, service Service) (*eidas.Info, *Refusal) {
	if len(chain) == 0 {
		return nil, refuse(http.StatusUnauthorized, CodeSignatureCert,
			"no signing certificate: send your QSealC", "brak certyfikatu pieczęci: wyślij certyfikat QSealC")
	}
	info, ref := g.verify(ctx, g.QSealCs, chain, eidas.KindQSealC)
	if ref != nil {
		return nil, ref
	}
	if !sameOrg(info.OrganizationID, orgID) {
		return nil, refuse(http.StatusForbidden, CodeOrganisationMismatch,
			"the signature is made with a QSealC of another organisation than your QWAC",
			"podpis złożono pieczęcią QSealC innej organizacji niż certyfikat QWAC",
			fmt.Sprintf("QWAC %q, QSealC %q", orgID, info.OrganizationID))
	}
	if ref := g.allowed(info, service, "QSealC"); ref != nil {
		return nil, ref
	}
	return info, nil
}

// Now is the gateway's clock, for dialects that check signed dates.
func (g *Gateway) Now() time.Time { return g.Clock.Now() }
