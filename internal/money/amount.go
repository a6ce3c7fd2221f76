// Package money represents monetary amounts exactly, as a whole number of
// hundredths of the currency unit (grosze for PLN, cents for EUR), and parses
// and prints them in the decimal wire form of the PolishAPI, mBank and
// Berlin Group APIs ("1234.56"). It never uses floating point.
//
// The package is pure: no I/O, no clock, standard library only.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Amount is a monetary amount in hundredths of the currency unit: Amount(12345)
// is 123.45. Every currency shares this scale, including those without a minor
// unit (see ParseIn), so that String always prints two decimals.
type Amount int64

const (
	// MaxIntegerDigits is the longest integer part that the parsers accept;
	// it is the limit of the Berlin Group amount pattern.
	MaxIntegerDigits = 14

	// Max is the largest amount that the parsers accept and that Add and Sub
	// produce: 99999999999999.99. Its negation is the smallest one. Keeping
	// results within ±Max guarantees that every amount they return can be
	// printed and parsed back unchanged.
	Max Amount = 99_999_999_999_999_99
)

// Errors that callers can test for with errors.Is. The errors returned by this
// package wrap one of them and explain in their message what exactly is wrong.
var (
	// ErrSyntax: the text is not a plain decimal number such as "1234.56".
	ErrSyntax = errors.New("amount is not a plain decimal number")
	// ErrPrecision: the text has more decimal places than the currency allows.
	ErrPrecision = errors.New("amount has too many decimal places")
	// ErrRange: the amount is negative where only non-negative amounts are
	// allowed, or its magnitude exceeds Max (also on Add and Sub).
	ErrRange = errors.New("amount out of range")
	// ErrCurrency: the currency code is malformed or not supported.
	ErrCurrency = errors.New("unsupported currency")
)

