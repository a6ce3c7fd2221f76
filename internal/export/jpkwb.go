package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// Namespaces of JPK_WB(1) v1-0, as in the Ministry of Finance's schema.
const (
	JPKWBNamespace = "http://jpk.mf.gov.pl/wzor/2016/03/09/03092/"
	// JPKETDNamespace is the namespace of the shared types (prefix etd).
	JPKETDNamespace = "http://crd.gov.pl/xml/schematy/dziedzinowe/mf/2016/01/25/eD/DefinicjeTypy/"
)

// DefaultMissingName is what WriteJPKWB writes as NazwaPodmiotu or
// OpisOperacji when the bank gave no counterparty name or title.
const DefaultMissingName = "brak danych"

// JPKWBOptions controls WriteJPKWB.
type JPKWBOptions struct {
	// TaxOfficeCode is KodUrzedu, the 4-digit code of the owner's tax
	// office (such as "1435"); required.
	TaxOfficeCode string
	// Purpose is CelZlozenia; JPK_WB(1) knows only 1 (first submission),
	// which zero also means.
	Purpose int
	// Placeholder replaces a missing counterparty name or title;
	// DefaultMissingName when empty.
	Placeholder string
}

// Warning is something WriteJPKWB had to make up: the file is valid, but an
// accountant should know. Index is the 0-based position of the item.
type Warning struct {
	Index   int
	ID      string
	Message string
}

func (w Warning) String() string {
	return fmt.Sprintf("item %d (id %q): %s", w.Index+1, w.ID, w.Message)
}

// JPK_WB limits from the schema.
const (
	jpkTextMax     = 256 // TZnakowyJPK
	jpkFullNameMax = 240 // PelnaNazwa
)

var (
	jpkMinDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	jpkMaxDate = time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC) // etd:TData
)

