package export

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// MT940Statement is a statement read by ParseMT940: the Statement (without
// CreatedAt, and with From and To the dates of the opening and closing
// balances) and the fields of MT940 that Statement has no place for.
type MT940Statement struct {
	Statement
	Reference           string       // :20:
	Number              string       // :28C:
	AvailableBalance    money.Amount // :64:, when HasAvailableBalance
	HasAvailableBalance bool
}

// ParseError is the error of ParseMT940: what is wrong on which line.
type ParseError struct {
	Line int // 1-based
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("export: MT940 line %d: %s", e.Line, e.Msg) }

// maxMT940Size bounds the input of ParseMT940.
const maxMT940Size = 64 << 20

// ParseMT940 reads the statements of an MT940 file: what WriteMT940 writes in
// either dialect, and the same layout from Polish banks. Lines may end in
// CRLF or LF; SWIFT block headers ("{1:...}{4:") and blank lines are
// skipped; a "-" line ends a message. Field 86 is read as "~" sub-fields
// when it has them and as mBank's labelled free text otherwise. Items get no
// balance after (MT940 has none) and their Currency is left empty (the
// account's).
func ParseMT940(r io.Reader) ([]MT940Statement, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxMT940Size+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxMT940Size {
		return nil, &ParseError{Line: 1, Msg: fmt.Sprintf("file is larger than %d bytes", maxMT940Size)}
	}
	p := &mt940Parser{}
	for i, line := range strings.Split(string(data), "\n") {
		if err := p.line(i+1, strings.TrimSuffix(line, "\r")); err != nil {
			return nil, err
		}
	}
	if err := p.flushField(); err != nil {
		return nil, err
	}
	if err := p.endStatement(); err != nil {
		return nil, err
	}
	return p.out, nil
}

type mt940Field struct {
	tag   string
	line  int
	lines []string
}

type mt940Parser struct {
	out   []MT940Statement
	cur   *MT940Statement
	seen  map[string]bool // fields of cur
	field *mt940Field
	// has86 tells whether the last item already has its field 86.
	has86 bool
	line0 int // line of the :20: of cur
}

// mt940Tag returns the tag of a line that starts a field, such as "61" or
// "28C", and the rest of the line.
func mt940Tag(line string) (tag, rest string, ok bool) {
	if len(line) < 4 || line[0] != ':' || !isDigit(line[1]) || !isDigit(line[2]) {
		return "", "", false
	}
	i := 3
	if line[i] >= 'A' && line[i] <= 'Z' {
		i++
	}
	if i >= len(line) || line[i] != ':' {
		return "", "", false
	}
	return line[1:i], line[i+1:], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *mt940Parser) line(n int, line string) error {
	if tag, rest, ok := mt940Tag(line); ok {
		if err := p.flushField(); err != nil {
			return err
		}
		p.field = &mt940Field{tag: tag, line: n, lines: []string{rest}}
		return nil
	}
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "-" || strings.HasPrefix(trimmed, "-}"):
		if err := p.flushField(); err != nil {
			return err
		}
		return p.endStatement()
	case p.field != nil:
		p.field.lines = append(p.field.lines, line)
		return nil
	case trimmed == "" || strings.HasPrefix(trimmed, "{") || trimmed == "}":
		return nil // blank lines and SWIFT block headers and trailers
	}
	return &ParseError{Line: n, Msg: fmt.Sprintf("%q is outside any field", truncate(line, 20))}
}

// endStatement checks and keeps the statement being read.
func (p *mt940Parser) endStatement() error {
	if p.cur == nil {
		return nil
	}
	for _, tag := range []string{"25", "60", "62"} {
		if !p.seen[tag] {
			return &ParseError{Line: p.line0, Msg: fmt.Sprintf("statement %q has no :%s: field", p.cur.Reference, tag)}
		}
	}
	p.out = append(p.out, *p.cur)
	p.cur = nil
	return nil
}

