package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// The payment a pis privilege carries, read in each dialect's words into
// the domain's (pis.Consented): at authorize, to check it completely before
// the customer is asked, and at initiation, to compare the body with it.

// polishTypes are the PolishAPI single-payment privileges and their types.
var polishTypes = map[string]payment.Type{
	consent.PrivDomestic: payment.Domestic, consent.PrivEEA: payment.EEA, consent.PrivNonEEA: payment.NonEEA, consent.PrivTax: payment.Tax,
}

// consentedPayment reads the payment of privilege name (our name) as
// dialect carries it; ok is false for privileges that carry none.
func consentedPayment(dialect, name string, raw json.RawMessage) (c pis.Consented, ok bool, err error) {
	if dialect == consent.DialectMBank {
		switch name {
		case consent.PrivDomestic, consent.PrivRecurring:
			o, err := mbankPrivilegeOrder(raw)
			return pis.Consented{Orders: []payment.Order{o}}, true, err
		case consent.PrivBundle:
			var priv mbank.BundlePrivilege
			if err := json.Unmarshal(raw, &priv); err != nil {
				return c, true, err
			}
			if priv.BundleDomesticPaymentsRequest == nil {
				return c, true, fmt.Errorf("pis:bundle-domestic has no bundleDomesticPaymentsRequest")
			}
			orders, total, err := mbankBundleOrders(*priv.BundleDomesticPaymentsRequest)
			return pis.Consented{Orders: orders, Total: total, Bundle: true}, true, err
		}
		return c, false, nil
	}
	if t, single := polishTypes[name]; single {
		var priv polishapi.PaymentOrder
		if err := json.Unmarshal(raw, &priv); err != nil {
			return c, true, err
		}
		o, err := priv.Order(t)
		return pis.Consented{Orders: []payment.Order{o}}, true, err
	}
	switch name {
	case consent.PrivBundle:
		var priv polishapi.PaymentsBundleRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return c, true, err
		}
		orders, total, err := polishBundleOrders(priv)
		return pis.Consented{Orders: orders, Total: total, Bundle: true, SenderRequired: true}, true, err
	case consent.PrivRecurring:
		var priv polishapi.RecurringPaymentRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return c, true, err
		}
		o, err := polishRecurringOrder(priv)
		return pis.Consented{Orders: []payment.Order{o}}, true, err
	}
	return c, false, nil
}

// mbankPrivilegeOrder reads mBank's pis:domestic (and pis:recurring).
func mbankPrivilegeOrder(raw json.RawMessage) (payment.Order, error) {
	var priv mbank.DomesticPrivilege
	if err := json.Unmarshal(raw, &priv); err != nil {
		return payment.Order{}, err
	}
	if priv.DomesticPaymentRequest == nil {
		return payment.Order{}, fmt.Errorf("pis:domestic has no domesticPaymentRequest")
	}
	return priv.DomesticPaymentRequest.Order()
}

// polishRecurringOrder reads PolishAPI's recurring payment (the body of
// recurring, the data of pis:recurring).
func polishRecurringOrder(req polishapi.RecurringPaymentRequest) (payment.Order, error) {
	t, ok := polishapi.PaymentTypeOf(req.TypeOfPayment)
	pay := req.Payment()
	if !ok || pay == nil {
		return payment.Order{}, &payment.Error{Code: payment.CodeInvalidRecurrence, Field: "typeOfPayment",
			Message:   fmt.Sprintf("typeOfPayment %q needs its payment (domesticPayment, EEAPayment, nonEEAPayment or taxPayment)", req.TypeOfPayment),
			MessagePL: fmt.Sprintf("typeOfPayment %q wymaga swojej płatności (domesticPayment, EEAPayment, nonEEAPayment lub taxPayment)", req.TypeOfPayment)}
	}
	o, err := pay.Order(t)
	rc := req.Recurrence.Recurrence()
	o.Recurrence = &rc
	return o, err
}

// withOrders sets the domain's order of every pis privilege that carries a
// payment (read as dialect carries it), which the consent keeps and the
// initiation compares its body with. Privileges whose payment cannot be
// read keep only the raw data (checkConsentedPayments refuses them first).
func withOrders(dialect string, privs []consent.Privilege) {
	for i, p := range privs {
		if len(p.Payment) == 0 {
			continue
		}
		if c, ok, err := consentedPayment(dialect, p.Name, p.Payment); ok && err == nil {
			privs[i].Order = &c
		}
	}
}

// consentedOrder is the single payment the customer authorised in priv:
// the order the consent kept, or, for a consent asked before orders were
// kept, the privilege's data read by read.
func consentedOrder(priv consent.Privilege, read func(json.RawMessage) (payment.Order, error)) (payment.Order, error) {
	if priv.Order != nil && len(priv.Order.Orders) == 1 && !priv.Order.Bundle {
		return priv.Order.Orders[0], nil
	}
	return read(priv.Payment)
}

// consentedBundle is the bundle the customer authorised in priv, as
// consentedOrder.
func consentedBundle(priv consent.Privilege, read func(json.RawMessage) ([]payment.Order, money.Amount, error)) ([]payment.Order, money.Amount, error) {
	if priv.Order != nil && priv.Order.Bundle {
		return priv.Order.Orders, priv.Order.Total, nil
	}
	return read(priv.Payment)
}

// checkConsentedPayments checks, before a consent is created, every payment
// the privileges of scope_details carry (see pis.Service.CheckConsent);
// customerID is the customer when the request names them. A refusal names
// the privilege and the field: scope_details.privilegeList[i].<privilege>.<field>.
func (a authAPI) checkConsentedPayments(ctx context.Context, dialect, tppID, customerID string, sd polishScopeDetails) error {
	if a.pis == nil {
		return nil
	}
	for i, item := range sd.PrivilegeList {
		keys := make([]string, 0, len(item))
		for k := range item {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			name, err := consent.NormalizePrivilegeName(dialect, key)
			if err != nil {
				continue // toOAuth says why
			}
			at := fmt.Sprintf("scope_details.privilegeList[%d].%s", i, key)
			c, ok, err := consentedPayment(dialect, name, item[key])
			if !ok {
				continue
			}
			if err == nil {
				err = a.pis.CheckConsent(ctx, pis.ConsentCheck{TPPID: tppID, CustomerID: customerID, Privilege: name, Payment: c})
			}
			if err != nil {
				return consentedRefusal(at, err)
			}
		}
	}
	return nil
}

// consentedRefusal is the refusal of the payment of the privilege at.
func consentedRefusal(at string, err error) error {
	var pe *payment.Error
	if errors.As(err, &pe) {
		e := *pe
		if e.Field != "" {
			e.Field = at + "." + e.Field
		} else {
			e.Field = at
		}
		return refusal(&e)
	}
	if r := refusal(err); r != err {
		return r
	}
	return badRequest("the payment of "+at+" cannot be read: "+err.Error(),
		"nie można odczytać płatności "+at+": "+err.Error(), nil)
}
