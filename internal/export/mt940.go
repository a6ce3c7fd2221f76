package export

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
)

// MT940 dialects of field 86 accepted by MT940Options.Dialect.
const (
	// DialectGeneric is the structured field 86 of PKO BP and most Polish
	// banks: "~" sub-fields, like the German "?" layout. The default.
	DialectGeneric = "generic"
	// DialectMBank is mBank's free-text field 86: "<code> <type>; TYT.:
	// <title>; DLA: <name>; NA RACH.: <account>; TNR: <id>".
	DialectMBank = "mbank"
)

// MT940 limits.
const (
	mt940LineLen   = 65 // a physical line of field 86, tag included
	mt940Lines86   = 6  // lines of field 86
	mt940MaxAmount = money.Amount(999_999_999_999_99)

	titleChunk  = 27 // ~20..~25 and ~32, ~33
	titleChunks = 6  // so up to 162 characters of title
	nameChunks  = 2  // so up to 54 characters of name in ~32, ~33
	mbankName   = 70 // characters of name after DLA: or OD:
	extraLen    = 35 // ~60..~63
	typeLen     = 27 // ~00
	ibanLen     = 34 // ~38
	refLen      = 16 // :61: references
	suppLen     = 34 // :61: supplementary details
)

// MT940Options controls WriteMT940.
type MT940Options struct {
	// Dialect is DialectGeneric (the default) or DialectMBank.
	Dialect string
	// StatementNumber goes in :28C: as "<number>/1"; 1 when zero.
	StatementNumber int
	// Reference goes in :20:; when empty it is "ST" followed by the last
	// day of the period as YYMMDD and "/" and the statement number.
	Reference string
}

// WriteMT940 writes the statement as one SWIFT MT940 message, the way Polish
// banks export it for bookkeeping software:
//
//	:20:  reference           :25:  "/" + IBAN        :28C: number/1
//	:60F: opening balance     :61: + :86: per item   :62F: closing balance
//	:64:  available balance (the closing balance)     -   end of message
//
// Each :61: has the value date (YYMMDD), the booking date (MMDD), C or D,
// the amount with a decimal comma, "N" and a three-character type code (the
// item's Type when it is three letters or digits, otherwise TRF when there
// is a counterparty account and MSC when not), the item's Reference (or
// NONREF) and "//" with the first 16 characters of the item ID, and on a
// second line the item's Type.
//
// Field 86 follows the dialect. In DialectGeneric (the "~" layout of the
// project's Polish banking reference, §5.1(a)) it is the 3-digit
// operation code (the item's Type when it is three digits, otherwise 000),
// then the sub-fields ~00 type, ~20..~25 title in pieces of 27 characters,
// ~30 counterparty sort code and ~31 account number (for Polish accounts),
// ~32 and ~33 counterparty name, ~38 counterparty IBAN, ~60 counterparty
// address and ~63 the item ID. In DialectMBank it is free text with the
// labels TYT., DLA/OD, NA RACH./Z RACH. and TNR.
//
// All text is in the SWIFT X character set: Polish letters lose their
// diacritics and characters outside the set are dropped (the only exceptions
// are the "~" and ";" separators of field 86 themselves). Field 86 takes at
// most 6 lines of 65 characters; when an item does not fit, the address and
// then the end of the title are left out. Lines end in CRLF.
func WriteMT940(w io.Writer, s Statement, opt MT940Options) error {
	if err := s.Check(); err != nil {
		return err
	}
	dialect := opt.Dialect
	switch dialect {
	case "":
		dialect = DialectGeneric
	case DialectGeneric, DialectMBank:
	default:
		return fmt.Errorf("export: MT940 dialect %q is not %q or %q", opt.Dialect, DialectGeneric, DialectMBank)
	}
	number := opt.StatementNumber
	if number == 0 {
		number = 1
	}
	if number < 0 || number > 99999 {
		return fmt.Errorf("export: MT940 statement number %d is not between 1 and 99999", number)
	}
	ref := opt.Reference
	if ref == "" {
		ref = fmt.Sprintf("ST%s/%d", dateOf(s.To).Format("060102"), number)
	}
	ref = swiftRef(ref, refLen)
	if ref == "" {
		return fmt.Errorf("export: MT940 reference %q has no characters of the SWIFT character set", opt.Reference)
	}
	for _, a := range []money.Amount{s.OpeningBalance, s.ClosingBalance} {
		if abs(a) > mt940MaxAmount {
			return fmt.Errorf("export: balance %s is too large for MT940 (at most %s)", a, mt940MaxAmount)
		}
	}
	for i, it := range s.Items {
		if abs(it.Amount) > mt940MaxAmount {
			return &StatementError{Index: i, ID: it.ID, Reason: fmt.Sprintf("amount %s is too large for MT940 (at most %s)", it.Amount, mt940MaxAmount)}
		}
	}

	iban, _ := s.Account.iban()
	cur := s.Account.Currency
	var lines []string
	add := func(l ...string) { lines = append(lines, l...) }
	add(":20:"+ref,
		":25:/"+iban,
		fmt.Sprintf(":28C:%d/1", number),
		":60F:"+mt940Balance(s.OpeningBalance, s.From, cur))
	for _, it := range s.Items {
		add(mt940Line61(it)...)
		add(mt940Field86(it, dialect)...)
	}
	add(":62F:"+mt940Balance(s.ClosingBalance, s.To, cur),
		":64:"+mt940Balance(s.ClosingBalance, s.To, cur),
		"-")
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteString("\r\n")
	}
	return bw.Flush()
}

