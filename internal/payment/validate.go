package payment

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

const (
	maxTitle       = 140 // 4 lines of 35 characters, as Elixir carries
	maxName        = 140 // 4 lines of 35 characters
	maxKey         = 64  // tppTransactionId
	maxInvoice     = 35
	maxSplitText   = 33
	maxObligation  = 40
	maxPayerID     = 20
	maxOtherPayer  = 14 // the supplementary identifier in the Elixir tax title
	maxForeignAcct = 34
)

// titleSpecials are the characters other than letters, digits and space that
// a title or a name may hold: the Elixir character set (the Polish letters
// count as letters).
const titleSpecials = `.,;:?!-/()'"+&%*=<>@#_`

// polishLetters are the Polish letters beyond A-Z.
const polishLetters = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"

// disallowedRune returns the first rune of s outside the Elixir character
// set, and its 1-based position.
func disallowedRune(s string) (rune, int, bool) {
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ':
		case strings.ContainsRune(titleSpecials, r), strings.ContainsRune(polishLetters, r):
		default:
			return r, pos, true
		}
	}
	return 0, 0, false
}

// Validate checks an order without looking at the database: every field a
// TPP or its user can get wrong, each with a reason they can act on. The
// first problem found is returned as an *Error.
func (s *Service) Validate(o Order) error {
	_, err := s.validate(o)
	return err
}

// checked is what validation learnt about an order.
type checked struct {
	sender    string // normalized NRB
	recipient string // normalized NRB or IBAN
	title     string // the title to book
	zus       bool
	taxMicro  bool
	execDate  string // "" when immediate
}

func (s *Service) validate(o Order) (checked, error) {
	return s.validateOrder(o, true)
}

// ValidateConsented checks the payment of a consent the customer is asked
// for, as Validate does, when the TPP asks for the consent: without its
// idempotency key (the initiation brings it), and, when it names no sender
// account, without one (the customer chooses it on the consent page).
func (s *Service) ValidateConsented(o Order) error {
	if o.TPPTransactionID == "" {
		o.TPPTransactionID = "consent"
	}
	_, err := s.validateOrder(o, o.SenderAccount != "")
	return err
}

