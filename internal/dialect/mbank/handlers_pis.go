package mbank

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// mBank's payment operations: decode, call the domain, encode (see pis.go
// for the rules).

// mbankBase is the request's /{bankId}/v3 prefix.
func mbankBase(r *http.Request) string {
	if bank := chi.URLParam(r, "bankId"); bank != "" {
		return "/" + bank + "/v3"
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) >= 2 && parts[1] == "v3" {
		return "/" + parts[0] + "/v3"
	}
	return "/v3"
}

func (s *pisService) mbankDomestic(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req DomesticPayment
	if err := json.Unmarshal(c.Body, &req); err != nil {
		return formatError("the body is not a domestic payment: "+err.Error(), "treść nie jest przelewem krajowym: "+err.Error())
	}
	key := r.Header.Get("TPP-Payment-ID")
	if key == "" {
		return formatError("the TPP-Payment-ID header, your id of the payment, is required", "nagłówek TPP-Payment-ID, Twój identyfikator płatności, jest wymagany")
	}
	req.TPPPaymentID = ""
	o, err := req.Order()
	if err != nil {
		return refusal(err)
	}
	o.TPPID, o.TPPTransactionID, o.RequestHash = c.OrgID, key, common.RequestHash(c.Body)
	read := mbankPrivilegeOrder
	base := mbankBase(r)
	if o.Recurrence != nil {
		rec, err := s.mbankRecurring(ctx, c, o, read)
		if err != nil {
			return err
		}
		return gateway.WriteJSON(w, http.StatusCreated, RecurringOf(rec, base+"/payments/domestic/"+rec.ID))
	}
	p, err := s.InitiatePayment(ctx, c, consent.PrivDomestic, o, read, pis.MBankNames)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusCreated, PaymentOf(p, base+"/payments/domestic/"+p.ID))
}

// mbankRecurring sets up a RECURRING domestic payment: mBank has no
// pis:recurring, its pis:domestic carries the recurrence.
func (s *pisService) mbankRecurring(ctx context.Context, c *gateway.Caller, o payment.Order, read func(json.RawMessage) (payment.Order, error)) (payment.Recurring, error) {
	return s.InitiateRecurring(ctx, c, []string{consent.PrivRecurring, consent.PrivDomestic}, o, read, pis.MBankNames)
}

func (s *pisService) mbankStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	id := chi.URLParam(r, "paymentId")
	if err := common.NeedToken(c.Grant); err != nil {
		return err
	}
	href := mbankBase(r) + "/payments/domestic/" + id
	p, err := s.FindPayment(ctx, c.OrgID, id, "")
	if payment.CodeOf(err) == payment.CodeNotFound || refusalCode(err) == common.CodePaymentUnknown {
		rec, rerr := s.FindRecurring(ctx, c.OrgID, id, "")
		if rerr != nil {
			return err
		}
		if err := s.Readable(ctx, c.Grant, c.OrgID, rec.Order.ConsentID, rec.CustomerID, consent.PrivGetPayment, common.RecurringNames(rec.ID)); err != nil {
			return err
		}
		return gateway.WriteJSON(w, http.StatusOK, RecurringOf(rec, href))
	}
	if err != nil {
		return err
	}
	if err := s.Readable(ctx, c.Grant, c.OrgID, p.ConsentID, p.CustomerID, consent.PrivGetPayment, common.PaymentNames(p.ID)); err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, PaymentOf(p, href))
}

func refusalCode(err error) gateway.Code {
	if ref, ok := err.(*gateway.Refusal); ok {
		return ref.Code
	}
	return ""
}

func (s *pisService) mbankCancel(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	id := chi.URLParam(r, "paymentId")
	href := mbankBase(r) + "/payments/domestic/" + id
	if err := common.NeedToken(c.Grant); err != nil {
		return err
	}
	if _, err := s.FindPayment(ctx, c.OrgID, id, ""); refusalCode(err) == common.CodePaymentUnknown {
		if _, rerr := s.FindRecurring(ctx, c.OrgID, id, ""); rerr == nil {
			rec, err := s.CancelRecurring(ctx, c, id, consent.PrivCancelPayment)
			if err != nil {
				return err
			}
			return gateway.WriteJSON(w, http.StatusOK, RecurringOf(rec, href))
		}
	}
	p, err := s.CancelPayment(ctx, c, id)
	if err != nil {
		return refusal(err)
	}
	return gateway.WriteJSON(w, http.StatusOK, PaymentOf(p, href))
}

func (s *pisService) mbankBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req BundleRequest
	if err := json.Unmarshal(c.Body, &req); err != nil {
		return formatError("the body is not a bundle of domestic payments: "+err.Error(), "treść nie jest paczką przelewów krajowych: "+err.Error())
	}
	key := r.Header.Get("TPP-Bundle-ID")
	if key == "" {
		return formatError("the TPP-Bundle-ID header, your id of the bundle, is required", "nagłówek TPP-Bundle-ID, Twój identyfikator paczki, jest wymagany")
	}
	orders, total, err := mbankBundleOrders(req)
	if err != nil {
		return refusal(err)
	}
	bo := payment.BundleOrder{TPPID: c.OrgID, TPPBundleID: key, Orders: orders, TotalAmount: total, RequestHash: common.RequestHash(c.Body)}
	b, err := s.InitiateBundle(ctx, c, bo, "", func(raw json.RawMessage) ([]payment.Order, money.Amount, error) {
		var priv BundlePrivilege
		if err := json.Unmarshal(raw, &priv); err != nil {
			return nil, 0, err
		}
		if priv.BundleDomesticPaymentsRequest == nil {
			return nil, 0, fmt.Errorf("pis:bundle-domestic has no bundleDomesticPaymentsRequest")
		}
		return mbankBundleOrders(*priv.BundleDomesticPaymentsRequest)
	}, pis.MBankNames)
	if err != nil {
		return err
	}
	base := mbankBase(r)
	return gateway.WriteJSON(w, http.StatusCreated, BundleOf(b, base+"/payments/bundle/domestic/"+b.ID,
		func(id string) string { return base + "/payments/domestic/" + id }, true))
}

func (s *pisService) mbankBundleStatus(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	b, err := s.ReadBundle(r.Context(), c, chi.URLParam(r, "bundleId"), "")
	if err != nil {
		return err
	}
	base := mbankBase(r)
	return gateway.WriteJSON(w, http.StatusOK, BundleOf(b, base+"/payments/bundle/domestic/"+b.ID,
		func(id string) string { return base + "/payments/domestic/" + id }, r.URL.Query().Get("transactionsIncluded") == "true"))
}

func (s *pisService) mbankCancelBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	// What was cancelled before, to say what this cancellation did.
	before, err := s.FindBundle(ctx, c.OrgID, chi.URLParam(r, "bundleId"), "")
	if err != nil {
		return refusal(err)
	}
	b, refused, err := s.CancelBundle(ctx, c, before.ID)
	if err != nil {
		return refusal(err)
	}
	cancelled := countCancelled(b) - countCancelled(before)
	base := mbankBase(r)
	return gateway.WriteJSON(w, http.StatusOK, CancelledBundleOf(b, max(cancelled, 0), refused, base+"/payments/bundle/domestic/"+b.ID,
		func(id string) string { return base + "/payments/domestic/" + id }))
}

func countCancelled(b payment.Bundle) int {
	n := 0
	for _, p := range b.Payments {
		if p.Status == payment.StatusCancelled {
			n++
		}
	}
	return n
}
