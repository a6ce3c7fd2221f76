package polish

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// withCheckDigit completes the first ten digits of a PESEL with its check
// digit, to build numbers that pass the checksum but fail later checks.
func withCheckDigit(first10 string) string { return first10 + string(peselCheckDigit(first10)) }

func TestValidatePESEL(t *testing.T) {
	valid := []struct {
		in    string
		birth time.Time
		sex   byte
	}{
		{"44051401458", date(1944, 5, 14), Male},
		{"02270803624", date(2002, 7, 8), Female},
		{withCheckDigit("0081010000"), date(1800, 1, 1), Female},
		{withCheckDigit("9992310001"), date(1899, 12, 31), Male},
		{withCheckDigit("0041010000"), date(2100, 1, 1), Female},
		{withCheckDigit("9972310009"), date(2299, 12, 31), Male},
		{withCheckDigit("0022290000"), date(2000, 2, 29), Female},
		{withCheckDigit("2402290000"), date(1924, 2, 29), Female},
	}
	for _, tt := range valid {
		birth, sex, err := ValidatePESEL(tt.in)
		if err != nil || !birth.Equal(tt.birth) || sex != tt.sex {
			t.Errorf("ValidatePESEL(%q) = %v, %c, %v; want %v, %c", tt.in, birth, sex, err, tt.birth, tt.sex)
		}
	}

	invalid := []struct {
		in      string
		kind    error
		message string
	}{
		{"44051401459", ErrChecksum, "PESEL checksum does not match: check digit is 9, expected 8; check the number for a typing error"},
		{"00000000000", ErrDate, "PESEL month field 00 is not a month: it must be 01-12 (born 1900-1999), 21-32 (2000-2099), 41-52 (2100-2199), 61-72 (2200-2299) or 81-92 (1800-1899)"},
		{withCheckDigit("0013010000"), ErrDate, "PESEL month field 13 is not a month: it must be 01-12 (born 1900-1999), 21-32 (2000-2099), 41-52 (2100-2199), 61-72 (2200-2299) or 81-92 (1800-1899)"},
		{withCheckDigit("0093010000"), ErrDate, "PESEL month field 93 is not a month: it must be 01-12 (born 1900-1999), 21-32 (2000-2099), 41-52 (2100-2199), 61-72 (2200-2299) or 81-92 (1800-1899)"},
		{withCheckDigit("9902310000"), ErrDate, "PESEL encodes the date of birth 1999-02-31, which does not exist"},
		{withCheckDigit("0102290000"), ErrDate, "PESEL encodes the date of birth 1901-02-29, which does not exist"},
		{withCheckDigit("0002290000"), ErrDate, "PESEL encodes the date of birth 1900-02-29, which does not exist"},
		{withCheckDigit("9904310000"), ErrDate, "PESEL encodes the date of birth 1999-04-31, which does not exist"},
		{withCheckDigit("9904000000"), ErrDate, "PESEL encodes the date of birth 1999-04-00, which does not exist"},
		{"4405140145", ErrFormat, "PESEL has 10 digits; a PESEL has 11"},
		{"", ErrFormat, "PESEL has 0 digits; a PESEL has 11"},
		{"440514 01458", ErrFormat, "PESEL contains ' ' at position 7; a PESEL has only digits"},
		{"4405140145８", ErrFormat, "PESEL contains '８' at position 11; a PESEL has only digits"},
	}
	for _, tt := range invalid {
		_, _, err := ValidatePESEL(tt.in)
		if err == nil || !errors.Is(err, tt.kind) || err.Error() != tt.message {
			t.Errorf("ValidatePESEL(%q) error\n got %v\nwant %s (%v)", tt.in, err, tt.message, tt.kind)
		}
		if err != nil && len(tt.in) > 5 && strings.Contains(err.Error(), tt.in[:6]) {
			t.Errorf("ValidatePESEL(%q) error %q repeats the PESEL", tt.in, err)
		}
	}
}

