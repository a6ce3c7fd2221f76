package polish

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Errors that callers can test for with errors.Is. Every error returned by this
// package wraps one of them and explains in its message what exactly is wrong.
var (
	// ErrFormat: wrong length, a character that is not allowed, an unknown
	// country, or an argument outside its documented range.
	ErrFormat = errors.New("wrong format")
	// ErrChecksum: the check digits do not match the rest of the number.
	ErrChecksum = errors.New("checksum does not match")
	// ErrDate: a PESEL encodes a date that does not exist or cannot be encoded.
	ErrDate = errors.New("invalid date")
)

// Error is the error type of this package. Its message is meant for people;
// its Kind (one of the Err variables above) is meant for code.
type Error struct {
	Kind error
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns e.Kind, so that errors.Is(err, ErrChecksum) works.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, format string, args ...any) error {
	return &Error{Kind: kind, msg: fmt.Sprintf(format, args...)}
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

// firstNonDigit returns the first rune of s that is not an ASCII digit and its
// 1-based position, or ok == false if s has only digits.
func firstNonDigit(s string) (r rune, pos int, ok bool) {
	for _, c := range s {
		pos++
		if c < '0' || c > '9' {
			return c, pos, true
		}
	}
	return 0, 0, false
}

// weightedSum returns the sum of the digits of s multiplied by weights.
// len(s) must not exceed len(weights) and s must be ASCII digits.
func weightedSum(s string, weights []int) int {
	sum := 0
	for i := range len(s) {
		sum += int(s[i]-'0') * weights[i]
	}
	return sum
}

// allDigits reports whether s is non-empty and consists of ASCII digits only.
func allDigits(s string) bool {
	_, _, bad := firstNonDigit(s)
	return s != "" && !bad
}
