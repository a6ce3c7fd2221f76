package berlingroup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// Address is a postal address.
type Address struct {
	StreetName     string `json:"streetName,omitempty"`
	BuildingNumber string `json:"buildingNumber,omitempty"`
	TownName       string `json:"townName,omitempty"`
	PostCode       string `json:"postCode,omitempty"`
	Country        string `json:"country"`
}

// PaymentInitiation is the JSON body of a single payment (the standard's
// paymentInitiation_json, with the fields this bank acts on).
type PaymentInitiation struct {
	EndToEndIdentification            string            `json:"endToEndIdentification,omitempty"`
	DebtorAccount                     *AccountReference `json:"debtorAccount"`
	DebtorName                        string            `json:"debtorName,omitempty"`
	InstructedAmount                  *Amount           `json:"instructedAmount"`
	CreditorAccount                   *AccountReference `json:"creditorAccount"`
	CreditorAgent                     string            `json:"creditorAgent,omitempty"`
	CreditorName                      string            `json:"creditorName"`
	CreditorAddress                   *Address          `json:"creditorAddress,omitempty"`
	ChargeBearer                      string            `json:"chargeBearer,omitempty"`
	RemittanceInformationUnstructured string            `json:"remittanceInformationUnstructured,omitempty"`
	RequestedExecutionDate            string            `json:"requestedExecutionDate,omitempty"`
	// Periodic payments only.
	StartDate      string `json:"startDate,omitempty"`
	EndDate        string `json:"endDate,omitempty"`
	ExecutionRule  string `json:"executionRule,omitempty"`
	Frequency      string `json:"frequency,omitempty"`
	DayOfExecution string `json:"dayOfExecution,omitempty"`
}

// products are the payment products and how the domain makes them.
var products = map[string]struct {
	typ       payment.Type
	system    payment.System
	privilege string
	currency  string // required currency, "" = any
}{
	"pl-domestic-credit-transfers":  {payment.Domestic, "", consent.PrivDomestic, "PLN"},
	"sepa-credit-transfers":         {payment.EEA, payment.SystemSEPA, consent.PrivEEA, "EUR"},
	"instant-sepa-credit-transfers": {payment.EEA, payment.SystemInstantSEPA, consent.PrivEEA, "EUR"},
	"target-2-payments":             {payment.EEA, payment.SystemTarget, consent.PrivEEA, "EUR"},
	"cross-border-credit-transfers": {payment.NonEEA, payment.SystemSwift, consent.PrivNonEEA, ""},
}

// paymentRoutes are the payment operations.
func (s *service) paymentRoutes() []op {
	base := "/v1/{paymentService}/{paymentProduct}"
	return []op{
		{"POST", base, gateway.PIS, "initiatePayment", s.initiatePayment},
		{"GET", base + "/{paymentId}", gateway.PIS, "getPaymentInformation", s.getPayment},
		{"GET", base + "/{paymentId}/status", gateway.PIS, "getPaymentInitiationStatus", s.getPaymentStatus},
		{"DELETE", base + "/{paymentId}", gateway.PIS, "cancelPayment", s.cancelPayment},
		{"PUT", base + "/{paymentId}", gateway.PIS, "changePayment", paymentUnchangeable},
		{"PATCH", base + "/{paymentId}", gateway.PIS, "changePayment", paymentUnchangeable},
		{"POST", base + "/{paymentId}/authorisations", gateway.PIS, "startPaymentAuthorisation", s.startPaymentAuthorisation},
		{"GET", base + "/{paymentId}/authorisations", gateway.PIS, "getPaymentInitiationAuthorisation", s.getPaymentAuthorisations},
		{"GET", base + "/{paymentId}/authorisations/{authorisationId}", gateway.PIS, "getPaymentInitiationScaStatus", s.getPaymentScaStatus},
		{"PUT", base + "/{paymentId}/authorisations/{authorisationId}", gateway.PIS, "updatePaymentPsuData", embeddedRefused},
		{"POST", base + "/{paymentId}/cancellation-authorisations", gateway.PIS, "startPaymentInitiationCancellationAuthorisation", notServed(noCancellationAuthorisation)},
		{"GET", base + "/{paymentId}/cancellation-authorisations", gateway.PIS, "getPaymentInitiationCancellationAuthorisationInformation", notServed(noCancellationAuthorisation)},
	}
}

