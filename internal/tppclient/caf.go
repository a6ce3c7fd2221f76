package tppclient

import "context"

// ConfirmFunds asks whether the account has the amount available (CAF;
// the TPP needs the PSP_IC role, and no token: the customer's consent to
// CAF is given to the bank).
func (c *Client) ConfirmFunds(ctx context.Context, nrb, amount, currency string) (bool, error) {
	var res struct {
		FundsAvailable bool `json:"fundsAvailable"`
	}
	if c.berlinGroup() {
		return c.bgConfirmFunds(ctx, nrb, amount, currency)
	}
	body := map[string]any{"accountNumber": nrb, "amount": amount, "currency": currency}
	if c.Dialect == "mbank" {
		err := c.MBank(ctx, "POST", c.mbankPath("/funds-confirmation"), body, "", &res)
		return res.FundsAvailable, err
	}
	err := c.PolishAPI(ctx, "/v2_1_2.1/confirmation/v2_1_2.1/getConfirmationOfFunds", body, "", nil, &res)
	return res.FundsAvailable, err
}
