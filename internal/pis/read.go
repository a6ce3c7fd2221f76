package pis

import (
	"strings"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// read is what an initiation reads with the consent, in the consent's own
// statement (consent.Also): the sender account the order names, with its
// owner, the owner's segment, the account's API access and its limit for
// the payment's kind, and the recipient account when it may be one of the
// bank's, with its owner. Each is read once and used by every check that
// needs it (the sender being the customer's, API access, the limits, the
// routing, the ledger's parties); an order whose sender is only known
// after the consent is read (taken from the consent) reads it again the
// usual way.
type read struct {
	senderNRB, recipientNRB string

	s, r        ledger.Known
	segment     string
	accessState string
	perPayment  int64
	perDay      int64
	limit       access.Limit
	kind        string
}

// readFor is the read for order o of kind.
func readFor(o payment.Order, kind access.Kind) *read {
	rd := &read{}
	rd.senderNRB, _ = polish.NormalizeNRB(o.SenderAccount)
	switch o.Type {
	case payment.Domestic:
		rd.recipientNRB, _ = polish.NormalizeNRB(o.Recipient.Account)
	case payment.EEA:
		if iban, err := polish.NormalizeIBAN(o.Recipient.Account); err == nil && strings.HasPrefix(iban, "PL") {
			rd.recipientNRB = iban[2:]
		}
	}
	rd.kind = string(kind)
	return rd
}

func (rd *read) also() *consent.Also {
	a := &consent.Also{
		Columns: `COALESCE(s.id, ''), COALESCE(s.customer_id, ''), COALESCE(s.currency, ''), COALESCE(s.type, ''),
			COALESCE(sc.name, ''), COALESCE(sc.segment, ''), COALESCE(x.state, ''),
			COALESCE(l.per_payment, 0), COALESCE(l.per_day, 0),
			COALESCE(r.id, ''), COALESCE(r.customer_id, ''), COALESCE(r.currency, ''), COALESCE(r.type, ''), COALESCE(rc.name, '')`,
		Joins: `LEFT JOIN accounts s ON s.nrb = $2
			LEFT JOIN customers sc ON sc.id = s.customer_id
			LEFT JOIN account_access x ON x.account_nrb = s.nrb
			LEFT JOIN account_limits l ON l.account_nrb = s.nrb AND l.kind = $3
			LEFT JOIN accounts r ON r.nrb = $4
			LEFT JOIN customers rc ON rc.id = r.customer_id`,
		Args: []any{rd.senderNRB, rd.kind, rd.recipientNRB},
		Dest: []any{&rd.s.ID, &rd.s.CustomerID, &rd.s.Currency, &rd.s.Type, &rd.s.Owner, &rd.segment, &rd.accessState,
			&rd.perPayment, &rd.perDay,
			&rd.r.ID, &rd.r.CustomerID, &rd.r.Currency, &rd.r.Type, &rd.r.Owner},
	}
	return a
}

// done completes the read after the consent's statement.
func (rd *read) done() {
	rd.s.NRB, rd.r.NRB = rd.senderNRB, rd.recipientNRB
	rd.limit = access.Limit{PerPayment: money.Amount(rd.perPayment), PerDay: money.Amount(rd.perDay)}
}

// sender is the sender account read, when nrb is the one read (ok); an
// ID of "" says there is no such account.
func (rd *read) sender(nrb string) (ledger.Known, bool) {
	if rd == nil || rd.senderNRB == "" || nrb != rd.senderNRB {
		return ledger.Known{}, false
	}
	rd.done()
	return rd.s, true
}

// known are the accounts read, for payment.Service.RecordAndBook.
func (rd *read) known() []ledger.Known {
	if rd == nil {
		return nil
	}
	rd.done()
	var out []ledger.Known
	if rd.senderNRB != "" {
		out = append(out, rd.s)
	}
	if rd.recipientNRB != "" {
		out = append(out, rd.r)
	}
	return out
}
