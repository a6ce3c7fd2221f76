package eidas

import (
	"errors"
	"fmt"
)

// Reason is a stable, machine-readable code for why a certificate was
// refused. Gateways map it to a wire error code (for example Berlin Group's
// CERTIFICATE_EXPIRED) and write it to the audit log.
type Reason string

// The reasons a PSD2 certificate can be refused.
const (
	// ReasonNoCertificate: no certificate was presented at all.
	ReasonNoCertificate Reason = "no_certificate"
	// ReasonNoPSD2Statement: no qcStatements extension, or no PSD2 QC
	// statement (0.4.0.19495.2) in it.
	ReasonNoPSD2Statement Reason = "no_psd2_statement"
	// ReasonBadQCStatement: the qcStatements extension or one of the
	// statements in it is malformed (bad DER, trailing bytes, no roles,
	// unknown role OID, bad NCA id, ...).
	ReasonBadQCStatement Reason = "bad_qc_statement"
	// ReasonRoleMismatch: a role's name disagrees with its OID.
	ReasonRoleMismatch Reason = "role_mismatch"
	// ReasonBadOrgID: the subject organizationIdentifier is missing, not in
	// the PSD syntax, or disagrees with the NCA id of the PSD2 statement.
	ReasonBadOrgID Reason = "bad_organization_identifier"
	// ReasonNotQualified: the QcCompliance statement is missing.
	ReasonNotQualified Reason = "not_qualified"
	// ReasonWrongKind: the QcType is not the one wanted (a QSealC where a
	// QWAC is required, or the other way round).
	ReasonWrongKind Reason = "wrong_kind"
	// ReasonUntrusted: the certificate does not chain to a trust anchor.
	ReasonUntrusted Reason = "untrusted"
	// ReasonSandbox: a sandbox (non-qualified) certificate was presented to
	// a verifier that refuses them.
	ReasonSandbox Reason = "sandbox_certificate"
	// ReasonExpired: the certificate's notAfter is in the past.
	ReasonExpired Reason = "expired"
	// ReasonNotYetValid: the certificate's notBefore is in the future.
	ReasonNotYetValid Reason = "not_yet_valid"
	// ReasonKeyUsage: the key usage does not allow the intended use.
	ReasonKeyUsage Reason = "key_usage"
	// ReasonRevoked: the issuer says the certificate is revoked.
	ReasonRevoked Reason = "revoked"
	// ReasonRevocationUnknown: the revocation status could not be
	// established (responder or CRL unreachable, stale, or not covering the
	// certificate). Callers decide whether to fail hard or soft.
	ReasonRevocationUnknown Reason = "revocation_unknown"
	// ReasonSelfSigned: the leaf certificate is self-signed.
	ReasonSelfSigned Reason = "self_signed"
)

// Error is the error returned for a refused or unparseable certificate.
// Detail is a complete sentence a TPP developer can act on.
type Error struct {
	Reason Reason
	Detail string
	// Err is the underlying cause, if any (for example the x509 or network
	// error); it is available through errors.Unwrap.
	Err error
}

// Error returns the human-readable sentence.
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	if e.Err != nil {
		return fmt.Sprintf("certificate refused (%s): %v", e.Reason, e.Err)
	}
	return fmt.Sprintf("certificate refused (%s)", e.Reason)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Reason, so that
// errors.Is(err, &eidas.Error{Reason: eidas.ReasonExpired}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason
}

// ReasonOf returns the Reason of the first *Error in err's chain, or "" when
// there is none (including when err is nil).
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func newError(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

func wrapError(r Reason, cause error, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...), Err: cause}
}
