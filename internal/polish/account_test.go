package polish

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeNRB(t *testing.T) {
	valid := []struct{ in, want string }{
		{"61109010140000071219812874", "61109010140000071219812874"},
		{"PL68105000024795086358395003", "68105000024795086358395003"},
		{"pl 68 1050 0002 4795 0863 5839 5003", "68105000024795086358395003"},
		{"20 1140 2004 0000 1234 5678 9012", "20114020040000123456789012"},
		{"41114020040000987654321098", "41114020040000987654321098"},
		{"38102010260000111122223333", "38102010260000111122223333"},
		{"98101000712222526030051700", "98101000712222526030051700"},
	}
	for _, tt := range valid {
		got, err := NormalizeNRB(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeNRB(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err := ValidateNRB(tt.in); err != nil {
			t.Errorf("ValidateNRB(%q) = %v", tt.in, err)
		}
	}

	invalid := []struct {
		in      string
		kind    error
		message string
	}{
		{"20114020040000123456789013", ErrChecksum, `NRB "20114020040000123456789013" checksum does not match: check digits are 20, expected 90; check the number for a typing error`},
		{"20114020040000213456789012", ErrChecksum, `NRB "20114020040000213456789012" checksum does not match: check digits are 20, expected 44; check the number for a typing error`},
		{"61114020040000310247036258", ErrChecksum, `NRB "61114020040000310247036258" checksum does not match: check digits are 61, expected 63; check the number for a typing error`},
		{"92114020050000123456789012", ErrChecksum, `NRB "92114020050000123456789012" has an invalid sort code: sort code "11402005" check digit is 5, expected 4`},
		{"", ErrFormat, `NRB "" has 0 digits; an NRB has 26`},
		{"2011402004000012345678901", ErrFormat, `NRB "2011402004000012345678901" has 25 digits; an NRB has 26`},
		{"20-1140-2004-0000-1234-5678-9012", ErrFormat, `NRB "20-1140-2004-0000-1234-5678-9012" contains '-'; an NRB has only digits, optionally grouped by spaces and preceded by PL`},
		{"DE89370400440532013000", ErrFormat, `NRB "DE89370400440532013000" starts with "DE"; an NRB is Polish and has either no prefix or PL`},
		{"PLPL61109010140000071219812874", ErrFormat, `NRB "PLPL61109010140000071219812874" starts with "PL"; an NRB is Polish and has either no prefix or PL`},
	}
	for _, tt := range invalid {
		got, err := NormalizeNRB(tt.in)
		if err == nil {
			t.Errorf("NormalizeNRB(%q) = %q, nil; want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, tt.kind) || err.Error() != tt.message {
			t.Errorf("NormalizeNRB(%q) error\n got %v\nwant %s (%v)", tt.in, err, tt.message, tt.kind)
		}
	}
}

func TestCheckSortCode(t *testing.T) {
	for _, sc := range []string{"11402004", "10201026", "10500002", "10900004", "10100071", "60000002", OwnSortCode} {
		if err := CheckSortCode(sc); err != nil {
			t.Errorf("CheckSortCode(%q) = %v", sc, err)
		}
		if got, err := SortCodeWithCheckDigit(sc[:7]); err != nil || got != sc {
			t.Errorf("SortCodeWithCheckDigit(%q) = %q, %v; want %q", sc[:7], got, err, sc)
		}
	}
	invalid := []struct {
		in      string
		kind    error
		message string
	}{
		{"11402005", ErrChecksum, `sort code "11402005" check digit is 5, expected 4`},
		{"1140200", ErrFormat, `sort code "1140200" has 7 digits; a sort code has 8`},
		{"1140 2004", ErrFormat, `sort code "1140 2004" contains ' '; a sort code has only digits`},
	}
	for _, tt := range invalid {
		if err := CheckSortCode(tt.in); err == nil || !errors.Is(err, tt.kind) || err.Error() != tt.message {
			t.Errorf("CheckSortCode(%q) = %v; want %s", tt.in, err, tt.message)
		}
	}
	for _, in := range []string{"", "114020", "11402004", "114020a"} {
		if got, err := SortCodeWithCheckDigit(in); !errors.Is(err, ErrFormat) {
			t.Errorf("SortCodeWithCheckDigit(%q) = %q, %v; want ErrFormat", in, got, err)
		}
	}
}

func TestMakeNRB(t *testing.T) {
	tests := []struct{ sortCode, account, want string }{
		{"11402004", "0000123456789012", "20114020040000123456789012"},
		{"10901014", "0000071219812874", "61109010140000071219812874"},
		{"10201026", "0000111122223333", "38102010260000111122223333"},
	}
	for _, tt := range tests {
		if got, err := MakeNRB(tt.sortCode, tt.account); err != nil || got != tt.want {
			t.Errorf("MakeNRB(%q, %q) = %q, %v; want %q", tt.sortCode, tt.account, got, err, tt.want)
		}
	}
	errTests := []struct {
		sortCode, account string
		kind              error
	}{
		{"11402005", "0000123456789012", ErrChecksum},
		{"11402004", "123456789012", ErrFormat},
		{"11402004", "000012345678901x", ErrFormat},
	}
	for _, tt := range errTests {
		if got, err := MakeNRB(tt.sortCode, tt.account); !errors.Is(err, tt.kind) {
			t.Errorf("MakeNRB(%q, %q) = %q, %v; want %v", tt.sortCode, tt.account, got, err, tt.kind)
		}
	}
	const message = `account number "123" is not 16 digits; pad it with leading zeros if it is shorter`
	if _, err := MakeNRB("11402004", "123"); err == nil || err.Error() != message {
		t.Errorf("MakeNRB with a short account number: error %v; want %s", err, message)
	}
}

func TestOwnBank(t *testing.T) {
	if err := CheckSortCode(OwnSortCode); err != nil {
		t.Fatalf("OwnSortCode: %v", err)
	}
	if !strings.HasPrefix(OwnSortCode, OwnBankCode+"001") {
		t.Errorf("OwnSortCode %q is not OwnBankCode + 001 + check digit", OwnSortCode)
	}
	nrb, err := OwnNRB("0000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateNRB(nrb); err != nil || nrb[2:10] != OwnSortCode {
		t.Errorf("OwnNRB = %q (%v); want a valid NRB at %s", nrb, err, OwnSortCode)
	}
	if name, ok := BankName(nrb); !ok || name != OwnBankName {
		t.Errorf("BankName(%q) = %q, %v; want %q", nrb, name, ok, OwnBankName)
	}
	if _, err := OwnNRB("1"); !errors.Is(err, ErrFormat) {
		t.Errorf("OwnNRB(\"1\") error = %v; want ErrFormat", err)
	}
}

func TestBankName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"1140", "mBank", true},
		{"11402004", "mBank", true},
		{"20114020040000123456789012", "mBank", true},
		{"PL 61 1090 1014 0000 0712 1981 2874", "Santander Bank Polska", true},
		{"1020", "PKO Bank Polski", true},
		{"1010", "Narodowy Bank Polski", true},
		{"1240", "Bank Pekao", true},
		{"1050", "ING Bank Śląski", true},
		{"2490", "Alior Bank", true},
		{"1600", "BNP Paribas Bank Polska", true},
		{"2030", "BNP Paribas Bank Polska", true},
		{"1560", "VeloBank (dawniej Getin Bank)", true},
		{"1990", "", false},
		{"114", "", false},
		{"11402", "", false},
		{"114a", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := BankName(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("BankName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if len(bankNames) < 21 {
		t.Errorf("bank table has %d entries; want at least the 20 biggest banks and our own", len(bankNames))
	}
	for code := range bankNames {
		if len(code) != 4 || !allDigits(code) {
			t.Errorf("bank table key %q is not a 4-digit bank code", code)
		}
	}
}

func TestTaxMicroAccount(t *testing.T) {
	tests := []struct {
		idType byte
		id     string
		want   string
	}{
		{TaxIDNIP, "5260300517", "98101000712222526030051700"},
		{TaxIDNIP, "526-030-05-17", "98101000712222526030051700"},
		{TaxIDPESEL, "44051401458", "69101000712221440514014580"},
	}
	for _, tt := range tests {
		got, err := TaxMicroAccount(tt.idType, tt.id)
		if err != nil || got != tt.want {
			t.Errorf("TaxMicroAccount(%q, %q) = %q, %v; want %q", tt.idType, tt.id, got, err, tt.want)
		}
		if !IsTaxMicroAccount(got) {
			t.Errorf("IsTaxMicroAccount(%q) = false", got)
		}
	}
	errTests := []struct {
		idType byte
		id     string
		kind   error
	}{
		{TaxIDNIP, "1234563211", ErrChecksum},
		{TaxIDPESEL, "44051401459", ErrChecksum},
		{TaxIDPESEL, "5260300517", ErrFormat},
		{'N', "5260300517", ErrFormat},
	}
	for _, tt := range errTests {
		if got, err := TaxMicroAccount(tt.idType, tt.id); !errors.Is(err, tt.kind) {
			t.Errorf("TaxMicroAccount(%q, %q) = %q, %v; want %v", tt.idType, tt.id, got, err, tt.kind)
		}
	}
	const message = `tax identifier type 'N' is not '1' (PESEL) or '2' (NIP)`
	if _, err := TaxMicroAccount('N', "5260300517"); err == nil || err.Error() != message {
		t.Errorf("TaxMicroAccount('N', ...) error = %v; want %s", err, message)
	}

	// Valid NRBs at the micro-account sort code that are not micro-accounts.
	notMicro := []string{
		"20114020040000123456789012",                   // another bank
		mustMakeNRB(t, "10100071", "2231526030051700"), // no 222 marker
		mustMakeNRB(t, "10100071", "2223526030051700"), // unknown identifier type
		mustMakeNRB(t, "10100071", "2222526030051800"), // NIP with a wrong check digit
		mustMakeNRB(t, "10100071", "2222526030051701"), // no zero padding
		mustMakeNRB(t, "10100071", "2221440514014590"), // PESEL with a wrong check digit
		"98101000712222526030051701",                   // wrong NRB checksum
		"",
	}
	for _, nrb := range notMicro {
		if IsTaxMicroAccount(nrb) {
			t.Errorf("IsTaxMicroAccount(%q) = true", nrb)
		}
	}
}

func TestIsZUSAccount(t *testing.T) {
	nrs := mustMakeNRB(t, "60000002", "0000123456321800")
	if !IsZUSAccount(nrs) {
		t.Errorf("IsZUSAccount(%q) = false", nrs)
	}
	if name, ok := BankName(nrs); !ok || name != "Zakład Ubezpieczeń Społecznych" {
		t.Errorf("BankName(%q) = %q, %v", nrs, name, ok)
	}
	for _, nrb := range []string{"20114020040000123456789012", "98101000712222526030051700", nrs[:25] + "1", ""} {
		if IsZUSAccount(nrb) {
			t.Errorf("IsZUSAccount(%q) = true", nrb)
		}
	}
}

func mustMakeNRB(t *testing.T, sortCode, account string) string {
	t.Helper()
	nrb, err := MakeNRB(sortCode, account)
	if err != nil {
		t.Fatal(err)
	}
	return nrb
}

func TestNormalizeIBAN(t *testing.T) {
	valid := []struct{ in, want string }{
		{"PL61109010140000071219812874", "PL61109010140000071219812874"},
		{"PL61 1090 1014 0000 0712 1981 2874", "PL61109010140000071219812874"},
		{"DE89370400440532013000", "DE89370400440532013000"},
		{"gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"},
		{"FR1420041010050500013M02606", "FR1420041010050500013M02606"},
		{"CH9300762011623852957", "CH9300762011623852957"},
		{"NO9386011117947", "NO9386011117947"},
		{"BE68539007547034", "BE68539007547034"},
		{"AT611904300234573201", "AT611904300234573201"},
		{"NL91ABNA0417164300", "NL91ABNA0417164300"},
		{"MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S"},
	}
	for _, tt := range valid {
		got, err := NormalizeIBAN(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeIBAN(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err := ValidateIBAN(tt.in); err != nil {
			t.Errorf("ValidateIBAN(%q) = %v", tt.in, err)
		}
	}

	badSortBBAN := "11402005" + "0000123456789012"
	badSort := "PL" + checkDigits(badSortBBAN, "PL") + badSortBBAN
	lettersBBAN := "1140200400001234567890AB"
	letters := "PL" + checkDigits(lettersBBAN, "PL") + lettersBBAN
	invalid := []struct {
		in      string
		kind    error
		message string
	}{
		{"GB82WEST12345698765433", ErrChecksum, `IBAN "GB82WEST12345698765433" checksum does not match: check digits are 82, expected 55; check the number for a typing error`},
		{"DE00370400440532013000", ErrChecksum, `IBAN "DE00370400440532013000" checksum does not match: check digits are 00, expected 89; check the number for a typing error`},
		{"DE8937040044053201300", ErrFormat, `IBAN "DE8937040044053201300" has 21 characters; an IBAN from DE has 22`},
		{"US12345678901234", ErrFormat, `IBAN "US12345678901234" starts with "US", which is not a country that uses IBANs`},
		{"", ErrFormat, `IBAN is empty`},
		{"1234", ErrFormat, `IBAN "1234" does not start with a two-letter country code such as PL`},
		{"DE89-3704-0044-0532-0130-00", ErrFormat, `IBAN "DE89-3704-0044-0532-0130-00" contains '-'; an IBAN has only letters A-Z and digits, optionally grouped by spaces`},
		{"DEıı370400440532013000", ErrFormat, `IBAN "DEıı370400440532013000" contains 'ı'; an IBAN has only letters A-Z and digits, optionally grouped by spaces`},
		{"DEAB370400440532013000", ErrFormat, `IBAN "DEAB370400440532013000" has "AB" where the two check digits belong, after the country code`},
		{"61109010140000071219812874", ErrFormat, `IBAN "61109010140000071219812874" does not start with a two-letter country code such as PL`},
		{badSort, ErrChecksum, `IBAN "` + badSort + `" has an invalid sort code: sort code "11402005" check digit is 5, expected 4`},
		{letters, ErrFormat, `IBAN "` + letters + `" has letters after PL; a Polish IBAN has only digits there`},
	}
	for _, tt := range invalid {
		got, err := NormalizeIBAN(tt.in)
		if err == nil {
			t.Errorf("NormalizeIBAN(%q) = %q, nil; want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, tt.kind) || err.Error() != tt.message {
			t.Errorf("NormalizeIBAN(%q) error\n got %v\nwant %s (%v)", tt.in, err, tt.message, tt.kind)
		}
	}
}

func TestIBANLengths(t *testing.T) {
	// Every EU and EEA country, the United Kingdom and Switzerland.
	required := "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB CH"
	for _, c := range strings.Fields(required) {
		if _, ok := ibanLengths[c]; !ok {
			t.Errorf("no IBAN length for %s", c)
		}
	}
	if ibanLengths["PL"] != 28 {
		t.Errorf("PL IBAN length = %d; want 28", ibanLengths["PL"])
	}
}