// WriteJPKWB writes the statement as a JPK_WB(1) file (Jednolity Plik
// Kontrolny — wyciąg bankowy, schema version 1-0) with the namespaces and
// prefixes of the Ministry of Finance's example: Naglowek, Podmiot1 (the
// owner's NIP, name, REGON and Polish address), NumerRachunku, Salda, one
// WyciagWiersz per item in booking order (DataOperacji is the booking date,
// KwotaOperacji is signed, SaldoOperacji the running balance) and WyciagCtrl
// with the number of rows, SumaObciazen (the debits, as a positive sum) and
// SumaUznan (the credits), so that SaldoPoczatkowe + SumaUznan − SumaObciazen
// = SaldoKoncowe.
//
// NazwaPodmiotu and OpisOperacji may not be empty: when the bank gave no
// counterparty name (or no title and no type) the placeholder is written and
// a Warning returned for each. Texts are cut to the schema's 256 characters.
// The schema needs at least one item, dates from 1900 to 2030 and the
// owner's NIP and full address; WriteJPKWB refuses what it would reject.
func WriteJPKWB(w io.Writer, s Statement, opt JPKWBOptions) ([]Warning, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if opt.Purpose != 0 && opt.Purpose != 1 {
		return nil, fmt.Errorf("export: JPK_WB(1) has only CelZlozenia 1, not %d", opt.Purpose)
	}
	if len(opt.TaxOfficeCode) != 4 || !allDigits(opt.TaxOfficeCode) {
		return nil, fmt.Errorf("export: tax office code (KodUrzedu) %q is not 4 digits", opt.TaxOfficeCode)
	}
	placeholder := oneLine(opt.Placeholder)
	if placeholder == "" {
		placeholder = DefaultMissingName
	}
	if len(s.Items) == 0 {
		return nil, fmt.Errorf("export: JPK_WB needs at least one item (WyciagWiersz); the statement has none")
	}
	if s.CreatedAt.IsZero() {
		return nil, fmt.Errorf("export: JPK_WB needs the time the statement was made (CreatedAt)")
	}
	// Check keeps the items within From and To.
	for _, d := range []time.Time{s.From, s.To} {
		if day := dateOf(d); day.Before(jpkMinDate) || day.After(jpkMaxDate) {
			return nil, fmt.Errorf("export: JPK_WB(1) accepts dates from 1900-01-01 to 2030-12-31, not %s", isoDate(d))
		}
	}
	nip, err := polish.NormalizeNIP(s.Account.OwnerNIP)
	if err != nil {
		return nil, fmt.Errorf("export: owner's NIP: %w", err)
	}
	ownerName := truncate(oneLine(s.Account.OwnerName), jpkFullNameMax)
	if ownerName == "" {
		return nil, fmt.Errorf("export: JPK_WB needs the owner's name")
	}
	regon := strings.TrimSpace(s.Account.OwnerREGON)
	if regon != "" {
		if err := polish.ValidateREGON(regon); err != nil {
			return nil, fmt.Errorf("export: owner's REGON: %w", err)
		}
	}
	addr, err := jpkAddress(s.Account.OwnerAddress)
	if err != nil {
		return nil, err
	}
	iban, _ := s.Account.iban()

	x := newXMLWriter()
	x.open("JPK", "xmlns:etd", JPKETDNamespace, "xmlns", JPKWBNamespace)
	x.open("Naglowek")
	x.leaf("KodFormularza", "JPK_WB", "kodSystemowy", "JPK_WB (1)", "wersjaSchemy", "1-0")
	x.leaf("WariantFormularza", "1")
	x.leaf("CelZlozenia", "1")
	x.leaf("DataWytworzeniaJPK", s.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"))
	x.leaf("DataOd", isoDate(s.From))
	x.leaf("DataDo", isoDate(s.To))
	x.leaf("DomyslnyKodWaluty", s.Account.Currency)
	x.leaf("KodUrzedu", opt.TaxOfficeCode)
	x.close("Naglowek")

	x.open("Podmiot1")
	x.open("IdentyfikatorPodmiotu")
	x.leaf("etd:NIP", nip)
	x.leaf("etd:PelnaNazwa", ownerName)
	x.optLeaf("etd:REGON", regon)
	x.close("IdentyfikatorPodmiotu")
	x.open("AdresPodmiotu")
	for _, f := range addr {
		x.leaf("etd:"+f[0], f[1])
	}
	x.close("AdresPodmiotu")
	x.close("Podmiot1")

	x.leaf("NumerRachunku", iban)
	x.open("Salda")
	x.leaf("SaldoPoczatkowe", s.OpeningBalance.String())
	x.leaf("SaldoKoncowe", s.ClosingBalance.String())
	x.close("Salda")

	var warnings []Warning
	var debits, credits money.Amount
	balances := s.balances()
	for i, it := range s.Items {
		name := truncate(oneLine(it.CounterpartyName), jpkTextMax)
		if name == "" {
			name = placeholder
			warnings = append(warnings, Warning{Index: i, ID: it.ID, Message: fmt.Sprintf("no counterparty name; NazwaPodmiotu is %q", placeholder)})
		}
		desc := truncate(oneLine(it.Title), jpkTextMax)
		if desc == "" {
			desc = truncate(oneLine(it.Type), jpkTextMax)
		}
		if desc == "" {
			desc = placeholder
			warnings = append(warnings, Warning{Index: i, ID: it.ID, Message: fmt.Sprintf("no title or type; OpisOperacji is %q", placeholder)})
		}
		if it.IsDebit() {
			debits -= it.Amount
		} else {
			credits += it.Amount
		}
		x.open("WyciagWiersz", "typ", "G")
		x.leaf("NumerWiersza", strconv.Itoa(i+1))
		x.leaf("DataOperacji", isoDate(it.BookingDate))
		x.leaf("NazwaPodmiotu", name)
		x.leaf("OpisOperacji", desc)
		x.leaf("KwotaOperacji", it.Amount.String())
		x.leaf("SaldoOperacji", balances[i].String())
		x.close("WyciagWiersz")
	}
	x.open("WyciagCtrl")
	x.leaf("LiczbaWierszy", strconv.Itoa(len(s.Items)))
	x.leaf("SumaObciazen", debits.String())
	x.leaf("SumaUznan", credits.String())
	x.close("WyciagCtrl")
	x.close("JPK")
	if _, err := w.Write(x.buf.Bytes()); err != nil {
		return nil, err
	}
	return warnings, nil
}

// jpkAddress returns the etd:TAdresPolski elements of an address in schema
// order, or an error naming the first required one that is missing.
func jpkAddress(a Address) ([][2]string, error) {
	postOffice := a.PostOffice
	if strings.TrimSpace(postOffice) == "" {
		postOffice = a.City
	}
	fields := []struct {
		name, value string
		max         int
		optional    bool
	}{
		{"Wojewodztwo", a.Voivodeship, 36, false},
		{"Powiat", a.County, 36, false},
		{"Gmina", a.Commune, 36, false},
		{"Ulica", a.Street, 65, true},
		{"NrDomu", a.HouseNumber, 9, false},
		{"NrLokalu", a.FlatNumber, 10, true},
		{"Miejscowosc", a.City, 56, false},
		{"KodPocztowy", a.PostalCode, 8, false},
		{"Poczta", postOffice, 56, false},
	}
	out := [][2]string{{"KodKraju", "PL"}}
	for _, f := range fields {
		v := oneLine(f.value)
		switch {
		case v == "" && f.optional:
			continue
		case v == "":
			return nil, fmt.Errorf("export: JPK_WB needs the owner's address field %s", f.name)
		case len([]rune(v)) > f.max:
			return nil, fmt.Errorf("export: owner's address field %s %q has more than %d characters", f.name, v, f.max)
		}
		out = append(out, [2]string{f.name, v})
	}
	return out, nil
}
