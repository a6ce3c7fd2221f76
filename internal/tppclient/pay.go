package tppclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Transfer is a domestic payment a TPP asks the customer to approve.
type Transfer struct {
	From          string // the customer's account (NRB)
	To            string // the recipient's account (NRB)
	RecipientName string
	Amount        string // "123.45"
	Currency      string // default PLN
	Title         string
	ExecutionDate string // optional, YYYY-MM-DD
}

// Payment is what the bank says of an initiated payment.
type Payment struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Link   string `json:"link,omitempty"` // mBank's status address
	Token  Tokens `json:"token"`          // the pis consent's tokens, to read the status later
	// History is every status seen, with when it was first seen (the bank's
	// time).
	History []StatusSeen `json:"history,omitempty"`
}

// StatusSeen is a status of a payment and when the TPP first saw it.
type StatusSeen struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// Observe records the payment's current status in its history when it is
// new.
func (p *Payment) Observe(at time.Time) {
	if p.Status == "" {
		return
	}
	if n := len(p.History); n == 0 || p.History[n-1].Status != p.Status {
		p.History = append(p.History, StatusSeen{Status: p.Status, At: at})
	}
}

func (t Transfer) polish() map[string]any {
	td := map[string]any{"description": t.Title, "amount": t.Amount, "currency": t.Currency}
	if t.ExecutionDate != "" {
		td["executionDate"] = t.ExecutionDate
	}
	return map[string]any{
		"recipient":    map[string]any{"accountNumber": t.To, "nameAddress": map[string]any{"value": []string{t.RecipientName}}},
		"sender":       map[string]any{"accountNumber": t.From},
		"transferData": td,
		"deliveryMode": "StandardD1", "system": "Elixir", "executionMode": "Immediate",
	}
}

func (t Transfer) mbank() map[string]any {
	td := map[string]any{"description": t.Title, "amount": t.Amount, "currency": t.Currency}
	if t.ExecutionDate != "" {
		td["executionDate"] = t.ExecutionDate
	}
	return map[string]any{
		"recipient":    map[string]any{"accountNumber": t.To, "name": t.RecipientName},
		"sender":       map[string]any{"accountNumber": t.From},
		"transferData": td,
		"deliveryMode": "STANDARD_D1", "system": "ELIXIR",
	}
}

// statusFor is how long a payment's consent lets the TPP read its status.
const statusFor = 30 * 24 * time.Hour

// AuthorizePayment asks for the customer's consent to one domestic
// payment (the consent carries the payment) and returns the consent page.
func (c *Client) AuthorizePayment(ctx context.Context, state string, t Transfer) (string, error) {
	if c.berlinGroup() {
		return "", fmt.Errorf("%w: a Berlin Group payment starts with StartPayment", ErrDialect)
	}
	if t.Currency == "" {
		t.Currency = "PLN"
	}
	if c.Dialect == "mbank" {
		var res struct {
			AuthorizationRedirectURI string `json:"authorizationRedirectUri"`
		}
		err := c.MBank(ctx, "POST", c.mbankPath("/auth/authorize"), map[string]any{
			"response_type": "code", "client_id": c.Identity.ClientID, "redirect_uri": c.Identity.RedirectURI,
			"scope": "pis", "state": state,
			"scope_details": map[string]any{
				"privilegeList":    []any{map[string]any{"pis:domestic": map[string]any{"scopeUsageLimit": "SINGLE", "domesticPaymentRequest": t.mbank()}}},
				"scopeGroupType":   "PIS",
				"consentId":        uuid.NewString(),
				"scopeTimeLimit":   c.timeLimit(statusFor),
				"throttlingPolicy": "PSD2_REGULATORY",
			},
		}, "", &res)
		return res.AuthorizationRedirectURI, err
	}
	priv := t.polish()
	priv["scopeUsageLimit"] = "single"
	var res struct {
		AspspRedirectURI string `json:"aspspRedirectUri"`
	}
	err := c.PolishAPI(ctx, "/v2_1_2.1/auth/v2_1_2.1/authorize", map[string]any{
		"response_type": "code", "client_id": c.Identity.ClientID, "redirect_uri": c.Identity.RedirectURI,
		"scope": "pis", "state": state,
		"scope_details": map[string]any{
			"privilegeList":    []any{map[string]any{"pis:domestic": priv}},
			"scopeGroupType":   "pis",
			"consentId":        uuid.NewString(),
			"scopeTimeLimit":   c.timeLimit(statusFor),
			"throttlingPolicy": "psd2Regulatory",
		},
	}, "", nil, &res)
	return res.AspspRedirectURI, err
}