// mt940Balance formats a balance field: C or D, YYMMDD, currency, amount.
func mt940Balance(a money.Amount, day time.Time, currency string) string {
	mark := "C"
	if a < 0 {
		mark = "D"
	}
	return mark + dateOf(day).Format("060102") + currency + commaDecimal(abs(a))
}

// mt940Line61 returns the :61: statement line of an item and its
// supplementary details line.
func mt940Line61(it Item) []string {
	mark := "C"
	if it.IsDebit() {
		mark = "D"
	}
	custRef := swiftRef(it.Reference, refLen)
	if custRef == "" {
		custRef = "NONREF"
	}
	line := ":61:" + dateOf(it.valueDate()).Format("060102") + dateOf(it.BookingDate).Format("0102") +
		mark + commaDecimal(abs(it.Amount)) + "N" + swiftTypeCode(it) + custRef
	if id := swiftRef(it.ID, refLen); id != "" {
		line += "//" + id
	}
	out := []string{line}
	if supp := strings.TrimLeft(truncate(swiftText(it.Type), suppLen), ":- "); supp != "" {
		out = append(out, supp)
	}
	return out
}

// swiftTypeCode returns the three characters after "N" in :61:.
func swiftTypeCode(it Item) string {
	t := strings.ToUpper(strings.TrimSpace(it.Type))
	if len(t) == 3 && isAlnum(t) {
		return t
	}
	if strings.TrimSpace(it.CounterpartyAccount) != "" {
		return "TRF"
	}
	return "MSC"
}

// operationCode returns the 3-digit code that starts field 86.
func operationCode(it Item) string {
	if t := strings.TrimSpace(it.Type); len(t) == 3 && allDigits(t) {
		return t
	}
	return "000"
}

