package eidas

import (
	"encoding/asn1"
	"fmt"
	"unicode/utf8"
)

// Object identifiers of RFC 3739, ETSI EN 319 412-5 and ETSI TS 119 495.
var (
	oidQCStatements  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	oidQcCompliance  = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1}
	oidQcSSCD        = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4}
	oidQcType        = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6}
	oidQcTypeESign   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}
	oidQcTypeESeal   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}
	oidQcTypeWeb     = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 3}
	oidPSD2Statement = asn1.ObjectIdentifier{0, 4, 0, 19495, 2}
	oidOrgID         = asn1.ObjectIdentifier{2, 5, 4, 97}
)

// Kind is the kind of qualified certificate, from its QcType statement.
type Kind int

// The kinds of qualified certificate. The zero Kind is KindUnknown: no
// QcType statement, or none this package knows.
const (
	KindUnknown Kind = iota
	// KindQWAC is a qualified website authentication certificate
	// (QcType web, 0.4.0.1862.1.6.3), used for mutual TLS.
	KindQWAC
	// KindQSealC is a qualified electronic seal certificate (QcType eseal,
	// 0.4.0.1862.1.6.2), used to sign requests.
	KindQSealC
	// KindESign is a qualified electronic signature certificate of a
	// natural person (QcType esign, 0.4.0.1862.1.6.1); PSD2 does not use it.
	KindESign
)

// String returns "QWAC", "QSealC", "QESign" or "unknown".
func (k Kind) String() string {
	switch k {
	case KindQWAC:
		return "QWAC"
	case KindQSealC:
		return "QSealC"
	case KindESign:
		return "QESign"
	}
	return "unknown"
}

// QcType returns the QcType OID of the kind, or nil for KindUnknown.
func (k Kind) QcType() asn1.ObjectIdentifier {
	switch k {
	case KindQWAC:
		return oidQcTypeWeb
	case KindQSealC:
		return oidQcTypeESeal
	case KindESign:
		return oidQcTypeESign
	}
	return nil
}

func (k Kind) qcTypeName() string {
	switch k {
	case KindQWAC:
		return "web"
	case KindQSealC:
		return "eseal"
	case KindESign:
		return "esign"
	}
	return "unknown"
}

func kindForQcType(oid asn1.ObjectIdentifier) Kind {
	switch {
	case oid.Equal(oidQcTypeWeb):
		return KindQWAC
	case oid.Equal(oidQcTypeESeal):
		return KindQSealC
	case oid.Equal(oidQcTypeESign):
		return KindESign
	}
	return KindUnknown
}

// qcStatements is what this package reads from the qcStatements extension.
type qcStatements struct {
	compliance bool
	sscd       bool
	hasQcType  bool
	types      []asn1.ObjectIdentifier
	psd2       *psd2Statement
}

// psd2Statement is the PSD2QcType of ETSI TS 119 495.
type psd2Statement struct {
	roles   []Role
	ncaName string
	ncaID   string
}

// kind returns the kind named by the first known QcType.
func (s *qcStatements) kind() Kind {
	for _, t := range s.types {
		if k := kindForQcType(t); k != KindUnknown {
			return k
		}
	}
	return KindUnknown
}

// qcStatementASN is one QCStatement of RFC 3739.
type qcStatementASN struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

// Marshalling forms of the PSD2 statement (the names are UTF8String).
type roleOfPSPASN struct {
	OID  asn1.ObjectIdentifier
	Name string `asn1:"utf8"`
}

type psd2QcTypeASN struct {
	Roles   []roleOfPSPASN
	NCAName string `asn1:"utf8"`
	NCAID   string `asn1:"utf8"`
}

const maxQCString = 256 // RoleOfPspName, NCAName and NCAId are SIZE(1..256)

func badQC(format string, args ...any) *Error {
	return newError(ReasonBadQCStatement, "the certificate's qcStatements extension is malformed: "+format, args...)
}

