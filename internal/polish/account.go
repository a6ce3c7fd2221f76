package polish

import (
	"fmt"
	"strings"
)

// An NRB (numer rachunku bankowego) is 26 digits: 2 check digits, the 8-digit
// sort code of the bank unit and the 16-digit account number within the bank.
// Its IBAN is "PL" followed by the same 26 digits: the check digits are shared.
const (
	nrbLength           = 26
	sortCodeLength      = 8
	accountNumberLength = 16
)

// sortCodeWeights weigh the first seven digits of a sort code; the eighth is
// their check digit.
var sortCodeWeights = []int{3, 9, 7, 1, 3, 9, 7}

// NormalizeNRB returns the 26-digit electronic form of an NRB written with or
// without spaces and with an optional "PL" prefix, as in
// "PL61 1090 1014 0000 0712 1981 2874". It checks the length, the characters,
// the check digits (ISO 7064 MOD 97-10, as in the IBAN) and the check digit of
// the sort code. Errors wrap ErrFormat or ErrChecksum.
func NormalizeNRB(s string) (string, error) {
	n := strings.ReplaceAll(s, " ", "")
	if len(n) >= 2 && strings.EqualFold(n[:2], "PL") {
		n = n[2:]
	}
	if len(n) >= 2 && isLetter(n[0]) && isLetter(n[1]) {
		return "", newError(ErrFormat, "NRB %s starts with %q; an NRB is Polish and has either no prefix or PL", quote(s), n[:2])
	}
	if r, _, bad := firstNonDigit(n); bad {
		return "", newError(ErrFormat, "NRB %s contains %q; an NRB has only digits, optionally grouped by spaces and preceded by PL", quote(s), r)
	}
	if len(n) != nrbLength {
		return "", newError(ErrFormat, "NRB %s has %d digits; an NRB has %d", quote(s), len(n), nrbLength)
	}
	if want := checkDigits(n[2:], "PL"); n[:2] != want {
		return "", newError(ErrChecksum, "NRB %s checksum does not match: check digits are %s, expected %s; check the number for a typing error", quote(s), n[:2], want)
	}
	if err := CheckSortCode(n[2:10]); err != nil {
		return "", newError(ErrChecksum, "NRB %s has an invalid sort code: %v", quote(s), err)
	}
	return n, nil
}

// ValidateNRB reports whether NormalizeNRB accepts s.
func ValidateNRB(s string) error {
	_, err := NormalizeNRB(s)
	return err
}

// MakeNRB returns the NRB of an account: the check digits followed by the
// 8-digit sort code (whose own check digit must be right) and the 16-digit
// account number. Errors wrap ErrFormat or ErrChecksum.
func MakeNRB(sortCode, accountNumber string) (string, error) {
	if err := CheckSortCode(sortCode); err != nil {
		return "", err
	}
	if len(accountNumber) != accountNumberLength || !allDigits(accountNumber) {
		return "", newError(ErrFormat, "account number %s is not %d digits; pad it with leading zeros if it is shorter", quote(accountNumber), accountNumberLength)
	}
	bban := sortCode + accountNumber
	return checkDigits(bban, "PL") + bban, nil
}

// CheckSortCode checks an 8-digit sort code (numer rozliczeniowy): its last
// digit must be the check digit of the first seven (see
// SortCodeWithCheckDigit). Errors wrap ErrFormat or ErrChecksum.
func CheckSortCode(sortCode string) error {
	q := quote(sortCode)
	if r, _, bad := firstNonDigit(sortCode); bad {
		return newError(ErrFormat, "sort code %s contains %q; a sort code has only digits", q, r)
	}
	if len(sortCode) != sortCodeLength {
		return newError(ErrFormat, "sort code %s has %d digits; a sort code has %d", q, len(sortCode), sortCodeLength)
	}
	if want := sortCodeCheckDigit(sortCode[:7]); sortCode[7] != want {
		return newError(ErrChecksum, "sort code %s check digit is %c, expected %c", q, sortCode[7], want)
	}
	return nil
}

// SortCodeWithCheckDigit appends its check digit to the first seven digits of
// a sort code: the digits weighted 3, 9, 7, 1, 3, 9, 7, and the check digit
// brings the sum to a multiple of 10. Errors wrap ErrFormat.
func SortCodeWithCheckDigit(first7 string) (string, error) {
	if len(first7) != 7 || !allDigits(first7) {
		return "", newError(ErrFormat, "%s is not the 7 digits of a sort code without its check digit", quote(first7))
	}
	return first7 + string(sortCodeCheckDigit(first7)), nil
}

func sortCodeCheckDigit(first7 string) byte {
	return byte('0' + (10-weightedSum(first7, sortCodeWeights)%10)%10)
}

// checkDigits computes the ISO 7064 MOD 97-10 check digits of an IBAN with the
// given basic bank account number (upper-case letters and digits) and country.
func checkDigits(bban, country string) string {
	return fmt.Sprintf("%02d", 98-mod97(bban+country+"00"))
}

// mod97 returns the remainder modulo 97 of s read as a number, with the
// letters A to Z standing for 10 to 35. s must contain only digits and
// upper-case ASCII letters.
func mod97(s string) int {
	r := 0
	for i := range len(s) {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			r = (r*100 + int(c-'A') + 10) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}
