package berlingroup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// Bulk payments are the domain's bundles: the transfers are checked
// whole when the TPP asks, the customer authorises them together (one
// consent with the pis:bundle privilege carrying them), and the bundle is
// initiated in one transaction by pis.InitiateBundle; each transfer then
// goes its own way in the ledger.

// BulkPaymentInitiation is the JSON body of a bulk payment.
type BulkPaymentInitiation struct {
	BatchBookingPreferred  *bool              `json:"batchBookingPreferred,omitempty"`
	DebtorAccount          *AccountReference  `json:"debtorAccount"`
	DebtorName             string             `json:"debtorName,omitempty"`
	RequestedExecutionDate string             `json:"requestedExecutionDate,omitempty"`
	RequestedExecutionTime string             `json:"requestedExecutionTime,omitempty"`
	PaymentInformationID   string             `json:"paymentInformationId,omitempty"`
	Payments               []BulkPaymentEntry `json:"payments"`
}

// BulkPaymentEntry is one transfer of a bulk payment.
type BulkPaymentEntry struct {
	EndToEndIdentification            string            `json:"endToEndIdentification,omitempty"`
	InstructedAmount                  *Amount           `json:"instructedAmount"`
	CreditorAccount                   *AccountReference `json:"creditorAccount"`
	CreditorAgent                     string            `json:"creditorAgent,omitempty"`
	CreditorName                      string            `json:"creditorName"`
	CreditorAddress                   *Address          `json:"creditorAddress,omitempty"`
	ChargeBearer                      string            `json:"chargeBearer,omitempty"`
	RemittanceInformationUnstructured string            `json:"remittanceInformationUnstructured,omitempty"`
}

// maxBulk is the most transfers a bulk payment may hold.
const maxBulk = 100

// bgNames are this dialect's names of the fields the consented payment is
// compared on.
var bgNames = pis.FieldNames{Sender: "debtorAccount", RecipientAccount: "creditorAccount", RecipientName: "creditorName",
	Tax: "-", Split: "-", Recurrence: "-"}

// bulkOrder translates the body into the domain's bundle, transfer by
// transfer (a refusal names the transfer: payments[i]).
func (s *service) bulkOrder(prod string, b BulkPaymentInitiation, c *gateway.Caller, id string) (payment.BundleOrder, error) {
	switch {
	case b.DebtorAccount == nil || b.DebtorAccount.IBAN == "":
		return payment.BundleOrder{}, formatError("debtorAccount.iban is required: the customer's account at this bank the transfers are paid from",
			"debtorAccount.iban jest wymagane: rachunek klienta w tym banku, z którego płacone są przelewy")
	case len(b.Payments) == 0:
		return payment.BundleOrder{}, formatError("payments is empty: a bulk payment holds at least one transfer",
			"payments jest puste: płatność zbiorcza zawiera co najmniej jeden przelew")
	case len(b.Payments) > maxBulk:
		return payment.BundleOrder{}, formatError(fmt.Sprintf("a bulk payment holds at most %d transfers, not %d: split it", maxBulk, len(b.Payments)),
			fmt.Sprintf("płatność zbiorcza zawiera najwyżej %d przelewów, a nie %d: podziel ją", maxBulk, len(b.Payments)))
	case b.RequestedExecutionTime != "":
		return payment.BundleOrder{}, refuse(http.StatusBadRequest, CodeParameterNotSupport,
			"requestedExecutionTime is not offered: give requestedExecutionDate (the bank executes on that day)",
			"requestedExecutionTime nie jest oferowane: podaj requestedExecutionDate (bank wykona przelewy tego dnia)")
	}
	bo := payment.BundleOrder{TPPID: c.OrgID, TPPBundleID: id}
	for i, e := range b.Payments {
		p := PaymentInitiation{EndToEndIdentification: e.EndToEndIdentification, DebtorAccount: b.DebtorAccount, DebtorName: b.DebtorName,
			InstructedAmount: e.InstructedAmount, CreditorAccount: e.CreditorAccount, CreditorAgent: e.CreditorAgent, CreditorName: e.CreditorName,
			CreditorAddress: e.CreditorAddress, ChargeBearer: e.ChargeBearer, RemittanceInformationUnstructured: e.RemittanceInformationUnstructured,
			RequestedExecutionDate: b.RequestedExecutionDate}
		o, err := s.order("payments", prod, p, c, fmt.Sprintf("%s-%d", id, i))
		if err != nil {
			return bo, inEntry(i, err)
		}
		bo.Orders = append(bo.Orders, o)
		bo.TotalAmount += o.Amount
	}
	if err := s.d.Payments.ValidateBundle(bo); err != nil {
		return bo, paymentRefusal(err)
	}
	return bo, nil
}

