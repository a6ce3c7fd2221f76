package polish

import (
	"fmt"
	"strings"
	"time"
)

// Sex as encoded in a PESEL.
const (
	Male   byte = 'M'
	Female byte = 'F'
)

var peselWeights = []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}

// peselCenturies maps a PESEL's month field divided by 20 to the first year of
// the century it encodes: months 01-12 are 1900-1999,
// 21-32 2000-2099, 41-52 2100-2199, 61-72 2200-2299 and 81-92 1800-1899.
var peselCenturies = [5]int{1900, 2000, 2100, 2200, 1800}

// ValidatePESEL checks a PESEL (11 digits, no spaces) and returns the date of
// birth it encodes, as midnight UTC of that day, and the sex it encodes, Male
// or Female. The check digit must match (weights 1, 3, 7, 9, ...), and the
// date must exist and lie within 1800-2299. Error messages never repeat the
// PESEL, so that they can be logged. Errors wrap ErrFormat, ErrChecksum or
// ErrDate.
func ValidatePESEL(s string) (birth time.Time, sex byte, err error) {
	if r, pos, bad := firstNonDigit(s); bad {
		return time.Time{}, 0, newError(ErrFormat, "PESEL contains %q at position %d; a PESEL has only digits", r, pos)
	}
	if len(s) != 11 {
		return time.Time{}, 0, newError(ErrFormat, "PESEL has %d digits; a PESEL has 11", len(s))
	}
	if want := peselCheckDigit(s[:10]); s[10] != want {
		return time.Time{}, 0, newError(ErrChecksum, "PESEL checksum does not match: check digit is %c, expected %c; check the number for a typing error", s[10], want)
	}
	yy := int(s[0]-'0')*10 + int(s[1]-'0')
	mm := int(s[2]-'0')*10 + int(s[3]-'0')
	dd := int(s[4]-'0')*10 + int(s[5]-'0')
	month := mm % 20
	if month < 1 || month > 12 {
		return time.Time{}, 0, newError(ErrDate, "PESEL month field %02d is not a month: it must be 01-12 (born 1900-1999), 21-32 (2000-2099), 41-52 (2100-2199), 61-72 (2200-2299) or 81-92 (1800-1899)", mm)
	}
	year := peselCenturies[mm/20] + yy
	birth = time.Date(year, time.Month(month), dd, 0, 0, 0, 0, time.UTC)
	if birth.Day() != dd || birth.Month() != time.Month(month) {
		return time.Time{}, 0, newError(ErrDate, "PESEL encodes the date of birth %04d-%02d-%02d, which does not exist", year, month, dd)
	}
	sex = Male
	if (s[9]-'0')%2 == 0 {
		sex = Female
	}
	return birth, sex, nil
}

// MakePESEL returns the PESEL of a synthetic person born on the calendar date
// of birth (in birth's own location), with the given serial number 0-999
// (digits 7-9). The sex digit is 0 for a woman and 1 for a man. Errors wrap
// ErrDate (a year outside 1800-2299) or ErrFormat (a serial outside 0-999).
func MakePESEL(birth time.Time, serial int, female bool) (string, error) {
	y, m, d := birth.Date()
	if y < 1800 || y > 2299 {
		return "", newError(ErrDate, "year of birth %d cannot be written in a PESEL; it must be 1800-2299", y)
	}
	if serial < 0 || serial > 999 {
		return "", newError(ErrFormat, "PESEL serial number %d is outside 0-999", serial)
	}
	sexDigit := 1
	if female {
		sexDigit = 0
	}
	century := (y/100 - 19 + 5) % 5 // index into peselCenturies
	first10 := fmt.Sprintf("%02d%02d%02d%03d%d", y%100, int(m)+20*century, d, serial, sexDigit)
	return first10 + string(peselCheckDigit(first10)), nil
}

func peselCheckDigit(first10 string) byte {
	return byte('0' + (10-weightedSum(first10, peselWeights)%10)%10)
}

var nipWeights = []int{6, 5, 7, 2, 3, 4, 5, 6, 7}

