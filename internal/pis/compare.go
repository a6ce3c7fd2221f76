package pis

import (
	"fmt"
	"strings"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// FieldNames are a dialect's names of the fields that "the payment must be
// the consented one" compares, so that a refusal names the field as the
// TPP sent it.
type FieldNames struct {
	Sender, RecipientAccount, RecipientName, Tax, Split, Recurrence string
}

// The dialects' names of the compared fields.
var (
	PolishAPINames = FieldNames{"sender.accountNumber", "recipient.accountNumber", "recipient.nameAddress", "usInfo", "split", "recurrence"}
	MBankNames     = FieldNames{"sender.accountNumber", "recipient.accountNumber", "recipient.name", "usInfo", "transactionInfoSp", "transferData.recurrence"}
)

// NotInConsent is the refusal of a payment that is not the consent's: field
// is field in the consent and got here.
func NotInConsent(field, consented, got string) *payment.Error {
	return &payment.Error{Code: payment.CodeNotInConsent,
		Message: fmt.Sprintf("the payment differs from the one the customer authorised in the consent: %s is %q in the consent and %q here; initiate exactly the authorised payment, or ask the customer for a new consent",
			field, consented, got),
		MessagePL: fmt.Sprintf("płatność różni się od autoryzowanej przez klienta w zgodzie: %s w zgodzie to %q, a tu %q; zainicjuj dokładnie autoryzowaną płatność albo poproś klienta o nową zgodę",
			field, consented, got)}
}

// unreadable is the refusal of a consent whose privilege's payment cannot
// be read.
func unreadable(priv consent.Privilege, err error) *payment.Error {
	return &payment.Error{Code: payment.CodeNotInConsent,
		Message:   "the payment in the consent's privilege " + priv.Name + " cannot be read: ask the customer for a new consent (" + err.Error() + ")",
		MessagePL: "nie można odczytać płatności w przywileju " + priv.Name + " zgody: poproś klienta o nową zgodę (" + err.Error() + ")"}
}

// FillSender sets the sender of an order without one: the consented
// payment's sender, or the account the customer chose when approving. It
// refuses a sender outside the consent's accounts.
func FillSender(cons consent.Consent, consented, o *payment.Order) error {
	var chosen string
	if len(cons.Accounts) > 0 {
		chosen = cons.Accounts[0]
	}
	if consented.SenderAccount == "" {
		consented.SenderAccount = chosen
		if o.SenderAccount != "" && len(cons.Accounts) > 0 && !containsAccount(cons.Accounts, o.SenderAccount) {
			return NotInConsent("sender.accountNumber", strings.Join(cons.Accounts, " or "), o.SenderAccount)
		}
		if o.SenderAccount != "" {
			consented.SenderAccount = o.SenderAccount
		}
	}
	if o.SenderAccount == "" {
		o.SenderAccount = consented.SenderAccount
	}
	if o.SenderAccount == "" {
		return &payment.Error{Code: payment.CodeInvalidSenderAccount, Field: "sender.accountNumber",
			Message:   "neither the consent nor the payment names the account to debit, and the customer chose none: name sender.accountNumber in the consent",
			MessagePL: "ani zgoda, ani płatność nie wskazują rachunku do obciążenia, a klient żadnego nie wybrał: podaj sender.accountNumber w zgodzie"}
	}
	o.CustomerID, o.ConsentID = cons.CustomerID, cons.ID
	return nil
}

func containsAccount(list []string, a string) bool {
	a = normAccount(a)
	for _, x := range list {
		if normAccount(x) == a {
			return true
		}
	}
	return false
}

func normAccount(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) == 28 && strings.HasPrefix(s, "PL") {
		s = s[2:]
	}
	return s
}

func normText(s string) string { return strings.Join(strings.Fields(s), " ") }

// SameOrder compares the meaningful fields of the consented order and the
// one initiated, and refuses naming the first that differs. today stands
// for an empty execution date.
func SameOrder(want, got payment.Order, today string, names FieldNames) error {
	date := func(d string) string {
		if d == "" {
			return today
		}
		return d
	}
	type field struct {
		name      string
		want, got string
	}
	fields := []field{
		{"type", string(want.Type), string(got.Type)},
		{names.Sender, normAccount(want.SenderAccount), normAccount(got.SenderAccount)},
		{names.RecipientAccount, normAccount(want.Recipient.Account), normAccount(got.Recipient.Account)},
		{names.RecipientName, normText(want.Recipient.Name), normText(got.Recipient.Name)},
		{"recipient.countryCode", strings.ToUpper(want.Recipient.Country), strings.ToUpper(got.Recipient.Country)},
		{"recipientBank.bicOrSwift", strings.ToUpper(want.Recipient.BIC), strings.ToUpper(got.Recipient.BIC)},
		{"transferData.amount", want.Amount.String(), got.Amount.String()},
		{"transferData.currency", want.Currency, got.Currency},
		{"transferData.description", normText(want.Title), normText(got.Title)},
		{"transferData.executionDate", date(want.ExecutionDate), date(got.ExecutionDate)},
	}
	if want.System != "" {
		fields = append(fields, field{"system", string(want.System), string(got.System)})
	}
	if want.DeliveryMode != "" {
		fields = append(fields, field{"deliveryMode", string(want.DeliveryMode), string(got.DeliveryMode)})
	}
	fields = append(fields, field{names.Tax, taxString(want.Tax), taxString(got.Tax)},
		field{names.Split, splitString(want.Split), splitString(got.Split)},
		field{names.Recurrence, recurrenceString(want.Recurrence), recurrenceString(got.Recurrence)})
	for _, f := range fields {
		if f.want != f.got {
			return NotInConsent(f.name, f.want, f.got)
		}
	}
	return nil
}

func taxString(t *payment.TaxInfo) string {
	if t == nil {
		return ""
	}
	return strings.Join([]string{payment.NormalizeFormCode(t.FormCode), t.Period, string(t.PayerIDType), t.PayerID, t.ObligationID}, "/")
}

func splitString(sp *payment.SplitPayment) string {
	if sp == nil {
		return ""
	}
	return strings.Join([]string{sp.VATAmount.String(), sp.InvoiceNumber, sp.NIP, normText(sp.Description)}, "/")
}

func recurrenceString(r *payment.Recurrence) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("%s every %d %s until %s, days off %s", r.StartDate, r.PeriodValue, r.PeriodType, r.EndDate, r.DayOff)
}

// itemError names the transfer of a bundle an error is about.
func itemError(i int, err error) error {
	if pe, ok := err.(*payment.Error); ok {
		e := *pe
		if e.Code == payment.CodeNotInConsent {
			e.Message, e.MessagePL = fmt.Sprintf("transfer %d: %s", i+1, e.Message), fmt.Sprintf("przelew %d: %s", i+1, e.MessagePL)
		} else if e.Field == "" {
			e.Field = fmt.Sprintf("transfers[%d]", i)
		} else {
			e.Field = fmt.Sprintf("transfers[%d].%s", i, e.Field)
		}
		return &e
	}
	return err
}