// Error is the error type of this package. Its message is meant for people;
// its Kind (one of the Err variables above) is meant for code.
type Error struct {
	Kind error
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns e.Kind, so that errors.Is(err, ErrPrecision) works.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, format string, args ...any) error {
	return &Error{Kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Parse parses a non-negative amount in the wire form "1234.56": ASCII digits,
// optionally followed by a dot and one or two decimals. It rejects signs,
// exponents, comma separators, spaces, leading zeros ("007"), a bare leading or
// trailing dot (".5", "5.") and more than MaxIntegerDigits integer digits.
func Parse(s string) (Amount, error) {
	return parse(s, false, 2, "")
}

// ParseSigned is like Parse but also accepts a leading "-". "-0" is accepted
// and is zero.
func ParseSigned(s string) (Amount, error) {
	return parse(s, true, 2, "")
}

// ParseIn is like Parse but allows only as many decimals as currency has
// (see Exponent): "1000" is a valid JPY amount, "1000.5" is not. The result
// is still in hundredths of the unit, so ParseIn("1000", "JPY") is 100000.
func ParseIn(s, currency string) (Amount, error) {
	exp, err := Exponent(currency)
	if err != nil {
		return 0, err
	}
	return parse(s, false, exp, currency)
}

// parse implements the parsers. maxDecimals is at most 2; currency, when not
// empty, names the currency whose exponent maxDecimals is, for the message.
func parse(s string, allowNegative bool, maxDecimals int, currency string) (Amount, error) {
	if s == "" {
		return 0, newError(ErrSyntax, "amount is empty; write it as digits, such as 10 or 1234.56")
	}
	q := quote(s)
	if err := checkCharacters(s, q); err != nil {
		return 0, err
	}

	if s[0] == '+' {
		return 0, newError(ErrSyntax, "amount %s starts with a plus sign; write the number without it", q)
	}
	body, negative := strings.CutPrefix(s, "-")
	sign := ""
	if negative && body != "" {
		if !allowNegative {
			return 0, newError(ErrRange, "amount %s is negative; only zero or more is allowed", q)
		}
		sign = "-"
	}
	if strings.ContainsAny(body, "+-") {
		return 0, newError(ErrSyntax, "amount %s has a sign in the wrong place; only a single leading minus is allowed", q)
	}

	whole, frac, hasDot := strings.Cut(body, ".")
	switch {
	case strings.Contains(frac, "."):
		return 0, newError(ErrSyntax, "amount %s has more than one decimal dot", q)
	case whole == "" && frac == "":
		return 0, newError(ErrSyntax, "amount %s has no digits", q)
	case whole == "":
		return 0, newError(ErrSyntax, "amount %s has no digit before the decimal dot; write %s0.%s instead", q, sign, frac)
	case hasDot && frac == "":
		suggestion := sign + withoutLeadingZeros(whole)
		if maxDecimals > 0 {
			suggestion += " or " + suggestion + "." + strings.Repeat("0", maxDecimals)
		}
		return 0, newError(ErrSyntax, "amount %s ends with a decimal dot; write %s instead", q, suggestion)
	case len(whole) > 1 && whole[0] == '0':
		return 0, newError(ErrSyntax, "amount %s has leading zeros; write %s instead", q, sign+withoutLeadingZeros(whole)+strings.TrimPrefix(body, whole))
	case len(whole) > MaxIntegerDigits:
		return 0, newError(ErrRange, "amount %s has %d digits before the decimal dot; at most %d are allowed", q, len(whole), MaxIntegerDigits)
	case len(frac) > maxDecimals:
		return 0, precisionError(q, len(frac), maxDecimals, currency)
	}

	// At most 14+2 digits: no overflow is possible.
	var v int64
	for _, c := range whole + frac + strings.Repeat("0", 2-len(frac)) {
		v = v*10 + int64(c-'0')
	}
	if negative {
		v = -v
	}
	return Amount(v), nil
}

// withoutLeadingZeros strips the leading zeros of a digit string, keeping one
// digit.
func withoutLeadingZeros(digits string) string {
	if t := strings.TrimLeft(digits, "0"); t != "" {
		return t
	}
	return "0"
}

// checkCharacters reports the first character that can never appear in an
// amount, with advice on what to write instead.
func checkCharacters(s, q string) error {
	for i, r := range s {
		if r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' {
			continue
		}
		pos := utf8.RuneCountInString(s[:i]) + 1
		switch {
		case r == ',':
			return newError(ErrSyntax, "amount %s uses a comma; the decimal separator is a dot, as in 1.50, and no thousands separator is allowed", q)
		case r == 'e' || r == 'E':
			return newError(ErrSyntax, "amount %s uses exponent notation; write the number out in full, as in 1000", q)
		case (r == 'x' || r == 'X') && i > 0 && s[i-1] == '0':
			return newError(ErrSyntax, "amount %s is hexadecimal; write it in decimal digits", q)
		case unicode.IsSpace(r):
			return newError(ErrSyntax, "amount %s contains white space at position %d; write the number without spaces", q, pos)
		case unicode.IsDigit(r):
			return newError(ErrSyntax, "amount %s contains the non-ASCII digit %q at position %d; use only the digits 0-9", q, r, pos)
		case r == utf8.RuneError:
			return newError(ErrSyntax, "amount %s is not valid UTF-8 text", q)
		default:
			return newError(ErrSyntax, "amount %s contains %q at position %d; only the digits 0-9 and one decimal dot are allowed", q, r, pos)
		}
	}
	return nil
}

func precisionError(q string, got, allowed int, currency string) error {
	places := "decimal places"
	if got == 1 {
		places = "decimal place"
	}
	switch {
	case allowed == 0:
		return newError(ErrPrecision, "amount %s has %d %s; %s has no minor unit, so none are allowed", q, got, places, currency)
	case currency != "":
		return newError(ErrPrecision, "amount %s has %d %s; at most %d are allowed in %s", q, got, places, allowed, currency)
	default:
		return newError(ErrPrecision, "amount %s has %d %s; at most %d are allowed", q, got, places, allowed)
	}
}

// String formats a as a decimal with exactly two decimals and a leading "-"
// when negative: "1234.56", "-0.50", "0.00". Parse or ParseSigned read back
// every amount within ±Max; String itself works for every value, including
// math.MinInt64.
func (a Amount) String() string {
	var buf [24]byte
	return string(a.Append(buf[:0]))
}

// Append appends the amount as String writes it.
func (a Amount) Append(b []byte) []byte {
	u := uint64(a)
	if a < 0 {
		u = -u // two's complement: correct for math.MinInt64 too
	}
	if a < 0 {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, u/100, 10)
	frac := u % 100
	return append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
}

// Add returns a+b, or an ErrRange error if the sum is outside ±Max.
func Add(a, b Amount) (Amount, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) || !inRange(a+b) {
		return 0, rangeError(a, "+", b)
	}
	return a + b, nil
}

// Sub returns a-b, or an ErrRange error if the difference is outside ±Max.
func Sub(a, b Amount) (Amount, error) {
	if (b < 0 && a > math.MaxInt64+b) || (b > 0 && a < math.MinInt64+b) || !inRange(a-b) {
		return 0, rangeError(a, "-", b)
	}
	return a - b, nil
}

func inRange(a Amount) bool { return a >= -Max && a <= Max }

func rangeError(a Amount, op string, b Amount) error {
	return newError(ErrRange, "%s %s %s is outside the supported range of -%s to %s", a, op, b, Max, Max)
}

// quote quotes s for an error message, shortening very long input.
func quote(s string) string {
	const limit = 40
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