func (p *mt940Parser) flushField() error {
	f := p.field
	if f == nil {
		return nil
	}
	p.field = nil
	bad := func(format string, args ...any) error {
		return &ParseError{Line: f.line, Msg: ":" + f.tag + ": " + fmt.Sprintf(format, args...)}
	}
	if f.tag == "20" {
		if err := p.endStatement(); err != nil {
			return err
		}
	}
	if p.cur == nil {
		p.cur = &MT940Statement{}
		p.seen = map[string]bool{}
		p.line0 = f.line
	}
	st := p.cur
	value := strings.Join(f.lines, "")
	base := f.tag[:2]
	switch base {
	case "20":
		st.Reference = strings.TrimSpace(value)
	case "25":
		st.Account.IBAN = strings.TrimPrefix(strings.TrimSpace(value), "/")
	case "28":
		st.Number = strings.TrimSpace(value)
	case "60", "62", "64":
		if p.seen[base] {
			return bad("appears twice in one statement")
		}
		a, day, cur, err := parseMT940Balance(strings.TrimSpace(value))
		if err != nil {
			return bad("%v", err)
		}
		switch base {
		case "60":
			st.OpeningBalance, st.From, st.Account.Currency = a, day, cur
		case "62":
			st.ClosingBalance, st.To = a, day
		case "64":
			st.AvailableBalance, st.HasAvailableBalance = a, true
		}
		if base != "60" && st.Account.Currency != "" && cur != st.Account.Currency {
			return bad("currency %s differs from the opening balance's %s", cur, st.Account.Currency)
		}
	case "61":
		it, err := parseMT940Line61(strings.TrimSpace(f.lines[0]))
		if err != nil {
			return bad("%v", err)
		}
		if len(f.lines) > 1 {
			it.Type = strings.TrimSpace(strings.Join(f.lines[1:], ""))
		}
		st.Items = append(st.Items, it)
		p.has86 = false
	case "86":
		if len(st.Items) == 0 || p.has86 || p.seen["62"] {
			break // information about the whole statement
		}
		parseMT940Field86(&st.Items[len(st.Items)-1], value)
		p.has86 = true
	}
	p.seen[base] = true
	return nil
}

// parseMT940Balance reads "C250301PLN1234,56".
func parseMT940Balance(s string) (money.Amount, time.Time, string, error) {
	if len(s) < 11 {
		return 0, time.Time{}, "", fmt.Errorf("balance %q is too short", s)
	}
	var sign money.Amount
	switch s[0] {
	case 'C':
		sign = 1
	case 'D':
		sign = -1
	default:
		return 0, time.Time{}, "", fmt.Errorf("balance %q does not start with C or D", s)
	}
	day, err := parseYYMMDD(s[1:7])
	if err != nil {
		return 0, time.Time{}, "", err
	}
	cur := s[7:10]
	if !isCurrencyCode(cur) {
		return 0, time.Time{}, "", fmt.Errorf("currency %q is not three capital letters", cur)
	}
	a, err := parseCommaAmount(s[10:])
	if err != nil {
		return 0, time.Time{}, "", err
	}
	return sign * a, day, cur, nil
}

// parseYYMMDD reads a SWIFT date, years 80-99 being 1980-1999.
func parseYYMMDD(s string) (time.Time, error) {
	if len(s) != 6 || !allDigits(s) {
		return time.Time{}, fmt.Errorf("date %q is not YYMMDD", s)
	}
	y := 2000 + atoi(s[:2])
	if y >= 2080 {
		y -= 100
	}
	return makeDate(y, atoi(s[2:4]), atoi(s[4:6]), s)
}

