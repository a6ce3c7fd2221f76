package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCP1250PolishLetters(t *testing.T) {
	got := encodeCP1250("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ az;AZ09")
	want := []byte{
		0xB9, 0xE6, 0xEA, 0xB3, 0xF1, 0xF3, 0x9C, 0x9F, 0xBF,
		0xA5, 0xC6, 0xCA, 0xA3, 0xD1, 0xD3, 0x8C, 0x8F, 0xAF,
		' ', 'a', 'z', ';', 'A', 'Z', '0', '9',
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encodeCP1250 = % X\nwant            % X", got, want)
	}
	if got := encodeCP1250("„Żółw” € 日"); !bytes.Equal(got, []byte{0x84, 0xAF, 0xF3, 0xB3, 'w', 0x94, ' ', 0x80, ' ', '?'}) {
		t.Errorf("encodeCP1250 of punctuation = % X", got)
	}
}

func TestCSVEncodings(t *testing.T) {
	var utf, win bytes.Buffer
	if err := WriteCSV(&utf, fixture(), CSVOptions{Encoding: EncodingUTF8}); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&win, fixture(), CSVOptions{Encoding: EncodingCP1250}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(utf.Bytes(), []byte("\xEF\xBB\xBF#Rachunek;")) {
		t.Errorf("UTF-8 CSV does not start with a BOM and the account row: %q", utf.Bytes()[:20])
	}
	if bytes.HasPrefix(win.Bytes(), []byte("\xEF\xBB\xBF")) || !bytes.Contains(win.Bytes(), []byte("\xA3\xF3d\x9F")) { // "Łódź"
		t.Errorf("CP1250 CSV has a BOM or no Łódź in CP1250")
	}
	// Decoding the CP1250 file with the table reversed gives the UTF-8 file.
	reverse := map[byte]rune{}
	for r, b := range cp1250 {
		reverse[b] = r
	}
	var decoded strings.Builder
	for _, b := range win.Bytes() {
		if r, ok := reverse[b]; ok {
			decoded.WriteRune(r)
		} else {
			decoded.WriteByte(b)
		}
	}
	if decoded.String() != strings.TrimPrefix(utf.String(), "\uFEFF") {
		t.Errorf("CP1250 CSV decodes to something else than the UTF-8 CSV")
	}
	if err := WriteCSV(&utf, fixture(), CSVOptions{Encoding: "latin2"}); err == nil {
		t.Errorf("unknown encoding accepted")
	}
}

func TestCSVFormulaInjection(t *testing.T) {
	s := fixture()
	s.Items[0].Title = "=HYPERLINK(\"http://evil.example\",\"faktura\")"
	s.Items[0].CounterpartyName = "@SUM(1+1)*cmd|' /C calc'!A0"
	s.Items[1].Title = "+48 600 100 200"
	s.Items[2].Title = "-2+3+cmd|' /C calc'!A0"
	s.Items[3].Title = "-100,50" // a number: left alone
	s.Items[4].Title = "\t=1+1"  // collapsed to "=1+1" first, then defused
	var b bytes.Buffer
	if err := WriteCSV(&b, s, CSVOptions{Separator: ',', DecimalComma: false}); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\uFEFF")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	items := rows[7:16]
	checks := []struct{ row, col int }{{0, 2}, {0, 3}, {1, 2}, {2, 2}, {4, 2}}
	for _, c := range checks {
		if cell := items[c.row][c.col]; !strings.HasPrefix(cell, "'") {
			t.Errorf("row %d column %d %q is not defused", c.row+1, c.col+1, cell)
		}
	}
	if cell := items[3][2]; cell != "-100,50" {
		t.Errorf("number title %q was changed", cell)
	}
	// Amounts stay numbers, with a dot when DecimalComma is off.
	if items[1][5] != "-1230.00" || items[1][7] != "21070.00" {
		t.Errorf("amount cells %q, %q", items[1][5], items[1][7])
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts a formula", cell)
			}
			if cell != "" && cell[0] == '-' && !isPlainNumber(cell) {
				t.Errorf("cell %q starts a formula", cell)
			}
		}
	}
}

func TestCSVLayout(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, fixture(), CSVOptions{DecimalComma: true}); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\uFEFF")))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\r\n") {
		t.Errorf("lines do not end in CRLF")
	}
	if got := rows[len(rows)-1]; got[0] != "#Saldo końcowe" || got[1] != "20294,92" {
		t.Errorf("footer %q", got)
	}
	s := fixture()
	for i, it := range s.Items {
		row := rows[7+i]
		if row[5] != commaDecimal(it.Amount) || row[10] != it.ID {
			t.Errorf("row %d = %q", i+1, row)
		}
	}
}
