package money

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
	}{
		{"0", 0},
		{"0.00", 0},
		{"0.01", 1},
		{"0.1", 10},
		{"10", 1000},
		{"10.5", 1050},
		{"1234.56", 123456},
		{"99999999999999.99", Max},
		{"99999999999999", Max - 99},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in      string
		kind    error
		message string // the whole message, to keep it readable for people
	}{
		{"", ErrSyntax, `amount is empty; write it as digits, such as 10 or 1234.56`},
		{"12.345", ErrPrecision, `amount "12.345" has 3 decimal places; at most 2 are allowed`},
		{"1e3", ErrSyntax, `amount "1e3" uses exponent notation; write the number out in full, as in 1000`},
		{"+1", ErrSyntax, `amount "+1" starts with a plus sign; write the number without it`},
		{"-1", ErrRange, `amount "-1" is negative; only zero or more is allowed`},
		{"1,50", ErrSyntax, `amount "1,50" uses a comma; the decimal separator is a dot, as in 1.50, and no thousands separator is allowed`},
		{"1 000", ErrSyntax, `amount "1 000" contains white space at position 2; write the number without spaces`},
		{" 1", ErrSyntax, `amount " 1" contains white space at position 1; write the number without spaces`},
		{"1\u00a0000", ErrSyntax, `amount "1\u00a0000" contains white space at position 2; write the number without spaces`},
		{".5", ErrSyntax, `amount ".5" has no digit before the decimal dot; write 0.5 instead`},
		{"5.", ErrSyntax, `amount "5." ends with a decimal dot; write 5 or 5.00 instead`},
		{".", ErrSyntax, `amount "." has no digits`},
		{"05.", ErrSyntax, `amount "05." ends with a decimal dot; write 5 or 5.00 instead`},
		{"-", ErrSyntax, `amount "-" has no digits`},
		{"0x1F", ErrSyntax, `amount "0x1F" is hexadecimal; write it in decimal digits`},
		{"007.00", ErrSyntax, `amount "007.00" has leading zeros; write 7.00 instead`},
		{"00", ErrSyntax, `amount "00" has leading zeros; write 0 instead`},
		{"1.2.3", ErrSyntax, `amount "1.2.3" has more than one decimal dot`},
		{"1-2", ErrSyntax, `amount "1-2" has a sign in the wrong place; only a single leading minus is allowed`},
		{"١٢", ErrSyntax, `amount "١٢" contains the non-ASCII digit '١' at position 1; use only the digits 0-9`},
		{"１", ErrSyntax, `amount "１" contains the non-ASCII digit '１' at position 1; use only the digits 0-9`},
		{"12zł", ErrSyntax, `amount "12zł" contains 'z' at position 3; only the digits 0-9 and one decimal dot are allowed`},
		{"NaN", ErrSyntax, `amount "NaN" contains 'N' at position 1; only the digits 0-9 and one decimal dot are allowed`},
		{"1\xff", ErrSyntax, `amount "1\xff" is not valid UTF-8 text`},
		{"100000000000000", ErrRange, `amount "100000000000000" has 15 digits before the decimal dot; at most 14 are allowed`},
		{"9223372036854775808", ErrRange, `amount "9223372036854775808" has 19 digits before the decimal dot; at most 14 are allowed`},
		{strings.Repeat("9", 50), ErrRange, `amount "` + strings.Repeat("9", 40) + `"… has 50 digits before the decimal dot; at most 14 are allowed`},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, nil; want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, tt.kind) {
			t.Errorf("Parse(%q) error %q is not %v", tt.in, err, tt.kind)
		}
		if err.Error() != tt.message {
			t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.in, err, tt.message)
		}
	}
}