func (s *Service) validateOrder(o Order, needSender bool) (checked, error) {
	var c checked
	now := s.clock.Now()
	switch o.Type {
	case Domestic, EEA, NonEEA, Tax:
	default:
		return c, errorf(CodeInvalidType, "type", "unknown payment type %q; use domestic, eea, noneea or tax",
			"nieznany typ płatności %q; dozwolone: domestic, eea, noneea, tax", o.Type)
	}
	if o.TPPID == "" {
		return c, newError(CodeInvalidRequest, "tppId", "the TPP is not identified", "brak identyfikatora TPP")
	}
	if o.TPPTransactionID == "" || utf8.RuneCountInString(o.TPPTransactionID) > maxKey {
		return c, errorf(CodeInvalidRequest, "tppTransactionId", "tppTransactionId must have 1 to %d characters",
			"tppTransactionId musi mieć od 1 do %d znaków", maxKey)
	}
	if needSender || o.SenderAccount != "" {
		sender, err := polish.NormalizeNRB(o.SenderAccount)
		if err != nil {
			return c, errorf(CodeInvalidSenderAccount, "sender.accountNumber", "the sender's account number is not valid: %v",
				"numer rachunku nadawcy jest niepoprawny: %v", err)
		}
		c.sender = sender
	}

	// The recipient.
	if err := s.checkRecipient(o, &c); err != nil {
		return c, err
	}

	// The amount and currency.
	if o.Amount <= 0 {
		return c, errorf(CodeInvalidAmount, "amount", "the amount must be greater than zero, got %s",
			"kwota musi być większa od zera, podano %s", o.Amount)
	}
	if o.Amount > money.Max {
		return c, errorf(CodeInvalidAmount, "amount", "the amount %s is too large", "kwota %s jest za duża", o.Amount)
	}
	if err := money.ValidCurrency(o.Currency); err != nil {
		return c, errorf(CodeInvalidCurrency, "currency", "%v", "niepoprawna waluta: %v", err)
	}
	switch {
	case (o.Type == Domestic || o.Type == Tax) && o.Currency != "PLN":
		return c, errorf(CodeInvalidCurrency, "currency", "a %s payment is in PLN, not %s",
			"płatność typu %s musi być w PLN, a nie w %s", o.Type, o.Currency)
	case o.Type == EEA && o.Currency != "EUR":
		return c, errorf(CodeInvalidCurrency, "currency", "a SEPA (EEA) payment is in EUR, not %s",
			"przelew SEPA musi być w EUR, a nie w %s", o.Currency)
	}
	if o.Currency == "PLN" && o.System == SystemExpressElixir && o.Amount > s.expressMax {
		return c, errorf(CodeLimitExceeded, "amount", "Express Elixir takes at most %s PLN; %s PLN must go by Elixir or SORBNET",
			"Express Elixir przyjmuje najwyżej %s PLN; %s PLN należy wysłać przez Elixir lub SORBNET", s.expressMax, o.Amount)
	}
	if o.Currency == "PLN" && o.Amount >= polish.SorbnetMin && o.System == SystemElixir && o.Type == Domestic && !c.zus {
		return c, errorf(CodeInvalidSystem, "system", "Elixir takes amounts below %s PLN; %s PLN goes through SORBNET",
			"Elixir przyjmuje kwoty poniżej %s PLN; %s PLN należy wysłać przez SORBNET", polish.SorbnetMin, o.Amount)
	}
	if o.Type == EEA && o.System != "" && o.System != SystemSEPA && o.System != SystemInstantSEPA && o.System != SystemTarget {
		return c, errorf(CodeInvalidSystem, "system", "a payment in the EEA goes by SEPA, instant SEPA or TARGET, not %s",
			"przelew w EOG realizuje się przez SEPA, SEPA Instant lub TARGET, a nie %s", o.System)
	}
	if o.Type == NonEEA && o.System != "" && o.System != SystemSwift {
		return c, errorf(CodeInvalidSystem, "system", "a payment outside the EEA goes by SWIFT, not %s",
			"przelew poza EOG realizuje się przez SWIFT, a nie %s", o.System)
	}

	// The title.
	c.title = o.Title
	if o.Type != Tax || o.Title != "" {
		if err := checkTitle(o.Title, o.Type != Tax && o.Split == nil); err != nil {
			return c, err
		}
	}

	// Tax, ZUS and split payment.
	if o.Type == Tax {
		if err := s.checkTax(o, &c); err != nil {
			return c, err
		}
	} else if o.Tax != nil {
		return c, newError(CodeInvalidTaxInfo, "usInfo", "tax details belong to a tax payment (type tax) only",
			"dane podatkowe podaje się tylko w przelewie do urzędu skarbowego (typ tax)")
	}
	if c.zus && o.System != "" && o.System != SystemElixir {
		return c, errorf(CodeInvalidSystem, "system", "a payment to ZUS goes through Elixir only, not %s",
			"przelew do ZUS realizowany jest wyłącznie przez Elixir, a nie %s", o.System)
	}
	if o.Split != nil {
		if err := s.checkSplit(o, &c); err != nil {
			return c, err
		}
	}

	// The execution date.
	if o.ExecutionDate != "" {
		d, err := time.ParseInLocation(time.DateOnly, o.ExecutionDate, polish.Warsaw)
		if err != nil {
			return c, errorf(CodeInvalidExecutionDate, "executionDate", "the execution date %q is not a date in the form YYYY-MM-DD",
				"data realizacji %q nie jest datą w formacie RRRR-MM-DD", o.ExecutionDate)
		}
		today := dateOf(now)
		switch {
		case o.ExecutionDate < today:
			return c, errorf(CodeInvalidExecutionDate, "executionDate", "the execution date %s is in the past; today is %s",
				"data realizacji %s jest w przeszłości; dziś jest %s", o.ExecutionDate, today)
		case o.ExecutionDate > today:
			c.execDate = o.ExecutionDate
			if o.Recurrence == nil && usesCalendar(o, c) && !polish.IsBusinessDay(d) {
				next := dateOf(polish.NextBusinessDay(d))
				return c, errorf(CodeInvalidExecutionDate, "executionDate",
					"%s is not a business day and Elixir does not run on it; choose %s, the next business day",
					"%s nie jest dniem roboczym i Elixir w tym dniu nie działa; wybierz %s, najbliższy dzień roboczy",
					o.ExecutionDate, next)
			}
		}
	}
	if o.Recurrence != nil {
		if err := checkRecurrence(*o.Recurrence, dateOf(now)); err != nil {
			return c, err
		}
	}
	return c, nil
}

