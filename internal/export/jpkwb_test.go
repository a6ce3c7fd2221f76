package export

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
)

// jpkDocument is JPK_WB(1) as the tests read it back.
type jpkDocument struct {
	XMLName  xml.Name `xml:"http://jpk.mf.gov.pl/wzor/2016/03/09/03092/ JPK"`
	Naglowek struct {
		KodFormularza struct {
			Value        string `xml:",chardata"`
			KodSystemowy string `xml:"kodSystemowy,attr"`
			Wersja       string `xml:"wersjaSchemy,attr"`
		}
		CelZlozenia       int
		DataOd, DataDo    string
		DomyslnyKodWaluty string
		KodUrzedu         string
	}
	NIP           string `xml:"Podmiot1>IdentyfikatorPodmiotu>NIP"`
	Miejscowosc   string `xml:"Podmiot1>AdresPodmiotu>Miejscowosc"`
	NumerRachunku string
	Salda         struct{ SaldoPoczatkowe, SaldoKoncowe string }
	Wiersze       []struct {
		Typ           string `xml:"typ,attr"`
		NumerWiersza  int
		DataOperacji  string
		NazwaPodmiotu string
		OpisOperacji  string
		KwotaOperacji string
		SaldoOperacji string
	} `xml:"WyciagWiersz"`
	Ctrl struct {
		LiczbaWierszy           int
		SumaObciazen, SumaUznan string
	} `xml:"WyciagCtrl"`
}

func parseSigned(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.ParseSigned(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return a
}

func writeJPK(t *testing.T, s Statement) ([]byte, []Warning) {
	t.Helper()
	var b bytes.Buffer
	warnings, err := WriteJPKWB(&b, s, JPKWBOptions{TaxOfficeCode: "1009", Purpose: 1})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), warnings
}

func TestJPKWBReadBack(t *testing.T) {
	s := fixture()
	out, warnings := writeJPK(t, s)
	var doc jpkDocument
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	h := doc.Naglowek
	if h.KodFormularza.Value != "JPK_WB" || h.KodFormularza.KodSystemowy != "JPK_WB (1)" || h.KodFormularza.Wersja != "1-0" ||
		h.CelZlozenia != 1 || h.DataOd != "2025-03-01" || h.DataDo != "2025-03-31" || h.DomyslnyKodWaluty != "PLN" || h.KodUrzedu != "1009" {
		t.Errorf("header %+v", h)
	}
	if doc.NIP != "7270025930" || doc.Miejscowosc != "Łódź" || doc.NumerRachunku != "PL20114020040000123456789012" {
		t.Errorf("subject %q %q %q", doc.NIP, doc.Miejscowosc, doc.NumerRachunku)
	}
	opening, closing := parseSigned(t, doc.Salda.SaldoPoczatkowe), parseSigned(t, doc.Salda.SaldoKoncowe)
	if opening != s.OpeningBalance || closing != s.ClosingBalance {
		t.Errorf("balances %s, %s", opening, closing)
	}
	if len(doc.Wiersze) != len(s.Items) || doc.Ctrl.LiczbaWierszy != len(s.Items) {
		t.Fatalf("%d rows, LiczbaWierszy %d, want %d", len(doc.Wiersze), doc.Ctrl.LiczbaWierszy, len(s.Items))
	}
	running := opening
	var debits, credits money.Amount
	for i, w := range doc.Wiersze {
		it := s.Items[i]
		a := parseSigned(t, w.KwotaOperacji)
		running += a
		if a < 0 {
			debits -= a
		} else {
			credits += a
		}
		if w.Typ != "G" || w.NumerWiersza != i+1 || w.DataOperacji != isoDate(it.BookingDate) || a != it.Amount {
			t.Errorf("row %d: %+v", i+1, w)
		}
		if got := parseSigned(t, w.SaldoOperacji); got != running {
			t.Errorf("row %d: SaldoOperacji %s, running balance %s", i+1, got, running)
		}
		if w.NazwaPodmiotu == "" || w.OpisOperacji == "" {
			t.Errorf("row %d has an empty name or description", i+1)
		}
	}
	if running != closing {
		t.Errorf("opening + rows = %s, SaldoKoncowe %s", running, closing)
	}
	sumDebits, sumCredits := parseSigned(t, doc.Ctrl.SumaObciazen), parseSigned(t, doc.Ctrl.SumaUznan)
	if sumDebits != debits || sumCredits != credits || sumDebits < 0 || opening+sumCredits-sumDebits != closing {
		t.Errorf("SumaObciazen %s, SumaUznan %s; debits %s, credits %s", sumDebits, sumCredits, debits, credits)
	}
	// The card payment (item 4) has no counterparty name.
	if w := doc.Wiersze[3]; w.NazwaPodmiotu != DefaultMissingName {
		t.Errorf("nameless counterparty written as %q", w.NazwaPodmiotu)
	}
	if len(warnings) != 1 || warnings[0].Index != 3 || warnings[0].ID != "TX-2025-0004" {
		t.Errorf("warnings %v, want one for item 4", warnings)
	}
	// Namespaces and prefixes as in the Ministry's example.
	for _, want := range []string{
		`<JPK xmlns:etd="` + JPKETDNamespace + `" xmlns="` + JPKWBNamespace + `">`,
		"<etd:NIP>7270025930</etd:NIP>", "<etd:KodKraju>PL</etd:KodKraju>",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %s", want)
		}
	}
}