func TestMakePESEL(t *testing.T) {
	tests := []struct {
		birth  time.Time
		serial int
		female bool
		want   string
	}{
		{date(1944, 5, 14), 14, false, "44051401410"},
		{date(2002, 7, 8), 36, true, "02270803600"},
		{time.Date(1944, 5, 14, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)), 14, false, "44051401410"},
	}
	for _, tt := range tests {
		got, err := MakePESEL(tt.birth, tt.serial, tt.female)
		if err != nil || got != tt.want {
			t.Errorf("MakePESEL(%v, %d, %v) = %q, %v; want %q", tt.birth, tt.serial, tt.female, got, err, tt.want)
		}
	}
	// Every century and both sexes round-trip through ValidatePESEL.
	for _, birth := range []time.Time{date(1800, 1, 1), date(1899, 12, 31), date(1900, 2, 28), date(2000, 2, 29), date(2024, 12, 24), date(2199, 6, 30), date(2200, 1, 1), date(2299, 12, 31)} {
		for _, female := range []bool{false, true} {
			for _, serial := range []int{0, 523, 999} {
				pesel, err := MakePESEL(birth, serial, female)
				if err != nil {
					t.Fatalf("MakePESEL(%v, %d, %v): %v", birth, serial, female, err)
				}
				gotBirth, sex, err := ValidatePESEL(pesel)
				if err != nil || !gotBirth.Equal(birth) || (sex == Female) != female {
					t.Errorf("ValidatePESEL(MakePESEL(%v, %d, %v) = %q) = %v, %c, %v", birth, serial, female, pesel, gotBirth, sex, err)
				}
			}
		}
	}
	errTests := []struct {
		birth   time.Time
		serial  int
		kind    error
		message string
	}{
		{date(1799, 12, 31), 0, ErrDate, "year of birth 1799 cannot be written in a PESEL; it must be 1800-2299"},
		{date(2300, 1, 1), 0, ErrDate, "year of birth 2300 cannot be written in a PESEL; it must be 1800-2299"},
		{date(2000, 1, 1), -1, ErrFormat, "PESEL serial number -1 is outside 0-999"},
		{date(2000, 1, 1), 1000, ErrFormat, "PESEL serial number 1000 is outside 0-999"},
	}
	for _, tt := range errTests {
		if got, err := MakePESEL(tt.birth, tt.serial, false); err == nil || !errors.Is(err, tt.kind) || err.Error() != tt.message {
			t.Errorf("MakePESEL(%v, %d) = %q, %v; want %s", tt.birth, tt.serial, got, err, tt.message)
		}
	}
}

