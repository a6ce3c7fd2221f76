package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// PolishAPI's payment operations: decode, call the domain, encode (see
// pis.go for the rules).

func (s *pisService) polishPayment(t payment.Type, privilege string) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req polishapi.PaymentOrder
		if err := decode(c, &req); err != nil {
			return err
		}
		o, err := req.Order(t)
		if err != nil {
			return refusal(err)
		}
		o.TPPID, o.RequestHash = c.OrgID, polishapi.RequestHash(c.Body)
		if req.RequestHeader != nil {
			o.CallbackURL = req.RequestHeader.CallbackURL
		}
		if err := s.checkCallback(r.Context(), c, o.CallbackURL); err != nil {
			return err
		}
		p, err := s.initiatePayment(r.Context(), c, privilege, o, func(raw json.RawMessage) (payment.Order, error) {
			var priv polishapi.PaymentOrder
			if err := json.Unmarshal(raw, &priv); err != nil {
				return payment.Order{}, err
			}
			return priv.Order(t)
		}, pis.PolishAPINames)
		if err != nil {
			return err
		}
		return gateway.WriteJSON(w, http.StatusOK, polishapi.AddPaymentResponse{ResponseHeader: s.header(c), PaymentID: p.ID,
			GeneralStatus: string(p.Status), DetailedStatus: polishapi.DetailedStatus(p)})
	}
}

func (s *pisService) polishBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req polishapi.PaymentsBundleRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	orders, total, err := polishBundleOrders(req)
	if err != nil {
		return refusal(err)
	}
	if req.TPPBundleID == "" {
		return formatError("tppBundleId is required", "tppBundleId jest wymagany")
	}
	bo := payment.BundleOrder{TPPID: c.OrgID, TPPBundleID: req.TPPBundleID, Orders: orders, TotalAmount: total,
		RequestHash: polishapi.RequestHash(c.Body)}
	callback := ""
	if req.RequestHeader != nil {
		callback = req.RequestHeader.CallbackURL
	}
	if err := s.checkCallback(ctx, c, callback); err != nil {
		return err
	}
	b, err := s.initiateBundle(ctx, c, bo, callback, func(raw json.RawMessage) ([]payment.Order, money.Amount, error) {
		var priv polishapi.PaymentsBundleRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return nil, 0, err
		}
		return polishBundleOrders(priv)
	}, pis.PolishAPINames)
	if err != nil {
		return err
	}
	out := polishapi.PaymentsBundleResponse{ResponseHeader: s.header(c), BundleID: b.ID, BundleStatus: string(b.Status),
		BundleDetailedStatus: polishapi.BundleDetailedStatus(b)}
	for _, p := range b.Payments {
		out.Payments = append(out.Payments, polishapi.InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func polishBundleOrders(req polishapi.PaymentsBundleRequest) ([]payment.Order, money.Amount, error) {
	t, ok := polishapi.PaymentTypeOf(req.TypeOfTransfers)
	if !ok {
		return nil, 0, &payment.Error{Code: payment.CodeInvalidBundle, Field: "typeOfTransfers",
			Message:   fmt.Sprintf("typeOfTransfers %q is not domestic, EEA, nonEEA or tax", req.TypeOfTransfers),
			MessagePL: fmt.Sprintf("typeOfTransfers %q to nie domestic, EEA, nonEEA ani tax", req.TypeOfTransfers)}
	}
	total, err := money.Parse(req.TransfersTotalAmount)
	if err != nil {
		return nil, 0, &payment.Error{Code: payment.CodeInvalidBundle, Field: "transfersTotalAmount",
			Message: "transfersTotalAmount is not an amount such as 100.00", MessagePL: "transfersTotalAmount nie jest kwotą, np. 100.00"}
	}
	var orders []payment.Order
	for i, tr := range req.Transfers() {
		o, err := tr.Order(t)
		if err != nil {
			return nil, 0, bundleItemError(i, err)
		}
		orders = append(orders, o)
	}
	return orders, total, nil
}

func bundleItemError(i int, err error) error {
	if pe, ok := err.(*payment.Error); ok {
		e := *pe
		e.Field = fmt.Sprintf("transfers[%d].%s", i, e.Field)
		return &e
	}
	return err
}

// initiateBundle initiates a bundle under its consent.
func (s *pisService) initiateBundle(ctx context.Context, c *gateway.Caller, bo payment.BundleOrder, callback string,
	read func(json.RawMessage) ([]payment.Order, money.Amount, error), names pis.FieldNames) (payment.Bundle, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Bundle{}, err
	}
	b, err := s.pis.InitiateBundle(ctx, pis.BundleRequest{Grant: grant(c), Bundle: bo, Callback: callback,
		Consented: func(priv consent.Privilege) ([]payment.Order, money.Amount, error) {
			return consentedBundle(priv, read)
		}, Names: names})
	return b, refusal(err)
}

func (s *pisService) polishRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req polishapi.RecurringPaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	o, err := polishRecurringOrder(req)
	if err != nil {
		return refusal(err)
	}
	if req.TPPRecurringPaymentID == "" {
		return formatError("tppRecurringPaymentId is required", "tppRecurringPaymentId jest wymagany")
	}
	o.TPPID, o.TPPTransactionID, o.RequestHash = c.OrgID, req.TPPRecurringPaymentID, polishapi.RequestHash(c.Body)
	if req.RequestHeader != nil {
		o.CallbackURL = req.RequestHeader.CallbackURL
	}
	if err := s.checkCallback(ctx, c, o.CallbackURL); err != nil {
		return err
	}
	rec, err := s.initiateRecurring(ctx, c, []string{consent.PrivRecurring}, o, func(raw json.RawMessage) (payment.Order, error) {
		var priv polishapi.RecurringPaymentRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return payment.Order{}, err
		}
		return polishRecurringOrder(priv)
	}, pis.PolishAPINames)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.RecurringPaymentResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		Recurrence: polishapi.RecurrenceOf(rec.Recurrence), RecurringPaymentStatus: string(rec.Status),
		RecurringPaymentDetailedStatus: polishapi.RecurringDetailedStatus(rec)})
}

