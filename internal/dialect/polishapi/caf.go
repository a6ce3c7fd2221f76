package polishapi

// ConfirmationOfFundsRequest is the body of getConfirmationOfFunds.
type ConfirmationOfFundsRequest struct {
	RequestHeader RequestHeader `json:"requestHeader"`
	AccountNumber string        `json:"accountNumber"`
	Amount        string        `json:"amount"`
	Currency      string        `json:"currency"`
}

// ConfirmationOfFundsResponse answers getConfirmationOfFunds.
type ConfirmationOfFundsResponse struct {
	ResponseHeader ResponseHeader `json:"responseHeader"`
	FundsAvailable bool           `json:"fundsAvailable"`
}
