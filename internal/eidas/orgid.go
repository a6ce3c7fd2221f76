package eidas

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// OrganizationID is a PSD2 organizationIdentifier (ETSI TS 119 495
// GEN-5.2.1-3, EN 319 412-1 §5.1.4): "PSD" + country + "-" + NCA code + "-"
// + authorisation number, for example "PSDPL-KNF-0000000000".
type OrganizationID struct {
	Country string // ISO 3166 alpha-2 code of the NCA, e.g. "PL"
	NCA     string // the NCA's code, 2 to 8 letters A-Z, e.g. "KNF"
	Number  string // the authorisation number as written in the certificate
}

// maxOrgIDLen bounds the whole identifier; real ones are short.
const maxOrgIDLen = 256

// ParseOrganizationID parses a PSD2 organizationIdentifier. The number part
// may hold any printable characters (letters, digits, '/', '-', spaces...),
// but no control characters.
func ParseOrganizationID(s string) (OrganizationID, error) {
	bad := func(why string) (OrganizationID, error) {
		return OrganizationID{}, newError(ReasonBadOrgID,
			"the organizationIdentifier %q is not a PSD2 identifier: %s (want \"PSD\", the NCA's country, '-', the NCA's code, '-', the authorisation number, e.g. \"PSDPL-KNF-0000000000\")", s, why)
	}
	if len(s) > maxOrgIDLen {
		return bad(fmt.Sprintf("longer than %d bytes", maxOrgIDLen))
	}
	if !strings.HasPrefix(s, "PSD") {
		return bad("it does not start with \"PSD\"")
	}
	rest := s[3:]
	if len(rest) < 3 || !isUpperAlpha(rest[:2]) || rest[2] != '-' {
		return bad("\"PSD\" is not followed by a two-letter country code and '-'")
	}
	country := rest[:2]
	rest = rest[3:]
	i := strings.IndexByte(rest, '-')
	if i < 0 {
		return bad("there is no '-' between the NCA code and the authorisation number")
	}
	nca := rest[:i]
	if len(nca) < 2 || len(nca) > 8 || !isUpperAlpha(nca) {
		return bad(fmt.Sprintf("the NCA code %q is not 2 to 8 letters A-Z", nca))
	}
	number := rest[i+1:]
	if number == "" {
		return bad("the authorisation number is empty")
	}
	if !utf8.ValidString(number) {
		return bad("the authorisation number is not valid UTF-8")
	}
	for _, r := range number {
		if unicode.IsControl(r) {
			return bad("the authorisation number holds a control character")
		}
	}
	return OrganizationID{Country: country, NCA: nca, Number: number}, nil
}

// String returns the identifier as written in a certificate.
func (o OrganizationID) String() string {
	return "PSD" + o.Country + "-" + o.NCA + "-" + o.Number
}

// NCAID returns the NCA identifier as the PSD2 statement spells it
// ("PL-KNF").
func (o OrganizationID) NCAID() string { return o.Country + "-" + o.NCA }

// Normalized returns a form of the identifier for comparisons: the NCA's
// known aliases are folded to one code (PL: PFSA -> KNF) and the number is
// upper-cased with spaces, '-', '/' and '.' removed. Two certificates, or a
// certificate and a register entry, name the same organisation when their
// normalized identifiers are equal.
func (o OrganizationID) Normalized() string {
	id := canonicalNCAID(o.NCAID())
	var b strings.Builder
	b.WriteString("PSD")
	b.WriteString(id)
	b.WriteByte('-')
	for _, r := range strings.ToUpper(o.Number) {
		switch r {
		case ' ', '-', '/', '.':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ncaAliases maps NCA ids seen in the wild to the one this project uses.
// TS 119 495 Annex D names Poland's NCA "PL-PFSA"; Polish banks and
// PolishAPI clients use "PL-KNF".
var ncaAliases = map[string]string{
	"PL-PFSA": "PL-KNF",
}

// canonicalNCAID folds known aliases of an NCA id to one spelling.
func canonicalNCAID(id string) string {
	if c, ok := ncaAliases[id]; ok {
		return c
	}
	return id
}

// ncaNames holds the names of some NCAs (TS 119 495 Annex D), used as the
// default nCAName when the sandbox QTSP issues a certificate.
var ncaNames = map[string]string{
	"PL-KNF":    "Polish Financial Supervision Authority",
	"PL-PFSA":   "Polish Financial Supervision Authority",
	"DE-BAFIN":  "Federal Financial Supervisory Authority",
	"FR-ACPR":   "Autorite de controle prudentiel et de resolution",
	"GB-FCA":    "Financial Conduct Authority",
	"NL-DNB":    "De Nederlandsche Bank",
	"LT-BL":     "Bank of Lithuania",
	"CZ-CNB":    "Czech National Bank",
	"IT-BI":     "Banca d'Italia",
	"ES-BE":     "Banco de Espana",
	"FI-FINFSA": "Finnish Financial Supervisory Authority",
	"SE-FINA":   "Finansinspektionen",
}

// NCAName returns the name of the NCA with the given id ("PL-KNF"), if this
// package knows it.
func NCAName(ncaID string) (string, bool) {
	n, ok := ncaNames[ncaID]
	return n, ok
}

// validNCAID reports whether id is "CC-XXXX": two letters, '-', 2 to 8
// letters A-Z (TS 119 495 GEN-5.2.3-2).
func validNCAID(id string) bool {
	if len(id) < 5 || len(id) > 11 || id[2] != '-' {
		return false
	}
	return isUpperAlpha(id[:2]) && isUpperAlpha(id[3:])
}

func isUpperAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}
