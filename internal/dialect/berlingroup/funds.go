package berlingroup

import (
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
)

// FundsRequest is the body of POST /v1/funds-confirmations.
type FundsRequest struct {
	CardNumber       string           `json:"cardNumber,omitempty"`
	Account          AccountReference `json:"account"`
	Payee            string           `json:"payee,omitempty"`
	InstructedAmount Amount           `json:"instructedAmount"`
}

func (s *service) checkAvailabilityOfFunds(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req FundsRequest
	if err := decodeStrict(c.Body, &req, "funds confirmation request"); err != nil {
		return err
	}
	nrb, ok := nrbOf(req.Account.IBAN)
	if !ok {
		return formatError("account.iban must be a Polish IBAN of this bank (PL and 26 digits)", "account.iban musi być polskim IBAN rachunku w tym banku (PL i 26 cyfr)")
	}
	amount, err := money.Parse(req.InstructedAmount.Amount)
	if err != nil || amount <= 0 {
		return formatError("instructedAmount.amount is a positive amount such as 100.00", "instructedAmount.amount to dodatnia kwota, np. 100.00")
	}
	a, err := s.d.Ledger.AccountByNRB(ctx, nrb)
	if ledger.CodeOf(err) == ledger.CodeNotFound || err == nil && a.CustomerID == "" {
		return refuse(http.StatusBadRequest, CodeResourceUnknown, "account.iban is not an account of this bank", "account.iban nie jest rachunkiem w tym banku")
	}
	if err != nil {
		return err
	}
	if err := s.checkAccess(ctx, nrb, access.CAF); err != nil {
		return err
	}
	if !strings.EqualFold(req.InstructedAmount.Currency, a.Currency) {
		return formatError("instructedAmount.currency must be the account's currency ("+a.Currency+")",
			"instructedAmount.currency musi być walutą rachunku ("+a.Currency+")")
	}
	return writeJSON(w, http.StatusOK, map[string]bool{"fundsAvailable": a.AllowNegative || a.Available+a.OverdraftLimit >= amount})
}
