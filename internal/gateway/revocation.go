package gateway

import (
	"context"
	"crypto/x509"

	"github.com/psd2bank/psd2bank/internal/eidas"
)

// stillGood asks the verifier's revocation checker again about a
// certificate whose verification is cached. The checkers answer from their
// own caches (the sandbox QTSP's revocation list, fetched CRLs and OCSP
// answers), so this costs a lookup, not a fetch, on nearly every request;
// any answer but "good" sends the certificate through full verification,
// which refuses it.
func stillGood(ctx context.Context, v *eidas.Verifier, leaf *x509.Certificate, info *eidas.Info) bool {
	if v.Revocation == nil {
		return true
	}
	if info.Issuer == nil {
		return false
	}
	return v.Revocation.Check(ctx, leaf, info.Issuer) == nil
}
