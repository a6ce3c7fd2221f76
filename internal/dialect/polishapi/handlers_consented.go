package polishapi

import (
	"encoding/json"
	"fmt"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/common"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// ConsentedPayment reads the payment of privilege name (our name) as
// PolishAPI carries it; ok is false for privileges that carry none.
func ConsentedPayment(name string, raw json.RawMessage) (c pis.Consented, ok bool, err error) {
	if t, single := polishTypes[name]; single {
		var priv PaymentOrder
		if err := json.Unmarshal(raw, &priv); err != nil {
			return c, true, err
		}
		o, err := priv.Order(t)
		return pis.Consented{Orders: []payment.Order{o}}, true, err
	}
	switch name {
	case consent.PrivBundle:
		var priv PaymentsBundleRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return c, true, err
		}
		orders, total, err := polishBundleOrders(priv)
		return pis.Consented{Orders: orders, Total: total, Bundle: true, SenderRequired: true}, true, err
	case consent.PrivRecurring:
		var priv RecurringPaymentRequest
		if err := json.Unmarshal(raw, &priv); err != nil {
			return c, true, err
		}
		o, err := polishRecurringOrder(priv)
		return pis.Consented{Orders: []payment.Order{o}}, true, err
	}
	return c, false, nil
}

// polishTypes are the PolishAPI single-payment privileges and their types.
var polishTypes = map[string]payment.Type{
	consent.PrivDomestic: payment.Domestic, consent.PrivEEA: payment.EEA, consent.PrivNonEEA: payment.NonEEA, consent.PrivTax: payment.Tax,
}

// polishRecurringOrder reads PolishAPI's recurring payment (the body of
// recurring, the data of pis:recurring).
func polishRecurringOrder(req RecurringPaymentRequest) (payment.Order, error) {
	t, ok := PaymentTypeOf(req.TypeOfPayment)
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

func polishBundleOrders(req PaymentsBundleRequest) ([]payment.Order, money.Amount, error) {
	t, ok := PaymentTypeOf(req.TypeOfTransfers)
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
			return nil, 0, common.BundleItemError(i, err)
		}
		orders = append(orders, o)
	}
	return orders, total, nil
}