// initiateRecurring sets up a recurring payment under its consent, with
// the first of privileges the consent holds.
func (s *pisService) initiateRecurring(ctx context.Context, c *gateway.Caller, privileges []string, o payment.Order,
	read func(json.RawMessage) (payment.Order, error), names pis.FieldNames) (payment.Recurring, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Recurring{}, err
	}
	rec, err := s.pis.InitiateRecurring(ctx, pis.Request{Grant: grant(c), Privileges: privileges, Order: o,
		Consented: func(priv consent.Privilege) (payment.Order, error) { return consentedOrder(priv, read) }, Names: names})
	return rec, refusal(err)
}

func (s *pisService) polishGetPayment(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.PaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	p, err := s.readPayment(r.Context(), c.Grant, c.OrgID, req.PaymentID, req.TPPTransactionID)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.GetPaymentResponse{ResponseHeader: s.header(c), PaymentInfo: polishapi.InfoOf(p)})
}

// readPayment finds a payment and checks that the grant may read it.
func (s *pisService) readPayment(ctx context.Context, g *gateway.Grant, tppID, id, key string) (payment.Payment, error) {
	if err := needToken(g); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.findPayment(ctx, tppID, id, key)
	if err != nil {
		return p, err
	}
	return p, s.readable(ctx, g, tppID, p.ConsentID, p.CustomerID, consent.PrivGetPayment, paymentNames(p.ID, p.TPPTransactionID))
}

func (s *pisService) polishGetMultiple(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.PaymentsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len(req.Payments) == 0 || len(req.Payments) > maxPerPage {
		return formatError(fmt.Sprintf("payments lists 1 to %d payments, each with its accessToken", maxPerPage),
			fmt.Sprintf("payments zawiera od 1 do %d płatności, każdą z jej accessToken", maxPerPage))
	}
	if s.tokens == nil {
		return gateway.NotImplemented("getMultiplePayments")
	}
	thumb := ""
	if c.QWACInfo != nil {
		thumb = c.QWACInfo.FingerprintS256
	}
	out := polishapi.PaymentsResponse{ResponseHeader: s.header(c)}
	for i, e := range req.Payments {
		g, err := s.tokens.Authenticate(r.Context(), e.AccessToken, c.OrgID, thumb)
		if err != nil {
			return entryError(i, refusal(err))
		}
		p, err := s.readPayment(r.Context(), &g, c.OrgID, e.PaymentID, e.TPPTransactionID)
		if err != nil {
			return entryError(i, err)
		}
		out.Payments = append(out.Payments, polishapi.InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

// entryError names the entry of getMultiplePayments a refusal is about.
func entryError(i int, err error) error {
	if ref, ok := err.(*gateway.Refusal); ok {
		r := *ref
		r.EN, r.PL = fmt.Sprintf("payments[%d]: %s", i, r.EN), fmt.Sprintf("payments[%d]: %s", i, r.PL)
		return &r
	}
	return err
}

func (s *pisService) polishGetBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.BundleRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	b, err := s.readBundle(r.Context(), c, req.BundleID, req.TPPBundleID)
	if err != nil {
		return err
	}
	out := polishapi.BundleResponse{ResponseHeader: s.header(c), BundleID: b.ID, TPPBundleID: b.TPPBundleID, BundleStatus: string(b.Status),
		BundleDetailedStatus: polishapi.BundleDetailedStatus(b)}
	if req.TransactionsIncluded {
		for _, p := range b.Payments {
			out.Payments = append(out.Payments, polishapi.InfoOf(p))
		}
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *pisService) readBundle(ctx context.Context, c *gateway.Caller, id, key string) (payment.Bundle, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Bundle{}, err
	}
	b, err := s.findBundle(ctx, c.OrgID, id, key)
	if err != nil {
		return b, err
	}
	consentID, customerID := bundleOwner(b)
	return b, s.readable(ctx, c.Grant, c.OrgID, consentID, customerID, consent.PrivGetBundle, bundleNames(b.ID, b.TPPBundleID))
}

func (s *pisService) polishGetRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.RecurringPaymentStatusRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := needToken(c.Grant); err != nil {
		return err
	}
	rec, err := s.findRecurring(r.Context(), c.OrgID, req.RecurringPaymentID, req.TPPRecurringPaymentID)
	if err != nil {
		return err
	}
	if err := s.readable(r.Context(), c.Grant, c.OrgID, rec.Order.ConsentID, rec.CustomerID, consent.PrivGetRecurringPayment,
		recurringNames(rec.ID, rec.TPPRecurringID)); err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.RecurringPaymentStatusResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		TPPRecurringPaymentID:  rec.TPPRecurringID,
		RecurringPaymentStatus: string(rec.Status), RecurringPaymentDetailedStatus: polishapi.RecurringDetailedStatus(rec)})
}