func TestJPKWBPlaceholdersAndLimits(t *testing.T) {
	s := fixture()
	s.Items[2].CounterpartyName = "  \t "
	s.Items[2].Title, s.Items[2].Type = "", ""
	s.Items[5].Title = strings.Repeat("ż", 300)
	var b bytes.Buffer
	warnings, err := WriteJPKWB(&b, s, JPKWBOptions{TaxOfficeCode: "1009", Placeholder: "."})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 3 {
		t.Errorf("warnings %v, want 3 (items 3, 3 and 4)", warnings)
	}
	var doc jpkDocument
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if w := doc.Wiersze[2]; w.NazwaPodmiotu != "." || w.OpisOperacji != "." {
		t.Errorf("placeholders %q %q", w.NazwaPodmiotu, w.OpisOperacji)
	}
	if n := len([]rune(doc.Wiersze[5].OpisOperacji)); n != 256 {
		t.Errorf("long title cut to %d characters, want 256", n)
	}
}

func TestJPKWBRefuses(t *testing.T) {
	tests := map[string]struct {
		change func(*Statement, *JPKWBOptions)
		want   string
	}{
		"no tax office":   {func(s *Statement, o *JPKWBOptions) { o.TaxOfficeCode = "" }, "KodUrzedu"},
		"purpose 2":       {func(s *Statement, o *JPKWBOptions) { o.Purpose = 2 }, "CelZlozenia"},
		"bad NIP":         {func(s *Statement, o *JPKWBOptions) { s.Account.OwnerNIP = "7270025931" }, "NIP"},
		"bad REGON":       {func(s *Statement, o *JPKWBOptions) { s.Account.OwnerREGON = "471071507" }, "REGON"},
		"no owner":        {func(s *Statement, o *JPKWBOptions) { s.Account.OwnerName = "" }, "owner's name"},
		"no house number": {func(s *Statement, o *JPKWBOptions) { s.Account.OwnerAddress.HouseNumber = "" }, "NrDomu"},
		"no items": {func(s *Statement, o *JPKWBOptions) {
			s.Items, s.ClosingBalance = nil, s.OpeningBalance
		}, "at least one item"},
		"after 2030": {func(s *Statement, o *JPKWBOptions) {
			s.From, s.To = s.From.AddDate(6, 0, 0), s.To.AddDate(6, 0, 0)
			for i := range s.Items {
				s.Items[i].BookingDate = s.Items[i].BookingDate.AddDate(6, 0, 0)
			}
		}, "2030-12-31"},
		"no CreatedAt": {func(s *Statement, o *JPKWBOptions) { s.CreatedAt = time.Time{} }, "CreatedAt"},
	}
	for name, tt := range tests {
		s, opt := fixture(), JPKWBOptions{TaxOfficeCode: "1009"}
		tt.change(&s, &opt)
		_, err := WriteJPKWB(&bytes.Buffer{}, s, opt)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one about %s", name, err, tt.want)
		}
	}
}

// xmllint validates file against the JPK_WB(1) schema copied to
// testdata/jpk, resolving its http:// imports through testdata/jpk/catalog.xml
// and never touching the network:
//
//	XML_CATALOG_FILES=testdata/jpk/catalog.xml \
//	  xmllint --nonet --noout --schema 'testdata/jpk/Schemat_JPK_WB(1)_v1-0.xsd' file.xml
//
// Without xmllint the test is skipped, unless CI=true, where it fails.
func xmllint(t *testing.T, file string) (output string, ok bool) {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("xmllint is required when CI=true: install the Debian package libxml2-utils")
		}
		t.Skip("xmllint is not installed (Debian package libxml2-utils); JPK_WB is not validated against the XSD")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "jpk"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--nonet", "--noout", "--schema", filepath.Join(dir, "Schemat_JPK_WB(1)_v1-0.xsd"), file)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(dir, "catalog.xml"))
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestJPKWBSchemaValidatesExample(t *testing.T) {
	// The Ministry's example proves that the schema and catalog set-up work.
	if out, ok := xmllint(t, filepath.Join("testdata", "jpk", "jpk_wb1_valid.xml")); !ok {
		t.Fatalf("the example jpk_wb1_valid.xml does not validate:\n%s", out)
	}
}

func TestJPKWBSchemaValidatesOutput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	out, _ := writeJPK(t, fixture())
	if msg, ok := xmllint(t, write("jpk_wb.xml", out)); !ok {
		t.Errorf("our JPK_WB does not validate:\n%s", msg)
	}
	// A statement of a negative balance with a placeholder name and long
	// texts also validates.
	s := longStatement()
	s.OpeningBalance -= 50000_00
	s.ClosingBalance -= 50000_00
	for i := range s.Items {
		s.Items[i].HasBalanceAfter = false
	}
	s.Items[0].CounterpartyName = ""
	s.Account.OwnerAddress.Street, s.Account.OwnerAddress.FlatNumber, s.Account.OwnerREGON = "", "", ""
	out, _ = writeJPK(t, s)
	if msg, ok := xmllint(t, write("jpk_wb_long.xml", out)); !ok {
		t.Errorf("a JPK_WB with a negative balance and long texts does not validate:\n%s", msg)
	}
	// The validation is not vacuous: an empty NazwaPodmiotu is rejected.
	bad := bytes.Replace(out, []byte("<NazwaPodmiotu>"+DefaultMissingName+"</NazwaPodmiotu>"), []byte("<NazwaPodmiotu></NazwaPodmiotu>"), 1)
	if bytes.Equal(bad, out) {
		t.Fatal("no placeholder to remove")
	}
	if _, ok := xmllint(t, write("jpk_wb_bad.xml", bad)); ok {
		t.Errorf("xmllint accepts an empty NazwaPodmiotu")
	}
}