// noCancellationAuthorisation says why no cancellation needs the
// customer: what can still be cancelled (a payment before its
// authorisation, a future-dated payment before its day, a standing order)
// the TPP cancels at once with DELETE (204), as in the bank's other
// dialects; what is executed or under way cannot be cancelled at all.
const noCancellationAuthorisation = "cancellation authorisations: DELETE cancels at once what can still be cancelled (no authorisation by the customer is needed)"

func paymentUnchangeable(http.ResponseWriter, *http.Request, *gateway.Caller) error {
	return refuse(http.StatusMethodNotAllowed, CodeServiceInvalid,
		"a payment cannot be changed once asked for: cancel it (DELETE) and initiate a new one, which needs a new authorisation",
		"płatności nie można zmienić po złożeniu: anuluj ją (DELETE) i zainicjuj nową, co wymaga nowej autoryzacji")
}

// bgPayment is the dialect's record of a payment.
type bgPayment struct {
	ID, TPPID, Service, Product string
	Body                        PaymentInitiation // single and periodic
	Order                       payment.Order     // single and periodic
	Raw                         json.RawMessage   // bulk: the body as sent
	Bundle                      payment.BundleOrder
	ConsentID, RequestID        string
	SCAApproach, BankID         string
	// AwaitingStart is set while the TPP asked to start the authorisation
	// itself (TPP-Explicit-Authorisation-Preferred) and has not yet.
	AwaitingStart bool
	CreatedAt     time.Time
}

// product checks the path's service and product.
func product(r *http.Request) (string, error) {
	svc, prod := param(r, "paymentService"), param(r, "paymentProduct")
	switch svc {
	case "payments", "periodic-payments", serviceBulk:
	default:
		return "", refuse(http.StatusNotFound, CodeResourceUnknown, "no payment service "+svc+": use payments, periodic-payments or bulk-payments",
			"nie ma usługi płatniczej "+svc+": użyj payments, periodic-payments lub bulk-payments")
	}
	if _, ok := products[prod]; !ok {
		return "", refuse(http.StatusNotFound, CodeProductUnknown,
			"payment product "+prod+" is not offered: use sepa-credit-transfers, instant-sepa-credit-transfers, target-2-payments, cross-border-credit-transfers or pl-domestic-credit-transfers",
			"produkt płatniczy "+prod+" nie jest oferowany: użyj sepa-credit-transfers, instant-sepa-credit-transfers, target-2-payments, cross-border-credit-transfers lub pl-domestic-credit-transfers")
	}
	return prod, nil
}

