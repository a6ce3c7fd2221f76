package pis

import (
	"context"
	"fmt"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// Consented is the payment of a pis privilege in the domain's terms.
type Consented = payment.Consented

// ConsentCheck is a payment a TPP asks the customer to authorise.
type ConsentCheck struct {
	TPPID string
	// CustomerID is the customer when already known (a decoupled request
	// names the customer's login); "" otherwise: the consent page checks
	// the account the customer pays from before they can approve.
	CustomerID string
	Privilege  string
	Payment    Consented
}

// CheckConsent checks the payment of a pis privilege when the TPP asks for
// the consent, completely, so that the customer is never asked to approve
// a payment the bank would refuse: every rule Validate applies (amount and
// the currency's decimals, the rail's bounds, currency, title and names in
// the rail's character set, recipient account, BIC, execution date,
// recurrence, split payment, tax), the bundle's rules (one currency, no
// recurring transfers, the total) and, when the customer is known and the
// payment names the sender account, that the account is theirs, open to
// API payments, and that the payment fits their limits. The first problem
// is returned as a *payment.Error (or an *access.Error) naming the field.
func (s *Service) CheckConsent(ctx context.Context, c ConsentCheck) error {
	p := c.Payment
	if len(p.Orders) == 0 {
		return &payment.Error{Code: payment.CodeInvalidRequest, Field: c.Privilege,
			Message:   "the privilege names no payment: send the payment the customer is to authorise in it",
			MessagePL: "przywilej nie zawiera płatności: podaj w nim płatność, którą klient ma autoryzować"}
	}
	if p.Bundle {
		bo := payment.BundleOrder{TPPID: c.TPPID, Orders: p.Orders, TotalAmount: p.Total}
		if p.SenderRequired {
			for i, o := range p.Orders {
				if o.SenderAccount == "" {
					return &payment.Error{Code: payment.CodeInvalidSenderAccount, Field: fmt.Sprintf("transfers[%d].sender.accountNumber", i),
						Message:   "every transfer of a bundle names the account it is paid from: add sender.accountNumber",
						MessagePL: "każdy przelew paczki wskazuje rachunek, z którego jest płacony: dodaj sender.accountNumber"}
				}
			}
		}
		if err := s.payments.ValidateConsentedBundle(bo, p.SenderRequired); err != nil {
			return err
		}
	} else {
		o := p.Orders[0]
		o.TPPID = c.TPPID
		if o.Recurrence != nil {
			o.ExecutionDate = ""
		}
		if err := s.payments.ValidateConsented(o); err != nil {
			return err
		}
	}
	if c.CustomerID == "" {
		return nil
	}
	for i, o := range p.Orders {
		if o.SenderAccount == "" {
			continue
		}
		if err := s.CheckSender(ctx, c.CustomerID, o); err != nil {
			if p.Bundle {
				return itemError(i, err)
			}
			return err
		}
	}
	return nil
}

// CheckSender tells whether the customer can pay o from its sender
// account: the account is theirs, in the payment's currency, open to API
// payments, and the payment fits their limits for API payments (read only:
// the initiation counts it). The consent page uses it for the accounts it
// offers.
func (s *Service) CheckSender(ctx context.Context, customerID string, o payment.Order) error {
	nrb, err := polish.NormalizeNRB(o.SenderAccount)
	if err != nil {
		return &payment.Error{Code: payment.CodeInvalidSenderAccount, Field: "sender.accountNumber",
			Message: "the sender's account number is not valid: " + err.Error(), MessagePL: "numer rachunku nadawcy jest niepoprawny: " + err.Error()}
	}
	acct, err := s.ledger.AccountByNRB(ctx, nrb)
	if ledger.CodeOf(err) == ledger.CodeNotFound || err == nil && acct.CustomerID != customerID {
		return &payment.Error{Code: payment.CodeInvalidSenderAccount, Field: "sender.accountNumber",
			Message:   "the sender's account is not an account of the customer asked for the consent",
			MessagePL: "rachunek nadawcy nie jest rachunkiem klienta, którego poproszono o zgodę"}
	}
	if err != nil {
		return err
	}
	if acct.Currency != o.Currency {
		return &payment.Error{Code: payment.CodeInvalidCurrency, Field: "currency",
			Message:   fmt.Sprintf("the sender's account is kept in %s and cannot pay %s", acct.Currency, o.Currency),
			MessagePL: fmt.Sprintf("rachunek nadawcy prowadzony jest w %s i nie może płacić w %s", acct.Currency, o.Currency)}
	}
	if s.access == nil {
		return nil
	}
	if err := s.access.Check(ctx, nrb, access.PIS); err != nil {
		return err
	}
	return s.access.CheckPaymentLimit(ctx, nrb, o.Amount, o.Recurrence != nil, s.limitDay(o))
}
