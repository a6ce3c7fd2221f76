package web

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
)

// A pis consent whose payment names no sender account (mBank's collection
// sends `sender: {}`; PolishAPI's sender is optional too) lets the customer
// choose the account to pay from on the consent page: exactly one of their
// own accounts in the payment's currency, with radio buttons. The approval
// then covers that account, and the payment is debited from it.

func init() {
	for lang, texts := range map[string]map[string]string{
		"en": {
			"bank.choose_sender":     "Choose the account to pay from:",
			"bank.choose_one":        "Choose one account to pay from.",
			"bank.no_sender_match":   "You have no account in the payment's currency to pay from.",
			"bank.sender_cannot_pay": "The account you chose cannot make this payment; choose another.",
		},
		"pl": {
			"bank.choose_sender":     "Wybierz rachunek, z którego zostanie wykonana płatność:",
			"bank.choose_one":        "Wybierz jeden rachunek do obciążenia.",
			"bank.no_sender_match":   "Nie masz rachunku w walucie płatności, z którego można zapłacić.",
			"bank.sender_cannot_pay": "Wybrany rachunek nie może wykonać tej płatności; wybierz inny.",
		},
	} {
		for key, text := range texts {
			if _, dup := messages[lang][key]; dup {
				panic("web: message key " + key + " is defined twice")
			}
			messages[lang][key] = text
		}
	}
}

// choosingSender tells whether the customer picks the account a payment is
// debited from: a pis request for a single payment that names no sender
// and no account.
func choosingSender(p ConsentPage) bool {
	return p.Scope == "pis" && len(p.Accounts) == 0 && p.Payment != nil &&
		p.Payment.SenderAccount == "" && (p.Payment.RecipientAccount != "" || p.Payment.Transfers > 0)
}

// bundlePage is what the sender choice needs of mBank's pis:bundle-domestic
// (bundleDomesticPaymentsRequest {transfersTotalAmount, transfers[]}): the
// total, the currency and the number of transfers, with SenderAccount set
// when a transfer names one (then the customer does not choose). nil when
// raw is not a bundle.
func bundlePage(raw json.RawMessage) *PaymentPage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	if b, ok := m["bundleDomesticPaymentsRequest"]; ok {
		raw = b
	}
	var b struct {
		TransfersTotalAmount json.RawMessage `json:"transfersTotalAmount"`
		Transfers            []struct {
			Sender struct {
				AccountNumber string `json:"accountNumber"`
			} `json:"sender"`
			TransferData struct {
				Currency string `json:"currency"`
			} `json:"transferData"`
		} `json:"transfers"`
	}
	if json.Unmarshal(raw, &b) != nil || len(b.Transfers) == 0 {
		return nil
	}
	p := &PaymentPage{Amount: strings.Trim(string(b.TransfersTotalAmount), `"`), Currency: "PLN", Transfers: len(b.Transfers)}
	for _, t := range b.Transfers {
		if t.TransferData.Currency != "" {
			p.Currency = t.TransferData.Currency
		}
		if t.Sender.AccountNumber != "" {
			p.SenderAccount = t.Sender.AccountNumber
		}
	}
	return p
}

// senderChoices are the customer's accounts in the payment's currency, the
// one chosen so far checked; an account that cannot make the payment (its
// API access is not active, or the payment is over its limits) is shown
// with the reason and cannot be chosen.
func (s *Server) senderChoices(ctx context.Context, lang string, own []ledger.Account, pay *PaymentPage, chosen []string) []accountView {
	var out []accountView
	for _, a := range own {
		if a.Currency != pay.Currency {
			continue
		}
		out = append(out, accountView{NRB: a.NRB, Number: FormatNRB(a.NRB), Name: a.Name, Currency: a.Currency,
			Checked: len(chosen) == 1 && chosen[0] == a.NRB, Why: s.cannotPay(ctx, lang, a.NRB, pay)})
	}
	return out
}

// cannotPay says, in lang, why the account cannot make the payment: its
// API access for payments is not active, or the payment is over one of the
// customer's limits for API payments; "" when it can.
func (s *Server) cannotPay(ctx context.Context, lang, nrb string, pay *PaymentPage) string {
	if s.access == nil {
		return ""
	}
	if ae := fault.Find(s.access.Check(ctx, nrb, access.PIS), "access"); ae != nil {
		return ae.In(lang)
	}
	amount, err := money.Parse(pay.Amount)
	if err != nil {
		return ""
	}
	day := pay.ExecutionDate
	if day == "" {
		day = ledger.DateOf(s.sessions.clock.Now())
	}
	if ae := fault.Find(s.access.CheckPaymentLimit(ctx, nrb, amount, false, day), "access"); ae != nil {
		return ae.In(lang)
	}
	return ""
}

// approvedSender is the account the customer chose to pay from: exactly one
// of their own, in the payment's currency, that can make the payment; or
// the problem to show.
func (s *Server) approvedSender(ctx context.Context, br *bankReq, ticked []string) ([]string, string, error) {
	if len(ticked) != 1 {
		return nil, "bank.choose_one", nil
	}
	own, err := s.accounts.AccountsOf(ctx, br.cust.ID)
	if err != nil {
		return nil, "", err
	}
	i := slices.IndexFunc(s.senderChoices(ctx, br.lang, own, br.page.Payment, nil), func(a accountView) bool { return a.NRB == ticked[0] })
	if i < 0 {
		return nil, "bank.not_yours", nil
	}
	if s.cannotPay(ctx, br.lang, ticked[0], br.page.Payment) != "" {
		return nil, "bank.sender_cannot_pay", nil
	}
	return ticked, "", nil
}

// paymentKeys are where a pis privilege nests its one payment: mBank's
// pis:domestic (domesticPaymentRequest) and PolishAPI's pis:recurring
// (domesticPayment, EEAPayment, nonEEAPayment, taxPayment). PolishAPI's
// single payments carry it at the top.
var paymentKeys = []string{"domesticPaymentRequest", "domesticPayment", "EEAPayment", "nonEEAPayment", "taxPayment"}

// singlePayment is the payment of a privilege's data, unwrapped from the
// member that nests it; raw as is when none does (a bundle stays a bundle).
func singlePayment(raw json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	if _, ok := m["recipient"]; ok {
		return raw
	}
	for _, k := range paymentKeys {
		if p, ok := m[k]; ok && len(p) > 0 && p[0] == '{' {
			return p
		}
	}
	return raw
}