// order translates the body into the domain's payment order.
func (s *service) order(svc, prod string, p PaymentInitiation, c *gateway.Caller, id string) (payment.Order, error) {
	pr := products[prod]
	periodic := svc == "periodic-payments"
	switch {
	case !periodic && (p.StartDate != "" || p.EndDate != "" || p.Frequency != "" || p.ExecutionRule != "" || p.DayOfExecution != ""):
		return payment.Order{}, formatError("startDate, endDate, frequency, executionRule and dayOfExecution belong to periodic-payments",
			"startDate, endDate, frequency, executionRule i dayOfExecution dotyczą periodic-payments")
	case periodic && (p.StartDate == "" || p.Frequency == ""):
		return payment.Order{}, formatError("a periodic payment needs startDate and frequency", "płatność okresowa wymaga startDate i frequency")
	case periodic && p.RequestedExecutionDate != "":
		return payment.Order{}, formatError("a periodic payment starts at startDate: leave requestedExecutionDate out",
			"płatność okresowa zaczyna się w startDate: pomiń requestedExecutionDate")
	case p.DebtorAccount == nil || p.DebtorAccount.IBAN == "":
		return payment.Order{}, formatError("debtorAccount.iban is required: the customer's account at this bank", "debtorAccount.iban jest wymagane: rachunek klienta w tym banku")
	case p.InstructedAmount == nil:
		return payment.Order{}, formatError("instructedAmount is required: {currency, amount}", "instructedAmount jest wymagane: {currency, amount}")
	case p.CreditorAccount == nil || p.CreditorAccount.IBAN == "" && (pr.typ != payment.NonEEA || p.CreditorAccount.BBAN == ""):
		return payment.Order{}, formatError("creditorAccount.iban is required (cross-border-credit-transfers also take creditorAccount.bban)",
			"creditorAccount.iban jest wymagane (cross-border-credit-transfers przyjmują też creditorAccount.bban)")
	case strings.TrimSpace(p.CreditorName) == "":
		return payment.Order{}, formatError("creditorName is required", "creditorName jest wymagane")
	}
	sender, ok := nrbOf(p.DebtorAccount.IBAN)
	if !ok {
		return payment.Order{}, formatError("debtorAccount.iban must be a Polish IBAN of this bank (PL and 26 digits)", "debtorAccount.iban musi być polskim IBAN rachunku w tym banku")
	}
	if pr.currency != "" && !strings.EqualFold(p.InstructedAmount.Currency, pr.currency) {
		return payment.Order{}, refuse(http.StatusBadRequest, CodeProductInvalid,
			prod+" is in "+pr.currency+", not "+p.InstructedAmount.Currency+": choose the product for the currency ("+
				"pl-domestic-credit-transfers for PLN, sepa-credit-transfers for EUR, cross-border-credit-transfers otherwise)",
			prod+" jest w "+pr.currency+", a nie w "+p.InstructedAmount.Currency+": wybierz produkt dla waluty")
	}
	amount, err := money.ParseIn(p.InstructedAmount.Amount, strings.ToUpper(p.InstructedAmount.Currency))
	if err != nil {
		return payment.Order{}, formatError("instructedAmount.amount: "+err.Error(), "instructedAmount.amount: "+err.Error())
	}
	recipient := strings.ToUpper(strings.ReplaceAll(p.CreditorAccount.IBAN, " ", ""))
	if recipient == "" {
		recipient = strings.ReplaceAll(p.CreditorAccount.BBAN, " ", "")
	}
	if pr.typ == payment.Domestic {
		nrb, ok := nrbOf(recipient)
		if !ok {
			return payment.Order{}, refuse(http.StatusBadRequest, CodeProductInvalid,
				"pl-domestic-credit-transfers go to Polish accounts: creditorAccount.iban must be a valid PL IBAN",
				"pl-domestic-credit-transfers trafiają na polskie rachunki: creditorAccount.iban musi być poprawnym IBAN PL")
		}
		recipient = nrb
	}
	o := payment.Order{Type: pr.typ, TPPID: c.OrgID, TPPTransactionID: id, SenderAccount: sender, Amount: amount,
		Currency: strings.ToUpper(p.InstructedAmount.Currency), Title: p.RemittanceInformationUnstructured,
		ExecutionDate: p.RequestedExecutionDate, System: pr.system,
		Recipient: payment.Recipient{Name: p.CreditorName, Account: recipient, BIC: p.CreditorAgent}}
	if a := p.CreditorAddress; a != nil {
		o.Recipient.Country = a.Country
		o.Recipient.Address = strings.Join(strings.Fields(strings.Join([]string{a.StreetName, a.BuildingNumber, a.PostCode, a.TownName}, " ")), " ")
	}
	if o.Recipient.Country == "" && p.CreditorAccount.IBAN != "" && len(recipient) > 2 && pr.typ != payment.Domestic {
		o.Recipient.Country = recipient[:2]
	}
	if periodic {
		f, ok := frequencies[p.Frequency]
		if !ok {
			return o, formatError("frequency "+p.Frequency+" is not offered: use Daily, Weekly, EveryTwoWeeks, Monthly, EveryTwoMonths, Quarterly, SemiAnnual or Annual",
				"frequency "+p.Frequency+" nie jest oferowane: użyj Daily, Weekly, EveryTwoWeeks, Monthly, EveryTwoMonths, Quarterly, SemiAnnual lub Annual")
		}
		rc := &payment.Recurrence{StartDate: p.StartDate, EndDate: p.EndDate, PeriodType: f.period, PeriodValue: f.n, DayOff: payment.After}
		switch p.ExecutionRule {
		case "", "following":
		case "preceding":
			rc.DayOff = payment.Before
		default:
			return o, formatError("executionRule is following or preceding", "executionRule to following lub preceding")
		}
		if p.DayOfExecution != "" && (len(p.StartDate) != 10 || strings.TrimLeft(p.DayOfExecution, "0") != strings.TrimLeft(p.StartDate[8:], "0")) {
			return o, refuse(http.StatusBadRequest, CodeParameterNotSupport,
				"dayOfExecution must be the day of startDate: the payment recurs on the day it starts",
				"dayOfExecution musi być dniem startDate: płatność powtarza się w dniu, w którym się zaczyna")
		}
		o.Recurrence, o.ExecutionDate = rc, ""
	}
	if err := s.d.Payments.Validate(o); err != nil {
		return o, paymentRefusal(err)
	}
	return o, nil
}

