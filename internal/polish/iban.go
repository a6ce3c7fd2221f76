package polish

import "strings"

// ibanLengths is the total length of an IBAN per country, from the SWIFT IBAN
// registry: every EU and EEA country, the United Kingdom and Switzerland, and
// the other countries of the registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
	"YE": 30,
}

// NormalizeIBAN returns the electronic form of an IBAN (upper case, no
// spaces) written in either the electronic or the paper form
// ("PL61 1090 1014 0000 0712 1981 2874"). It checks that the country is in the
// IBAN registry, the length for that country, the characters and the ISO 7064
// MOD 97-10 check digits; a Polish IBAN must also be a valid NRB (see
// NormalizeNRB). Errors wrap ErrFormat or ErrChecksum.
func NormalizeIBAN(s string) (string, error) {
	q := quote(s)
	compact := strings.ReplaceAll(s, " ", "")
	if compact == "" {
		return "", newError(ErrFormat, "IBAN is empty")
	}
	for _, r := range compact {
		if r >= 0x80 || !isLetter(byte(r)) && !isDigit(byte(r)) {
			return "", newError(ErrFormat, "IBAN %s contains %q; an IBAN has only letters A-Z and digits, optionally grouped by spaces", q, r)
		}
	}
	iban := strings.ToUpper(compact)
	if len(iban) < 2 || !isLetter(iban[0]) || !isLetter(iban[1]) {
		return "", newError(ErrFormat, "IBAN %s does not start with a two-letter country code such as PL", q)
	}
	country := iban[:2]
	want, ok := ibanLengths[country]
	if !ok {
		return "", newError(ErrFormat, "IBAN %s starts with %q, which is not a country that uses IBANs", q, country)
	}
	if len(iban) != want {
		return "", newError(ErrFormat, "IBAN %s has %d characters; an IBAN from %s has %d", q, len(iban), country, want)
	}
	if !allDigits(iban[2:4]) {
		return "", newError(ErrFormat, "IBAN %s has %q where the two check digits belong, after the country code", q, iban[2:4])
	}
	if country == "PL" && !allDigits(iban[4:]) {
		return "", newError(ErrFormat, "IBAN %s has letters after PL; a Polish IBAN has only digits there", q)
	}
	if expected := checkDigits(iban[4:], country); iban[2:4] != expected {
		return "", newError(ErrChecksum, "IBAN %s checksum does not match: check digits are %s, expected %s; check the number for a typing error", q, iban[2:4], expected)
	}
	if country == "PL" {
		if err := CheckSortCode(iban[4:12]); err != nil {
			return "", newError(ErrChecksum, "IBAN %s has an invalid sort code: %v", q, err)
		}
	}
	return iban, nil
}

// ValidateIBAN reports whether NormalizeIBAN accepts s.
func ValidateIBAN(s string) error {
	_, err := NormalizeIBAN(s)
	return err
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
