package polishapi

import (
	"net/http"

	"github.com/psd2bank/psd2bank/internal/gateway"
)

func (s *cafService) polishConfirmationOfFunds(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req ConfirmationOfFundsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ok, err := s.Confirm(r.Context(), req.AccountNumber, req.Amount, req.Currency)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, ConfirmationOfFundsResponse{
		ResponseHeader: NewResponseHeader(c.RequestID, s.Ledger.Clock().Now()), FundsAvailable: ok,
	})
}
