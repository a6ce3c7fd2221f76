package money

import (
	"errors"
	"testing"
)

func TestExponent(t *testing.T) {
	tests := []struct {
		code    string
		want    int
		message string // empty when valid
	}{
		{code: "PLN", want: 2},
		{code: "EUR", want: 2},
		{code: "HUF", want: 2},
		{code: "JPY", want: 0},
		{code: "ISK", want: 0},
		{code: "pln", message: `currency code "pln" must be written in upper case: PLN`},
		{code: "PL", message: `currency code "PL" is not three upper-case letters, such as PLN or EUR`},
		{code: "PLN ", message: `currency code "PLN " is not three upper-case letters, such as PLN or EUR`},
		{code: "", message: `currency code "" is not three upper-case letters, such as PLN or EUR`},
		{code: "XYZ", message: `currency "XYZ" is not supported; use one of PLN, EUR, USD, GBP, CHF, CZK, SEK, NOK, DKK, HUF, RON, ISK, JPY`},
	}
	for _, tt := range tests {
		got, err := Exponent(tt.code)
		if tt.message == "" {
			if err != nil || got != tt.want {
				t.Errorf("Exponent(%q) = %d, %v; want %d", tt.code, got, err, tt.want)
			}
			if err := ValidCurrency(tt.code); err != nil {
				t.Errorf("ValidCurrency(%q) = %v", tt.code, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.message || !errors.Is(err, ErrCurrency) {
			t.Errorf("Exponent(%q) error = %v; want ErrCurrency: %s", tt.code, err, tt.message)
		}
		if err := ValidCurrency(tt.code); !errors.Is(err, ErrCurrency) {
			t.Errorf("ValidCurrency(%q) = %v; want ErrCurrency", tt.code, err)
		}
	}
}

func TestParseIn(t *testing.T) {
	tests := []struct {
		in, currency string
		want         Amount
		message      string // empty when valid
	}{
		{in: "10.50", currency: "PLN", want: 1050},
		{in: "1000", currency: "JPY", want: 100000},
		{in: "1000.5", currency: "JPY", message: `amount "1000.5" has 1 decimal place; JPY has no minor unit, so none are allowed`},
		{in: "1000.", currency: "JPY", message: `amount "1000." ends with a decimal dot; write 1000 instead`},
		{in: "1.234", currency: "EUR", message: `amount "1.234" has 3 decimal places; at most 2 are allowed in EUR`},
		{in: "1", currency: "XXX", message: `currency "XXX" is not supported; use one of PLN, EUR, USD, GBP, CHF, CZK, SEK, NOK, DKK, HUF, RON, ISK, JPY`},
		{in: "-1", currency: "PLN", message: `amount "-1" is negative; only zero or more is allowed`},
	}
	for _, tt := range tests {
		got, err := ParseIn(tt.in, tt.currency)
		if tt.message == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseIn(%q, %q) = %d, %v; want %d", tt.in, tt.currency, got, err, tt.want)
			}
			continue
		}
		if err == nil || err.Error() != tt.message {
			t.Errorf("ParseIn(%q, %q) = %d, %v; want error %s", tt.in, tt.currency, got, err, tt.message)
		}
	}
}
