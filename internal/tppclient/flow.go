package tppclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
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
	// AccountIDs are mBank's ids of those accounts (its paths use them).
	AccountIDs map[string]string `json:"account_ids,omitempty"`
}

// ErrDialect is returned for flows this client does not speak yet in the
// configured dialect.
var ErrDialect = errors.New("this flow is not implemented for the configured dialect")

func (c *Client) timeLimit(d time.Duration) string {
	return c.now().Add(d).UTC().Format("2006-01-02T15:04:05.000Z")
}

// AuthorizeAccounts asks for consent to read the account list
// (ais-accounts) and returns the bank's consent page for the customer.
func (c *Client) AuthorizeAccounts(ctx context.Context, state string) (string, error) {
	if c.berlinGroup() {
		return "", fmt.Errorf("%w: Berlin Group consents start with StartConsent", ErrDialect)
	}
	if c.Dialect == "mbank" {
		var res struct {
			AuthorizationRedirectURI string `json:"authorizationRedirectUri"`
		}
		err := c.MBank(ctx, "POST", c.mbankPath("/auth/authorize"), map[string]any{
			"response_type": "code", "client_id": c.Identity.ClientID, "redirect_uri": c.Identity.RedirectURI,
			"scope": "ais-accounts", "state": state,
			"scope_details": map[string]any{
				"privilegeList":    []any{map[string]any{"ais-accounts:accounts": map[string]any{"scopeUsageLimit": "MULTIPLE"}}},
				"scopeGroupType":   "AIS_ACCOUNTS",
				"consentId":        uuid.NewString(),
				"scopeTimeLimit":   c.timeLimit(time.Hour),
				"throttlingPolicy": "PSD2_REGULATORY",
			},
		}, "", &res)
		return res.AuthorizationRedirectURI, err
	}
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
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    json.Number `json:"expires_in"` // a string in PolishAPI, a number in mBank's dialect
	ScopeDetails struct {
		PrivilegeList  []map[string]any `json:"privilegeList"`
		ConsentID      string           `json:"consentId"`
		ScopeTimeLimit string           `json:"scopeTimeLimit"`
	} `json:"scope_details"`
}

func (c *Client) tokens(a tokenAnswer) Tokens {
	secs, _ := strconv.Atoi(a.ExpiresIn.String())
	t := Tokens{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, ExpiresAt: c.now().Add(time.Duration(secs) * time.Second),
		ConsentID: a.ScopeDetails.ConsentID}
	t.ConsentUntil, _ = time.Parse("2006-01-02T15:04:05.000Z", a.ScopeDetails.ScopeTimeLimit)
	seen := map[string]bool{}
	for _, p := range a.ScopeDetails.PrivilegeList {
		if n, ok := p["accountNumber"].(string); ok && n != "" && !seen[n] {
			seen[n] = true
			t.Accounts = append(t.Accounts, n)
			if id, ok := p["accountId"].(string); ok && id != "" {
				if t.AccountIDs == nil {
					t.AccountIDs = map[string]string{}
				}
				t.AccountIDs[n] = id
			}
		}
	}
	return t
}

// Token redeems an authorization code.
func (c *Client) Token(ctx context.Context, code string) (Tokens, error) {
	if c.berlinGroup() {
		return Tokens{}, fmt.Errorf("%w: Berlin Group has no tokens (ConsentTokens reads an approved consent)", ErrDialect)
	}
	var a tokenAnswer
	err := c.token(ctx, map[string]any{
		"grant_type": "authorization_code", "Code": code, "redirect_uri": c.Identity.RedirectURI, "client_id": c.Identity.ClientID,
	}, &a)
	return c.tokens(a), err
}

// Refresh gets a new access token (and a new refresh token: the old one
// stops working).
func (c *Client) Refresh(ctx context.Context, t Tokens) (Tokens, error) {
	if c.berlinGroup() {
		return t, nil // no tokens: the consent's id lasts as long as the consent
	}
	var a tokenAnswer
	if err := c.token(ctx, map[string]any{"grant_type": "refresh_token", "refresh_token": t.RefreshToken}, &a); err != nil {
		return t, err
	}
	n := c.tokens(a)
	if len(n.Accounts) == 0 {
		n.Accounts = t.Accounts
	}
	if len(n.AccountIDs) == 0 {
		n.AccountIDs = t.AccountIDs
	}
	if n.ConsentUntil.IsZero() {
		n.ConsentUntil = t.ConsentUntil
	}
	if n.ConsentID == "" {
		n.ConsentID = t.ConsentID
	}
	return n, nil
}

