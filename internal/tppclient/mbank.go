package tppclient

import (
	"context"
	"net/url"

	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
)

func (c *Client) mbankPath(p string) string { return "/" + c.BankID + "/v3" + p }

// token sends a token request in the configured dialect.
func (c *Client) token(ctx context.Context, body map[string]any, out *tokenAnswer) error {
	if c.Dialect == "mbank" {
		if code, ok := body["Code"]; ok {
			delete(body, "Code")
			body["code"] = code // mBank spells it lower-case
		}
		return c.MBank(ctx, "POST", c.mbankPath("/auth/token"), body, "", out)
	}
	return c.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/token", body, "", nil, out)
}

// mbankAccountList lists the accounts of an ais-accounts consent.
func (c *Client) mbankAccountList(ctx context.Context, access string) ([]polishapi.AccountBaseInfo, error) {
	var res mbank.AccountsResponse
	if err := c.mbank(ctx, "GET", c.mbankPath("/accounts"), nil, access, true, &res); err != nil {
		return nil, err
	}
	out := make([]polishapi.AccountBaseInfo, 0, len(res.Accounts))
	for _, a := range res.Accounts {
		out = append(out, polishapi.AccountBaseInfo{AccountNumber: a.AccountNumber, AccountTypeName: a.AccountTypeName})
	}
	return out, nil
}

// mbankPage reads one page of mBank's transaction list; next is the cursor.
func (c *Client) mbankPage(ctx context.Context, access, accountID, list, from, cursor string, psuPresent bool) ([]byte, string, error) {
	q := url.Values{"transactionStatus": {map[string]string{"done": "DONE", "pending": "PENDING"}[list]}, "pageSize": {"100"}}
	if from != "" {
		// Booked items by their booking day, as the book keeps them (an item
		// traded before from but booked on or after it belongs to the list);
		// pending ones by their trade day.
		if list == "done" {
			q.Set("bookingDateFrom", from)
		} else {
			q.Set("transactionDateFrom", from)
		}
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var raw mbankRaw
	err := c.mbank(ctx, "GET", c.mbankPath("/accounts/"+url.PathEscape(accountID)+"/transactions?"+q.Encode()), nil, access, psuPresent, &raw)
	return raw.Body, raw.Next, err
}