// paymentRefusal maps the payment domain's refusals, naming the field
// (wireErrors).
func paymentRefusal(err error) error {
	pe := fault.Find(err, "payment")
	if pe == nil {
		return err
	}
	en, pl := pe.Message, pe.MessagePL
	if f := wireField(pe.Field); f != "" {
		en, pl = f+": "+en, f+": "+pl
	}
	return domainRefusal(pe, en, pl)
}

// consentPayment is the payment as the consent pages show it (the
// PolishAPI shape the pages read).
func consentPayment(o payment.Order, p PaymentInitiation) json.RawMessage {
	recipient := o.Recipient.Account
	b, _ := json.Marshal(map[string]any{
		"recipient":    map[string]any{"accountNumber": recipient, "nameAddress": map[string]any{"value": []string{o.Recipient.Name}}},
		"sender":       map[string]any{"accountNumber": o.SenderAccount},
		"transferData": map[string]any{"description": o.Title, "amount": o.Amount.String(), "currency": o.Currency, "executionDate": o.ExecutionDate},
	})
	return b
}

func (s *service) initiatePayment(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	prod, err := product(r)
	if err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); strings.Contains(ct, "xml") {
		return refuse(http.StatusUnsupportedMediaType, CodeFormatError,
			"this bank accepts JSON payment initiations only (application/json); XML (pain.001) is not offered",
			"bank przyjmuje tylko inicjacje płatności w JSON (application/json); XML (pain.001) nie jest obsługiwany")
	}
	svc := param(r, "paymentService")
	if svc == serviceBulk {
		return s.initiateBulk(w, r, c, prod)
	}
	var body PaymentInitiation
	if err := decodeStrict(c.Body, &body, "payment initiation"); err != nil {
		return err
	}
	id := uuid.Must(uuid.NewV7()).String()
	o, err := s.order(svc, prod, body, c, id)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(c.Body)
	o.RequestHash = hex.EncodeToString(sum[:])
	// What can be checked before the customer sees the payment: the
	// debtor account's API access and the customer's limits.
	if err := s.checkAccess(ctx, o.SenderAccount, access.PIS); err != nil {
		return err
	}
	if s.d.Access != nil {
		if err := s.d.Access.CheckPaymentLimit(ctx, o.SenderAccount, o.Amount, o.Recurrence != nil, s.limitDay(o)); err != nil {
			return accessRefusal(err)
		}
	}

	sca, err := s.approach(ctx, r, c)
	if err != nil {
		return err
	}
	decoupled, psuID, redirect, client := sca.decoupled, sca.psuID, sca.redirect, sca.client
	explicit := explicitStart(r)
	pr := products[prod]
	privilege := pr.privilege
	if o.Recurrence != nil {
		privilege = consent.PrivRecurring
	}
	res, err := s.d.OAuth.Authorize(ctx, oauth.AuthorizeRequest{
		Dialect: oauth.DialectBerlinGroup, TPPID: c.OrgID, ClientID: client.ClientID, RedirectURI: redirect, RedirectPrefix: true,
		ResponseType: "code", Scope: string(consent.ScopePIS), State: c.RequestID, QWACThumbprint: c.QWACInfo.FingerprintS256,
		ScopeDetails: oauth.ScopeDetails{ConsentID: id, ScopeTimeLimit: s.now().Add(24 * time.Hour),
			Privileges: []consent.Privilege{{Name: privilege, ScopeUsageLimit: consent.UsageSingle, Payment: consentPayment(o, body),
				Order: &payment.Consented{Orders: []payment.Order{o}}}}},
		Decoupled: decoupled, PSULogin: psuID, Polled: true,
	})
	if err != nil {
		return authorizeRefusal(err)
	}
	o.ConsentID = res.ConsentID
	rec := bgPayment{ID: id, TPPID: c.OrgID, Service: svc, Product: prod, Body: body, Order: o,
		ConsentID: res.ConsentID, RequestID: res.RequestID, SCAApproach: approachOf(sca), AwaitingStart: explicit, CreatedAt: s.now()}
	return s.created(ctx, w, rec, sca, res)
}