// usesCalendar tells whether an order, if it leaves the bank, clears on
// business days only (everything but Express Elixir and instant SEPA).
func usesCalendar(o Order, c checked) bool {
	own := c.recipient
	if len(own) == 28 && own[:2] == "PL" {
		own = own[2:]
	}
	if len(own) == 26 && own[2:6] == polish.OwnBankCode {
		return false // a book transfer within the bank, if the account exists (Initiate checks)
	}
	return o.System != SystemExpressElixir && o.System != SystemInstantSEPA && o.System != SystemInternal
}

func (s *Service) checkRecipient(o Order, c *checked) error {
	r := o.Recipient
	name := strings.TrimSpace(r.Name)
	if name == "" {
		return newError(CodeInvalidRecipientName, "recipient.name", "the recipient's name is missing",
			"brak nazwy odbiorcy")
	}
	if n := utf8.RuneCountInString(r.Name); n > maxName {
		return errorf(CodeInvalidRecipientName, "recipient.name", "the recipient's name and address have %d characters; at most %d (4 lines of 35) fit",
			"nazwa i adres odbiorcy mają %d znaków; mieści się najwyżej %d (4 linie po 35)", n, maxName)
	}
	if r.Account == "" {
		return newError(CodeInvalidRecipientAccount, "recipient.accountNumber", "the recipient's account number is missing",
			"brak numeru rachunku odbiorcy")
	}
	switch o.Type {
	case Domestic, Tax:
		n, err := polish.NormalizeNRB(r.Account)
		if err != nil {
			return errorf(CodeInvalidRecipientAccount, "recipient.accountNumber", "the recipient's account number is not a valid NRB: %v",
				"numer rachunku odbiorcy nie jest poprawnym NRB: %v", err)
		}
		c.recipient = n
		c.zus = o.Type == Domestic && polish.IsZUSAccount(n)
	case EEA:
		n, err := polish.NormalizeIBAN(r.Account)
		if err != nil {
			return errorf(CodeInvalidRecipientAccount, "recipient.accountNumber", "the recipient's account number is not a valid IBAN: %v",
				"numer rachunku odbiorcy nie jest poprawnym IBAN: %v", err)
		}
		c.recipient = n
	case NonEEA:
		acct := strings.ToUpper(strings.ReplaceAll(r.Account, " ", ""))
		if looksLikeIBAN(acct) {
			n, err := polish.NormalizeIBAN(acct)
			if err != nil {
				return errorf(CodeInvalidRecipientAccount, "recipient.accountNumber", "the recipient's account number is not a valid IBAN: %v",
					"numer rachunku odbiorcy nie jest poprawnym IBAN: %v", err)
			}
			acct = n
		} else if len(acct) > maxForeignAcct || !alnum(acct) {
			return errorf(CodeInvalidRecipientAccount, "recipient.accountNumber", "the recipient's account number must be up to %d letters and digits",
				"numer rachunku odbiorcy może mieć najwyżej %d liter i cyfr", maxForeignAcct)
		}
		c.recipient = acct
		if !bicPattern.MatchString(strings.ToUpper(r.BIC)) {
			return errorf(CodeInvalidRecipient, "recipientBank.bicOrSwift", "the recipient bank's BIC %q is not 8 or 11 characters (bank, country, location, branch), such as DEUTDEFF",
				"kod BIC banku odbiorcy %q nie ma 8 ani 11 znaków (bank, kraj, lokalizacja, oddział), np. DEUTDEFF", r.BIC)
		}
	}
	if (o.Type == EEA || o.Type == NonEEA) && r.Country == "" {
		return newError(CodeInvalidRecipient, "recipient.countryCode", "the recipient's country is missing",
			"brak kraju odbiorcy")
	}
	return nil
}