// swiftRef returns s as a SWIFT reference of at most n characters: SWIFT X
// characters without spaces, no "//" (which separates references) and no
// leading or trailing "/".
func swiftRef(s string, n int) string {
	r := strings.ReplaceAll(swiftText(s), " ", "")
	for strings.Contains(r, "//") {
		r = strings.ReplaceAll(r, "//", "/")
	}
	return strings.Trim(truncate(strings.Trim(r, "/"), n), "/")
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// field86Limits are the tries of WriteMT940 to fit field 86 into 6 lines:
// first everything, then less address, then less title.
var field86Limits = []struct{ title, address int }{
	{162, 35}, {162, 20}, {162, 0}, {140, 0}, {120, 0}, {100, 0}, {80, 0}, {60, 0}, {40, 0}, {20, 0}, {0, 0},
}

// mt940Field86 returns the lines of field 86 of an item.
func mt940Field86(it Item, dialect string) []string {
	var lines []string
	for _, lim := range field86Limits {
		var content string
		if dialect == DialectMBank {
			content = field86MBank(it, lim.title)
		} else {
			content = field86Generic(it, lim.title, lim.address)
		}
		lines = wrap86(content)
		if len(lines) <= mt940Lines86 {
			break
		}
	}
	lines[0] = ":86:" + lines[0]
	return lines
}

// field86Generic builds the "~" structured field 86 on one line.
func field86Generic(it Item, titleMax, addressMax int) string {
	var b strings.Builder
	b.WriteString(operationCode(it))
	sub := func(n int, v string) {
		if v != "" {
			fmt.Fprintf(&b, "~%02d%s", n, v)
		}
	}
	sub(0, truncate(swiftText(it.Type), typeLen))
	for i, c := range chunks(truncate(swiftText(it.Title), titleMax), titleChunk, titleChunks) {
		sub(20+i, c)
	}
	iban, raw, ok := counterpartyIBAN(it.CounterpartyAccount)
	if ok && strings.HasPrefix(iban, "PL") {
		sub(30, iban[4:12])
		sub(31, iban[12:])
	}
	for i, c := range chunks(swiftText(it.CounterpartyName), titleChunk, nameChunks) {
		sub(32+i, c)
	}
	if !ok {
		iban = raw
	}
	sub(38, truncate(swiftRef(iban, ibanLen), ibanLen))
	sub(60, truncate(swiftText(it.CounterpartyAddress), min(addressMax, extraLen)))
	sub(63, truncate(swiftText(it.ID), extraLen))
	return b.String()
}

// field86MBank builds mBank's free-text field 86 on one line.
func field86MBank(it Item, titleMax int) string {
	nameLabel, accountLabel := "OD", "Z RACH."
	if it.IsDebit() {
		nameLabel, accountLabel = "DLA", "NA RACH."
	}
	parts := []string{strings.TrimSpace(operationCode(it) + " " + truncate(swiftText(it.Type), typeLen))}
	label := func(l, v string) {
		if v != "" {
			parts = append(parts, l+": "+v)
		}
	}
	label("TYT.", truncate(swiftText(it.Title), titleMax))
	label(nameLabel, truncate(swiftText(it.CounterpartyName), mbankName))
	iban, raw, ok := counterpartyIBAN(it.CounterpartyAccount)
	if ok && strings.HasPrefix(iban, "PL") {
		raw = iban[2:] // mBank prints Polish accounts as the 26-digit NRB
	} else if ok {
		raw = iban
	}
	label(accountLabel, swiftRef(raw, ibanLen))
	label("TNR", truncate(swiftText(it.ID), extraLen))
	return strings.Join(parts, "; ")
}

// wrap86 cuts the content of field 86 into lines of at most 65 characters,
// counting the ":86:" tag in the first. No line starts with ":" or "-"
// (which could read as a new field or the end of the message) or with a
// space, and none ends with a space, which some tools strip.
func wrap86(s string) []string {
	var lines []string
	max := mt940LineLen - len(":86:")
	for len(s) > max {
		cut := max
		for cut > 1 && (strings.IndexByte(":- ", s[cut]) >= 0 || s[cut-1] == ' ') {
			cut--
		}
		if cut == 1 {
			cut = max
		}
		lines = append(lines, s[:cut])
		s = s[cut:]
		max = mt940LineLen
	}
	return append(lines, s)
}
