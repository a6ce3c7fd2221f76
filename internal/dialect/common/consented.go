package common

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/pis"
)

// The payment a pis privilege carries, read in each dialect's words into
// the domain's (pis.Consented): at authorize, to check it completely before
// the customer is asked, and at initiation, to compare the body with it.

// ConsentedReader reads the payment of privilege name (our name) as a
// dialect carries it; ok is false for privileges that carry none.
type ConsentedReader func(name string, raw json.RawMessage) (c pis.Consented, ok bool, err error)

// WithOrders sets the domain's order of every pis privilege that carries a
// payment (read by read), which the consent keeps and the
// initiation compares its body with. Privileges whose payment cannot be
// read keep only the raw data (CheckConsentedPayments refuses them first).
func WithOrders(read ConsentedReader, privs []consent.Privilege) {
	for i, p := range privs {
		if len(p.Payment) == 0 {
			continue
		}
		if c, ok, err := read(p.Name, p.Payment); ok && err == nil {
			privs[i].Order = &c
			// Read into the form the consent keeps now, outside the
			// consent's transaction, for the initiation not to read it.
			consent.KeepOrder(&c)
		}
	}
}

// consentedOrder is the single payment the customer authorised in priv:
// the order the consent kept, or, for a consent asked before orders were
// kept, the privilege's data read by read.
func ConsentedOrder(priv consent.Privilege, read func(json.RawMessage) (payment.Order, error)) (payment.Order, error) {
	if priv.Order != nil && len(priv.Order.Orders) == 1 && !priv.Order.Bundle {
		return priv.Order.Orders[0], nil
	}
	return read(priv.Payment)
}

// consentedBundle is the bundle the customer authorised in priv, as
// consentedOrder.
func ConsentedBundle(priv consent.Privilege, read func(json.RawMessage) ([]payment.Order, money.Amount, error)) ([]payment.Order, money.Amount, error) {
	if priv.Order != nil && priv.Order.Bundle {
		return priv.Order.Orders, priv.Order.Total, nil
	}
	return read(priv.Payment)
}

// CheckConsentedPayments checks, before a consent is created, every payment
// the privileges of scope_details carry (see pis.Service.CheckConsent);
// customerID is the customer when the request names them; names maps the
// dialect's privilege names to ours, read reads their payments. A refusal names
// the privilege and the field: scope_details.privilegeList[i].<privilege>.<field>.
func (a *Auth) CheckConsentedPayments(ctx context.Context, tppID, customerID string, sd ScopeDetails, names func(key string) (string, error), read ConsentedReader) error {
	if a == nil || a.PIS == nil {
		return nil
	}
	for i, item := range sd.PrivilegeList {
		keys := make([]string, 0, len(item))
		for k := range item {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			name, err := names(key)
			if err != nil {
				continue // toOAuth says why
			}
			at := fmt.Sprintf("scope_details.privilegeList[%d].%s", i, key)
			c, ok, err := read(name, item[key])
			if !ok {
				continue
			}
			if err == nil {
				err = a.PIS.CheckConsent(ctx, pis.ConsentCheck{TPPID: tppID, CustomerID: customerID, Privilege: name, Payment: c})
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
	if pe := fault.Find(err, "payment"); pe != nil {
		e := *pe
		if e.Field != "" {
			e.Field = at + "." + e.Field
		} else {
			e.Field = at
		}
		return Refusal(&e)
	}
	if r := Refusal(err); r != err {
		return r
	}
	return BadRequest("the payment of "+at+" cannot be read: "+err.Error(),
		"nie można odczytać płatności "+at+": "+err.Error(), nil)
}
