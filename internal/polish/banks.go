package polish

import "strings"

// Our own sandbox bank. Its bank code 0990 is fictitious: the bank codes in
// NBP's register start at 1010 (NBP itself) and none begins with 0, so it
// cannot be mistaken for a real bank's.
const (
	// OwnBankCode is the 4-digit bank code of psd2bank.
	OwnBankCode = "0990"
	// OwnBankName is the name BankName gives for OwnBankCode.
	OwnBankName = "psd2bank (sandbox)"
	// OwnSortCode is the sort code of psd2bank's only unit: OwnBankCode, the
	// unit number 001 and the check digit 9.
	OwnSortCode = OwnBankCode + "001" + "9"
)

// OwnNRB returns the NRB of the psd2bank account with the given 16-digit
// account number. Errors wrap ErrFormat.
func OwnNRB(accountNumber string) (string, error) {
	return MakeNRB(OwnSortCode, accountNumber)
}

// bankNames maps the first four digits of a sort code to the name of the bank:
// the biggest Polish banks and some notable others, after NBP's register of
// sort codes. It is not the full register.
var bankNames = map[string]string{
	OwnBankCode: OwnBankName,
	"1010":      "Narodowy Bank Polski",
	"1020":      "PKO Bank Polski",
	"1030":      "Citi Handlowy (Bank Handlowy w Warszawie)",
	"1050":      "ING Bank Śląski",
	"1090":      "Santander Bank Polska",
	"1130":      "Bank Gospodarstwa Krajowego",
	"1140":      "mBank",
	"1160":      "Bank Millennium",
	"1240":      "Bank Pekao",
	"1320":      "Bank Pocztowy",
	"1540":      "Bank Ochrony Środowiska",
	"1560":      "VeloBank (dawniej Getin Bank)",
	"1580":      "Mercedes-Benz Bank Polska",
	"1600":      "BNP Paribas Bank Polska",
	"1610":      "SGB-Bank",
	"1680":      "Plus Bank",
	"1870":      "Nest Bank",
	"1910":      "Deutsche Bank Polska",
	"1930":      "Bank Polskiej Spółdzielczości",
	"1940":      "Credit Agricole Bank Polska",
	"2030":      "BNP Paribas Bank Polska",
	"2120":      "Santander Consumer Bank",
	"2160":      "Toyota Bank Polska",
	"2490":      "Alior Bank",
	"2540":      "Citibank Europe (oddział w Polsce)",
	"2790":      "Raiffeisen Bank International (oddział w Polsce)",
	"6000":      "Zakład Ubezpieczeń Społecznych",
}

// BankName returns the name of the bank that a bank code, sort code or NRB
// belongs to, going by its 4-digit bank code: s may be 4 digits (a bank code),
// 8 digits (a sort code) or 26 digits (an NRB, possibly with spaces and a "PL"
// prefix). It does not check any check digits. ok is false when s has none of
// these forms or the bank is not in the table.
func BankName(s string) (name string, ok bool) {
	n := strings.ReplaceAll(s, " ", "")
	if len(n) == 2+nrbLength && strings.EqualFold(n[:2], "PL") {
		n = n[2:]
	}
	if !allDigits(n) {
		return "", false
	}
	var code string
	switch len(n) {
	case 4:
		code = n
	case sortCodeLength:
		code = n[:4]
	case nrbLength:
		code = n[2:6]
	default:
		return "", false
	}
	name, ok = bankNames[code]
	return name, ok
}

// Tax-office micro-accounts (mikrorachunki podatkowe) are NRBs at NBP, sort
// code 10100071, followed by "222", the identifier type and the identifier,
// padded with zeros.
const (
	taxMicroSortCode = "10100071"
	taxMicroMarker   = "222"
	zusSortCode      = "60000002"
)

// Identifier types of a tax micro-account.
const (
	TaxIDPESEL byte = '1' // the account of a person identified by PESEL
	TaxIDNIP   byte = '2' // the account of a taxpayer identified by NIP
)

// TaxMicroAccount returns the NRB of the tax micro-account of a taxpayer,
// where idType is TaxIDPESEL or TaxIDNIP and id a valid PESEL or NIP (see
// ValidatePESEL and NormalizeNIP). Errors wrap ErrFormat, ErrChecksum or
// ErrDate.
func TaxMicroAccount(idType byte, id string) (string, error) {
	switch idType {
	case TaxIDPESEL:
		if _, _, err := ValidatePESEL(id); err != nil {
			return "", err
		}
	case TaxIDNIP:
		nip, err := NormalizeNIP(id)
		if err != nil {
			return "", err
		}
		id = nip
	default:
		return "", newError(ErrFormat, "tax identifier type %q is not '1' (PESEL) or '2' (NIP)", idType)
	}
	bban := taxMicroSortCode + taxMicroMarker + string(idType) + id
	bban += strings.Repeat("0", nrbLength-2-len(bban))
	return checkDigits(bban, "PL") + bban, nil
}

// IsTaxMicroAccount reports whether nrb (in any form NormalizeNRB accepts) is
// a tax micro-account built from a valid PESEL or NIP.
func IsTaxMicroAccount(nrb string) bool {
	n, err := NormalizeNRB(nrb)
	if err != nil || n[2:10] != taxMicroSortCode || n[10:13] != taxMicroMarker {
		return false
	}
	idType, rest := n[13], n[14:]
	var id string
	switch idType {
	case TaxIDPESEL:
		id = rest[:11]
	case TaxIDNIP:
		id = rest[:10]
	default:
		return false
	}
	want, err := TaxMicroAccount(idType, id)
	return err == nil && want == n
}

// IsZUSAccount reports whether nrb (in any form NormalizeNRB accepts) is a
// valid NRB at ZUS, sort code 60000002: an individual contribution account
// (numer rachunku składkowego).
func IsZUSAccount(nrb string) bool {
	n, err := NormalizeNRB(nrb)
	return err == nil && n[2:10] == zusSortCode
}
