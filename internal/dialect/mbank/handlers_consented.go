package mbank

import (
	"encoding/json"
	"fmt"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// ConsentedPayment reads the payment of privilege name (our name) as mBank
// carries it; ok is false for privileges that carry none.
func ConsentedPayment(name string, raw json.RawMessage) (c pis.Consented, ok bool, err error) {
	switch name {
	case consent.PrivDomestic, consent.PrivRecurring:
		o, err := mbankPrivilegeOrder(raw)
		return pis.Consented{Orders: []payment.Order{o}}, true, err
	case consent.PrivBundle:
		var priv BundlePrivilege
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

// mbankPrivilegeOrder reads mBank's pis:domestic (and pis:recurring).
func mbankPrivilegeOrder(raw json.RawMessage) (payment.Order, error) {
	var priv DomesticPrivilege
	if err := json.Unmarshal(raw, &priv); err != nil {
		return payment.Order{}, err
	}
	if priv.DomesticPaymentRequest == nil {
		return payment.Order{}, fmt.Errorf("pis:domestic has no domesticPaymentRequest")
	}
	return priv.DomesticPaymentRequest.Order()
}

func mbankBundleOrders(req BundleRequest) ([]payment.Order, money.Amount, error) {
	total, err := money.Parse(req.TransfersTotalAmount)
	if err != nil {
		return nil, 0, &payment.Error{Code: payment.CodeInvalidBundle, Field: "transfersTotalAmount",
			Message: "transfersTotalAmount is not an amount such as 100.00", MessagePL: "transfersTotalAmount nie jest kwotą, np. 100.00"}
	}
	var orders []payment.Order
	for i, tr := range req.Transfers {
		o, err := tr.Order()
		if err != nil {
			return nil, 0, common.BundleItemError(i, err)
		}
		if o.Recurrence != nil {
			return nil, 0, common.BundleItemError(i, &payment.Error{Code: payment.CodeInvalidBundle, Field: "executionMode",
				Message: "a bundle holds no recurring payments", MessagePL: "paczka nie zawiera płatności cyklicznych"})
		}
		orders = append(orders, o)
	}
	return orders, total, nil
}