// NormalizeNIP returns the 10-digit form of a NIP (tax identification
// number) written with or without dashes and spaces, as in "123-456-32-18" or
// "123-45-63-218", and with an optional "PL" prefix (the EU VAT number form).
// The first three digits must be a possible tax office code (the first digit
// and the pair of the second and third are not zero, as in the Ministry of
// Finance's schemas) and the check digit must match (weights 6, 5, 7, 2, 3, 4,
// 5, 6, 7, sum modulo 11). Errors wrap ErrFormat or ErrChecksum.
func NormalizeNIP(s string) (string, error) {
	q := quote(s)
	n := strings.NewReplacer("-", "", " ", "").Replace(s)
	if len(n) >= 2 && strings.EqualFold(n[:2], "PL") {
		n = n[2:]
	}
	if r, _, bad := firstNonDigit(n); bad {
		return "", newError(ErrFormat, "NIP %s contains %q; a NIP has only digits, optionally separated by dashes and preceded by PL", q, r)
	}
	if len(n) != 10 {
		return "", newError(ErrFormat, "NIP %s has %d digits; a NIP has 10", q, len(n))
	}
	if n[0] == '0' || n[1:3] == "00" {
		return "", newError(ErrFormat, "NIP %s starts with %s, which is not a tax office code: the first digit cannot be 0, nor can the second and third both be 0", q, n[:3])
	}
	switch want, ok := nipCheckDigit(n[:9]); {
	case !ok:
		return "", newError(ErrChecksum, "NIP %s cannot be valid: no check digit fits its first nine digits (their weighted sum modulo 11 is 10); check the number for a typing error", q)
	case n[9] != want:
		return "", newError(ErrChecksum, "NIP %s checksum does not match: check digit is %c, expected %c; check the number for a typing error", q, n[9], want)
	}
	return n, nil
}

// ValidateNIP reports whether NormalizeNIP accepts s.
func ValidateNIP(s string) error {
	_, err := NormalizeNIP(s)
	return err
}

// MakeNIP appends the check digit to the first nine digits of a NIP. ok is
// false when first9 is not nine digits, does not start with a possible tax
// office code (see NormalizeNIP), or has no check digit (the weighted sum
// modulo 11 is 10): such numbers are never issued.
func MakeNIP(first9 string) (nip string, ok bool) {
	if len(first9) != 9 || !allDigits(first9) || first9[0] == '0' || first9[1:3] == "00" {
		return "", false
	}
	cd, ok := nipCheckDigit(first9)
	if !ok {
		return "", false
	}
	return first9 + string(cd), true
}

func nipCheckDigit(first9 string) (byte, bool) {
	r := weightedSum(first9, nipWeights) % 11
	return byte('0' + r), r != 10
}

var (
	regon9Weights  = []int{8, 9, 2, 3, 4, 5, 6, 7}
	regon14Weights = []int{2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8}
)

// ValidateREGON checks a REGON, the statistical number of a business: either 9
// digits (weights 8, 9, 2, 3, 4, 5, 6, 7) or 14 digits (weights 2, 4, 8, 5, 0,
// 9, 7, 3, 6, 1, 2, 4, 8) whose first nine are the valid REGON of the parent
// entity; the check digit is the weighted sum modulo 11, with 10 written as 0.
// Errors wrap ErrFormat or ErrChecksum.
func ValidateREGON(s string) error {
	q := quote(s)
	if r, _, bad := firstNonDigit(s); bad {
		return newError(ErrFormat, "REGON %s contains %q; a REGON has only digits", q, r)
	}
	switch len(s) {
	case 9:
		if want := regonCheckDigit(s[:8], regon9Weights); s[8] != want {
			return newError(ErrChecksum, "REGON %s checksum does not match: check digit is %c, expected %c; check the number for a typing error", q, s[8], want)
		}
	case 14:
		if err := ValidateREGON(s[:9]); err != nil {
			return newError(ErrChecksum, "REGON %s has invalid first nine digits, which must be the REGON of the parent entity: %v", q, err)
		}
		if want := regonCheckDigit(s[:13], regon14Weights); s[13] != want {
			return newError(ErrChecksum, "REGON %s checksum does not match: check digit is %c, expected %c; check the number for a typing error", q, s[13], want)
		}
	default:
		return newError(ErrFormat, "REGON %s has %d digits; a REGON has 9 or 14", q, len(s))
	}
	return nil
}

// MakeREGON9 appends the check digit to the first eight digits of a 9-digit
// REGON. It panics if first8 is not eight ASCII digits: it is meant for
// generating synthetic data from known-good input.
func MakeREGON9(first8 string) string {
	if len(first8) != 8 || !allDigits(first8) {
		panic(fmt.Sprintf("polish.MakeREGON9: %q is not eight digits", first8))
	}
	return first8 + string(regonCheckDigit(first8, regon9Weights))
}

func regonCheckDigit(digits string, weights []int) byte {
	return byte('0' + weightedSum(digits, weights)%11%10)
}