// Initiate sends the consented payment once, with a fresh idempotency key.
func (c *Client) Initiate(ctx context.Context, tok Tokens, t Transfer) (Payment, error) {
	if c.berlinGroup() {
		return Payment{}, fmt.Errorf("%w: a Berlin Group payment starts with StartPayment", ErrDialect)
	}
	if t.Currency == "" {
		t.Currency = "PLN"
	}
	key := uuid.NewString()
	if c.Dialect == "mbank" {
		var res struct {
			AspspPaymentID string `json:"aspspPaymentId"`
			Status         string `json:"status"`
			Links          []struct {
				Href string `json:"href"`
			} `json:"links"`
		}
		err := c.mbankWith(ctx, "POST", c.mbankPath("/payments/domestic"), t.mbank(), tok.AccessToken, map[string]string{"TPP-Payment-ID": key}, &res)
		p := Payment{ID: res.AspspPaymentID, Status: res.Status, Token: tok}
		if len(res.Links) > 0 {
			p.Link = res.Links[0].Href
		}
		p.Observe(c.now())
		return p, err
	}
	body := t.polish()
	body["tppTransactionId"] = key
	var res struct {
		PaymentID     string `json:"paymentId"`
		GeneralStatus string `json:"generalStatus"`
	}
	err := c.PolishAPI(ctx, "/v2_1_2.1/payments/v2_1_2.1/domestic", body, tok.AccessToken, nil, &res)
	p := Payment{ID: res.PaymentID, Status: res.GeneralStatus, Token: tok}
	p.Observe(c.now())
	return p, err
}

// Status reads a payment's status with its consent's token (refreshed when
// it has expired).
func (c *Client) Status(ctx context.Context, p Payment) (Payment, error) {
	if c.berlinGroup() {
		return c.bgStatus(ctx, p)
	}
	if c.now().After(p.Token.ExpiresAt.Add(-30 * time.Second)) {
		t, err := c.Refresh(ctx, p.Token)
		if err != nil {
			return p, fmt.Errorf("refresh the payment's token: %w", err)
		}
		p.Token = t
	}
	q, err := c.status(ctx, p)
	if IsExpired(err) { // the bank's clock may run ahead of ours (the sandbox clock)
		t, rerr := c.Refresh(ctx, p.Token)
		if rerr != nil {
			return p, fmt.Errorf("refresh the payment's token: %w", rerr)
		}
		p.Token = t
		q, err = c.status(ctx, p)
	}
	return q, err
}

// IsExpired tells whether the bank refused an expired access token.
func IsExpired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "token_expired"
}

func (c *Client) status(ctx context.Context, p Payment) (Payment, error) {
	if c.Dialect == "mbank" {
		if p.Link == "" {
			return p, errors.New("the bank gave no status link for this payment")
		}
		var res struct {
			Status string `json:"status"`
		}
		err := c.MBank(ctx, "GET", p.Link, nil, p.Token.AccessToken, &res)
		p.Status = res.Status
		return p, err
	}
	var res struct {
		GeneralStatus string `json:"generalStatus"`
	}
	err := c.PolishAPI(ctx, "/v2_1_2.1/payments/v2_1_2.1/getPayment", map[string]any{"paymentId": p.ID}, p.Token.AccessToken, nil, &res)
	p.Status = res.GeneralStatus
	return p, err
}

// SavePayment keeps a payment (and its tokens, encrypted) in the book.
func (b *Book) SavePayment(p Payment) error {
	return b.seal("payment:"+p.ID, p)
}

// Payment reads a payment kept by SavePayment.
func (b *Book) Payment(id string) (Payment, error) {
	var p Payment
	err := b.open("payment:"+id, &p)
	if errors.Is(err, ErrNotConnected) {
		return p, fmt.Errorf("no payment %s in the book: it was not made with `psd2bank tpp pay` here", id)
	}
	return p, err
}
