package tppclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
)

// Tokens is what a consent gave the TPP.
type Tokens struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	ExpiresAt    time.Time `json:"expires_at"`    // of the access token
	ConsentUntil time.Time `json:"consent_until"` // scopeTimeLimit the bank confirmed
	ConsentID    string    `json:"consent_id"`    // the TPP's consentId
	Accounts     []string  `json:"accounts"`      // NRBs the consent covers
}

// ErrDialect is returned for flows this client does not speak yet in the
// configured dialect.
var ErrDialect = errors.New("this flow is implemented for the PolishAPI dialect only")

func (c *Client) timeLimit(d time.Duration) string {
	return c.now().Add(d).UTC().Format("2006-01-02T15:04:05.000Z")
}

// AuthorizeAccounts asks for consent to read the account list
// (ais-accounts) and returns the bank's consent page for the customer.
func (c *Client) AuthorizeAccounts(ctx context.Context, state string) (string, error) {
	var res struct {
		AspspRedirectURI string `json:"aspspRedirectUri"`
	}
	err := c.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": c.Identity.ClientID, "redirect_uri": c.Identity.RedirectURI,
		"scope": "ais-accounts", "state": state,
		"scope_details": map[string]any{
			"privilegeList":    []any{map[string]any{"ais-accounts:getAccounts": map[string]any{"scopeUsageLimit": "multiple"}}},
			"scopeGroupType":   "ais-accounts",
			"consentId":        uuid.NewString(),
			"scopeTimeLimit":   c.timeLimit(time.Hour),
			"throttlingPolicy": "psd2Regulatory",
		},
	}, "", nil, &res)
	return res.AspspRedirectURI, err
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    string `json:"expires_in"`
	ScopeDetails struct {
		PrivilegeList  []map[string]any `json:"privilegeList"`
		ConsentID      string           `json:"consentId"`
		ScopeTimeLimit string           `json:"scopeTimeLimit"`
	} `json:"scope_details"`
}

func (c *Client) tokens(a tokenAnswer) Tokens {
	secs, _ := strconv.Atoi(a.ExpiresIn)
	t := Tokens{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, ExpiresAt: c.now().Add(time.Duration(secs) * time.Second),
		ConsentID: a.ScopeDetails.ConsentID}
	t.ConsentUntil, _ = time.Parse("2006-01-02T15:04:05.000Z", a.ScopeDetails.ScopeTimeLimit)
	seen := map[string]bool{}
	for _, p := range a.ScopeDetails.PrivilegeList {
		if n, ok := p["accountNumber"].(string); ok && n != "" && !seen[n] {
			seen[n] = true
			t.Accounts = append(t.Accounts, n)
		}
	}
	return t
}

// Token redeems an authorization code.
func (c *Client) Token(ctx context.Context, code string) (Tokens, error) {
	var a tokenAnswer
	err := c.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "authorization_code", "Code": code, "redirect_uri": c.Identity.RedirectURI, "client_id": c.Identity.ClientID,
	}, "", nil, &a)
	return c.tokens(a), err
}

// Refresh gets a new access token (and a new refresh token: the old one
// stops working).
func (c *Client) Refresh(ctx context.Context, t Tokens) (Tokens, error) {
	var a tokenAnswer
	if err := c.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "refresh_token", "refresh_token": t.RefreshToken,
	}, "", nil, &a); err != nil {
		return t, err
	}
	n := c.tokens(a)
	if len(n.Accounts) == 0 {
		n.Accounts = t.Accounts
	}
	if n.ConsentUntil.IsZero() {
		n.ConsentUntil = t.ConsentUntil
	}
	return n, nil
}

// ExchangeForHistory turns an ais-accounts token into an ais consent for
// the accounts: details, booked and pending items and holds, historyDays
// back, valid for validFor.
func (c *Client) ExchangeForHistory(ctx context.Context, access string, accounts []string, historyDays int, validFor time.Duration) (Tokens, error) {
	list := make([]any, 0, len(accounts))
	for _, nrb := range accounts {
		list = append(list, map[string]any{
			"accountNumber":              nrb,
			"ais:getAccount":             map[string]any{"scopeUsageLimit": "multiple"},
			"ais:getTransactionsDone":    map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": historyDays},
			"ais:getTransactionsPending": map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": historyDays},
		})
	}
	var a tokenAnswer
	err := c.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/token", map[string]any{
		"grant_type": "exchange_token", "exchange_token": access, "scope": "ais",
		"scope_details": map[string]any{"privilegeList": list, "scopeGroupType": "ais", "consentId": uuid.NewString(),
			"scopeTimeLimit": c.timeLimit(validFor), "throttlingPolicy": "psd2Regulatory"},
	}, "", nil, &a)
	if err != nil {
		return Tokens{}, err
	}
	return c.tokens(a), nil
}

// AccountList lists the accounts an ais-accounts consent covers.
func (c *Client) AccountList(ctx context.Context, access string) ([]polishapi.AccountBaseInfo, error) {
	var res polishapi.AccountsResponse
	err := c.PolishAPI(ctx, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access, map[string]any{"isDirectPsu": true}, &res)
	return res.Accounts, err
}

// Account reads one account's details and balances.
func (c *Client) Account(ctx context.Context, access, nrb string, psuPresent bool) (polishapi.AccountInfo, error) {
	var res polishapi.AccountResponse
	err := c.PolishAPI(ctx, "/v2_1_2.1/accounts/v2_1_2.1/getAccount", map[string]any{"accountNumber": nrb}, access,
		map[string]any{"isDirectPsu": psuPresent}, &res)
	return res.Account, err
}

// Page asks for one page of booked ("done") or pending items booked or
// traded from from on; pageID continues a list.
func (c *Client) Page(ctx context.Context, access, nrb, list, from, pageID string, psuPresent bool) (json []byte, next string, err error) {
	op := map[string]string{"done": "getTransactionsDone", "pending": "getTransactionsPending"}[list]
	if op == "" {
		return nil, "", fmt.Errorf("unknown list %q", list)
	}
	body := map[string]any{"accountNumber": nrb, "perPage": 100}
	if pageID != "" {
		body["pageId"] = pageID
	}
	if from != "" {
		if list == "done" {
			body["bookingDateFrom"] = from
		} else {
			body["transactionDateFrom"] = from
		}
	}
	var raw rawAnswer
	err = c.PolishAPI(ctx, "/v2_1_2.1/accounts/v2_1_2.1/"+op, body, access, map[string]any{"isDirectPsu": psuPresent}, &raw)
	return raw.Body, raw.Next, err
}
