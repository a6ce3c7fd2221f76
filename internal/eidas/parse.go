package eidas

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"
)

// Info is what a PSD2 certificate says about its holder.
type Info struct {
	// OrganizationID is the subject's organizationIdentifier as written,
	// e.g. "PSDPL-KNF-0000000000".
	OrganizationID string
	// OrganizationName is the subject's O attribute.
	OrganizationName string
	// Country is the subject's C attribute.
	Country string
	// Roles are the PSD2 roles of the QC statement, in certificate order.
	Roles []Role
	// NCAName and NCAID are the competent authority of the QC statement.
	NCAName, NCAID string
	// QCCompliance reports the QcCompliance statement ("EU qualified
	// certificate").
	QCCompliance bool
	// Kind is the kind named by the QcType statement.
	Kind Kind
	// Types are all the OIDs of the QcType statement.
	Types []asn1.ObjectIdentifier
	// SerialHex is the serial number in lower-case hexadecimal.
	SerialHex string
	// FingerprintS256 is the base64url (unpadded) SHA-256 of the
	// certificate's DER, as in a JWS "x5t#S256" or an RFC 8705 "cnf".
	FingerprintS256 string
	// Issuer is the issuing certificate in the chain Verify built (nil
	// from Parse); revocation is checked against it.
	Issuer *x509.Certificate
}

// HasRole reports whether the certificate carries role r.
func (i *Info) HasRole(r Role) bool { return slices.Contains(i.Roles, r) }

// OrgID returns the parsed organizationIdentifier.
func (i *Info) OrgID() OrganizationID {
	o, _ := ParseOrganizationID(i.OrganizationID)
	return o
}

// Fingerprint returns the certificate's SHA-256 thumbprint in the "x5t#S256"
// form: base64url without padding of the SHA-256 of the DER.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func serialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	return n.Text(16)
}

// Parse reads the PSD2 content of a certificate: the qcStatements extension
// (QcCompliance, QcType, the ETSI TS 119 495 PSD2 statement) and the
// subject's organizationIdentifier, whose NCA must agree with the statement's
// nCAId. It does not check the chain, the validity window, the key usage or
// whether QcCompliance and QcType are present (see Verifier); it fails only
// when there is no usable PSD2 statement or organizationIdentifier. Errors
// are *Error.
func Parse(cert *x509.Certificate) (*Info, error) {
	return parse(cert, KindUnknown)
}

// certNoun names the certificate in messages, by what the caller wants.
func certNoun(want Kind) string {
	switch want {
	case KindQWAC:
		return "the client certificate"
	case KindQSealC:
		return "the signing certificate"
	}
	return "the certificate"
}

// required says what is required, by what the caller wants.
func required(want Kind) string {
	switch want {
	case KindQWAC:
		return "a PSD2 QWAC is required"
	case KindQSealC:
		return "a PSD2 QSealC is required"
	}
	return "a PSD2 QWAC or QSealC is required"
}

func parse(cert *x509.Certificate, want Kind) (*Info, error) {
	noun := certNoun(want)
	if cert == nil {
		return nil, newError(ReasonNoCertificate, "no certificate was given; %s", required(want))
	}
	var ext []byte
	found := false
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidQCStatements) {
			if found {
				return nil, badQC("the extension appears more than once")
			}
			ext, found = e.Value, true
		}
	}
	if !found {
		return nil, newError(ReasonNoPSD2Statement,
			"%s has no qcStatements extension (RFC 3739, OID %s) and so no PSD2 QC statement (ETSI TS 119 495, OID %s); %s",
			noun, oidQCStatements, oidPSD2Statement, required(want))
	}
	qcs, err := parseQCStatements(ext)
	if err != nil {
		return nil, err
	}
	if qcs.psd2 == nil {
		return nil, newError(ReasonNoPSD2Statement,
			"%s has no PSD2 QC statement (ETSI TS 119 495, OID %s); %s", noun, oidPSD2Statement, required(want))
	}

	orgIDValue, err := organizationIdentifier(cert, noun)
	if err != nil {
		return nil, err
	}
	org, err := ParseOrganizationID(orgIDValue)
	if err != nil {
		return nil, err
	}
	if canonicalNCAID(org.NCAID()) != canonicalNCAID(qcs.psd2.ncaID) {
		return nil, newError(ReasonBadOrgID,
			"%s's organizationIdentifier %q names the NCA %s, but its PSD2 QC statement names the NCA %s; they must agree",
			noun, orgIDValue, org.NCAID(), qcs.psd2.ncaID)
	}

	info := &Info{
		OrganizationID:  orgIDValue,
		Roles:           qcs.psd2.roles,
		NCAName:         qcs.psd2.ncaName,
		NCAID:           qcs.psd2.ncaID,
		QCCompliance:    qcs.compliance,
		Kind:            qcs.kind(),
		Types:           qcs.types,
		SerialHex:       serialHex(cert.SerialNumber),
		FingerprintS256: Fingerprint(cert),
	}
	if len(cert.Subject.Organization) > 0 {
		info.OrganizationName = cert.Subject.Organization[0]
	}
	if len(cert.Subject.Country) > 0 {
		info.Country = cert.Subject.Country[0]
	}
	return info, nil
}

// organizationIdentifier returns the single organizationIdentifier (2.5.4.97)
// of the subject, written as any DirectoryString (UTF8String as most QTSPs,
// PrintableString as Go and some OpenSSL configurations write it).
func organizationIdentifier(cert *x509.Certificate, noun string) (string, error) {
	var values []any
	for _, n := range cert.Subject.Names {
		if n.Type.Equal(oidOrgID) {
			values = append(values, n.Value)
		}
	}
	switch len(values) {
	case 0:
		return "", newError(ReasonBadOrgID,
			"%s has no organizationIdentifier (OID %s) in its subject; a PSD2 certificate carries the TPP's authorisation number there, e.g. \"PSDPL-KNF-0000000000\"", noun, oidOrgID)
	case 1:
	default:
		return "", newError(ReasonBadOrgID, "%s has %d organizationIdentifier attributes in its subject; it must have exactly one", noun, len(values))
	}
	s, ok := values[0].(string)
	if !ok {
		return "", newError(ReasonBadOrgID, "%s's organizationIdentifier (OID %s) is not a string", noun, oidOrgID)
	}
	return s, nil
}

// isSelfSigned reports whether cert names itself as issuer and its signature
// verifies with its own key.
func isSelfSigned(cert *x509.Certificate) bool {
	if !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
		return false
	}
	return cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

func describeTypes(types []asn1.ObjectIdentifier) string {
	if len(types) == 0 {
		return "no QcType"
	}
	s := "QcType"
	for i, t := range types {
		if i > 0 {
			s += ","
		}
		if k := kindForQcType(t); k != KindUnknown {
			s += fmt.Sprintf(" %s (%s)", k.qcTypeName(), t)
		} else {
			s += " " + t.String()
		}
	}
	return s
}