// created records the payment resource and answers its initiation: with
// the authorisation started (scaRedirect or the mobile app, and
// scaStatus), or — when the TPP prefers to start it explicitly — with
// _links.startAuthorisation only.
func (s *service) created(ctx context.Context, w http.ResponseWriter, rec bgPayment, sca scaRequest, res oauth.AuthorizeResult) error {
	if err := s.savePayment(ctx, rec); err != nil {
		return err
	}
	if err := s.setNok(ctx, sca, res.RequestID); err != nil {
		return err
	}
	self := Prefix + "/v1/" + rec.Service + "/" + rec.Product + "/" + rec.ID
	links := map[string]link{"self": {self}, "status": {self + "/status"}}
	if rec.AwaitingStart {
		links["startAuthorisation"] = link{self + "/authorisations"}
	} else {
		if rec.SCAApproach == "DECOUPLED" && s.d.OnDecoupled != nil {
			if err := s.d.OnDecoupled(ctx, res, sca.psuID); err != nil {
				return err
			}
		}
		links["scaStatus"] = link{self + "/authorisations/" + res.RequestID}
		if rec.SCAApproach == "REDIRECT" {
			links["scaRedirect"] = link{res.RedirectURI}
		}
	}
	w.Header().Set("Location", self)
	w.Header().Set("ASPSP-SCA-Approach", rec.SCAApproach)
	return writeJSON(w, http.StatusCreated, map[string]any{"transactionStatus": "RCVD", "paymentId": rec.ID, "_links": links})
}

func (s *service) limitDay(o payment.Order) string {
	if o.ExecutionDate != "" {
		return o.ExecutionDate
	}
	return ledger.DateOf(s.now())
}