func TestNormalizeNIP(t *testing.T) {
	valid := []struct{ in, want string }{
		{"1234563218", "1234563218"},
		{"5261040828", "5261040828"},
		{"8117960116", "8117960116"},
		{"123-456-32-18", "1234563218"},
		{"123-45-63-218", "1234563218"},
		{"PL1234563218", "1234563218"},
		{"pl 123 456 32 18", "1234563218"},
	}
	for _, tt := range valid {
		got, err := NormalizeNIP(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeNIP(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err := ValidateNIP(tt.in); err != nil {
			t.Errorf("ValidateNIP(%q) = %v", tt.in, err)
		}
	}
	invalid := []struct {
		in      string
		kind    error
		message string
	}{
		{"1234563211", ErrChecksum, `NIP "1234563211" checksum does not match: check digit is 1, expected 8; check the number for a typing error`},
		{"1234560020", ErrChecksum, `NIP "1234560020" cannot be valid: no check digit fits its first nine digits (their weighted sum modulo 11 is 10); check the number for a typing error`},
		{"0000000000", ErrFormat, `NIP "0000000000" starts with 000, which is not a tax office code: the first digit cannot be 0, nor can the second and third both be 0`},
		{"1001234567", ErrFormat, `NIP "1001234567" starts with 100, which is not a tax office code: the first digit cannot be 0, nor can the second and third both be 0`},
		{"123456321", ErrFormat, `NIP "123456321" has 9 digits; a NIP has 10`},
		{"", ErrFormat, `NIP "" has 0 digits; a NIP has 10`},
		{"123.456.32.18", ErrFormat, `NIP "123.456.32.18" contains '.'; a NIP has only digits, optionally separated by dashes and preceded by PL`},
		{"DE1234563218", ErrFormat, `NIP "DE1234563218" contains 'D'; a NIP has only digits, optionally separated by dashes and preceded by PL`},
	}
	for _, tt := range invalid {
		got, err := NormalizeNIP(tt.in)
		if err == nil || !errors.Is(err, tt.kind) || err.Error() != tt.message {
			t.Errorf("NormalizeNIP(%q) = %q, %v\nwant %s (%v)", tt.in, got, err, tt.message, tt.kind)
		}
		if err := ValidateNIP(tt.in); err == nil {
			t.Errorf("ValidateNIP(%q) = nil", tt.in)
		}
	}
}

func TestMakeNIP(t *testing.T) {
	tests := []struct {
		first9, want string
		ok           bool
	}{
		{"123456321", "1234563218", true},
		{"526104082", "5261040828", true},
		{"811796011", "8117960116", true},
		{"123456002", "", false}, // check value 10
		{"012345678", "", false}, // not a tax office code
		{"100345678", "", false},
		{"12345678", "", false},
		{"12345678x", "", false},
	}
	for _, tt := range tests {
		if got, ok := MakeNIP(tt.first9); got != tt.want || ok != tt.ok {
			t.Errorf("MakeNIP(%q) = %q, %v; want %q, %v", tt.first9, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidateREGON(t *testing.T) {
	for _, s := range []string{"123456785", "357359470", "12345678512347", MakeREGON9("00000000")} {
		if err := ValidateREGON(s); err != nil {
			t.Errorf("ValidateREGON(%q) = %v", s, err)
		}
	}
	invalid := []struct {
		in      string
		kind    error
		message string
	}{
		{"123456786", ErrChecksum, `REGON "123456786" checksum does not match: check digit is 6, expected 5; check the number for a typing error`},
		{"12345678512348", ErrChecksum, `REGON "12345678512348" checksum does not match: check digit is 8, expected 7; check the number for a typing error`},
		{"12345678612347", ErrChecksum, `REGON "12345678612347" has invalid first nine digits, which must be the REGON of the parent entity: REGON "123456786" checksum does not match: check digit is 6, expected 5; check the number for a typing error`},
		{"1234567851", ErrFormat, `REGON "1234567851" has 10 digits; a REGON has 9 or 14`},
		{"12345678-5", ErrFormat, `REGON "12345678-5" contains '-'; a REGON has only digits`},
		{"", ErrFormat, `REGON "" has 0 digits; a REGON has 9 or 14`},
	}
	for _, tt := range invalid {
		if err := ValidateREGON(tt.in); err == nil || !errors.Is(err, tt.kind) || err.Error() != tt.message {
			t.Errorf("ValidateREGON(%q) error\n got %v\nwant %s (%v)", tt.in, err, tt.message, tt.kind)
		}
	}
}

func TestMakeREGON9(t *testing.T) {
	for _, want := range []string{"123456785", "357359470"} {
		if got := MakeREGON9(want[:8]); got != want {
			t.Errorf("MakeREGON9(%q) = %q; want %q", want[:8], got, want)
		}
	}
	// A weighted sum of 10 modulo 11 (here 164) gives the check digit 0.
	if got := MakeREGON9("12345674"); got != "123456740" {
		t.Errorf("MakeREGON9(%q) = %q; want %q", "12345674", got, "123456740")
	}
	if err := ValidateREGON("123456740"); err != nil {
		t.Errorf("ValidateREGON(%q) = %v", "123456740", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("MakeREGON9(\"1234567\") did not panic")
		}
	}()
	MakeREGON9("1234567")
}
