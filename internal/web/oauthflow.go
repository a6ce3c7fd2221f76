package web

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/oauth"
)

// exchangePrivileges are the ais privileges an exchange_token may give.
var exchangePrivileges = []string{consent.PrivGetAccount, consent.PrivGetTransactionsDone, consent.PrivGetTransactionsPending,
	consent.PrivGetTransactionsRejected, consent.PrivGetTransactionsCancelled, consent.PrivGetTransactionsScheduled,
	consent.PrivGetHolds, consent.PrivGetTransactionDetail}

// OAuthFlow is the ConsentFlow of the bank's authorization server.
type OAuthFlow struct{ S *oauth.Server }

// Request describes the pending request for the consent page.
func (f OAuthFlow) Request(ctx context.Context, requestID string) (ConsentPage, error) {
	p, err := f.S.Request(ctx, requestID)
	if err != nil {
		if oauth.CodeOf(err) == oauth.RequestUnknown {
			return ConsentPage{}, fmt.Errorf("%w: %v", ErrNoRequest, err)
		}
		return ConsentPage{}, err
	}
	page := ConsentPage{RequestID: p.RequestID, TPPID: p.TPPID, TPPName: p.TPPName, ClientName: p.ClientName,
		Scope: string(p.Scope), Accounts: p.Accounts, HistoryDays: p.MaxHistoryDays, ValidUntil: p.ValidUntil,
		PSULogin: p.PSULogin, Decided: p.Decided, Expired: p.Expired}
	seen := map[string]bool{}
	for _, pr := range p.Privileges {
		if !seen[pr.Name] {
			seen[pr.Name] = true
			page.Privileges = append(page.Privileges, pr.Name)
		}
	}
	if len(p.Payment) > 0 {
		page.Payment = paymentPage(singlePayment(p.Payment))
		if b := bundlePage(p.Payment); b != nil {
			page.Payment = b
		}
	}
	for _, pr := range p.Privileges {
		switch {
		case consent.IsInitiation(pr.Name) && pr.Order != nil:
			page.Payments = ordersOf(pr.Order)
			page.Bundle = pr.Order.Bundle
			if page.Bundle {
				page.Total = pr.Order.Total.String()
			}
			// The single payment's schedule, split and tax parts, as the
			// consent keeps them.
			if len(page.Payments) == 1 && !page.Bundle {
				if page.Payment == nil {
					page.Payment = &PaymentPage{}
				}
				fillPayment(page.Payment, page.Payments[0])
			}
		case pr.Name == consent.PrivCancelPayment || pr.Name == consent.PrivCancelRecurringPayment:
			if c, ok := cancelOf(pr.Payment); ok && !slices.Contains(page.Cancels, c) {
				page.Cancels = append(page.Cancels, c)
			}
		}
	}
	if p.Scope == consent.ScopeAISAccounts {
		// internal/oauth's exchange: any ais privilege over the accounts
		// shared, history up to consent.MaxHistoryDays, until at most
		// consent.SCAValidity after the approval.
		page.Exchange = &ExchangePage{Privileges: exchangePrivileges, MaxHistoryDays: consent.MaxHistoryDays,
			Validity: consent.SCAValidity}
	}
	return page, nil
}

// Approve passes the customer's approval on.
func (f OAuthFlow) Approve(ctx context.Context, requestID, customerID string, accounts []string) (string, error) {
	return f.S.Approve(ctx, requestID, customerID, accounts)
}

// Reject passes the customer's refusal on.
func (f OAuthFlow) Reject(ctx context.Context, requestID, customerID string) (string, error) {
	return f.S.Reject(ctx, requestID, customerID)
}

// paymentPage reads what the customer must see of a payment, from
// PolishAPI's pis:domestic/EEA/nonEEA/tax shape or mBank's domestic one.
func paymentPage(raw json.RawMessage) *PaymentPage {
	var p struct {
		Recipient struct {
			AccountNumber string `json:"accountNumber"`
			Name          string `json:"name"`
			NameAddress   struct {
				Value []string `json:"value"`
			} `json:"nameAddress"`
		} `json:"recipient"`
		Sender struct {
			AccountNumber string `json:"accountNumber"`
		} `json:"sender"`
		TransferData struct {
			Description   string          `json:"description"`
			Amount        json.RawMessage `json:"amount"`
			Currency      string          `json:"currency"`
			ExecutionDate string          `json:"executionDate"`
		} `json:"transferData"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return &PaymentPage{}
	}
	name := p.Recipient.Name
	if name == "" {
		name = strings.Join(p.Recipient.NameAddress.Value, ", ")
	}
	amount := strings.Trim(string(p.TransferData.Amount), `"`)
	currency := p.TransferData.Currency
	if currency == "" {
		currency = "PLN"
	}
	return &PaymentPage{Amount: amount, Currency: currency, RecipientName: name, RecipientAccount: p.Recipient.AccountNumber,
		Title: p.TransferData.Description, ExecutionDate: p.TransferData.ExecutionDate, SenderAccount: p.Sender.AccountNumber}
}

// fillPayment completes what the privilege's data gave of the payment with
// the order the consent keeps: the fields the data left empty, and the
// schedule, split and tax parts.
func fillPayment(p *PaymentPage, o PaymentPage) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&p.Amount, o.Amount}, {&p.RecipientName, o.RecipientName}, {&p.RecipientAccount, o.RecipientAccount},
		{&p.Title, o.Title}, {&p.ExecutionDate, o.ExecutionDate}, {&p.SenderAccount, o.SenderAccount},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	if p.Currency == "" || p.Amount == o.Amount {
		p.Currency = o.Currency
	}
	p.Recurrence, p.Split, p.Tax = o.Recurrence, o.Split, o.Tax
}