// ExchangeForHistory turns an ais-accounts token into an ais consent for
// the accounts: details, booked and pending items and holds, historyDays
// back, valid for validFor.
func (c *Client) ExchangeForHistory(ctx context.Context, access string, accounts []string, historyDays int, validFor time.Duration) (Tokens, error) {
	if c.berlinGroup() {
		return Tokens{}, fmt.Errorf("%w: a Berlin Group consent gives the history itself", ErrDialect)
	}
	list := make([]any, 0, len(accounts))
	group := "ais"
	for _, nrb := range accounts {
		if c.Dialect == "mbank" {
			group = "AIS"
			list = append(list, map[string]any{
				"accountNumber":      nrb,
				"ais:accountDetails": map[string]any{},
				"ais:transactions":   map[string]any{"maxAllowedHistoryLong": historyDays, "transactionStatus": []string{"DONE", "PENDING"}},
			})
			continue
		}
		list = append(list, map[string]any{
			"accountNumber":              nrb,
			"ais:getAccount":             map[string]any{"scopeUsageLimit": "multiple"},
			"ais:getTransactionsDone":    map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": historyDays},
			"ais:getTransactionsPending": map[string]any{"scopeUsageLimit": "multiple", "maxAllowedHistoryLong": historyDays},
		})
	}
	var a tokenAnswer
	err := c.token(ctx, map[string]any{
		"grant_type": "exchange_token", "exchange_token": access, "scope": "ais",
		"scope_details": map[string]any{"privilegeList": list, "scopeGroupType": group, "consentId": uuid.NewString(),
			"scopeTimeLimit": c.timeLimit(validFor), "throttlingPolicy": "psd2Regulatory"},
	}, &a)
	if err != nil {
		return Tokens{}, err
	}
	return c.tokens(a), nil
}

// AccountList lists the accounts an ais-accounts consent covers.
func (c *Client) AccountList(ctx context.Context, access string) ([]polishapi.AccountBaseInfo, error) {
	if c.berlinGroup() {
		return nil, fmt.Errorf("%w: ConsentTokens lists a Berlin Group consent's accounts", ErrDialect)
	}
	if c.Dialect == "mbank" {
		return c.mbankAccountList(ctx, access)
	}
	var res polishapi.AccountsResponse
	err := c.PolishAPI(ctx, "/v2_1_2.1/accounts/v2_1_2.1/getAccounts", map[string]any{}, access, map[string]any{"isDirectPsu": true}, &res)
	return res.Accounts, err
}

// Account reads one account's details and balances.
func (c *Client) Account(ctx context.Context, t Tokens, nrb string, psuPresent bool) (polishapi.AccountInfo, error) {
	access := t.AccessToken
	if c.berlinGroup() {
		return c.bgAccount(ctx, t, nrb, psuPresent)
	}
	if c.Dialect == "mbank" {
		var res struct {
			Account mbank.AccountDetails `json:"account"`
		}
		err := c.mbank(ctx, "GET", c.mbankPath("/accounts/"+url.PathEscape(t.AccountIDs[nrb])), nil, access, psuPresent, &res)
		a := res.Account
		return polishapi.AccountInfo{AccountNumber: a.AccountNumber, Currency: a.Currency, AvailableBalance: a.AvailableBalance,
			BookingBalance: a.BookingBalance, AccountTypeName: a.AccountTypeName}, err
	}
	var res polishapi.AccountResponse
	err := c.PolishAPI(ctx, "/v2_1_2.1/accounts/v2_1_2.1/getAccount", map[string]any{"accountNumber": nrb}, access,
		map[string]any{"isDirectPsu": psuPresent}, &res)
	return res.Account, err
}

// Page asks for one page of booked ("done") or pending items booked or
// traded from from on; pageID continues a list.
func (c *Client) Page(ctx context.Context, t Tokens, nrb, list, from, pageID string, psuPresent bool) (body []byte, next string, err error) {
	access := t.AccessToken
	if c.berlinGroup() {
		return nil, "", fmt.Errorf("%w: Berlin Group lists are read by Sync", ErrDialect)
	}
	if c.Dialect == "mbank" {
		return c.mbankPage(ctx, access, t.AccountIDs[nrb], list, from, pageID, psuPresent)
	}
	op := map[string]string{"done": "getTransactionsDone", "pending": "getTransactionsPending"}[list]
	if op == "" {
		return nil, "", fmt.Errorf("unknown list %q", list)
	}
	req := map[string]any{"accountNumber": nrb, "perPage": 100}
	if pageID != "" {
		req["pageId"] = pageID
	}
	if from != "" {
		if list == "done" {
			req["bookingDateFrom"] = from
		} else {
			req["transactionDateFrom"] = from
		}
	}
	var raw rawAnswer
	err = c.PolishAPI(ctx, "/v2_1_2.1/accounts/v2_1_2.1/"+op, req, access, map[string]any{"isDirectPsu": psuPresent}, &raw)
	return raw.Body, raw.Next, err
}
