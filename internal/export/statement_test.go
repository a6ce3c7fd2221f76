package export

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestCheckRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Statement)
		index  int    // of the item named, -1 for the statement
		want   string // in the message
	}{
		{"closing balance off", func(s *Statement) { s.ClosingBalance += 1 }, -1, "closing balance is 20294.93, but the opening balance 10000.00 plus the 9 items is 20294.92"},
		{"balance after off", func(s *Statement) { s.Items[4].BalanceAfter = 16644_00 }, 4, "balance after is 16644.00, but the opening balance 10000.00 plus items 1 to 5 is 16644.01"},
		{"amount changed", func(s *Statement) { s.Items[1].Amount = -1231_00 }, 1, "balance after is 21070.00"},
		{"before the period", func(s *Statement) { s.Items[0].BookingDate = day(time.February, 28) }, 0, "outside the period 2025-03-01 to 2025-03-31"},
		{"after the period", func(s *Statement) { s.Items[8].BookingDate = day(time.April, 1) }, 8, "booked on 2025-04-01, outside the period"},
		{"out of order", func(s *Statement) { s.Items[3].BookingDate = day(time.March, 9) }, 3, "before the item above it (2025-03-10)"},
		{"no booking date", func(s *Statement) { s.Items[2].BookingDate = time.Time{} }, 2, "no booking date"},
		{"other currency", func(s *Statement) { s.Items[6].Currency = "EUR" }, 6, "currency EUR differs from the account's PLN"},
		{"bad account", func(s *Statement) { s.Account.IBAN = "PL20114020040000123456789013" }, -1, "account number"},
		{"bad currency", func(s *Statement) { s.Account.Currency = "zł" }, -1, "not a three-letter ISO 4217 code"},
		{"reversed period", func(s *Statement) { s.From, s.To = s.To, s.From }, -1, "starts on 2025-03-31, after its end on 2025-03-01"},
		{"no period", func(s *Statement) { s.To = time.Time{} }, -1, "no start or no end date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture()
			tt.change(&s)
			err := s.Check()
			if !errors.Is(err, ErrInconsistent) {
				t.Fatalf("Check() = %v, want an ErrInconsistent", err)
			}
			var se *StatementError
			if !errors.As(err, &se) || se.Index != tt.index {
				t.Fatalf("Check() = %#v, want index %d", err, tt.index)
			}
			if tt.index >= 0 && !strings.Contains(err.Error(), `(id "`+s.Items[tt.index].ID+`")`) {
				t.Errorf("error %q does not name the item's ID", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			// Every writer refuses the statement the same way.
			writers := map[string]func() error{
				"CSV":     func() error { return WriteCSV(io.Discard, s, CSVOptions{}) },
				"MT940":   func() error { return WriteMT940(io.Discard, s, MT940Options{}) },
				"camt053": func() error { return WriteCamt053(io.Discard, s, Camt053Options{MessageID: "M"}) },
				"JPK_WB": func() error {
					_, err := WriteJPKWB(io.Discard, s, JPKWBOptions{TaxOfficeCode: "1009"})
					return err
				},
			}
			for name, write := range writers {
				if err := write(); !errors.Is(err, ErrInconsistent) {
					t.Errorf("%s: error %v, want an ErrInconsistent", name, err)
				}
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	s := fixture()
	s.Items = nil
	s.ClosingBalance = s.OpeningBalance
	if err := s.Check(); err != nil {
		t.Errorf("empty statement: %v", err)
	}
	// A date at midnight UTC is the same day as midnight in Warsaw.
	s = fixture()
	s.Account.IBAN = "20114020040000123456789012" // bare NRB
	s.Items[0].BookingDate = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	s.To = time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)
	if err := s.Check(); err != nil {
		t.Errorf("UTC dates: %v", err)
	}
	// A negative balance is fine.
	s = fixture()
	s.OpeningBalance -= 30000_00
	s.ClosingBalance -= 30000_00
	for i := range s.Items {
		s.Items[i].BalanceAfter -= 30000_00
	}
	if err := s.Check(); err != nil {
		t.Errorf("overdraft: %v", err)
	}
}

func TestSwiftText(t *testing.T) {
	tests := map[string]string{
		"Zażółć gęślą jaźń":       "Zazolc gesla jazn",
		"ZAŻÓŁĆ GĘŚLĄ JAŹŃ":       "ZAZOLC GESLA JAZN",
		"a\tb\r\n  c":             "a b c",
		"50% rabatu! #1 @home ~x": "50 rabatu 1 home x",
		"„cudzysłów” – myślnik":   "'cudzyslow' - myslnik",
		"Müller & Söhne; Straße":  "Muller + Sohne, Strasse",
		"日本":                      "",
	}
	for in, want := range tests {
		if got := swiftText(in); got != want {
			t.Errorf("swiftText(%q) = %q, want %q", in, got, want)
		}
	}
}
