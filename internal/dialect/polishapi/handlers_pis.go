package polishapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// PolishAPI's payment operations: decode, call the domain, encode (see
// pis.go for the rules).

func (s *pisService) polishPayment(t payment.Type, privilege string) gateway.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		var req PaymentOrder
		if err := decode(c, &req); err != nil {
			return err
		}
		o, err := req.Order(t)
		if err != nil {
			return refusal(err)
		}
		o.TPPID, o.RequestHash = c.OrgID, RequestHash(c.Body)
		if req.RequestHeader != nil {
			o.CallbackURL = req.RequestHeader.CallbackURL
		}
		if err := s.CheckCallback(r.Context(), c, o.CallbackURL); err != nil {
			return err
		}
		p, err := s.InitiatePayment(r.Context(), c, privilege, o, func(raw json.RawMessage) (payment.Order, error) {
			var priv PaymentOrder
			if err := json.Unmarshal(raw, &priv); err != nil {
				return payment.Order{}, err
			}
			return priv.Order(t)
		}, pis.PolishAPINames)
		if err != nil {
			return err
		}
		return gateway.WriteJSON(w, http.StatusOK, AddPaymentResponse{ResponseHeader: s.header(c), PaymentID: p.ID,
			GeneralStatus: string(p.Status), DetailedStatus: DetailedStatus(p)})
	}
}

func (s *pisService) polishBundle(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req PaymentsBundleRequest
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
		RequestHash: RequestHash(c.Body)}
	callback := ""
	if req.RequestHeader != nil {
		callback = req.RequestHeader.CallbackURL
	}
	if err := s.CheckCallback(ctx, c, callback); err != nil {
		return err
	}
	b, err := s.InitiateBundle(ctx, c, bo, callback, func(raw json.RawMessage) ([]payment.Order, money.Amount, error) {
		var priv PaymentsBundleRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return nil, 0, err
		}
		return polishBundleOrders(priv)
	}, pis.PolishAPINames)
	if err != nil {
		return err
	}
	out := PaymentsBundleResponse{ResponseHeader: s.header(c), BundleID: b.ID, BundleStatus: string(b.Status),
		BundleDetailedStatus: BundleDetailedStatus(b)}
	for _, p := range b.Payments {
		out.Payments = append(out.Payments, InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *pisService) polishRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req RecurringPaymentRequest
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
	o.TPPID, o.TPPTransactionID, o.RequestHash = c.OrgID, req.TPPRecurringPaymentID, RequestHash(c.Body)
	if req.RequestHeader != nil {
		o.CallbackURL = req.RequestHeader.CallbackURL
	}
	if err := s.CheckCallback(ctx, c, o.CallbackURL); err != nil {
		return err
	}
	rec, err := s.InitiateRecurring(ctx, c, []string{consent.PrivRecurring}, o, func(raw json.RawMessage) (payment.Order, error) {
		var priv RecurringPaymentRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return payment.Order{}, err
		}
		return polishRecurringOrder(priv)
	}, pis.PolishAPINames)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, RecurringPaymentResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		Recurrence: RecurrenceOf(rec.Recurrence), RecurringPaymentStatus: string(rec.Status),
		RecurringPaymentDetailedStatus: RecurringDetailedStatus(rec)})
}

func (s *pisService) polishGetPayment(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req PaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	p, err := s.ReadPayment(r.Context(), c.Grant, c.OrgID, req.PaymentID, req.TPPTransactionID)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, GetPaymentResponse{ResponseHeader: s.header(c), PaymentInfo: InfoOf(p)})
}

