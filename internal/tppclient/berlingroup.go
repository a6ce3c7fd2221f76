package tppclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/dialect/berlingroup"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
)

// The Berlin Group (NextGenPSD2 1.3.12) side of the client. There are no
// tokens: a consent's id (Consent-ID) is what reads carry, a payment is
// initiated before the customer approves it, and every request is signed
// with the TPP's QSealC as the standard's HTTP signatures say (Digest,
// Signature with keyId SN=...,CA=..., TPP-Signature-Certificate) over a
// fresh X-Request-ID (a UUID) and a Date in the bank's time.

// DialectBerlinGroup is the Berlin Group dialect's name.
const DialectBerlinGroup = "berlingroup"

// BGPrefix is where the bank serves the dialect.
const BGPrefix = "/berlingroup/v1"

// psuIP is the PSU-IP-Address sent when the customer takes part: the
// customer runs this program on their own machine.
const psuIP = "127.0.0.1"

func (c *Client) berlinGroup() bool { return c.Dialect == DialectBerlinGroup }

// BerlinGroup sends a Berlin Group request, signed; header may set
// X-Request-ID (a UUID; a new one otherwise) and any other header. It
// checks the bank's signature of the answer (a 204's too) and decodes a
// 2xx body into out (may be nil); a refusal is an *Error with the first
// tppMessage's code and every message's text.
func (c *Client) BerlinGroup(ctx context.Context, method, path string, body any, header map[string]string, out any) (http.Header, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.API+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	id := header["X-Request-ID"]
	if id == "" {
		id = uuid.NewString()
	}
	req.Header.Set("X-Request-ID", id)
	req.Header.Set("Date", c.now().UTC().Format(http.TimeFormat))
	req.Header.Set("Accept", "application/json")
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if err := berlingroup.SignRequest(req, raw, c.signer.Key(), c.signer.Certificate()); err != nil {
		return nil, fmt.Errorf("sign the request: %w", err)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	c.observeDate(res.Header.Get("Date"))
	data, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if err := berlingroup.VerifyResponse(res.Header, data, c.bankSeal); err != nil {
		return res.Header, fmt.Errorf("the bank's answer (%s) is not signed with its seal: %w", res.Status, err)
	}
	if got := res.Header.Get("X-Request-ID"); got != "" && got != id {
		return res.Header, fmt.Errorf("the bank answered request %s, not %s", got, id)
	}
	if res.StatusCode/100 != 2 {
		e := &Error{Status: res.StatusCode}
		var eb berlingroup.ErrorBody
		if json.Unmarshal(data, &eb) == nil && len(eb.TPPMessages) > 0 {
			e.Code = eb.TPPMessages[0].Code
			texts := make([]string, 0, len(eb.TPPMessages))
			for _, m := range eb.TPPMessages {
				texts = append(texts, m.Text)
			}
			e.Message = strings.Join(texts, "; ")
		} else {
			e.Message = string(data)
		}
		return res.Header, e
	}
	if out != nil && len(data) > 0 {
		return res.Header, json.Unmarshal(data, out)
	}
	return res.Header, nil
}

// bgLinks are an answer's _links.
type bgLinks map[string]struct {
	Href string `json:"href"`
}

// StartConsent asks for a bank-offered AIS consent (the customer chooses
// the accounts on the bank's page: accounts, balances and transactions of
// each), recurring, frequencyPerDay 4, valid for validFor (the bank keeps
// at most 180 days). requestID becomes the X-Request-ID, which the bank
// returns as state on TPP-Redirect-URI. It returns the consent's id and
// the page of _links.scaRedirect.
func (c *Client) StartConsent(ctx context.Context, requestID string, validFor time.Duration) (consentID, page string, err error) {
	var res struct {
		ConsentID string  `json:"consentId"`
		Links     bgLinks `json:"_links"`
	}
	_, err = c.BerlinGroup(ctx, "POST", BGPrefix+"/consents", map[string]any{
		"access":             map[string]any{"accounts": []any{}, "balances": []any{}, "transactions": []any{}},
		"recurringIndicator": true, "validUntil": bankDay(c.now().Add(validFor)),
		"frequencyPerDay": UnattendedLimit, "combinedServiceIndicator": false,
	}, map[string]string{"X-Request-ID": requestID, "TPP-Redirect-URI": c.Identity.RedirectURI, "PSU-IP-Address": psuIP}, &res)
	if err != nil {
		return "", "", err
	}
	if res.ConsentID == "" || res.Links["scaRedirect"].Href == "" {
		return "", "", errors.New("the bank's consent answer has no consentId or _links.scaRedirect")
	}
	return res.ConsentID, res.Links["scaRedirect"].Href, nil
}

// ConsentTokens reads an approved consent: its status (valid), how long
// it lasts, and its accounts with their resource ids (read with the
// customer present).
func (c *Client) ConsentTokens(ctx context.Context, consentID string) (Tokens, error) {
	var info struct {
		ConsentStatus string `json:"consentStatus"`
		ValidUntil    string `json:"validUntil"`
	}
	if _, err := c.BerlinGroup(ctx, "GET", BGPrefix+"/consents/"+url.PathEscape(consentID), nil, nil, &info); err != nil {
		return Tokens{}, err
	}
	if info.ConsentStatus != "valid" {
		return Tokens{}, fmt.Errorf("the consent is %s, not valid: the customer did not approve it", info.ConsentStatus)
	}
	until, err := time.ParseInLocation(time.DateOnly, info.ValidUntil, bankZone)
	if err != nil {
		return Tokens{}, fmt.Errorf("the consent's validUntil %q: %w", info.ValidUntil, err)
	}
	until = until.AddDate(0, 0, 1).Add(-time.Second) // the end of its last day
	var list struct {
		Accounts []struct {
			ResourceID string `json:"resourceId"`
			IBAN       string `json:"iban"`
		} `json:"accounts"`
	}
	if _, err := c.BerlinGroup(ctx, "GET", BGPrefix+"/accounts", nil, map[string]string{"Consent-ID": consentID, "PSU-IP-Address": psuIP}, &list); err != nil {
		return Tokens{}, fmt.Errorf("accounts: %w", err)
	}
	t := Tokens{ConsentID: consentID, ConsentUntil: until, ExpiresAt: until, AccountIDs: map[string]string{}}
	for _, a := range list.Accounts {
		nrb := nrbOfIBAN(a.IBAN)
		t.Accounts = append(t.Accounts, nrb)
		t.AccountIDs[nrb] = a.ResourceID
	}
	return t, nil
}

// nrbOfIBAN is the NRB of a Polish IBAN; other IBANs stay as they are.
func nrbOfIBAN(iban string) string {
	iban = strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	if n, ok := strings.CutPrefix(iban, "PL"); ok && len(n) == 26 {
		return n
	}
	return iban
}

// IBANOf is the IBAN of an account number: a Polish NRB gets PL.
func IBANOf(account string) string {
	account = strings.ToUpper(strings.ReplaceAll(account, " ", ""))
	if len(account) == 26 && strings.Trim(account, "0123456789") == "" {
		return "PL" + account
	}
	return account
}

// ValidIBAN checks an IBAN's form and ISO 13616 check digits.
func ValidIBAN(iban string) bool {
	iban = strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	if len(iban) < 15 || len(iban) > 34 {
		return false
	}
	var digits strings.Builder
	for _, r := range iban[4:] + iban[:4] {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			fmt.Fprintf(&digits, "%d", r-'A'+10)
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// bgAccount reads an account's balances: interimBooked and
// interimAvailable.
func (c *Client) bgAccount(ctx context.Context, t Tokens, nrb string, psuPresent bool) (polishapi.AccountInfo, error) {
	id := t.AccountIDs[nrb]
	if id == "" {
		return polishapi.AccountInfo{}, fmt.Errorf("account %s has no resource id in the book: run `psd2bank tpp connect` again", nrb)
	}
	h := map[string]string{"Consent-ID": t.ConsentID}
	if psuPresent {
		h["PSU-IP-Address"] = psuIP
	}
	var res struct {
		Account struct {
			Currency string `json:"currency"`
		} `json:"account"`
		Balances []berlingroup.Balance `json:"balances"`
	}
	if _, err := c.BerlinGroup(ctx, "GET", BGPrefix+"/accounts/"+url.PathEscape(id)+"/balances", nil, h, &res); err != nil {
		return polishapi.AccountInfo{}, err
	}
	a := polishapi.AccountInfo{AccountNumber: nrb, Currency: res.Account.Currency}
	for _, b := range res.Balances {
		switch b.BalanceType {
		case "interimBooked":
			a.BookingBalance = b.BalanceAmount.Amount
		case "interimAvailable":
			a.AvailableBalance = b.BalanceAmount.Amount
		}
		if a.Currency == "" {
			a.Currency = b.BalanceAmount.Currency
		}
	}
	return a, nil
}

// bgTransaction is a transaction as the standard writes it.
type bgTransaction struct {
	TransactionID     string             `json:"transactionId"`
	EntryReference    string             `json:"entryReference"`
	BookingDate       string             `json:"bookingDate"`
	ValueDate         string             `json:"valueDate"`
	TransactionAmount berlingroup.Amount `json:"transactionAmount"`
	CreditorName      string             `json:"creditorName"`
	CreditorAccount   *struct {
		IBAN string `json:"iban"`
		BBAN string `json:"bban"`
	} `json:"creditorAccount"`
	DebtorName    string `json:"debtorName"`
	DebtorAccount *struct {
		IBAN string `json:"iban"`
		BBAN string `json:"bban"`
	} `json:"debtorAccount"`
	RemittanceInformationUnstructured string               `json:"remittanceInformationUnstructured"`
	BalanceAfterTransaction           *berlingroup.Balance `json:"balanceAfterTransaction"`
}

// bgItem maps a transaction to the book's item: its id is transactionId
// (entryReference when there is none), its amount signed as the standard
// writes it, its counterparty the creditor of a debit and the debtor of a
// credit, its balance after it the bank's balanceAfterTransaction.
func bgItem(raw []byte) (Item, error) {
	var t bgTransaction
	if err := json.Unmarshal(raw, &t); err != nil {
		return Item{}, err
	}
	it := Item{ItemID: t.TransactionID, BookingDate: t.BookingDate, TradeDate: t.ValueDate, Amount: t.TransactionAmount.Amount,
		Currency: t.TransactionAmount.Currency, Description: t.RemittanceInformationUnstructured}
	if it.ItemID == "" {
		it.ItemID = t.EntryReference
	}
	if t.BalanceAfterTransaction != nil {
		it.BalanceAfter = t.BalanceAfterTransaction.BalanceAmount.Amount
	}
	name, acct := t.DebtorName, t.DebtorAccount
	if strings.HasPrefix(it.Amount, "-") {
		name, acct = t.CreditorName, t.CreditorAccount
	}
	it.CounterpartyName = name
	if acct != nil {
		it.CounterpartyAccount = nrbOfIBAN(acct.IBAN)
		if acct.IBAN == "" {
			it.CounterpartyAccount = acct.BBAN
		}
	}
	return it, nil
}

// bgPage reads one page of an account's transactions: the booked ones in
// the bank's order (newest first), the pending ones (on the first page),
// and the next page's address from _links.next.
func (c *Client) bgPage(ctx context.Context, t Tokens, nrb, from, next string, psuPresent bool) (booked, pending []received, nextHref string, err error) {
	id := t.AccountIDs[nrb]
	if id == "" {
		return nil, nil, "", fmt.Errorf("account %s has no resource id in the book: run `psd2bank tpp connect` again", nrb)
	}
	path := next
	if path == "" {
		path = BGPrefix + "/accounts/" + url.PathEscape(id) + "/transactions?" + url.Values{"bookingStatus": {"both"}, "dateFrom": {from}}.Encode()
	}
	h := map[string]string{"Consent-ID": t.ConsentID}
	if psuPresent {
		h["PSU-IP-Address"] = psuIP
	}
	var res struct {
		Transactions struct {
			Booked  []json.RawMessage `json:"booked"`
			Pending []json.RawMessage `json:"pending"`
			Links   bgLinks           `json:"_links"`
		} `json:"transactions"`
	}
	if _, err := c.BerlinGroup(ctx, "GET", path, nil, h, &res); err != nil {
		return nil, nil, "", err
	}
	read := func(list []json.RawMessage) ([]received, error) {
		out := make([]received, 0, len(list))
		for _, raw := range list {
			it, err := bgItem(raw)
			if err != nil {
				return nil, err
			}
			it.BookingDate, it.TradeDate = day(it.BookingDate), day(it.TradeDate)
			out = append(out, received{Item: it, raw: raw})
		}
		return out, nil
	}
	if booked, err = read(res.Transactions.Booked); err != nil {
		return nil, nil, "", err
	}
	if pending, err = read(res.Transactions.Pending); err != nil {
		return nil, nil, "", err
	}
	nextHref = res.Transactions.Links["next"].Href
	if nextHref != "" && !strings.HasPrefix(nextHref, BGPrefix+"/") {
		return nil, nil, "", fmt.Errorf("the bank's next page %q is not under %s", nextHref, BGPrefix)
	}
	return booked, pending, nextHref, nil
}

// bgProduct is the payment product for a currency: the Polish domestic
// transfer for PLN, SEPA for EUR.
func bgProduct(currency string) (string, error) {
	switch currency {
	case "PLN", "":
		return "pl-domestic-credit-transfers", nil
	case "EUR":
		return "sepa-credit-transfers", nil
	}
	return "", fmt.Errorf("payments in %s are not offered here: PLN (pl-domestic-credit-transfers) or EUR (sepa-credit-transfers)", currency)
}

// StartPayment initiates a payment (a PLN domestic transfer, or SEPA in
// EUR) for the customer to approve on the page it returns;
// requestID becomes the X-Request-ID, which comes back as state on
// TPP-Redirect-URI. The payment is kept with its status address.
func (c *Client) StartPayment(ctx context.Context, requestID string, t Transfer) (Payment, string, error) {
	if t.Currency == "" {
		t.Currency = "PLN"
	}
	product, err := bgProduct(t.Currency)
	if err != nil {
		return Payment{}, "", err
	}
	body := map[string]any{
		"debtorAccount":    map[string]any{"iban": IBANOf(t.From)},
		"instructedAmount": map[string]any{"currency": t.Currency, "amount": t.Amount},
		"creditorAccount":  map[string]any{"iban": IBANOf(t.To)},
		"creditorName":     t.RecipientName, "remittanceInformationUnstructured": t.Title,
	}
	if t.ExecutionDate != "" {
		body["requestedExecutionDate"] = t.ExecutionDate
	}
	var res struct {
		PaymentID         string  `json:"paymentId"`
		TransactionStatus string  `json:"transactionStatus"`
		Links             bgLinks `json:"_links"`
	}
	path := BGPrefix + "/payments/" + product
	_, err = c.BerlinGroup(ctx, "POST", path, body,
		map[string]string{"X-Request-ID": requestID, "TPP-Redirect-URI": c.Identity.RedirectURI, "PSU-IP-Address": psuIP}, &res)
	if err != nil {
		return Payment{}, "", err
	}
	if res.PaymentID == "" || res.Links["scaRedirect"].Href == "" {
		return Payment{}, "", errors.New("the bank's answer has no paymentId or _links.scaRedirect")
	}
	p := Payment{ID: res.PaymentID, Status: res.TransactionStatus, Link: path + "/" + url.PathEscape(res.PaymentID)}
	p.Observe(c.now())
	return p, res.Links["scaRedirect"].Href, nil
}

// bgStatus reads a payment's transactionStatus (ISO 20022).
func (c *Client) bgStatus(ctx context.Context, p Payment) (Payment, error) {
	if p.Link == "" {
		return p, errors.New("the book has no status address for this payment")
	}
	var res struct {
		TransactionStatus string `json:"transactionStatus"`
	}
	if _, err := c.BerlinGroup(ctx, "GET", p.Link+"/status", nil, nil, &res); err != nil {
		return p, err
	}
	p.Status = res.TransactionStatus
	return p, nil
}

// bgConfirmFunds asks the bank whether an account has an amount.
func (c *Client) bgConfirmFunds(ctx context.Context, nrb, amount, currency string) (bool, error) {
	var res struct {
		FundsAvailable bool `json:"fundsAvailable"`
	}
	_, err := c.BerlinGroup(ctx, "POST", BGPrefix+"/funds-confirmations", map[string]any{
		"account": map[string]any{"iban": IBANOf(nrb)}, "instructedAmount": map[string]any{"currency": currency, "amount": amount},
	}, nil, &res)
	return res.FundsAvailable, err
}