// parseQCStatements parses the DER value of the qcStatements extension
// strictly: no trailing bytes anywhere, each known statement at most once,
// and a PSD2 statement exactly as ETSI TS 119 495 defines it. Statements it
// does not know are skipped.
func parseQCStatements(der []byte) (*qcStatements, error) {
	elems, err := parseSequence(der)
	if err != nil {
		return nil, &Error{Reason: ReasonBadQCStatement, Err: err,
			Detail: fmt.Sprintf("the certificate's qcStatements extension (RFC 3739, OID %s) is not a valid SEQUENCE OF QCStatement: %v", oidQCStatements, err)}
	}
	stmts := make([]qcStatementASN, 0, len(elems))
	for i, e := range elems {
		parts, err := parseSequence(e.FullBytes)
		if err != nil || len(parts) < 1 || len(parts) > 2 {
			return nil, badQC("statement %d is not a SEQUENCE { statementId, statementInfo OPTIONAL }", i+1)
		}
		var st qcStatementASN
		if rest, err := asn1.Unmarshal(parts[0].FullBytes, &st.ID); err != nil || len(rest) != 0 {
			return nil, badQC("statement %d has no valid statementId OID", i+1)
		}
		if len(parts) == 2 {
			st.Info = parts[1]
		}
		stmts = append(stmts, st)
	}
	out := &qcStatements{}
	seen := map[string]bool{}
	for _, st := range stmts {
		id := st.ID.String()
		known := st.ID.Equal(oidQcCompliance) || st.ID.Equal(oidQcSSCD) || st.ID.Equal(oidQcType) || st.ID.Equal(oidPSD2Statement)
		if known && seen[id] {
			return nil, badQC("statement %s appears more than once", id)
		}
		seen[id] = true
		switch {
		case st.ID.Equal(oidQcCompliance):
			out.compliance = true
		case st.ID.Equal(oidQcSSCD):
			out.sscd = true
		case st.ID.Equal(oidQcType):
			if st.Info.FullBytes == nil {
				return nil, badQC("the QcType statement (%s) has no list of types", oidQcType)
			}
			var types []asn1.ObjectIdentifier
			rest, err := asn1.Unmarshal(st.Info.FullBytes, &types)
			if err != nil || len(rest) != 0 {
				return nil, &Error{Reason: ReasonBadQCStatement, Err: err,
					Detail: fmt.Sprintf("the certificate's qcStatements extension is malformed: the QcType statement (%s) is not a SEQUENCE OF OBJECT IDENTIFIER", oidQcType)}
			}
			if len(types) == 0 {
				return nil, badQC("the QcType statement (%s) lists no type", oidQcType)
			}
			out.hasQcType = true
			out.types = types
		case st.ID.Equal(oidPSD2Statement):
			p, err := parsePSD2Statement(st.Info)
			if err != nil {
				return nil, err
			}
			out.psd2 = p
		}
	}
	return out, nil
}

