package bank

import (
	"context"
	"crypto/x509"
	"database/sql"
	"strings"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// Directory adapts the TPP registry to the gateway.
type Directory struct {
	R *tpp.Registry
	// Kept, when not nil, keeps the registration of the TPPs read while
	// active, by organisation id, for CachedTPPStatus.
	Kept *live.Kept[gateway.TPPStatus]
}

// TPPStatus tells whether the organisation is registered and active.
func (d Directory) TPPStatus(ctx context.Context, orgID string) (gateway.TPPStatus, error) {
	t, err := d.R.TPP(ctx, orgID)
	if tpp.CodeOf(err) == tpp.CodeNotFound {
		return gateway.TPPStatus{}, nil
	}
	if err != nil {
		return gateway.TPPStatus{}, err
	}
	st := gateway.TPPStatus{Known: true, Active: t.Active(), Environment: t.Environment, Reason: t.SuspendedReason}
	if d.Kept != nil && st.Active {
		d.Kept.Put(orgID, st)
	}
	return st, nil
}

// CachedTPPStatus is TPPStatus as an earlier read found it, the TPP then
// active, without reading (gateway.LiveDirectory): a TPP is never removed
// and its key never changes; its status and environment, which do, the
// caller checks where it grants the access (package live) with tppNorm.
func (d Directory) CachedTPPStatus(orgID string) (st gateway.TPPStatus, tppNorm string, ok bool) {
	if d.Kept == nil {
		return gateway.TPPStatus{}, "", false
	}
	if st, ok = d.Kept.Get(orgID); !ok {
		return gateway.TPPStatus{}, "", false
	}
	return st, tpp.LookupKey(orgID), true
}

// QSealC finds a registered QSealC by thumbprint.
func (d Directory) QSealC(ctx context.Context, orgID, x5t string) (*x509.Certificate, error) {
	c, err := d.R.CertificateByThumbprint(ctx, orgID, x5t)
	if tpp.CodeOf(err) == tpp.CodeNotFound {
		return nil, nil
	}
	return c, err
}

// Licences adapts the register of payment institutions to the gateway.
type Licences struct{ L tpp.Licences }

// Allows tells whether the register authorises orgID for role in Poland.
func (l Licences) Allows(orgID string, role eidas.Role) (bool, string) {
	e, ok := l.L.Lookup(orgID)
	if r, canReload := l.L.(interface{ Reload() error }); canReload && (!ok || !e.Authorised || !e.Allows(string(role))) {
		// Before refusing, look at the file once more: `certs issue
		// --register` may have just changed it (a stat when nothing did).
		if r.Reload() == nil {
			e, ok = l.L.Lookup(orgID)
		}
	}
	switch {
	case !ok:
		return false, orgID + " is not in the register of payment institutions"
	case !e.Authorised:
		return false, orgID + "'s authorisation was withdrawn (" + strings.Join(e.AuthorisationDates, ", ") + ")"
	case !e.Allows(string(role)):
		return false, orgID + " is not authorised in Poland for the service of " + string(role)
	}
	return true, ""
}

var errNoRows = sql.ErrNoRows