func (s *pisService) polishGetMultiple(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req PaymentsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len(req.Payments) == 0 || len(req.Payments) > maxPerPage {
		return formatError(fmt.Sprintf("payments lists 1 to %d payments, each with its accessToken", maxPerPage),
			fmt.Sprintf("payments zawiera od 1 do %d płatności, każdą z jej accessToken", maxPerPage))
	}
	if s.Tokens == nil {
		return gateway.NotImplemented("getMultiplePayments")
	}
	thumb := ""
	if c.QWACInfo != nil {
		thumb = c.QWACInfo.FingerprintS256
	}
	out := PaymentsResponse{ResponseHeader: s.header(c)}
	for i, e := range req.Payments {
		g, err := s.Tokens.Authenticate(r.Context(), e.AccessToken, c.OrgID, thumb)
		if err != nil {
			return entryError(i, refusal(err))
		}
		p, err := s.ReadPayment(r.Context(), &g, c.OrgID, e.PaymentID, e.TPPTransactionID)
		if err != nil {
			return entryError(i, err)
		}
		out.Payments = append(out.Payments, InfoOf(p))
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
	var req BundleRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	b, err := s.ReadBundle(r.Context(), c, req.BundleID, req.TPPBundleID)
	if err != nil {
		return err
	}
	out := BundleResponse{ResponseHeader: s.header(c), BundleID: b.ID, TPPBundleID: b.TPPBundleID, BundleStatus: string(b.Status),
		BundleDetailedStatus: BundleDetailedStatus(b)}
	if req.TransactionsIncluded {
		for _, p := range b.Payments {
			out.Payments = append(out.Payments, InfoOf(p))
		}
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *pisService) polishGetRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req RecurringPaymentStatusRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := common.NeedToken(c.Grant); err != nil {
		return err
	}
	rec, err := s.FindRecurring(r.Context(), c.OrgID, req.RecurringPaymentID, req.TPPRecurringPaymentID)
	if err != nil {
		return err
	}
	if err := s.Readable(r.Context(), c.Grant, c.OrgID, rec.Order.ConsentID, rec.CustomerID, consent.PrivGetRecurringPayment,
		common.RecurringNames(rec.ID, rec.TPPRecurringID)); err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, RecurringPaymentStatusResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		TPPRecurringPaymentID:  rec.TPPRecurringID,
		RecurringPaymentStatus: string(rec.Status), RecurringPaymentDetailedStatus: RecurringDetailedStatus(rec)})
}

func (s *pisService) polishCancel(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	ctx := r.Context()
	var req CancelPaymentsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	var left []payment.Payment
	switch {
	case req.PaymentID != "" && req.BundleID != "":
		return formatError("give paymentId or bundleId, not both", "podaj paymentId albo bundleId, nie oba")
	case req.PaymentID != "":
		p, err := s.CancelPayment(ctx, c, req.PaymentID)
		if payment.CodeOf(err) == payment.CodeNotCancellable {
			left = []payment.Payment{p}
		} else if err != nil {
			return refusal(err)
		}
	case req.BundleID != "":
		var err error
		if _, left, err = s.CancelBundle(ctx, c, req.BundleID); err != nil {
			return refusal(err)
		}
	default:
		return formatError("give paymentId or bundleId", "podaj paymentId albo bundleId")
	}
	if len(left) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	out := CancelPaymentsResponse{ResponseHeader: s.header(c)}
	for _, p := range left {
		out.Payments = append(out.Payments, InfoOf(p))
	}
	return gateway.WriteJSON(w, http.StatusOK, out)
}

func (s *pisService) polishCancelRecurring(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
	var req CancelRecurringPaymentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.RecurringPaymentID == "" {
		return formatError("recurringPaymentId is required", "recurringPaymentId jest wymagany")
	}
	rec, err := s.CancelRecurring(r.Context(), c, req.RecurringPaymentID, consent.PrivCancelRecurringPayment)
	if err != nil {
		return err
	}
	return gateway.WriteJSON(w, http.StatusOK, CancelRecurringPaymentResponse{ResponseHeader: s.header(c), RecurringPaymentID: rec.ID,
		TPPRecurringPaymentID: rec.TPPRecurringID, RecurringPaymentStatus: string(rec.Status),
		RecurringPaymentDetailedStatus: RecurringDetailedStatus(rec)})
}
