package mbank

import (
	"net/http"

	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/wire/strictjson"
)

func (s *cafService) mbankFundsConfirmation(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req FundsConfirmationRequest
	if err := strictjson.Decode(c.Body, &req, strictjson.Options{}); err != nil {
		return formatError(`the body is {"accountNumber": ..., "amount": "100.00", "currency": "PLN"}`,
			`treść ma postać {"accountNumber": ..., "amount": "100.00", "currency": "PLN"}`)
	}
	ok, err := s.Confirm(r.Context(), req.AccountNumber, req.Amount, req.Currency)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, FundsConfirmationResponse{FundsAvailable: ok})
}