func (s *pisService) polishCancel(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req polishapi.CancelPaymentsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	var left []payment.Payment
	switch {
	case req.PaymentID != "" && req.BundleID != "":
		return formatError("give paymentId or bundleId, not both", "podaj paymentId albo bundleId, nie oba")
	case req.PaymentID != "":
		p, err := s.cancelPayment(ctx, c, req.PaymentID)
		if payment.CodeOf(err) == payment.CodeNotCancellable {
			left = []payment.Payment{p}
		} else if err != nil {
			return refusal(err)
		}
	case req.BundleID != "":
		var err error
		if _, left, err = s.cancelBundle(ctx, c, req.BundleID); err != nil {
			return refusal(err)
		}
	default:
		return formatError("give paymentId or bundleId", "podaj paymentId albo bundleId")
	}
	if len(left) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	out := polishapi.CancelPaymentsResponse{ResponseHeader: s.header(c)}
	for _, p := range left {
		out.Payments = append(out.Payments, polishapi.InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

// cancelPayment cancels a payment under a consent with pis:cancelPayment
// naming it. A payment that cannot be cancelled is returned with the
// CodeNotCancellable error.
func (s *pisService) cancelPayment(ctx context.Context, c *gateway.Caller, id string) (payment.Payment, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Payment{}, err
	}
	p, err := s.findPayment(ctx, c.OrgID, id, "")
	if err != nil {
		return p, err
	}
	if err := s.privileged(ctx, c.Grant, c.OrgID, p.CustomerID, consent.PrivCancelPayment, cancelPaymentNames(p.ID)); err != nil {
		return p, err
	}
	cancelled, err := s.payments.Cancel(ctx, p.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
	if payment.CodeOf(err) == payment.CodeNotCancellable {
		if cur, gerr := s.payments.Get(ctx, p.ID); gerr == nil {
			p = cur
		}
		return p, err
	}
	return cancelled, err
}

func (s *pisService) cancelBundle(ctx context.Context, c *gateway.Caller, id string) (payment.Bundle, []payment.Payment, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Bundle{}, nil, err
	}
	b, err := s.findBundle(ctx, c.OrgID, id, "")
	if err != nil {
		return b, nil, err
	}
	_, customerID := bundleOwner(b)
	if err := s.privileged(ctx, c.Grant, c.OrgID, customerID, consent.PrivCancelPayment, cancelBundleNames(b.ID)); err != nil {
		return b, nil, err
	}
	return s.payments.CancelBundle(ctx, b.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
}

func (s *pisService) polishCancelRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req polishapi.CancelRecurringPaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.RecurringPaymentID == "" {
		return formatError("recurringPaymentId is required", "recurringPaymentId jest wymagany")
	}
	rec, err := s.cancelRecurring(r.Context(), c, req.RecurringPaymentID, consent.PrivCancelRecurringPayment)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, polishapi.CancelRecurringPaymentResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		TPPRecurringPaymentID: rec.TPPRecurringID, RecurringPaymentStatus: string(rec.Status),
		RecurringPaymentDetailedStatus: polishapi.RecurringDetailedStatus(rec)})
}

func (s *pisService) cancelRecurring(ctx context.Context, c *gateway.Caller, id, privilege string) (payment.Recurring, error) {
	if err := needToken(c.Grant); err != nil {
		return payment.Recurring{}, err
	}
	rec, err := s.findRecurring(ctx, c.OrgID, id, "")
	if err != nil {
		return rec, err
	}
	if err := s.privileged(ctx, c.Grant, c.OrgID, rec.CustomerID, privilege, cancelRecurringNames(rec.ID)); err != nil {
		return rec, err
	}
	rec, err = s.payments.CancelRecurring(ctx, rec.ID, "tpp", "cancelled by "+c.OrgID+" at the customer's request")
	return rec, refusal(err)
}