func TestParseSigned(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
	}{
		{"-0.50", -50},
		{"-1234.56", -123456},
		{"-0", 0},
		{"12.3", 1230},
		{"-99999999999999.99", -Max},
	}
	for _, tt := range tests {
		got, err := ParseSigned(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSigned(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}

	errTests := []struct {
		in, message string
	}{
		{"--1", `amount "--1" has a sign in the wrong place; only a single leading minus is allowed`},
		{"-", `amount "-" has no digits`},
		{"-.5", `amount "-.5" has no digit before the decimal dot; write -0.5 instead`},
		{"-5.", `amount "-5." ends with a decimal dot; write -5 or -5.00 instead`},
		{"-01.5", `amount "-01.5" has leading zeros; write -1.5 instead`},
		{"-1.005", `amount "-1.005" has 3 decimal places; at most 2 are allowed`},
		{"-+1", `amount "-+1" has a sign in the wrong place; only a single leading minus is allowed`},
	}
	for _, tt := range errTests {
		if got, err := ParseSigned(tt.in); err == nil || err.Error() != tt.message {
			t.Errorf("ParseSigned(%q) = %v, %v; want error %s", tt.in, got, err, tt.message)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in   Amount
		want string
	}{
		{0, "0.00"},
		{1, "0.01"},
		{-50, "-0.50"},
		{1000, "10.00"},
		{123456, "1234.56"},
		{-123456, "-1234.56"},
		{Max, "99999999999999.99"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Amount(%d).String() = %q; want %q", int64(tt.in), got, tt.want)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, a := range []Amount{0, 1, -1, 99, -99, 100, -100, 101, Max, -Max, Max - 1, -Max + 1} {
		got, err := ParseSigned(a.String())
		if err != nil || got != a {
			t.Errorf("ParseSigned(%q) = %d, %v; want %d", a.String(), got, err, a)
		}
	}
	// Beyond ±Max String still works, and ParseSigned says why it refuses.
	for _, a := range []Amount{Max + 1, -Max - 1, math.MaxInt64, math.MinInt64} {
		if _, err := ParseSigned(a.String()); !errors.Is(err, ErrRange) {
			t.Errorf("ParseSigned(%q) error = %v; want ErrRange", a.String(), err)
		}
	}
}

func TestAddSub(t *testing.T) {
	tests := []struct {
		a, b     Amount
		sum      Amount
		sumOK    bool
		diff     Amount
		diffOK   bool
		errorMsg string // of Add when !sumOK
	}{
		{a: 150, b: 250, sum: 400, sumOK: true, diff: -100, diffOK: true},
		{a: -50, b: 50, sum: 0, sumOK: true, diff: -100, diffOK: true},
		{a: Max, b: 0, sum: Max, sumOK: true, diff: Max, diffOK: true},
		{a: Max, b: 1, sumOK: false, diff: Max - 1, diffOK: true,
			errorMsg: "99999999999999.99 + 0.01 is outside the supported range of -99999999999999.99 to 99999999999999.99"},
		{a: -Max, b: 1, sum: -Max + 1, sumOK: true, diffOK: false},
		{a: -Max, b: -1, sumOK: false, diff: -Max + 1, diffOK: true},
		{a: math.MaxInt64, b: 1, sumOK: false, diffOK: false},
		{a: math.MinInt64, b: -1, sumOK: false, diffOK: false},
		{a: math.MinInt64, b: math.MinInt64, sumOK: false, diff: 0, diffOK: true},
		{a: 0, b: math.MinInt64, sumOK: false, diffOK: false},
		{a: math.MaxInt64, b: math.MaxInt64, sumOK: false, diff: 0, diffOK: true},
	}
	for _, tt := range tests {
		sum, err := Add(tt.a, tt.b)
		if tt.sumOK && (err != nil || sum != tt.sum) {
			t.Errorf("Add(%d, %d) = %d, %v; want %d", tt.a, tt.b, sum, err, tt.sum)
		}
		if !tt.sumOK && !errors.Is(err, ErrRange) {
			t.Errorf("Add(%d, %d) = %d, %v; want ErrRange", tt.a, tt.b, sum, err)
		}
		if tt.errorMsg != "" && (err == nil || err.Error() != tt.errorMsg) {
			t.Errorf("Add(%d, %d) error = %v; want %s", tt.a, tt.b, err, tt.errorMsg)
		}
		diff, err := Sub(tt.a, tt.b)
		if tt.diffOK && (err != nil || diff != tt.diff) {
			t.Errorf("Sub(%d, %d) = %d, %v; want %d", tt.a, tt.b, diff, err, tt.diff)
		}
		if !tt.diffOK && !errors.Is(err, ErrRange) {
			t.Errorf("Sub(%d, %d) = %d, %v; want ErrRange", tt.a, tt.b, diff, err)
		}
	}
}