func (s *service) savePayment(ctx context.Context, rec bgPayment) error {
	body, _ := json.Marshal(rec.Body)
	order, _ := json.Marshal(rec.Order)
	if rec.Service == serviceBulk {
		body, order = rec.Raw, mustJSON(rec.Bundle)
	}
	_, err := s.d.DB.ExecContext(ctx, `INSERT INTO berlingroup_payments (id, tpp_id, service, product, body, order_json,
		consent_id, request_id, sca_approach, created_at, awaiting_start) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		rec.ID, rec.TPPID, rec.Service, rec.Product, string(body), string(order), rec.ConsentID, rec.RequestID, rec.SCAApproach,
		rec.CreatedAt.UnixMicro(), rec.AwaitingStart)
	if err != nil {
		return fmt.Errorf("berlingroup: store payment: %w", err)
	}
	return nil
}

// loadPayment finds the TPP's payment under its product; another TPP's is
// unknown.
func (s *service) loadPayment(ctx context.Context, r *http.Request, c *gateway.Caller) (bgPayment, error) {
	prod, err := product(r)
	if err != nil {
		return bgPayment{}, err
	}
	id := param(r, "paymentId")
	rec, err := scanPayment(s.d.DB.QueryRowContext(ctx, `SELECT `+paymentColumns+` FROM berlingroup_payments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && (rec.TPPID != c.OrgID || rec.Product != prod || rec.Service != param(r, "paymentService")) {
		return rec, refuse(http.StatusNotFound, CodeResourceUnknown, "no payment "+id+" of product "+prod+" is known for your organisation",
			"Twoja organizacja nie ma płatności "+id+" produktu "+prod)
	}
	if err != nil {
		return rec, fmt.Errorf("berlingroup: read payment: %w", err)
	}
	return rec, nil
}

// paymentColumns are the columns scanPayment reads.
const paymentColumns = `id, tpp_id, service, product, body, order_json, consent_id, request_id, sca_approach, bank_id, created_at, awaiting_start`

// scanPayment reads a payment resource's row (paymentColumns).
func scanPayment(row interface{ Scan(...any) error }) (bgPayment, error) {
	var rec bgPayment
	var body, order string
	var created int64
	if err := row.Scan(&rec.ID, &rec.TPPID, &rec.Service, &rec.Product, &body, &order,
		&rec.ConsentID, &rec.RequestID, &rec.SCAApproach, &rec.BankID, &created, &rec.AwaitingStart); err != nil {
		return rec, err
	}
	if rec.Service == serviceBulk {
		rec.Raw = json.RawMessage(body)
		json.Unmarshal([]byte(order), &rec.Bundle)
	} else {
		json.Unmarshal([]byte(body), &rec.Body)
		json.Unmarshal([]byte(order), &rec.Order)
	}
	rec.CreatedAt = time.UnixMicro(created).UTC()
	return rec, nil
}

// transactionStatus is the ISO 20022 status of the payment resource,
// following the consent until the payment exists, then the ledger.
func transactionStatus(p payment.Payment, cons consent.Consent) string {
	if p.ID == "" {
		switch cons.Status {
		case consent.StatusRejected, consent.StatusExpired, consent.StatusRevokedByPSU:
			return "RJCT"
		case consent.StatusRevokedByTPP:
			return "CANC"
		case consent.StatusAuthorised:
			return "ACTC"
		}
		return "RCVD"
	}
	switch p.Status {
	case payment.StatusSubmitted:
		return "ACCP"
	case payment.StatusScheduled:
		return "PDNG"
	case payment.StatusPending:
		return "ACSP"
	case payment.StatusDone:
		return "ACSC"
	case payment.StatusRejected:
		return "RJCT"
	case payment.StatusCancelled:
		return "CANC"
	}
	return "RCVD"
}

// state is where a payment resource is: the consent, and the domain's
// payment (single) or standing order (periodic) once initiated.
type state struct {
	cons   consent.Consent
	p      payment.Payment
	rc     payment.Recurring
	bundle payment.Bundle // bulk
}

func (st state) transactionStatus() string {
	if st.bundle.ID != "" {
		return bulkStatus(st.bundle)
	}
	if st.rc.ID != "" {
		switch st.rc.Status {
		case payment.RecurringCancelled:
			return "CANC"
		case payment.RecurringClosed:
			return "ACSC"
		}
		return "ACCP"
	}
	return transactionStatus(st.p, st.cons)
}

// update brings the resource up to date (see settle and settlePeriodic).
func (s *service) update(ctx context.Context, rec bgPayment) (state, error) {
	switch rec.Service {
	case "periodic-payments":
		return s.settlePeriodic(ctx, rec)
	case serviceBulk:
		return s.settleBulk(ctx, rec)
	}
	p, cons, err := s.settle(ctx, rec)
	return state{cons: cons, p: p}, err
}

func (s *service) getPaymentStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	rec, err := s.loadPayment(r.Context(), r, c)
	if err != nil {
		return err
	}
	st, err := s.update(r.Context(), rec)
	if err != nil {
		return err
	}
	out := map[string]any{"transactionStatus": st.transactionStatus()}
	if st.p.ID != "" && st.p.Status == payment.StatusRejected && st.p.StatusReason != "" {
		out["tppMessages"] = []TPPMessage{{Category: "ERROR", Code: CodePaymentFailed, Text: limitText(st.p.StatusReason)}}
	}
	if m := bulkMessages(st.bundle); len(m) > 0 {
		out["tppMessages"] = m
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *service) getPayment(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	rec, err := s.loadPayment(r.Context(), r, c)
	if err != nil {
		return err
	}
	st, err := s.update(r.Context(), rec)
	if err != nil {
		return err
	}
	if rec.Service == serviceBulk {
		return s.getBulk(w, rec, st)
	}
	b := rec.Body
	out := map[string]any{
		"debtorAccount": b.DebtorAccount, "instructedAmount": b.InstructedAmount, "creditorAccount": b.CreditorAccount,
		"creditorName": b.CreditorName, "transactionStatus": st.transactionStatus(),
	}
	for k, v := range map[string]string{"creditorAgent": b.CreditorAgent, "endToEndIdentification": b.EndToEndIdentification,
		"remittanceInformationUnstructured": b.RemittanceInformationUnstructured, "requestedExecutionDate": b.RequestedExecutionDate,
		"startDate": b.StartDate, "endDate": b.EndDate, "executionRule": b.ExecutionRule, "frequency": b.Frequency, "dayOfExecution": b.DayOfExecution} {
		if v != "" {
			out[k] = v
		}
	}
	if b.CreditorAddress != nil {
		out["creditorAddress"] = b.CreditorAddress
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *service) cancelPayment(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	rec, err := s.loadPayment(ctx, r, c)
	if err != nil {
		return err
	}
	st, err := s.update(ctx, rec)
	if err != nil {
		return err
	}
	p, cons := st.p, st.cons
	if st.bundle.ID != "" {
		return s.cancelBulk(ctx, w, st)
	}
	if st.rc.ID != "" {
		if _, err := s.d.Payments.CancelRecurring(ctx, st.rc.ID, "tpp", "cancelled by the TPP"); err != nil {
			return paymentRefusal(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if p.ID == "" {
		if cons.Status != consent.StatusReceived {
			return refuse(http.StatusBadRequest, CodeCancellationInvalid, "the payment was not authorised: there is nothing to cancel",
				"płatność nie została autoryzowana: nie ma czego anulować")
		}
		if _, err := s.d.OAuth.RevokeConsent(ctx, cons.ID, "tpp", "payment cancelled by the TPP before authorisation"); err != nil {
			if _, err := s.d.Consents.Reject(ctx, cons.ID, "payment cancelled by the TPP before authorisation"); err != nil {
				return consentRefusal(err)
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if _, err := s.d.Payments.Cancel(ctx, p.ID, "tpp", "cancelled by the TPP"); err != nil {
		return paymentRefusal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// paymentScaStatus is the scaStatus of the payment's authorisation.
func (s *service) paymentScaStatus(ctx context.Context, rec bgPayment) (string, error) {
	return s.scaStatus(ctx, bgConsent{RequestID: rec.RequestID, SCAApproach: rec.SCAApproach}, mustConsent(s.d.Consents.Get(ctx, rec.ConsentID)))
}

func mustConsent(c consent.Consent, _ error) consent.Consent { return c }

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (s *service) getPaymentScaStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	rec, err := s.loadPayment(r.Context(), r, c)
	if err != nil {
		return err
	}
	if param(r, "authorisationId") != rec.RequestID || rec.AwaitingStart {
		return refuse(http.StatusForbidden, CodeResourceUnknown, "no such authorisation of this payment: use the one in _links.scaStatus",
			"ta płatność nie ma takiej autoryzacji: użyj tej z _links.scaStatus")
	}
	if _, err := s.update(r.Context(), rec); err != nil {
		return err
	}
	st, err := s.paymentScaStatus(r.Context(), rec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"scaStatus": st})
}

func (s *service) getPaymentAuthorisations(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	rec, err := s.loadPayment(r.Context(), r, c)
	if err != nil {
		return err
	}
	ids := []string{rec.RequestID}
	if rec.AwaitingStart {
		ids = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"authorisationIds": ids})
}

func (s *service) startPaymentAuthorisation(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	if len(strings.TrimSpace(string(c.Body))) > 2 {
		return embeddedRefused(w, r, c)
	}
	ctx := r.Context()
	rec, err := s.loadPayment(ctx, r, c)
	if err != nil {
		return err
	}
	if rec.AwaitingStart {
		if err := s.startAwaited(ctx, "berlingroup_payments", rec.ID, rec.RequestID, rec.SCAApproach); err != nil {
			return err
		}
		rec.AwaitingStart = false
	}
	st, err := s.paymentScaStatus(ctx, rec)
	if err != nil {
		return err
	}
	if st == "finalised" || st == "failed" {
		return refuse(http.StatusConflict, CodeStatusInvalid, "the payment's authorisation is "+st, "autoryzacja płatności ma status "+st)
	}
	self := Prefix + "/v1/" + rec.Service + "/" + rec.Product + "/" + rec.ID + "/authorisations/" + rec.RequestID
	links := map[string]link{"scaStatus": {self}}
	if rec.SCAApproach == "REDIRECT" {
		links["scaRedirect"] = link{s.d.OAuth.PageURL(rec.RequestID)}
	}
	w.Header().Set("ASPSP-SCA-Approach", rec.SCAApproach)
	return writeJSON(w, http.StatusCreated, map[string]any{"scaStatus": st, "authorisationId": rec.RequestID, "_links": links})
}
