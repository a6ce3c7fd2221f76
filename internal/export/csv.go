package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/psd2bank/psd2bank/internal/money"
)

// CSV encodings accepted by CSVOptions.Encoding.
const (
	EncodingUTF8   = "utf-8"
	EncodingCP1250 = "cp1250"
)

// CSVOptions controls WriteCSV.
type CSVOptions struct {
	// Encoding is EncodingUTF8 (the default; written with a byte order mark
	// so that spreadsheets recognise it) or EncodingCP1250 (Windows-1250,
	// what older Polish software expects; characters it lacks become "?").
	Encoding string
	// Separator separates the cells; ';' when zero, as Polish spreadsheets
	// expect.
	Separator rune
	// DecimalComma writes amounts as "1234,56" instead of "1234.56".
	DecimalComma bool
}

// WriteCSV writes the statement as a CSV file laid out like the "zestawienie
// operacji" of Polish banks: header rows with the account, owner, currency,
// period and opening balance; a column header; one row per item (booking
// date, value date, description, counterparty, counterparty account, amount,
// currency, balance after, then type, reference, ID and counterparty
// address); and a footer with
// the closing balance. Dates are ISO (2006-01-02), amounts signed without
// thousands separators. Text cells that a spreadsheet would run as a formula
// (starting with = + - @, tab or CR) get a leading apostrophe. Lines end in
// CRLF.
func WriteCSV(w io.Writer, s Statement, opt CSVOptions) error {
	if err := s.Check(); err != nil {
		return err
	}
	enc := strings.ToLower(opt.Encoding)
	switch enc {
	case "", "utf8", EncodingUTF8:
		enc = EncodingUTF8
	case "windows-1250", EncodingCP1250:
		enc = EncodingCP1250
	default:
		return fmt.Errorf("export: CSV encoding %q is not %q or %q", opt.Encoding, EncodingUTF8, EncodingCP1250)
	}
	sep := opt.Separator
	if sep == 0 {
		sep = ';'
	}
	if sep == '"' || sep == '\r' || sep == '\n' || sep == '\'' {
		return fmt.Errorf("export: %q cannot separate CSV cells", sep)
	}

	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Comma = sep
	cw.UseCRLF = true

	amount := func(a money.Amount) string {
		if opt.DecimalComma {
			return commaDecimal(a)
		}
		return a.String()
	}
	iban, _ := s.Account.iban()
	cur := s.Account.Currency
	rows := [][]string{
		{"#Rachunek", iban},
		{"#Właściciel", text(s.Account.OwnerName)},
		{"#Bank", text(s.Account.BankName)},
		{"#Waluta", cur},
		{"#Okres", isoDate(s.From), isoDate(s.To)},
		{"#Saldo początkowe", amount(s.OpeningBalance), cur},
		{},
		{"#Data księgowania", "#Data waluty", "#Opis operacji", "#Kontrahent", "#Rachunek kontrahenta",
			"#Kwota", "#Waluta", "#Saldo po operacji", "#Typ operacji", "#Referencja", "#Identyfikator", "#Adres kontrahenta"},
	}
	balances := s.balances()
	for i, it := range s.Items {
		account := it.CounterpartyAccount
		if iban, _, ok := counterpartyIBAN(account); ok {
			account = iban // never a bare 26-digit number that a spreadsheet turns into 3.01E+25
		}
		rows = append(rows, []string{
			isoDate(it.BookingDate), isoDate(it.valueDate()),
			text(it.Title), text(it.CounterpartyName), text(account),
			amount(it.Amount), cur, amount(balances[i]),
			text(it.Type), text(it.Reference), text(it.ID), text(it.CounterpartyAddress),
		})
	}
	rows = append(rows, []string{}, []string{"#Saldo końcowe", amount(s.ClosingBalance), cur})
	for _, r := range rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}

	var out []byte
	if enc == EncodingCP1250 {
		out = encodeCP1250(buf.String())
	} else {
		out = append([]byte("\uFEFF"), buf.Bytes()...)
	}
	_, err := w.Write(out)
	return err
}

// text makes a text cell: one line, and safe from formula injection.
func text(s string) string {
	return safeCell(oneLine(s))
}

// safeCell defuses a text cell that a spreadsheet would evaluate as a formula
// (one starting with = + - @, tab or CR) by prefixing an apostrophe, the
// OWASP advice. Plain numbers such as "-12.50" or "+48 22" are left alone.
func safeCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) || isPlainNumber(s) {
		return s
	}
	return "'" + s
}

// isPlainNumber reports whether s is an optionally signed decimal number
// with an optional dot or comma fraction.
func isPlainNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	whole, frac, hasSep := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	return allDigits(whole) && (!hasSep || allDigits(frac))
}

// cp1250 maps the non-ASCII characters that Polish text uses to their
// Windows-1250 bytes.
var cp1250 = map[rune]byte{
	'ą': 0xB9, 'ć': 0xE6, 'ę': 0xEA, 'ł': 0xB3, 'ń': 0xF1, 'ó': 0xF3, 'ś': 0x9C, 'ź': 0x9F, 'ż': 0xBF,
	'Ą': 0xA5, 'Ć': 0xC6, 'Ę': 0xCA, 'Ł': 0xA3, 'Ń': 0xD1, 'Ó': 0xD3, 'Ś': 0x8C, 'Ź': 0x8F, 'Ż': 0xAF,
	'€': 0x80, '„': 0x84, '”': 0x94, '“': 0x93, '‘': 0x91, '’': 0x92, '–': 0x96, '—': 0x97, '…': 0x85,
	'\u00a0': 0xA0, '§': 0xA7, '°': 0xB0, '«': 0xAB, '»': 0xBB,
	'ä': 0xE4, 'ö': 0xF6, 'ü': 0xFC, 'ß': 0xDF, 'Ä': 0xC4, 'Ö': 0xD6, 'Ü': 0xDC, 'é': 0xE9, 'É': 0xC9,
	'č': 0xE8, 'Č': 0xC8, 'š': 0x9A, 'Š': 0x8A, 'ž': 0x9E, 'Ž': 0x8E, 'ř': 0xF8, 'Ř': 0xD8,
}

// encodeCP1250 encodes UTF-8 text in Windows-1250: ASCII as is, the
// characters of the cp1250 table by it, other accented letters without their
// diacritics, anything else as "?".
func encodeCP1250(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch b, ok := cp1250[r]; {
		case r < 0x80:
			out = append(out, byte(r))
		case ok:
			out = append(out, b)
		default:
			if f, ok := asciiFold[r]; ok {
				out = append(out, f...)
			} else {
				out = append(out, '?')
			}
		}
	}
	return out
}
