package mbank

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/psd2bank/psd2bank/internal/consent"
)

// mBank's privilege names and ours.
var privilegeNames = map[string]string{
	"ais-accounts:accounts":      consent.PrivGetAccounts,
	"ais:accountDetails":         consent.PrivGetAccount,
	"ais:transactions":           consent.PrivGetTransactionsDone,
	"ais:transactionDetails":     consent.PrivGetTransactionDetail,
	"pis:domestic":               consent.PrivDomestic,
	"pis:bundle-domestic":        consent.PrivBundle,
	"pis:payment":                consent.PrivGetPayment,
	"pis:cancelPayment":          consent.PrivCancelPayment,
	"pis:cancelBundlePayments":   consent.PrivCancelPayment,
	"pis:recurring":              consent.PrivRecurring,
	"pis:cancelRecurringPayment": consent.PrivCancelRecurringPayment,
}

// privilegeStatuses are mBank's transactionStatus values and the
// privileges they stand for.
var privilegeStatuses = map[string]string{
	StatusDone:      consent.PrivGetTransactionsDone,
	StatusPending:   consent.PrivGetTransactionsPending,
	StatusRejected:  consent.PrivGetTransactionsRejected,
	StatusCancelled: consent.PrivGetTransactionsCancelled,
	StatusScheduled: consent.PrivGetTransactionsScheduled,
	StatusHold:      consent.PrivGetHolds,
}

// PrivilegeName returns our name of an mBank privilege. "ais:transactions"
// maps to ais:getTransactionsDone; Privileges expands its
// transactionStatus list as well. Names mBank shares with PolishAPI pass
// unchanged.
func PrivilegeName(name string) (string, error) {
	if n, ok := privilegeNames[name]; ok {
		return n, nil
	}
	return consent.NormalizePrivilegeName(consent.DialectMBank, name)
}

// privilegeBody is what mBank puts in a privilege object.
type privilegeBody struct {
	consent.PrivilegeBody
	TransactionStatus []string `json:"transactionStatus"`
}

// Privileges expands one key of an mBank privilegeList item into our
// privileges: "ais:transactions" with transactionStatus
// ["DONE","PENDING","HOLD"] gives ais:getTransactionsDone,
// ais:getTransactionsPending and ais:getHolds, each with its
// maxAllowedHistoryLong; the other names map one to one.
func Privileges(accountNumber, name string, body json.RawMessage) ([]consent.Privilege, error) {
	n, err := PrivilegeName(name)
	if err != nil {
		return nil, err
	}
	var b privilegeBody
	if err := consent.ReadPrivilegeBody(name, body, &b); err != nil {
		return nil, err
	}
	if name != "ais:transactions" || len(b.TransactionStatus) == 0 {
		return []consent.Privilege{consent.MakePrivilege(n, accountNumber, b.PrivilegeBody, body)}, nil
	}
	var out []consent.Privilege
	for _, st := range b.TransactionStatus {
		pn, ok := privilegeStatuses[strings.ToUpper(st)]
		if !ok {
			return nil, consent.InvalidPrivileges(
				"unknown transactionStatus %q in ais:transactions: use DONE, PENDING, REJECTED, CANCELLED, SCHEDULED or HOLD",
				"nieznany transactionStatus %q w ais:transactions: użyj DONE, PENDING, REJECTED, CANCELLED, SCHEDULED lub HOLD", st)
		}
		if !slices.ContainsFunc(out, func(p consent.Privilege) bool { return p.Name == pn }) {
			out = append(out, consent.MakePrivilege(pn, accountNumber, b.PrivilegeBody, nil))
		}
	}
	return out, nil
}
