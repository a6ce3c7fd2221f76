package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/payment"
)

// The consent page shows everything the TPP will have once the customer
// approves:
//
//   - for ais-accounts, what the TPP may later take without asking again:
//     the authorization server's exchange_token gives, for the accounts the
//     customer shares, an ais consent with any of the ais privileges (the
//     details, the balances, the history of up to Exchange.MaxHistoryDays
//     days) valid until at most Exchange.Validity after the approval
//     (internal/oauth's exchange, internal/consent's CreateExchanged);
//   - for payments, every transfer of a bundle (amount, recipient, title),
//     a recurring payment's schedule, a split payment's VAT and invoice,
//     a tax payment's form and period;
//   - for a cancellation, the payment, bundle or recurring payment it
//     cancels.
//
// The SMS text (smsText) says the same in short.

// ExchangePage is what an ais-accounts consent lets the TPP exchange it for
// later, without the customer: an ais consent over the accounts shared.
type ExchangePage struct {
	Privileges     []string      // the ais privileges it may ask for
	MaxHistoryDays int           // how far back the history it may read reaches, at most
	Validity       time.Duration // how long after the approval it may last, at most
}

// RecurrencePage is a recurring payment's schedule.
type RecurrencePage struct {
	PeriodType  string // "day", "week" or "month"
	PeriodValue int    // every PeriodValue PeriodTypes
	First, Last string // YYYY-MM-DD; Last "" when open-ended
	DayOff      string // "before" or "after": where an occurrence on a day off moves
}

// SplitPage is a split payment's (MPP) part.
type SplitPage struct {
	VAT, Invoice, NIP string
}

// TaxPage is a tax payment's identification.
type TaxPage struct {
	FormCode, Period, PayerID, ObligationID string
}

// CancelPage is a payment a cancellation privilege names.
type CancelPage struct {
	Kind string // "payment", "bundle" or "recurring"
	ID   string
}

// cancelView is a cancellation as the page shows it: the id, and, when the
// bank finds the customer's payment, what it is.
type cancelView struct {
	CancelPage
	Found                                  bool
	Amount, Currency, Recipient, Title, On string
	Count                                  int    // a bundle's payments
	Schedule                               string // a recurring payment's
}

// cancelDetails finds the payment a cancellation names, when it is the
// customer's (another's is shown by its id alone).
func (s *Server) cancelDetails(ctx context.Context, lang, customerID string, c CancelPage) cancelView {
	v := cancelView{CancelPage: c}
	if s.payments == nil {
		return v
	}
	show := func(p payment.Payment) {
		v.Found, v.Kind = true, "payment"
		v.Amount, v.Currency, v.Recipient, v.Title, v.On = p.Amount.String(), p.Currency, p.Recipient.Name, p.Title, p.ExecutionDate
	}
	if c.Kind == "payment" {
		if p, err := s.payments.Get(ctx, c.ID); err == nil && p.CustomerID == customerID {
			show(p)
			return v
		}
	}
	if c.Kind == "bundle" || c.Kind == "payment" {
		if b, err := s.payments.GetBundle(ctx, c.ID); err == nil && len(b.Payments) > 0 && b.Payments[0].CustomerID == customerID {
			v.Found, v.Kind = true, "bundle"
			v.Amount, v.Currency, v.Count = b.TotalAmount.String(), b.Currency, len(b.Payments)
			return v
		}
	}
	if c.Kind == "recurring" || c.Kind == "payment" {
		if r, err := s.payments.GetRecurring(ctx, c.ID); err == nil && r.CustomerID == customerID {
			v.Found, v.Kind = true, "recurring"
			v.Amount, v.Currency, v.Recipient, v.Title = r.Order.Amount.String(), r.Order.Currency, r.Order.Recipient.Name, r.Order.Title
			v.Schedule = scheduleText(lang, &RecurrencePage{PeriodType: string(r.Recurrence.PeriodType),
				PeriodValue: r.Recurrence.PeriodValue, First: r.Recurrence.StartDate, Last: r.Recurrence.EndDate})
		}
	}
	return v
}