// inEntry names the transfer in a refusal.
func inEntry(i int, err error) error {
	if r, ok := err.(*gateway.Refusal); ok {
		e := *r
		e.EN, e.PL = fmt.Sprintf("payments[%d]: %s", i, r.EN), fmt.Sprintf("payments[%d]: %s", i, r.PL)
		return &e
	}
	return err
}

// bulkConsentPayment is the bulk as the consent pages show a payment (the
// PolishAPI shape they read): the total from the debtor account, and
// every transfer — creditor, account, amount, remittance — in the
// recipient's lines.
func bulkConsentPayment(bo payment.BundleOrder) json.RawMessage {
	var lines []string
	currency, date := "", ""
	for _, o := range bo.Orders {
		currency, date = o.Currency, o.ExecutionDate
		lines = append(lines, fmt.Sprintf("%s — %s — %s %s — %s", o.Recipient.Name, o.Recipient.Account, o.Amount, o.Currency, o.Title))
	}
	sender := ""
	if len(bo.Orders) > 0 {
		sender = bo.Orders[0].SenderAccount
	}
	b, _ := json.Marshal(map[string]any{
		"recipient":    map[string]any{"nameAddress": map[string]any{"value": lines}},
		"sender":       map[string]any{"accountNumber": sender},
		"transferData": map[string]any{"description": fmt.Sprintf("bulk payment: %d transfers / płatność zbiorcza: %d przelewy", len(lines), len(lines)), "amount": bo.TotalAmount.String(), "currency": currency, "executionDate": date},
	})
	return b
}

func (s *service) initiateBulk(w http.ResponseWriter, r *http.Request, c *gateway.Caller, prod string) error {
	ctx := r.Context()
	var body BulkPaymentInitiation
	if err := decodeStrict(c.Body, &body, "bulk payment initiation"); err != nil {
		return err
	}
	id := uuid.Must(uuid.NewV7()).String()
	bo, err := s.bulkOrder(prod, body, c, id)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(c.Body)
	bo.RequestHash = hex.EncodeToString(sum[:])
	for i := range bo.Orders {
		bo.Orders[i].RequestHash = bo.RequestHash
	}
	// Before the customer sees it: the domain's checks of a bundle, the
	// debtor account's API access and each transfer within the limits.
	if s.d.PIS != nil {
		if err := s.d.PIS.CheckConsent(ctx, pis.ConsentCheck{TPPID: c.OrgID, Privilege: consent.PrivBundle,
			Payment: pis.Consented{Orders: bo.Orders, Total: bo.TotalAmount, Bundle: true}}); err != nil {
			return paymentRefusal(err)
		}
	}
	sender := bo.Orders[0].SenderAccount
	if err := s.checkAccess(ctx, sender, access.PIS); err != nil {
		return err
	}
	if s.d.Access != nil {
		for i, o := range bo.Orders {
			if err := s.d.Access.CheckPaymentLimit(ctx, sender, o.Amount, false, s.limitDay(o)); err != nil {
				return inEntry(i, accessRefusal(err))
			}
		}
	}
	sca, err := s.approach(ctx, r, c)
	if err != nil {
		return err
	}
	explicit := explicitStart(r)
	res, err := s.d.OAuth.Authorize(ctx, oauth.AuthorizeRequest{
		Dialect: oauth.DialectBerlinGroup, TPPID: c.OrgID, ClientID: sca.client.ClientID, RedirectURI: sca.redirect, RedirectPrefix: true,
		ResponseType: "code", Scope: string(consent.ScopePIS), State: c.RequestID, QWACThumbprint: c.QWACInfo.FingerprintS256,
		ScopeDetails: oauth.ScopeDetails{ConsentID: id, ScopeTimeLimit: s.now().Add(24 * time.Hour),
			Privileges: []consent.Privilege{{Name: consent.PrivBundle, ScopeUsageLimit: consent.UsageSingle, Payment: bulkConsentPayment(bo),
				Order: &payment.Consented{Orders: bo.Orders, Total: bo.TotalAmount, Bundle: true}}}},
		Decoupled: sca.decoupled, PSULogin: sca.psuID, Polled: true,
	})
	if err != nil {
		return authorizeRefusal(err)
	}
	raw, _ := json.Marshal(body)
	rec := bgPayment{ID: id, TPPID: c.OrgID, Service: serviceBulk, Product: prod, Raw: raw, Bundle: bo,
		ConsentID: res.ConsentID, RequestID: res.RequestID, SCAApproach: approachOf(sca), AwaitingStart: explicit, CreatedAt: s.now()}
	return s.created(ctx, w, rec, sca, res)
}

