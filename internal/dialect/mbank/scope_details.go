package mbank

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
)

// A token answer's scope_details in mBank's names and values: privileges
// as mBank names them (ais-accounts:accounts, ais:transactions with its
// transactionStatus list, pis:bundle-domestic, pis:payment,
// pis:cancelBundlePayments, ...), enums upper-case (SINGLE, MULTIPLE,
// PSD2_REGULATORY), scopeGroupType as mBank sends it (AIS_ACCOUNTS, AIS,
// PIS) and the TPP's consentId.

// wireNames are mBank's names of our privileges, where they differ.
var wireNames = map[string]string{
	consent.PrivGetAccounts:          "ais-accounts:accounts",
	consent.PrivGetAccount:           "ais:accountDetails",
	consent.PrivGetTransactionDetail: "ais:transactionDetails",
	consent.PrivBundle:               "pis:bundle-domestic",
	consent.PrivGetPayment:           "pis:payment",
}

// historyStatuses are the transactionStatus values of mBank's
// ais:transactions that our history privileges stand for, in mBank's order.
var historyStatuses = []struct{ priv, status string }{
	{consent.PrivGetTransactionsDone, StatusDone},
	{consent.PrivGetTransactionsPending, StatusPending},
	{consent.PrivGetTransactionsRejected, StatusRejected},
	{consent.PrivGetTransactionsCancelled, StatusCancelled},
	{consent.PrivGetTransactionsScheduled, StatusScheduled},
	{consent.PrivGetHolds, StatusHold},
}

// WireName is mBank's name of privilege p: our history privileges are all
// ais:transactions; a cancellation naming a bundle is
// pis:cancelBundlePayments.
func WireName(p consent.Privilege) string {
	if n, ok := wireNames[p.Name]; ok {
		return n
	}
	if consent.IsHistory(p.Name) {
		return "ais:transactions"
	}
	if p.Name == consent.PrivCancelPayment {
		var ids struct {
			AspspBundleID string `json:"aspspBundleId"`
			BundleID      string `json:"bundleId"`
		}
		json.Unmarshal(p.Payment, &ids)
		if ids.AspspBundleID != "" || ids.BundleID != "" {
			return "pis:cancelBundlePayments"
		}
	}
	return p.Name
}

// idFields are the members of a pis privilege's data that name what it is
// about, echoed in the answer.
var idFields = []string{"aspspPaymentId", "aspspBundleId", "paymentId", "bundleId", "tppPaymentId", "tppBundleId"}

// ScopeDetailsOut renders consent c for a token answer; accountID gives
// mBank's accountId of an account number ("" when unknown), used in its
// /accounts/{accountId} paths.
func ScopeDetailsOut(c consent.Consent, accountID func(nrb string) string) map[string]any {
	type entry = map[string]any
	byAccount := map[string]entry{}
	var order []string
	for _, p := range c.Privileges {
		e, ok := byAccount[p.AccountNumber]
		if !ok {
			e = entry{}
			if p.AccountNumber != "" {
				e["accountNumber"] = p.AccountNumber
				if id := accountID(p.AccountNumber); id != "" {
					e["accountId"] = id
				}
			}
			byAccount[p.AccountNumber] = e
			order = append(order, p.AccountNumber)
		}
		name := WireName(p)
		if name == "ais:transactions" {
			body, _ := e[name].(map[string]any)
			if body == nil {
				body = map[string]any{"scopeUsageLimit": UpperSnake(p.ScopeUsageLimit), "transactionStatus": []string{}}
				e[name] = body
			}
			if p.MaxAllowedHistoryLong > 0 {
				body["maxAllowedHistoryLong"] = p.MaxAllowedHistoryLong
			}
			for _, h := range historyStatuses {
				if h.priv == p.Name {
					body["transactionStatus"] = append(body["transactionStatus"].([]string), h.status)
				}
			}
			continue
		}
		body := map[string]any{}
		if p.ScopeUsageLimit != "" {
			body["scopeUsageLimit"] = UpperSnake(p.ScopeUsageLimit)
		}
		if p.MaxAllowedHistoryLong > 0 {
			body["maxAllowedHistoryLong"] = p.MaxAllowedHistoryLong
		}
		var data map[string]any
		if json.Unmarshal(p.Payment, &data) == nil {
			for _, k := range idFields {
				if v, ok := data[k].(string); ok && v != "" {
					body[k] = v
				}
			}
		}
		e[name] = body
	}
	list := make([]entry, 0, len(order))
	for _, k := range order {
		e := byAccount[k]
		if t, ok := e["ais:transactions"].(map[string]any); ok {
			st := t["transactionStatus"].([]string)
			slices.SortStableFunc(st, func(a, b string) int { return statusRank(a) - statusRank(b) })
		}
		list = append(list, e)
	}
	policy := c.ThrottlingPolicy
	if policy == "" {
		policy = "psd2Regulatory"
	}
	return map[string]any{
		"privilegeList":    list,
		"scopeGroupType":   UpperSnake(string(c.Scope)),
		"consentId":        c.TPPConsentID,
		"scopeTimeLimit":   gateway.FormatDateTime(c.ScopeTimeLimit),
		"throttlingPolicy": UpperSnake(policy),
	}
}

func statusRank(s string) int {
	return slices.IndexFunc(historyStatuses, func(h struct{ priv, status string }) bool { return h.status == s })
}

// UpperSnake spells an enum value as mBank does: psd2Regulatory →
// PSD2_REGULATORY, single → SINGLE, ais-accounts → AIS_ACCOUNTS; a value
// already upper-case stays as it is.
func UpperSnake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '-' || r == ' ':
			b.WriteByte('_')
			continue
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])):
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