// ordersOf are the payments of a consented order as the page shows them.
func ordersOf(c *payment.Consented) []PaymentPage {
	if c == nil {
		return nil
	}
	out := make([]PaymentPage, 0, len(c.Orders))
	for _, o := range c.Orders {
		out = append(out, orderPage(o))
	}
	return out
}

// orderPage is one order in the page's words.
func orderPage(o payment.Order) PaymentPage {
	p := PaymentPage{Amount: o.Amount.String(), Currency: o.Currency, RecipientName: o.Recipient.Name,
		RecipientAccount: o.Recipient.Account, Title: o.Title, ExecutionDate: o.ExecutionDate, SenderAccount: o.SenderAccount}
	if p.Currency == "" {
		p.Currency = "PLN"
	}
	if r := o.Recurrence; r != nil {
		p.Recurrence = &RecurrencePage{PeriodType: string(r.PeriodType), PeriodValue: r.PeriodValue,
			First: r.StartDate, Last: r.EndDate, DayOff: string(r.DayOff)}
	}
	if sp := o.Split; sp != nil {
		p.Split = &SplitPage{VAT: sp.VATAmount.String(), Invoice: sp.InvoiceNumber, NIP: sp.NIP}
	}
	if t := o.Tax; t != nil {
		p.Tax = &TaxPage{FormCode: t.FormCode, Period: t.Period, PayerID: t.PayerID, ObligationID: t.ObligationID}
	}
	return p
}

// cancelOf reads which payment a cancellation privilege's data names
// (PolishAPI's paymentId, bundleId, recurringPaymentId; mBank's
// aspspPaymentId); ok is false when it names none.
func cancelOf(raw json.RawMessage) (CancelPage, bool) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return CancelPage{}, false
	}
	for _, k := range []struct{ key, kind string }{
		{"paymentId", "payment"}, {"bundleId", "bundle"}, {"recurringPaymentId", "recurring"},
		{"tppBundleId", "bundle"}, {"tppRecurringPaymentId", "recurring"}, {"aspspPaymentId", "payment"},
	} {
		if v, _ := m[k.key].(string); v != "" {
			return CancelPage{Kind: k.kind, ID: v}, true
		}
	}
	return CancelPage{}, false
}

// frequencyText says how often a recurring payment is made in lang
// ("every 2 weeks").
func frequencyText(lang string, r *RecurrencePage) string {
	if r == nil {
		return ""
	}
	n := r.PeriodValue
	if n < 1 {
		n = 1
	}
	unit := translate(lang, "bank.period."+r.PeriodType)
	if n > 1 {
		unit = fmt.Sprintf("%d %s", n, translate(lang, "bank.periods."+r.PeriodType))
	}
	return translate(lang, "bank.every") + " " + unit
}

// scheduleText says a recurring payment's schedule in lang ("every 2
// weeks, from 2026-01-05 to 2026-12-28").
func scheduleText(lang string, r *RecurrencePage) string {
	if r == nil {
		return ""
	}
	s := frequencyText(lang, r) + ", " + translate(lang, "bank.from") + " " + r.First
	if r.Last != "" {
		s += " " + translate(lang, "bank.to") + " " + r.Last
	} else {
		s += " " + translate(lang, "bank.no_end")
	}
	return s
}

// smsPayment says one payment in short, in Polish.
func smsPayment(p PaymentPage) string {
	s := fmt.Sprintf("%s %s dla %s, rach. %s", p.Amount, p.Currency, p.RecipientName, lastDigits(p.RecipientAccount))
	if p.Title != "" && len(p.Title) <= 40 {
		s += ", tytuł: " + p.Title
	}
	if sp := p.Split; sp != nil {
		s += ", MPP VAT " + sp.VAT + " " + p.Currency + ", faktura " + sp.Invoice
	}
	if r := p.Recurrence; r != nil {
		s += ", " + scheduleText("pl", r)
	}
	return s
}

// smsCancel says a cancellation in short, in Polish.
func smsCancel(c CancelPage) string {
	switch c.Kind {
	case "bundle":
		return "anulowanie paczki " + c.ID
	case "recurring":
		return "anulowanie płatności cyklicznej " + c.ID
	}
	return "anulowanie płatności " + c.ID
}

// smsList joins the parts of an SMS text.
func smsList(parts []string) string { return strings.Join(parts, "; ") }
