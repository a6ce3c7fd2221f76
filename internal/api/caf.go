package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

// Confirmation of the availability of funds (CAF, PSD2 art. 65) in both
// dialects. The call carries no access token: the gateway has checked that
// the TPP holds PSP_IC (certificate and register); the customer's consent
// to CAF is given to the bank directly. The answer is yes or no and says
// nothing else about the account: funds are available when the available
// balance plus the overdraft limit covers the amount. The account is named
// by its number (NRB, or IBAN with PL); the bank's own accounts are not
// customers' and are unknown to CAF.

type cafService struct {
	ledger *ledger.Ledger
	access *access.Service
}

// cafHandlers are the confirmation of funds operations of both dialects, for the route table (routes.go).
func cafHandlers(d Deps) map[string]gateway.Handler {
	if d.Ledger == nil {
		return nil
	}
	s := &cafService{ledger: d.Ledger, access: d.Access}
	return map[string]gateway.Handler{
		"polishapi.getConfirmationOfFunds": s.polishConfirmationOfFunds,
		"mbank.fundsConfirmation":          s.mbankFundsConfirmation,
	}
}

// confirm tells whether the account has the amount available.
func (s *cafService) confirm(ctx context.Context, number, amount, currency string) (bool, error) {
	if number == "" || amount == "" || currency == "" {
		return false, formatError("accountNumber, amount and currency are required", "accountNumber, amount i currency są wymagane")
	}
	a, err := money.Parse(amount)
	if err != nil || a == 0 {
		return false, formatError("amount is a positive amount with up to two decimals, such as 100.00",
			"amount to dodatnia kwota z co najwyżej dwoma miejscami po przecinku, np. 100.00")
	}
	if err := money.ValidCurrency(currency); err != nil {
		return false, formatError("currency is an ISO 4217 code, such as PLN", "currency to kod ISO 4217, np. PLN")
	}
	nrb, err := polish.NormalizeNRB(number)
	if err != nil {
		return false, formatError("accountNumber is not a valid Polish account number (NRB or PL IBAN): "+err.Error(),
			"accountNumber nie jest poprawnym polskim numerem rachunku (NRB lub IBAN PL): "+err.Error())
	}
	acct, err := s.ledger.AccountByNRB(ctx, nrb)
	if ledger.CodeOf(err) == ledger.CodeNotFound || err == nil && acct.CustomerID == "" {
		return false, accountUnknown()
	}
	if err != nil {
		return false, err
	}
	if err := checkAccess(ctx, s.access, acct.NRB, access.CAF); err != nil {
		return false, err
	}
	if !strings.EqualFold(acct.Currency, currency) {
		return false, refuse(http.StatusBadRequest, CodeCurrencyMismatch,
			"the account is not kept in "+currency+": ask in the account's currency",
			"rachunek nie jest prowadzony w "+currency+": pytaj w walucie rachunku")
	}
	return acct.AllowNegative || acct.Available+acct.OverdraftLimit >= a, nil
}

func (s *cafService) polishConfirmationOfFunds(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.ConfirmationOfFundsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ok, err := s.confirm(r.Context(), req.AccountNumber, req.Amount, req.Currency)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.ConfirmationOfFundsResponse{
		ResponseHeader: polishapi.NewResponseHeader(c.RequestID, s.ledger.Clock().Now()), FundsAvailable: ok,
	})
}

func (s *cafService) mbankFundsConfirmation(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req mbank.FundsConfirmationRequest
	if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
		return formatError(`the body is {"accountNumber": ..., "amount": "100.00", "currency": "PLN"}`,
			`treść ma postać {"accountNumber": ..., "amount": "100.00", "currency": "PLN"}`)
	}
	ok, err := s.confirm(r.Context(), req.AccountNumber, req.Amount, req.Currency)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, mbank.FundsConfirmationResponse{FundsAvailable: ok})
}
