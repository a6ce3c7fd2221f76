package export

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func writeMT940(t *testing.T, s Statement, opt MT940Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteMT940(&b, s, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// longStatement is the fixture with an item whose every text is as long as
// it gets, so that field 86 must give something up.
func longStatement() Statement {
	s := fixture()
	long := strings.Repeat("Źdźbło trawy: -przykład- ", 20)
	s.Items[5].Title = long
	s.Items[5].CounterpartyName = long
	s.Items[5].CounterpartyAddress = long
	s.Items[5].Type = long
	s.Items[5].Reference = long
	s.Items[5].ID = strings.Repeat("ID-", 30)
	return s
}

func TestMT940LinesAndCharacterSet(t *testing.T) {
	for _, dialect := range []string{DialectGeneric, DialectMBank} {
		for name, s := range map[string]Statement{"fixture": fixture(), "long": longStatement()} {
			t.Run(dialect+"/"+name, func(t *testing.T) {
				out := writeMT940(t, s, MT940Options{Dialect: dialect})
				if !strings.HasSuffix(out, "\r\n") || strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") ||
					strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\r") {
					t.Fatalf("lines do not all end in CRLF")
				}
				separator := "~"
				if dialect == DialectMBank {
					separator = ";"
				}
				lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
				in86, lines86 := false, 0
				for i, l := range lines {
					for _, r := range l {
						if !inSWIFTX(r) && !strings.ContainsRune(separator, r) {
							t.Errorf("line %d %q has %q, outside the SWIFT X set", i+1, l, r)
						}
					}
					if tag, _, ok := mt940Tag(l); ok {
						if in86 && lines86 > mt940Lines86 {
							t.Errorf("field 86 before line %d has %d lines", i+1, lines86)
						}
						in86, lines86 = tag == "86", 0
					}
					if in86 {
						lines86++
						if len(l) > mt940LineLen {
							t.Errorf("line %d of field 86 has %d characters: %q", i+1, len(l), l)
						}
						if lines86 > 1 && (l == "" || strings.ContainsRune(":- ", rune(l[0])) || strings.HasSuffix(l, " ")) {
							t.Errorf("line %d %q starts with : - or space or ends with a space", i+1, l)
						}
					}
					if len(l) > 70 {
						t.Errorf("line %d has %d characters", i+1, len(l))
					}
				}
				if strings.Contains(out, "ł") || strings.Contains(out, "Ż") {
					t.Errorf("Polish letters left in the output")
				}
			})
		}
	}
}

func TestMT940RoundTrip(t *testing.T) {
	for _, dialect := range []string{DialectGeneric, DialectMBank} {
		for name, s := range map[string]Statement{"fixture": fixture(), "long": longStatement()} {
			t.Run(dialect+"/"+name, func(t *testing.T) {
				if name == "fixture" {
					s.OpeningBalance -= 20000_00 // a debit opening balance
					s.ClosingBalance -= 20000_00
					for i := range s.Items {
						s.Items[i].BalanceAfter -= 20000_00
					}
				}
				out := writeMT940(t, s, MT940Options{Dialect: dialect, StatementNumber: 12})
				got, err := ParseMT940(strings.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 {
					t.Fatalf("read %d statements, want 1", len(got))
				}
				p := got[0]
				iban, _ := s.Account.iban()
				if p.Account.IBAN != iban || p.Account.Currency != "PLN" || p.Number != "12/1" || p.Reference != "ST250331/12" {
					t.Errorf("header: %q %q %q %q", p.Account.IBAN, p.Account.Currency, p.Number, p.Reference)
				}
				if p.OpeningBalance != s.OpeningBalance || p.ClosingBalance != s.ClosingBalance ||
					!p.HasAvailableBalance || p.AvailableBalance != s.ClosingBalance {
					t.Errorf("balances %s, %s, %s; want %s, %s", p.OpeningBalance, p.ClosingBalance, p.AvailableBalance, s.OpeningBalance, s.ClosingBalance)
				}
				if !p.From.Equal(s.From) || !p.To.Equal(s.To) {
					t.Errorf("period %s to %s", p.From, p.To)
				}
				if len(p.Items) != len(s.Items) {
					t.Fatalf("read %d items, want %d", len(p.Items), len(s.Items))
				}
				p.CreatedAt = s.CreatedAt
				if err := p.Check(); err != nil {
					t.Errorf("the statement read back does not add up: %v", err)
				}
				nameMax := titleChunk * nameChunks
				if dialect == DialectMBank {
					nameMax = mbankName
				}
				for i, want := range s.Items {
					it := p.Items[i]
					if it.Amount != want.Amount || !it.BookingDate.Equal(want.BookingDate) || !it.ValueDate.Equal(want.ValueDate) {
						t.Errorf("item %d: %s booked %s value %s; want %s, %s, %s", i+1,
							it.Amount, isoDate(it.BookingDate), isoDate(it.ValueDate), want.Amount, isoDate(want.BookingDate), isoDate(want.ValueDate))
					}
					if name == "long" && i == 5 {
						continue // texts cut to fit; checked below
					}
					if wantID := truncate(swiftText(want.ID), extraLen); it.ID != wantID {
						t.Errorf("item %d: ID %q, want %q", i+1, it.ID, wantID)
					}
					if wantTitle := truncate(swiftText(want.Title), titleChunk*titleChunks); it.Title != wantTitle {
						t.Errorf("item %d: title %q, want %q", i+1, it.Title, wantTitle)
					}
					if wantName := truncate(swiftText(want.CounterpartyName), nameMax); it.CounterpartyName != wantName {
						t.Errorf("item %d: name %q, want %q", i+1, it.CounterpartyName, wantName)
					}
					wantAccount, _, _ := counterpartyIBAN(want.CounterpartyAccount)
					if it.CounterpartyAccount != wantAccount {
						t.Errorf("item %d: account %q, want %q", i+1, it.CounterpartyAccount, wantAccount)
					}
					if wantType := truncate(swiftText(want.Type), typeLen); it.Type != wantType {
						t.Errorf("item %d: type %q, want %q", i+1, it.Type, wantType)
					}
					if it.Reference != want.Reference {
						t.Errorf("item %d: reference %q, want %q", i+1, it.Reference, want.Reference)
					}
					if dialect == DialectGeneric && it.CounterpartyAddress != swiftText(want.CounterpartyAddress) {
						t.Errorf("item %d: address %q", i+1, it.CounterpartyAddress)
					}
				}
				if name == "long" {
					it := p.Items[5]
					if len(it.Title) < 60 || !strings.HasPrefix(swiftText(s.Items[5].Title), it.Title) {
						t.Errorf("long title read back as %q", it.Title)
					}
				}
			})
		}
	}
}

func TestMT940WriteRefuses(t *testing.T) {
	s := fixture()
	s.OpeningBalance += 1_000_000_000_000_00
	s.ClosingBalance += 1_000_000_000_000_00
	for i := range s.Items {
		s.Items[i].BalanceAfter += 1_000_000_000_000_00
	}
	var b bytes.Buffer
	if err := WriteMT940(&b, s, MT940Options{}); err == nil || !strings.Contains(err.Error(), "too large for MT940") {
		t.Errorf("13-digit balance: %v", err)
	}
	if err := WriteMT940(&b, fixture(), MT940Options{Dialect: "ing"}); err == nil {
		t.Errorf("unknown dialect accepted")
	}
	if err := WriteMT940(&b, fixture(), MT940Options{StatementNumber: 100000}); err == nil {
		t.Errorf("statement number 100000 accepted")
	}
}

// A PKO-style export with LF line ends, a SWIFT block header, a debit
// opening balance, a funds code, a reversal and a statement-level :86:.
const bankSample = "{1:F01BPKOPLPWAXXX0000000000}{2:I940BPKOPLPWXXXXN}{4:\n" +
	":20:940S241231\n" +
	":25:/PL61109010140000071219812874\n" +
	":28C:00001\n" +
	":60F:D241230PLN1500,5\n" +
	":61:2412311231DN100,00NTRFNONREF//BR24366\n" +
	":86:020~00PRZELEW~20Faktura 12/2024~30 10201026~310000042270201111\n" +
	"~32JAN KOWALSKI~63REF123\n" +
	":61:2501020102RC20,NMSCREF-1\n" +
	":86:Zwrot prowizji\n" +
	":62F:D241231PLN1620,50\n" +
	":86:Saldo po operacjach\n" +
	"-}\n"

func TestParseMT940BankSample(t *testing.T) {
	got, err := ParseMT940(strings.NewReader(bankSample))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("read %d statements", len(got))
	}
	p := got[0]
	if p.OpeningBalance != -1500_50 || p.ClosingBalance != -1620_50 || p.HasAvailableBalance {
		t.Errorf("balances %s %s", p.OpeningBalance, p.ClosingBalance)
	}
	if len(p.Items) != 2 {
		t.Fatalf("read %d items", len(p.Items))
	}
	a, b := p.Items[0], p.Items[1]
	if a.Amount != -100_00 || a.ID != "REF123" || a.Title != "Faktura 12/2024" || a.CounterpartyName != "JAN KOWALSKI" || a.Type != "PRZELEW" {
		t.Errorf("first item %+v", a)
	}
	// A reversed credit (RC) is a debit.
	if b.Amount != -20_00 || b.Reference != "REF-1" || isoDate(b.BookingDate) != "2025-01-02" {
		t.Errorf("second item %+v", b)
	}
	// Booking date across the new year: value 2024-12-31, entry 0102.
	it, err := parseMT940Line61("2412310102C1,00NTRFNONREF")
	if err != nil || isoDate(it.BookingDate) != "2025-01-02" {
		t.Errorf("entry date across the year: %s, %v", isoDate(it.BookingDate), err)
	}
}

func TestParseMT940Errors(t *testing.T) {
	tests := map[string]string{
		"garbage":        "hello\n",
		"no closing":     ":20:X\n:25:/PL61109010140000071219812874\n:60F:C250301PLN1,00\n-\n",
		"bad date":       ":20:X\n:25:A\n:60F:C251301PLN1,00\n",
		"bad amount":     ":20:X\n:25:A\n:60F:C250301PLN1.00\n",
		"bad mark":       ":20:X\n:25:A\n:60F:X250301PLN1,00\n",
		"twice":          ":20:X\n:25:A\n:60F:C250301PLN1,00\n:60F:C250301PLN1,00\n",
		"bad 61":         ":20:X\n:25:A\n:60F:C250301PLN1,00\n:61:250301X1,00\n",
		"61 no type":     ":20:X\n:25:A\n:60F:C250301PLN1,00\n:61:250301C1,00\n",
		"other currency": ":20:X\n:25:A\n:60F:C250301PLN1,00\n:62F:C250301EUR1,00\n",
	}
	for name, in := range tests {
		_, err := ParseMT940(strings.NewReader(in))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line < 1 {
			t.Errorf("%s: error %v, want a *ParseError with a line", name, err)
		}
	}
}

func TestParseMT940TwoStatements(t *testing.T) {
	a := writeMT940(t, fixture(), MT940Options{StatementNumber: 1})
	s := fixture()
	s.From, s.To = day(time.April, 1), day(time.April, 30)
	s.OpeningBalance, s.Items = s.ClosingBalance, nil
	b := writeMT940(t, s, MT940Options{Dialect: DialectMBank, StatementNumber: 2})
	got, err := ParseMT940(strings.NewReader(a + b))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Items) != 9 || len(got[1].Items) != 0 || got[1].OpeningBalance != 20294_92 {
		t.Errorf("read %d statements", len(got))
	}
}
