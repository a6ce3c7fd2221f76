package money

import "strings"

// currencies lists the supported ISO 4217 currencies with their number of
// decimal places (the ISO 4217 "minor unit").
var currencies = []struct {
	code     string
	exponent int
}{
	{"PLN", 2}, {"EUR", 2}, {"USD", 2}, {"GBP", 2}, {"CHF", 2}, {"CZK", 2}, {"SEK", 2},
	{"NOK", 2}, {"DKK", 2}, {"HUF", 2}, {"RON", 2}, {"ISK", 0}, {"JPY", 0},
}

// ValidCurrency reports whether code is a supported ISO 4217 currency code:
// three upper-case ASCII letters naming one of PLN, EUR, USD, GBP, CHF, CZK,
// SEK, NOK, DKK, HUF, RON, ISK or JPY. The error wraps ErrCurrency.
func ValidCurrency(code string) error {
	_, err := Exponent(code)
	return err
}

// Exponent returns the number of decimal places of a supported currency: 2
// for most, 0 for JPY and ISK. The error wraps ErrCurrency.
func Exponent(code string) (int, error) {
	for _, c := range currencies {
		if c.code == code {
			return c.exponent, nil
		}
	}
	q := quote(code)
	if upper := strings.ToUpper(code); upper != code && ValidCurrency(upper) == nil {
		return 0, newError(ErrCurrency, "currency code %s must be written in upper case: %s", q, upper)
	}
	if len(code) != 3 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return 0, newError(ErrCurrency, "currency code %s is not three upper-case letters, such as PLN or EUR", q)
	}
	codes := make([]string, len(currencies))
	for i, c := range currencies {
		codes[i] = c.code
	}
	return 0, newError(ErrCurrency, "currency %s is not supported; use one of %s", q, strings.Join(codes, ", "))
}