// parsePSD2Statement parses PSD2QcType ::= SEQUENCE { rolesOfPSP, nCAName,
// nCAId } element by element, so that extra or missing elements and the
// "flat" roles encoding seen in some sandboxes get a precise message.
func parsePSD2Statement(info asn1.RawValue) (*psd2Statement, error) {
	if info.FullBytes == nil {
		return nil, badQC("the PSD2 statement (%s) has no PSD2QcType", oidPSD2Statement)
	}
	fields, err := parseSequence(info.FullBytes)
	if err != nil {
		return nil, badQC("the PSD2 statement (%s) is not a SEQUENCE { rolesOfPSP, nCAName, nCAId }: %v", oidPSD2Statement, err)
	}
	if len(fields) != 3 {
		return nil, badQC("the PSD2 statement (%s) has %d elements; ETSI TS 119 495 defines SEQUENCE { rolesOfPSP, nCAName, nCAId }", oidPSD2Statement, len(fields))
	}
	rolesRaw, err := parseSequence(fields[0].FullBytes)
	if err != nil {
		return nil, badQC("rolesOfPSP in the PSD2 statement is not a SEQUENCE OF RoleOfPSP: %v", err)
	}
	if len(rolesRaw) == 0 {
		return nil, badQC("rolesOfPSP in the PSD2 statement is empty; it must hold at least one role")
	}
	p := &psd2Statement{}
	for i, rr := range rolesRaw {
		if rr.Class == asn1.ClassUniversal && rr.Tag == asn1.TagOID {
			return nil, badQC("rolesOfPSP is a flat list of OIDs and names; ETSI TS 119 495 requires SEQUENCE OF SEQUENCE { roleOfPspOid, roleOfPspName }")
		}
		parts, err := parseSequence(rr.FullBytes)
		if err != nil || len(parts) != 2 {
			return nil, badQC("role %d in the PSD2 statement is not a SEQUENCE { roleOfPspOid, roleOfPspName }", i+1)
		}
		var oid asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(parts[0].FullBytes, &oid); err != nil || len(rest) != 0 {
			return nil, badQC("role %d in the PSD2 statement has no valid roleOfPspOid", i+1)
		}
		name, err := parseQCString(parts[1])
		if err != nil {
			return nil, badQC("role %d in the PSD2 statement has a bad roleOfPspName: %v", i+1, err)
		}
		role, ok := RoleForOID(oid)
		if !ok {
			if oid.Equal(oidRoleUnspecified) {
				return nil, badQC("the PSD2 statement has the role %q (%s), which is for services outside PSD2; a PSD2 role (PSP_AS, PSP_PI, PSP_AI or PSP_IC) is required", name, oid)
			}
			return nil, badQC("the PSD2 statement has the unknown role OID %s (named %q); the PSD2 roles are 0.4.0.19495.1.1 to 0.4.0.19495.1.4", oid, name)
		}
		if name != string(role) {
			return nil, newError(ReasonRoleMismatch,
				"the certificate's PSD2 QC statement names role OID %s %q, but that OID is %s; ETSI TS 119 495 requires the name that belongs to the OID", oid, name, role)
		}
		p.roles = appendRole(p.roles, role)
	}
	if p.ncaName, err = parseQCString(fields[1]); err != nil {
		return nil, badQC("nCAName in the PSD2 statement is bad: %v", err)
	}
	if p.ncaID, err = parseQCString(fields[2]); err != nil {
		return nil, badQC("nCAId in the PSD2 statement is bad: %v", err)
	}
	if !validNCAID(p.ncaID) {
		return nil, badQC("nCAId %q in the PSD2 statement is not a country code, '-' and 2 to 8 letters A-Z (for example \"PL-KNF\")", p.ncaID)
	}
	return p, nil
}

// parseSequence splits a DER SEQUENCE into its elements, with no trailing
// bytes allowed.
func parseSequence(der []byte) ([]asn1.RawValue, error) {
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(rest))
	}
	if seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return nil, fmt.Errorf("not a SEQUENCE")
	}
	var elems []asn1.RawValue
	b := seq.Bytes
	for len(b) > 0 {
		var e asn1.RawValue
		b, err = asn1.Unmarshal(b, &e)
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
	}
	return elems, nil
}

// parseQCString reads a UTF8String (as the standard says) or a
// PrintableString (which some encoders emit), 1 to 256 characters.
func parseQCString(v asn1.RawValue) (string, error) {
	if v.Class != asn1.ClassUniversal || v.IsCompound || (v.Tag != asn1.TagUTF8String && v.Tag != asn1.TagPrintableString) {
		return "", fmt.Errorf("not a UTF8String")
	}
	var s string
	rest, err := asn1.Unmarshal(v.FullBytes, &s)
	if err != nil {
		return "", err
	}
	if len(rest) != 0 {
		return "", fmt.Errorf("trailing bytes")
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < 1 || n > maxQCString {
		return "", fmt.Errorf("length %d outside 1..%d", n, maxQCString)
	}
	return s, nil
}

// marshalQCStatements encodes a qcStatements extension value. psd2 may be
// nil; types may be empty (no QcType statement).
func marshalQCStatements(compliance bool, types []asn1.ObjectIdentifier, psd2 *psd2Statement) ([]byte, error) {
	var stmts []qcStatementASN
	if compliance {
		stmts = append(stmts, qcStatementASN{ID: oidQcCompliance})
	}
	if len(types) > 0 {
		b, err := asn1.Marshal(types)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, qcStatementASN{ID: oidQcType, Info: asn1.RawValue{FullBytes: b}})
	}
	if psd2 != nil {
		v := psd2QcTypeASN{NCAName: psd2.ncaName, NCAID: psd2.ncaID}
		for _, r := range psd2.roles {
			oid := r.OID()
			if oid == nil {
				return nil, fmt.Errorf("unknown PSD2 role %q", r)
			}
			v.Roles = append(v.Roles, roleOfPSPASN{OID: oid, Name: string(r)})
		}
		b, err := asn1.Marshal(v)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, qcStatementASN{ID: oidPSD2Statement, Info: asn1.RawValue{FullBytes: b}})
	}
	return asn1.Marshal(stmts)
}