// serviceBulk is the path's paymentService of bulk payments.
const serviceBulk = "bulk-payments"

// settleBulk brings a bulk payment up to date: once the customer has
// authorised it, the bundle is initiated (once: pis.InitiateBundle is
// idempotent by the paymentId).
func (s *service) settleBulk(ctx context.Context, rec bgPayment) (state, error) {
	cons, err := s.d.Consents.Get(ctx, rec.ConsentID)
	if err != nil {
		return state{}, consentRefusal(err)
	}
	b, err := s.d.Payments.GetBundleByTPPBundleID(ctx, rec.TPPID, rec.ID)
	if err == nil {
		return state{cons: cons, bundle: b}, nil
	}
	if payment.CodeOf(err) != payment.CodeNotFound {
		return state{cons: cons}, err
	}
	if cons.Status != consent.StatusAuthorised || s.d.PIS == nil {
		return state{cons: cons}, nil
	}
	b, err = s.d.PIS.InitiateBundle(ctx, pis.BundleRequest{
		Grant:  pis.Grant{TPPID: rec.TPPID, ConsentID: cons.ID, CustomerID: cons.CustomerID},
		Bundle: rec.Bundle,
		Consented: func(priv consent.Privilege) ([]payment.Order, money.Amount, error) {
			if priv.Order == nil || !priv.Order.Bundle {
				return nil, 0, fmt.Errorf("the consent carries no bulk payment")
			}
			return priv.Order.Orders, priv.Order.Total, nil
		},
		Names: bgNames,
	})
	if err != nil && b.ID == "" {
		return state{cons: cons}, paymentRefusal(err)
	}
	return state{cons: cons, bundle: b}, nil
}

// bulkStatus is the ISO 20022 status of a bulk payment from its
// transfers: all the same → that one's; some rejected or cancelled and
// the others accepted → PART (partially accepted).
func bulkStatus(b payment.Bundle) string {
	seen := map[string]int{}
	for _, p := range b.Payments {
		seen[transactionStatus(p, consent.Consent{})]++
	}
	if len(seen) == 1 {
		for st := range seen {
			return st
		}
	}
	failed := seen["RJCT"] + seen["CANC"]
	switch {
	case len(b.Payments) == 0:
		return "RCVD"
	case failed > 0:
		return "PART"
	case seen["ACSP"] > 0 || seen["ACSC"] > 0:
		return "ACSP"
	case seen["PDNG"] > 0:
		return "PDNG"
	}
	return "ACCP"
}

// bulkMessages tell the TPP which transfers of a bulk failed and why.
func bulkMessages(b payment.Bundle) []TPPMessage {
	var out []TPPMessage
	for i, p := range b.Payments {
		if p.Status == payment.StatusRejected {
			text := fmt.Sprintf("payments[%d] was rejected", i)
			if p.StatusReason != "" {
				text += ": " + p.StatusReason
			}
			out = append(out, TPPMessage{Category: "ERROR", Code: CodePaymentFailed, Text: limitText(text), Path: fmt.Sprintf("payments[%d]", i)})
		}
	}
	return out
}

// getBulk answers GET of a bulk payment: the body as sent, with its status.
func (s *service) getBulk(w http.ResponseWriter, rec bgPayment, st state) error {
	var out map[string]any
	if err := json.Unmarshal(rec.Raw, &out); err != nil {
		return fmt.Errorf("berlingroup: bulk payment %s: %w", rec.ID, err)
	}
	out["transactionStatus"] = st.transactionStatus()
	if m := bulkMessages(st.bundle); len(m) > 0 {
		out["tppMessages"] = m
	}
	return writeJSON(w, http.StatusOK, out)
}

// cancelBulk cancels what of an authorised bulk can still be cancelled
// (future-dated transfers before their day).
func (s *service) cancelBulk(ctx context.Context, w http.ResponseWriter, st state) error {
	b, refused, err := s.d.Payments.CancelBundle(ctx, st.bundle.ID, "tpp", "cancelled by the TPP")
	if err != nil {
		return paymentRefusal(err)
	}
	if len(refused) == len(b.Payments) {
		return refuse(http.StatusBadRequest, CodeCancellationInvalid,
			"no transfer of this bulk payment can be cancelled any more: they are executed or under way",
			"żadnego przelewu tej płatności zbiorczej nie można już anulować: zostały wykonane lub są w realizacji")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// approachOf is the ASPSP-SCA-Approach of an authorisation.
func approachOf(q scaRequest) string {
	if q.decoupled {
		return "DECOUPLED"
	}
	return "REDIRECT"
}