func makeDate(y, m, d int, text string) (time.Time, error) {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, polish.Warsaw)
	if t.Month() != time.Month(m) || t.Day() != d {
		return time.Time{}, fmt.Errorf("date %q does not exist", text)
	}
	return t, nil
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseCommaAmount reads a SWIFT amount: digits, a decimal comma and up to
// two decimals, as in "1234,56", "1234," or "0,5".
func parseCommaAmount(s string) (money.Amount, error) {
	whole, frac, ok := strings.Cut(s, ",")
	switch {
	case !ok:
		return 0, fmt.Errorf("amount %q has no decimal comma", s)
	case !allDigits(whole):
		return 0, fmt.Errorf("amount %q has no digits before the comma, or other characters", s)
	case frac != "" && !allDigits(frac), len(frac) > 2:
		return 0, fmt.Errorf("amount %q has other than up to two digits after the comma", s)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > money.MaxIntegerDigits {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	return money.Amount(atoi(whole)*100 + atoi(frac)), nil
}

// parseMT940Line61 reads the first line of :61:.
func parseMT940Line61(s string) (Item, error) {
	var it Item
	if len(s) < 6 {
		return it, fmt.Errorf("%q is too short", s)
	}
	value, err := parseYYMMDD(s[:6])
	if err != nil {
		return it, err
	}
	it.ValueDate, it.BookingDate = value, value
	s = s[6:]
	if len(s) >= 4 && allDigits(s[:4]) {
		it.BookingDate, err = entryDate(value, s[:4])
		if err != nil {
			return it, err
		}
		s = s[4:]
	}
	var debit bool
	switch {
	case strings.HasPrefix(s, "RC"):
		debit, s = true, s[2:] // reversal of a credit
	case strings.HasPrefix(s, "RD"):
		s = s[2:] // reversal of a debit
	case strings.HasPrefix(s, "C"):
		s = s[1:]
	case strings.HasPrefix(s, "D"):
		debit, s = true, s[1:]
	default:
		return it, fmt.Errorf("no C, D, RC or RD mark after the dates")
	}
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		s = s[1:] // funds code
	}
	n := 0
	for n < len(s) && n < 15 && (isDigit(s[n]) || s[n] == ',') {
		n++
	}
	it.Amount, err = parseCommaAmount(s[:n])
	if err != nil {
		return it, err
	}
	if debit {
		it.Amount = -it.Amount
	}
	s = s[n:]
	if len(s) < 4 || strings.IndexByte("NFS", s[0]) < 0 {
		return it, fmt.Errorf("no transaction type (N, F or S and three characters) after the amount")
	}
	s = s[4:]
	custRef, bankRef, _ := strings.Cut(s, "//")
	if custRef != "NONREF" {
		it.Reference = custRef
	}
	it.ID = bankRef
	return it, nil
}

// entryDate reads the MMDD booking date of :61:, in the year that puts it
// closest to the value date.
func entryDate(value time.Time, mmdd string) (time.Time, error) {
	var best time.Time
	for _, y := range []int{value.Year() - 1, value.Year(), value.Year() + 1} {
		t, err := makeDate(y, atoi(mmdd[:2]), atoi(mmdd[2:]), mmdd)
		if err != nil {
			continue // such as 0229 outside leap years
		}
		if best.IsZero() || absDuration(t.Sub(value)) < absDuration(best.Sub(value)) {
			best = t
		}
	}
	if best.IsZero() {
		return time.Time{}, fmt.Errorf("booking date %q does not exist", mmdd)
	}
	return best, nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// parseMT940Field86 fills an item from its field 86.
func parseMT940Field86(it *Item, s string) {
	if i := strings.IndexByte(s, '~'); i >= 0 && i+2 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) {
		parseField86Tilde(it, s[i:])
		return
	}
	parseField86MBank(it, s)
}

func parseField86Tilde(it *Item, s string) {
	var title, name, name2, address, sortCode, number, iban strings.Builder
	for _, sub := range strings.Split(s, "~") {
		if len(sub) < 2 || !isDigit(sub[0]) || !isDigit(sub[1]) {
			continue
		}
		v := sub[2:]
		switch n := atoi(sub[:2]); {
		case n == 0:
			it.Type = v
		case n >= 20 && n <= 26:
			title.WriteString(v)
		case n == 27 || n == 28:
			name2.WriteString(v)
		case n == 29 || n == 60 || n == 61 || n == 62:
			address.WriteString(v)
		case n == 30:
			sortCode.WriteString(v)
		case n == 31:
			number.WriteString(v)
		case n == 32 || n == 33:
			name.WriteString(v)
		case n == 38:
			iban.WriteString(v)
		case n == 63:
			it.ID = v
		}
	}
	it.Title = title.String()
	it.CounterpartyName = name.String()
	if it.CounterpartyName == "" {
		it.CounterpartyName = name2.String()
	}
	it.CounterpartyAddress = address.String()
	it.CounterpartyAccount = iban.String()
	if it.CounterpartyAccount == "" && sortCode.Len() > 0 {
		if nrb, err := polish.MakeNRB(sortCode.String(), number.String()); err == nil {
			it.CounterpartyAccount = "PL" + nrb
		}
	}
}

func parseField86MBank(it *Item, s string) {
	parts := strings.Split(s, "; ")
	// The first part is the 3-digit operation code and the type.
	if first := parts[0]; len(first) >= 3 && allDigits(first[:3]) && (len(first) == 3 || first[3] == ' ') {
		it.Type = strings.TrimSpace(first[3:])
		parts = parts[1:]
	}
	for _, part := range parts {
		label, v, ok := strings.Cut(part, ": ")
		if !ok {
			continue
		}
		switch strings.ToUpper(label) {
		case "TYT.":
			it.Title = v
		case "DLA", "OD":
			it.CounterpartyName = v
		case "NA RACH.", "Z RACH.":
			it.CounterpartyAccount = v
			if len(v) == 26 && allDigits(v) {
				it.CounterpartyAccount = "PL" + v
			}
		case "TNR":
			it.ID = v
		}
	}
}