var (
	bicPattern    = regexp.MustCompile(`^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$`)
	ibanPrefix    = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}`)
	periodPattern = regexp.MustCompile(`^(0|[0-9]{2}(R|P0[12]|K0[1-4]|M(0[1-9]|1[0-2])|D0[1-3](0[1-9]|1[0-2])|J(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])))$`)
)

func looksLikeIBAN(s string) bool { return ibanPrefix.MatchString(s) }

func alnum(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func checkTitle(title string, required bool) error {
	if strings.TrimSpace(title) == "" {
		if required {
			return newError(CodeInvalidTitle, "description", "the title is missing", "brak tytułu przelewu")
		}
		return nil
	}
	if n := utf8.RuneCountInString(title); n > maxTitle {
		return errorf(CodeInvalidTitle, "description", "the title has %d characters; at most %d (4 lines of 35) fit",
			"tytuł ma %d znaków; mieści się najwyżej %d (4 linie po 35)", n, maxTitle)
	}
	if r, pos, bad := disallowedRune(title); bad {
		return errorf(CodeInvalidTitle, "description",
			"the title has %q at position %d, which Elixir cannot carry; use letters (Polish ones too), digits, spaces and %s",
			"tytuł zawiera %q na pozycji %d, którego Elixir nie przenosi; dozwolone są litery (także polskie), cyfry, spacja i %s",
			r, pos, titleSpecials)
	}
	return nil
}

// taxForms are the tax form symbols accepted, without dashes.
var taxForms = map[string]bool{
	"PIT4R": true, "PIT8AR": true, "PIT11": true, "PIT28": true, "PIT36": true, "PIT36L": true, "PIT37": true,
	"PIT38": true, "PIT39": true, "PIT5": true, "PIT5L": true, "PIT6": true, "PPL": true, "PPE": true, "PIT": true,
	"CIT": true, "CIT8": true, "CIT2": true, "CIT10Z": true, "IFT2R": true,
	"VAT": true, "VAT7": true, "VAT7K": true, "VAT7D": true, "VAT8": true, "VAT9M": true, "VAT10": true, "VAT12": true, "VATZD": true,
	"PCC": true, "PCC3": true, "SD": true, "SD3": true, "SDZ2": true, "AKC": true, "AKC4": true,
	"PSD": true, "KOP": true, "POG": true, "GHD": true, "DSF": true, "ALK": true, "CUK": true, "DRA": true, "WRO": true,
}

// NormalizeFormCode returns a tax form symbol without dashes and spaces, in
// upper case: "PIT-37" and "pit37" are "PIT37".
func NormalizeFormCode(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
}

func (s *Service) checkTax(o Order, c *checked) error {
	t := o.Tax
	if t == nil {
		return newError(CodeInvalidTaxInfo, "usInfo", "a tax payment needs its tax details (form, period, payer)",
			"przelew do urzędu skarbowego wymaga danych podatkowych (formularz, okres, płatnik)")
	}
	form := NormalizeFormCode(t.FormCode)
	if !taxForms[form] {
		return errorf(CodeInvalidTaxInfo, "usInfo.formCode", "%q is not a known tax form symbol, such as PIT-37, VAT-7 or CIT-8",
			"%q nie jest znanym symbolem formularza, np. PIT-37, VAT-7, CIT-8", t.FormCode)
	}
	if !periodPattern.MatchString(t.Period) {
		return errorf(CodeInvalidTaxInfo, "usInfo.periodId",
			"the tax period %q is not in the Elixir form: year (2 digits) and R for a year, P01-P02 a half, K01-K04 a quarter, M01-M12 a month (26M10), D + decade + month, J + day + month; or 0 for none",
			"okres %q nie jest w formacie Elixir: rok (2 cyfry) i R dla roku, P01-P02 półrocze, K01-K04 kwartał, M01-M12 miesiąc (26M10), D + dekada + miesiąc, J + dzień + miesiąc; albo 0 gdy brak",
			t.Period)
	}
	if len(t.PayerID) == 0 || len(t.PayerID) > maxPayerID {
		return errorf(CodeInvalidTaxInfo, "usInfo.payerInfo.payorId", "the payer's identifier must have 1 to %d characters",
			"identyfikator płatnika musi mieć od 1 do %d znaków", maxPayerID)
	}
	var err error
	switch t.PayerIDType {
	case PayerNIP:
		err = polish.ValidateNIP(t.PayerID)
	case PayerPESEL:
		_, _, err = polish.ValidatePESEL(t.PayerID)
	case PayerREGON:
		err = polish.ValidateREGON(t.PayerID)
	case PayerIDCard, PayerPassport, PayerOther:
		if id := strings.ToUpper(t.PayerID); len(id) > maxOtherPayer || !alnum(id) {
			err = fmt.Errorf("%q is not up to %d letters and digits", t.PayerID, maxOtherPayer)
		}
	default:
		return errorf(CodeInvalidTaxInfo, "usInfo.payerInfo.payorIdType", "payer identifier type %q is not N (NIP), P (PESEL), R (REGON), 1 (ID card), 2 (passport) or 3 (other)",
			"typ identyfikatora płatnika %q to nie N (NIP), P (PESEL), R (REGON), 1 (dowód osobisty), 2 (paszport) ani 3 (inny)", t.PayerIDType)
	}
	if err != nil {
		return errorf(CodeInvalidTaxInfo, "usInfo.payerInfo.payorId", "the payer's identifier is not valid: %v",
			"identyfikator płatnika jest niepoprawny: %v", err)
	}
	if utf8.RuneCountInString(t.ObligationID) > maxObligation {
		return errorf(CodeInvalidTaxInfo, "usInfo.obligationId", "the obligation id has more than %d characters",
			"identyfikator zobowiązania ma więcej niż %d znaków", maxObligation)
	}
	if r, pos, bad := disallowedRune(t.ObligationID); bad {
		return errorf(CodeInvalidTaxInfo, "usInfo.obligationId", "the obligation id has %q at position %d, which Elixir cannot carry",
			"identyfikator zobowiązania zawiera %q na pozycji %d, którego Elixir nie przenosi", r, pos)
	}
	// Only to a tax office: a tax micro-account or an account at NBP, where
	// the tax offices keep theirs.
	c.taxMicro = polish.IsTaxMicroAccount(c.recipient)
	if !c.taxMicro && c.recipient[2:6] != "1010" {
		return newError(CodeInvalidRecipientAccount, "recipient.accountNumber",
			"a tax payment goes to a tax micro-account or a tax office's account at NBP; this account is neither",
			"przelew podatkowy kierowany jest na mikrorachunek podatkowy lub rachunek urzędu skarbowego w NBP; ten rachunek nie jest żadnym z nich")
	}
	if c.taxMicro {
		// The micro-account embeds the payer: a cheap guard against a typo.
		idType, id := c.recipient[13], c.recipient[14:]
		switch {
		case idType == polish.TaxIDNIP && t.PayerIDType == PayerNIP:
			if !strings.HasPrefix(id, strings.NewReplacer("-", "", " ", "").Replace(t.PayerID)) {
				return newError(CodeInvalidTaxInfo, "usInfo.payerInfo.payorId",
					"the tax micro-account belongs to another NIP than the payer's; check both",
					"mikrorachunek podatkowy należy do innego NIP niż NIP płatnika; sprawdź oba")
			}
		case idType == polish.TaxIDPESEL && t.PayerIDType == PayerPESEL:
			if !strings.HasPrefix(id, t.PayerID) {
				return newError(CodeInvalidTaxInfo, "usInfo.payerInfo.payorId",
					"the tax micro-account belongs to another PESEL than the payer's; check both",
					"mikrorachunek podatkowy należy do innego numeru PESEL niż PESEL płatnika; sprawdź oba")
			}
		}
	}
	if o.System != "" && o.System != SystemElixir {
		return errorf(CodeInvalidSystem, "system", "a tax payment goes through Elixir only, not %s",
			"przelew podatkowy realizowany jest wyłącznie przez Elixir, a nie %s", o.System)
	}
	c.title = TaxTitle(*t)
	return nil
}

// TaxTitle is the Elixir title of a tax payment:
// /TI/<payer id type><payer id>/OKR/<period>/SFP/<form>/TXT/<obligation>.
func TaxTitle(t TaxInfo) string {
	title := "/TI/" + string(t.PayerIDType) + strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(t.PayerID)) +
		"/OKR/" + t.Period + "/SFP/" + NormalizeFormCode(t.FormCode)
	if t.ObligationID != "" {
		title += "/TXT/" + t.ObligationID
	}
	return title
}

// SplitTitle is the Elixir title of a split payment:
// /VAT/<VAT amount with a comma>/IDC/<NIP>/INV/<invoice>/TXT/<text>.
func SplitTitle(sp SplitPayment) string {
	nip, err := polish.NormalizeNIP(sp.NIP)
	if err != nil {
		nip = sp.NIP
	}
	title := "/VAT/" + strings.Replace(sp.VATAmount.String(), ".", ",", 1) + "/IDC/" + nip + "/INV/" + sp.InvoiceNumber
	if sp.Description != "" {
		title += "/TXT/" + sp.Description
	}
	return title
}

func (s *Service) checkSplit(o Order, c *checked) error {
	sp := o.Split
	if o.Type != Domestic || o.Currency != "PLN" {
		return newError(CodeInvalidSplitPayment, "splitPayment", "split payment is for domestic payments in PLN only",
			"mechanizm podzielonej płatności dotyczy wyłącznie przelewów krajowych w PLN")
	}
	if c.zus {
		return newError(CodeInvalidSplitPayment, "splitPayment", "a payment to ZUS cannot be a split payment",
			"przelew do ZUS nie może być przelewem w mechanizmie podzielonej płatności")
	}
	if sp.VATAmount <= 0 || sp.VATAmount > o.Amount {
		return errorf(CodeInvalidSplitPayment, "transactionInfoSp.spTaxAmount", "the VAT amount %s must be greater than zero and at most the amount %s",
			"kwota VAT %s musi być większa od zera i nie większa niż kwota przelewu %s", sp.VATAmount, o.Amount)
	}
	if err := polish.ValidateNIP(sp.NIP); err != nil {
		return errorf(CodeInvalidSplitPayment, "transactionInfoSp.spTaxIdentificationNumber", "the seller's NIP is not valid: %v",
			"NIP sprzedawcy jest niepoprawny: %v", err)
	}
	if strings.TrimSpace(sp.InvoiceNumber) == "" || utf8.RuneCountInString(sp.InvoiceNumber) > maxInvoice {
		return errorf(CodeInvalidSplitPayment, "transactionInfoSp.spInvoiceNumber", "the invoice number must have 1 to %d characters",
			"numer faktury musi mieć od 1 do %d znaków", maxInvoice)
	}
	if r, pos, bad := disallowedRune(sp.InvoiceNumber); bad {
		return errorf(CodeInvalidSplitPayment, "transactionInfoSp.spInvoiceNumber", "the invoice number has %q at position %d, which Elixir cannot carry",
			"numer faktury zawiera %q na pozycji %d, którego Elixir nie przenosi", r, pos)
	}
	if sp.Description == "" && o.Title != "" {
		sp2 := *sp
		sp2.Description = o.Title
		sp = &sp2
	}
	if utf8.RuneCountInString(sp.Description) > maxSplitText {
		return errorf(CodeInvalidSplitPayment, "transactionInfoSp.spDescription", "the split payment's free text has more than %d characters",
			"tekst dowolny przelewu MPP ma więcej niż %d znaków", maxSplitText)
	}
	if o.System == SystemExpressElixir {
		return newError(CodeInvalidSystem, "system", "a split payment goes through Elixir or SORBNET, not Express Elixir",
			"przelew w MPP realizowany jest przez Elixir lub SORBNET, a nie Express Elixir")
	}
	c.title = SplitTitle(*sp)
	if n := utf8.RuneCountInString(c.title); n > maxTitle {
		return errorf(CodeInvalidSplitPayment, "transactionInfoSp", "the split payment's title would have %d characters; at most %d fit",
			"tytuł przelewu MPP miałby %d znaków; mieści się najwyżej %d", n, maxTitle)
	}
	return nil
}

func checkRecurrence(r Recurrence, today string) error {
	if _, err := time.Parse(time.DateOnly, r.StartDate); err != nil {
		return errorf(CodeInvalidRecurrence, "recurrence.startDate", "the start date %q is not a date in the form YYYY-MM-DD",
			"data początkowa %q nie jest datą w formacie RRRR-MM-DD", r.StartDate)
	}
	if r.StartDate < today {
		return errorf(CodeInvalidRecurrence, "recurrence.startDate", "the start date %s is in the past; today is %s",
			"data początkowa %s jest w przeszłości; dziś jest %s", r.StartDate, today)
	}
	switch r.PeriodType {
	case Day, Week, Month:
	default:
		return errorf(CodeInvalidRecurrence, "recurrence.frequency.periodType", "the period %q is not day, week or month",
			"okres %q to nie day, week ani month", r.PeriodType)
	}
	if r.PeriodValue < 1 {
		return newError(CodeInvalidRecurrence, "recurrence.frequency.periodValue", "the period value must be at least 1",
			"wartość okresu musi wynosić co najmniej 1")
	}
	if r.EndDate != "" {
		if _, err := time.Parse(time.DateOnly, r.EndDate); err != nil || r.EndDate < r.StartDate {
			return errorf(CodeInvalidRecurrence, "recurrence.endDate", "the end date %q is not a date in the form YYYY-MM-DD on or after the start date",
				"data końcowa %q nie jest datą w formacie RRRR-MM-DD nie wcześniejszą niż data początkowa", r.EndDate)
		}
	}
	if r.DayOff != Before && r.DayOff != After {
		return errorf(CodeInvalidRecurrence, "recurrence.dayOffOffsetType", "dayOffOffsetType %q is not before or after",
			"dayOffOffsetType %q to nie before ani after", r.DayOff)
	}
	return nil
}

// dateOf is the Warsaw calendar date of t, "2006-01-02".
func dateOf(t time.Time) string { return t.In(polish.Warsaw).Format(time.DateOnly) }

// parseDate reads a "2006-01-02" date as midnight in Warsaw.
func parseDate(s string) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, s, polish.Warsaw)
	return d
}
