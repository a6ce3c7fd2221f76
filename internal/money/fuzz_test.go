package money

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse checks that the parsers never panic, that every error says what
// kind it is, and that whatever they accept is printed back by String in the
// same form, give or take a missing or one-digit fraction.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "0.01", "10.5", "1234.56", "-0.50", "99999999999999.99",
		"", "1e3", "1,50", ".5", "5.", "007.00", "+1", "--1", "0x1F", "１", "100000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, errSigned := ParseSigned(s)
		u, errUnsigned := Parse(s)
		for _, err := range []error{errSigned, errUnsigned} {
			if err != nil && !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrPrecision) && !errors.Is(err, ErrRange) {
				t.Fatalf("parsing %q: error %q has no known kind", s, err)
			}
		}
		if errUnsigned == nil && (errSigned != nil || a != u || u < 0) {
			t.Fatalf("Parse(%q) = %d but ParseSigned = %d, %v", s, u, a, errSigned)
		}
		if errSigned != nil {
			return
		}
		str := a.String()
		back, err := ParseSigned(str)
		if err != nil || back != a {
			t.Fatalf("ParseSigned(%q) = %d, %v; want %d (from input %q)", str, back, err, a, s)
		}
		canonical := s
		if a == 0 {
			canonical = strings.TrimPrefix(s, "-")
		}
		if str != canonical && str != canonical+".00" && str != canonical+"0" {
			t.Fatalf("input %q parsed to %d, which prints as %q", s, a, str)
		}
	})
}

// FuzzString checks that String never panics and that ParseSigned reads back
// every amount within ±Max and refuses, with ErrRange, every other one.
func FuzzString(f *testing.F) {
	for _, v := range []int64{0, 1, -1, -50, 123456, int64(Max), -int64(Max), int64(Max) + 1, -1 << 63, 1<<63 - 1} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		a := Amount(v)
		str := a.String()
		back, err := ParseSigned(str)
		if inRange(a) {
			if err != nil || back != a {
				t.Fatalf("ParseSigned(%q) = %d, %v; want %d", str, back, err, v)
			}
		} else if !errors.Is(err, ErrRange) {
			t.Fatalf("ParseSigned(%q) = %d, %v; want ErrRange", str, back, err)
		}
	})
}
