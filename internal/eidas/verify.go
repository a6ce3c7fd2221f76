package eidas

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Verifier validates PSD2 certificates against a set of trust anchors.
// It is safe for concurrent use once configured.
type Verifier struct {
	// Roots are the trust anchors (QTSP roots). A nil pool trusts nothing;
	// the system roots are never used.
	Roots *x509.CertPool
	// Intermediates are extra intermediate CA certificates (pre-loaded from
	// the trusted lists); the chain presented with the leaf is added to them.
	Intermediates *x509.CertPool
	// Revocation checks the leaf's revocation status; nil skips the check.
	Revocation RevocationChecker
	// Clock gives the time at which the certificate must be valid. It must
	// be set.
	Clock func() time.Time
	// RejectSandbox refuses certificates issued by the sandbox QTSP (see
	// IsSandbox) even when their root is among Roots. Production sets it.
	RejectSandbox bool
}

// Verify checks that chain[0] is a valid PSD2 certificate of the wanted kind
// and returns what it says. chain[1:] are intermediates sent with it.
//
// The checks, in order: a certificate is present; (with RejectSandbox) it is
// not a sandbox certificate; it is not self-signed; it is within its
// validity window at Clock(); it chains to Roots; it has a PSD2 statement and
// an organizationIdentifier that agree (see Parse); its QcType is want; it is
// declared qualified (QcCompliance); its key usage fits the kind; and, with a
// RevocationChecker, it is not revoked.
//
// Errors are *Error. When everything but revocation succeeded and the
// revocation status is unknown (ReasonRevocationUnknown), Verify returns the
// Info together with the error, so that the caller can choose to soft-fail.
func (v *Verifier) Verify(ctx context.Context, chain []*x509.Certificate, want Kind) (*Info, error) {
	if want != KindQWAC && want != KindQSealC {
		return nil, fmt.Errorf("eidas: Verify wants KindQWAC or KindQSealC, not %v", want)
	}
	if v.Clock == nil {
		return nil, errors.New("eidas: Verifier.Clock is not set")
	}
	noun := certNoun(want)
	if len(chain) == 0 || chain[0] == nil {
		what := "client certificate"
		if want == KindQSealC {
			what = "signing certificate"
		}
		return nil, newError(ReasonNoCertificate, "no %s was presented; %s", what, required(want))
	}
	leaf := chain[0]
	if v.RejectSandbox && IsSandbox(leaf) {
		return nil, newError(ReasonSandbox,
			"%s (issuer %q) was issued by the psd2bank sandbox QTSP, which is for testing only; %s from a qualified trust service provider",
			noun, leaf.Issuer.String(), required(want))
	}
	if isSelfSigned(leaf) {
		return nil, newError(ReasonSelfSigned,
			"%s is self-signed (subject and issuer are both %q); %s, issued by a qualified trust service provider",
			noun, leaf.Subject.String(), required(want))
	}

	now := v.Clock()
	if now.Before(leaf.NotBefore) {
		return nil, newError(ReasonNotYetValid,
			"%s (serial %s) is not valid yet: it is valid from %s to %s, and the time now is %s",
			noun, serialHex(leaf.SerialNumber), fmtTime(leaf.NotBefore), fmtTime(leaf.NotAfter), fmtTime(now))
	}
	if now.After(leaf.NotAfter) {
		return nil, newError(ReasonExpired,
			"%s (serial %s) expired on %s (it was valid from %s; the time now is %s); renew it with your QTSP",
			noun, serialHex(leaf.SerialNumber), fmtTime(leaf.NotAfter), fmtTime(leaf.NotBefore), fmtTime(now))
	}

	if v.Roots == nil {
		return nil, newError(ReasonUntrusted, "%s cannot be trusted: no QTSP root certificates are configured", noun)
	}
	var inter *x509.CertPool
	if v.Intermediates != nil {
		inter = v.Intermediates.Clone()
	} else {
		inter = x509.NewCertPool()
	}
	for _, c := range chain[1:] {
		if c != nil {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.Roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, wrapError(ReasonUntrusted, err,
			"%s (issuer %q) does not chain to a trusted QTSP root: %v", noun, leaf.Issuer.String(), err)
	}

	info, err := parse(leaf, want)
	if err != nil {
		return nil, err
	}
	if info.Kind != want {
		is := ""
		if info.Kind != KindUnknown {
			is = fmt.Sprintf(" is a %s and", info.Kind)
		}
		return nil, newError(ReasonWrongKind,
			"%s%s is not a %s: it has %s; %s (QcType %s, %s)",
			noun, is, want, describeTypes(info.Types), required(want), want.qcTypeName(), want.QcType())
	}
	if !info.QCCompliance {
		return nil, newError(ReasonNotQualified,
			"%s is not declared an EU qualified certificate: the QcCompliance statement (OID %s) is missing; %s",
			noun, oidQcCompliance, required(want))
	}
	if err := checkKeyUsage(leaf, want, noun); err != nil {
		return nil, err
	}

	var issuer *x509.Certificate
	if len(chains) > 0 && len(chains[0]) > 1 {
		issuer = chains[0][1]
	}
	info.Issuer = issuer
	if v.Revocation != nil {
		if issuer == nil {
			return info, newError(ReasonRevocationUnknown,
				"the revocation status of %s cannot be checked: its issuer is not known", noun)
		}
		if err := v.Revocation.Check(ctx, leaf, issuer); err != nil {
			switch ReasonOf(err) {
			case ReasonRevoked:
				return nil, err
			case ReasonRevocationUnknown:
				return info, err
			default:
				return info, wrapError(ReasonRevocationUnknown, err,
					"the revocation status of %s could not be established: %v", noun, err)
			}
		}
	}
	return info, nil
}

// checkKeyUsage checks the key usage bits for the kind of certificate:
// digitalSignature for a QWAC (TLS client authentication), digitalSignature
// or contentCommitment (nonRepudiation) for a QSealC.
func checkKeyUsage(cert *x509.Certificate, want Kind, noun string) error {
	if cert.BasicConstraintsValid && cert.IsCA {
		return newError(ReasonKeyUsage, "%s is a CA certificate; %s", noun, required(want))
	}
	ku := cert.KeyUsage
	switch want {
	case KindQWAC:
		if ku&x509.KeyUsageDigitalSignature == 0 {
			return newError(ReasonKeyUsage,
				"%s's key usage (%s) lacks digitalSignature, which a QWAC needs for TLS client authentication", noun, describeKeyUsage(ku))
		}
	case KindQSealC:
		if ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
			return newError(ReasonKeyUsage,
				"%s's key usage (%s) has neither digitalSignature nor nonRepudiation (contentCommitment), one of which a QSealC needs to seal messages", noun, describeKeyUsage(ku))
		}
	}
	return nil
}

func describeKeyUsage(ku x509.KeyUsage) string {
	names := []struct {
		bit  x509.KeyUsage
		name string
	}{
		{x509.KeyUsageDigitalSignature, "digitalSignature"},
		{x509.KeyUsageContentCommitment, "nonRepudiation"},
		{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
		{x509.KeyUsageDataEncipherment, "dataEncipherment"},
		{x509.KeyUsageKeyAgreement, "keyAgreement"},
		{x509.KeyUsageCertSign, "keyCertSign"},
		{x509.KeyUsageCRLSign, "cRLSign"},
		{x509.KeyUsageEncipherOnly, "encipherOnly"},
		{x509.KeyUsageDecipherOnly, "decipherOnly"},
	}
	s := ""
	for _, n := range names {
		if ku&n.bit != 0 {
			if s != "" {
				s += ", "
			}
			s += n.name
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
