package berlingroup

import (
	"context"
	"fmt"
	"strings"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// frequencies are the standard's frequency codes as the domain's periods.
var frequencies = map[string]struct {
	period payment.Period
	n      int
}{
	"Daily": {payment.Day, 1}, "Weekly": {payment.Week, 1}, "EveryTwoWeeks": {payment.Week, 2}, "Monthly": {payment.Month, 1},
	"EveryTwoMonths": {payment.Month, 2}, "Quarterly": {payment.Month, 3}, "SemiAnnual": {payment.Month, 6}, "Annual": {payment.Month, 12},
}

// settlePeriodic sets up the standing order once the customer has
// authorised it (the domain is idempotent by the paymentId).
func (s *service) settlePeriodic(ctx context.Context, rec bgPayment) (state, error) {
	cons, err := s.d.Consents.Get(ctx, rec.ConsentID)
	if err != nil {
		return state{}, consentRefusal(err)
	}
	st := state{cons: cons}
	if rec.BankID != "" && rec.BankID != refusedMark {
		st.rc, err = s.d.Payments.GetRecurring(ctx, rec.BankID)
		return st, err
	}
	if cons.Status != consent.StatusAuthorised {
		return st, nil
	}
	if s.d.PIS == nil {
		return st, nil
	}
	// One transaction: the privilege used, the key (the paymentId) applied,
	// API access and the limits checked and counted, the standing order
	// recorded. A crash before bank_id is written is healed by the next
	// settle, which gets the same standing order back by its key.
	st.rc, err = s.d.PIS.InitiateRecurring(ctx, pis.Request{
		Grant:      pis.Grant{TPPID: rec.TPPID, ConsentID: cons.ID, CustomerID: cons.CustomerID},
		Privileges: []string{consent.PrivRecurring},
		Order:      rec.Order,
		Consented:  consentedOrder(rec.Order),
		Names:      bgNames,
	})
	if err != nil && st.rc.ID == "" {
		return st, initiationRefusal(err)
	}
	if _, err := s.d.DB.ExecContext(ctx, `UPDATE berlingroup_payments SET bank_id = $1 WHERE id = $2`, st.rc.ID, rec.ID); err != nil {
		return st, fmt.Errorf("berlingroup: record standing order: %w", err)
	}
	return st, nil
}

// wireField names a field of the domain's order as this dialect does.
func wireField(f string) string {
	if rest, ok := strings.CutPrefix(f, "transfers["); ok { // a transfer of a bundle (bulk payment)
		if i, field, ok := strings.Cut(rest, "]."); ok {
			return "payments[" + i + "]." + wireField(field)
		}
	}
	switch {
	case f == "":
		return ""
	case strings.HasPrefix(f, "recurrence.startDate"):
		return "startDate"
	case strings.HasPrefix(f, "recurrence.endDate"):
		return "endDate"
	case strings.HasPrefix(f, "recurrence.frequency"):
		return "frequency"
	case strings.HasPrefix(f, "recurrence.dayOff"):
		return "executionRule"
	case strings.HasPrefix(f, "recipient") && strings.Contains(strings.ToLower(f), "name"):
		return "creditorName"
	case strings.HasPrefix(f, "recipient") && strings.Contains(strings.ToLower(f), "bic"):
		return "creditorAgent"
	case strings.HasPrefix(f, "recipient"):
		return "creditorAccount"
	case strings.HasPrefix(f, "sender"):
		return "debtorAccount"
	case f == "amount" || f == "currency":
		return "instructedAmount." + f
	case f == "title" || f == "description":
		return "remittanceInformationUnstructured"
	case f == "executionDate":
		return "requestedExecutionDate"
	}
	return f
}
