package common

import (
	"context"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// Confirmation of the availability of funds (CAF, PSD2 art. 65) in both
// dialects. The call carries no access token: the gateway has checked that
// the TPP holds PSP_IC (certificate and register); the customer's consent
// to CAF is given to the bank directly. The answer is yes or no and says
// nothing else about the account: funds are available when the available
// balance plus the overdraft limit covers the amount. The account is named
// by its number (NRB, or IBAN with PL); the bank's own accounts are not
// customers' and are unknown to CAF.

// CAF answers confirmation of funds in both dialects.
type CAF struct {
	Ledger *ledger.Ledger
	Access *access.Service
}

// NewCAF is the CAF of d, or nil without a ledger.
func NewCAF(d Deps) *CAF {
	if d.Ledger == nil {
		return nil
	}
	return &CAF{Ledger: d.Ledger, Access: d.Access}
}

// Confirm tells whether the account has the amount available.
func (s *CAF) Confirm(ctx context.Context, number, amount, currency string) (bool, error) {
	if number == "" || amount == "" || currency == "" {
		return false, FormatError("accountNumber, amount and currency are required", "accountNumber, amount i currency są wymagane")
	}
	a, err := money.Parse(amount)
	if err != nil || a == 0 {
		return false, FormatError("amount is a positive amount with up to two decimals, such as 100.00",
			"amount to dodatnia kwota z co najwyżej dwoma miejscami po przecinku, np. 100.00")
	}
	if err := money.ValidCurrency(currency); err != nil {
		return false, FormatError("currency is an ISO 4217 code, such as PLN", "currency to kod ISO 4217, np. PLN")
	}
	nrb, err := polish.NormalizeNRB(number)
	if err != nil {
		return false, FormatError("accountNumber is not a valid Polish account number (NRB or PL IBAN): "+err.Error(),
			"accountNumber nie jest poprawnym polskim numerem rachunku (NRB lub IBAN PL): "+err.Error())
	}
	acct, err := s.Ledger.AccountByNRB(ctx, nrb)
	if ledger.CodeOf(err) == ledger.CodeNotFound || err == nil && acct.CustomerID == "" {
		return false, AccountUnknown()
	}
	if err != nil {
		return false, err
	}
	if err := CheckAccess(ctx, s.Access, acct.NRB, access.CAF); err != nil {
		return false, err
	}
	if !strings.EqualFold(acct.Currency, currency) {
		return false, Refuse(http.StatusBadRequest, CodeCurrencyMismatch,
			"the account is not kept in "+currency+": ask in the account's currency",
			"rachunek nie jest prowadzony w "+currency+": pytaj w walucie rachunku")
	}
	return acct.AllowNegative || acct.Available+acct.OverdraftLimit >= a, nil
}
