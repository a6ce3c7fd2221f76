package consent

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/psd2bank/psd2bank/internal/payment"
)

// Privilege names, as PolishAPI spells them. mBank's names are mapped to
// these by the dialect (internal/dialect/mbank).
const (
	PrivGetAccounts              = "ais-accounts:getAccounts"
	PrivGetAccount               = "ais:getAccount"
	PrivGetTransactionsDone      = "ais:getTransactionsDone"
	PrivGetTransactionsPending   = "ais:getTransactionsPending"
	PrivGetTransactionsRejected  = "ais:getTransactionsRejected"
	PrivGetTransactionsCancelled = "ais:getTransactionsCancelled"
	PrivGetTransactionsScheduled = "ais:getTransactionsScheduled"
	PrivGetHolds                 = "ais:getHolds"
	PrivGetTransactionDetail     = "ais:getTransactionDetail"
	PrivDomestic                 = "pis:domestic"
	PrivEEA                      = "pis:EEA"
	PrivNonEEA                   = "pis:nonEEA"
	PrivTax                      = "pis:tax"
	PrivBundle                   = "pis:bundle"
	PrivRecurring                = "pis:recurring"
	PrivGetPayment               = "pis:getPayment"
	PrivGetBundle                = "pis:getBundle"
	PrivGetRecurringPayment      = "pis:getRecurringPayment"
	PrivCancelPayment            = "pis:cancelPayment"
	PrivCancelRecurringPayment   = "pis:cancelRecurringPayment"
)

// Usage limits of a privilege.
const (
	UsageSingle   = "single"
	UsageMultiple = "multiple"
)

// MaxHistoryDays is the largest maxAllowedHistoryLong (4 years).
const MaxHistoryDays = 1460

// Dialects.
const (
	DialectPolishAPI   = "polishapi"
	DialectMBank       = "mbank"
	DialectBerlinGroup = "berlingroup"
)

// Privilege is one privilege of a consent, for one account where it is per
// account.
type Privilege struct {
	// Name is the PolishAPI spelling, e.g. "ais:getTransactionsDone".
	Name string
	// AccountNumber is the 26-digit NRB the privilege covers; "" where the
	// privilege is not per account (or, before authorisation, where the
	// customer chooses the accounts).
	AccountNumber string
	// ScopeUsageLimit is "single" or "multiple".
	ScopeUsageLimit string
	// MaxAllowedHistoryLong is how many days back history privileges reach
	// (1..1460); 0 for the others.
	MaxAllowedHistoryLong int
	// Payment is, for pis privileges, the privilege's data (the payment)
	// exactly as the TPP sent it.
	Payment json.RawMessage
	// Order is, for pis privileges, the payment in the domain's words as
	// the dialect read it when the TPP asked for the consent; nil for
	// consents asked before it was kept (Payment is read then).
	Order *payment.Consented
	// Uses counts the accesses that consumed the privilege.
	Uses int
}

// privilegeKinds says, for each known privilege, its scope and nature.
var privilegeKinds = map[string]struct {
	scope      Scope
	perAccount bool // one per account
	history    bool // needs maxAllowedHistoryLong
	initiation bool // a payment initiation (pis)
	cancel     bool // a cancellation (pis)
}{
	PrivGetAccounts:              {scope: ScopeAISAccounts},
	PrivGetAccount:               {scope: ScopeAIS, perAccount: true},
	PrivGetTransactionsDone:      {scope: ScopeAIS, perAccount: true, history: true},
	PrivGetTransactionsPending:   {scope: ScopeAIS, perAccount: true, history: true},
	PrivGetTransactionsRejected:  {scope: ScopeAIS, perAccount: true, history: true},
	PrivGetTransactionsCancelled: {scope: ScopeAIS, perAccount: true, history: true},
	PrivGetTransactionsScheduled: {scope: ScopeAIS, perAccount: true, history: true},
	PrivGetHolds:                 {scope: ScopeAIS, perAccount: true, history: true},
	PrivGetTransactionDetail:     {scope: ScopeAIS, perAccount: true},
	PrivDomestic:                 {scope: ScopePIS, initiation: true},
	PrivEEA:                      {scope: ScopePIS, initiation: true},
	PrivNonEEA:                   {scope: ScopePIS, initiation: true},
	PrivTax:                      {scope: ScopePIS, initiation: true},
	PrivBundle:                   {scope: ScopePIS, initiation: true},
	PrivRecurring:                {scope: ScopePIS, initiation: true},
	PrivGetPayment:               {scope: ScopePIS},
	PrivGetBundle:                {scope: ScopePIS},
	PrivGetRecurringPayment:      {scope: ScopePIS},
	PrivCancelPayment:            {scope: ScopePIS, cancel: true},
	PrivCancelRecurringPayment:   {scope: ScopePIS, cancel: true},
}

// IsPerAccount tells whether a privilege is given per account.
func IsPerAccount(name string) bool { return privilegeKinds[name].perAccount }

// IsHistory tells whether a privilege reads history and so carries
// maxAllowedHistoryLong.
func IsHistory(name string) bool { return privilegeKinds[name].history }

// IsInitiation tells whether a privilege initiates a payment.
func IsInitiation(name string) bool { return privilegeKinds[name].initiation }

// NormalizePrivilegeName returns name if it is one of our privileges (the
// PolishAPI spelling); spec names the specification the caller reads, for
// the refusal. A dialect with other names maps them to ours first (mBank's
// are in internal/dialect/mbank).
func NormalizePrivilegeName(spec, name string) (string, error) {
	if _, ok := privilegeKinds[name]; ok {
		return name, nil
	}
	return "", newError(CodeInvalidPrivileges,
		"unknown privilege %q: use one of the privileges of the %s specification",
		"nieznany przywilej %q: użyj jednego z przywilejów specyfikacji %s", name, spec)
}

// PrivilegeBody is what a privilege object of scope_details carries for
// every privilege: its usage limit and, for history, how far back.
type PrivilegeBody struct {
	ScopeUsageLimit       string `json:"scopeUsageLimit"`
	MaxAllowedHistoryLong int    `json:"maxAllowedHistoryLong"`
}

// FromPolishAPI builds our privilege from one key of a PolishAPI
// privilegeList item: its name, the item's accountNumber and the key's value
// (which, for pis privileges, is kept as the payment data).
func FromPolishAPI(accountNumber, name string, body json.RawMessage) (Privilege, error) {
	n, err := NormalizePrivilegeName(DialectPolishAPI, name)
	if err != nil {
		return Privilege{}, err
	}
	var b PrivilegeBody
	if err := unmarshalBody(name, body, &b); err != nil {
		return Privilege{}, err
	}
	return makePrivilege(n, accountNumber, b, body), nil
}

// ReadPrivilegeBody reads the object of privilege name into v (a
// PrivilegeBody, or a dialect's struct with more fields); an empty body
// leaves v as it is.
func ReadPrivilegeBody(name string, body json.RawMessage, v any) error {
	return unmarshalBody(name, body, v)
}

// MakePrivilege is privilege name (ours) for account with b's usage limit
// and history; a pis privilege keeps data as its payment.
func MakePrivilege(name, account string, b PrivilegeBody, data json.RawMessage) Privilege {
	return makePrivilege(name, account, b, data)
}

// InvalidPrivileges is the refusal of privileges that cannot be read.
func InvalidPrivileges(en, pl string, args ...any) *Error {
	return newError(CodeInvalidPrivileges, en, pl, args...)
}

func unmarshalBody(name string, body json.RawMessage, b any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, b); err != nil {
		return newError(CodeInvalidPrivileges,
			"the value of privilege %q is not a valid object: %v",
			"wartość przywileju %q nie jest poprawnym obiektem: %v", name, err)
	}
	return nil
}

func makePrivilege(name, account string, b PrivilegeBody, body json.RawMessage) Privilege {
	p := Privilege{Name: name, AccountNumber: account, ScopeUsageLimit: strings.ToLower(b.ScopeUsageLimit)}
	if IsHistory(name) {
		p.MaxAllowedHistoryLong = b.MaxAllowedHistoryLong
	}
	if privilegeKinds[name].scope == ScopePIS && len(bytes.TrimSpace(body)) > 0 {
		p.Payment = append(json.RawMessage(nil), body...)
	}
	return p
}

// NormalizeNRB removes spaces and a "PL" prefix from an account number.
func NormalizeNRB(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) == 28 && strings.EqualFold(s[:2], "PL") {
		s = s[2:]
	}
	return s
}

// validNRB tells whether s is 26 digits (the checksum is the ledger's
// business: an unknown account is simply never the customer's).
func validNRB(s string) bool {
	if len(s) != 26 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validatePrivileges checks that privileges fit the scope and normalizes
// them (usage limits, account numbers) in place.
func validatePrivileges(scope Scope, privs []Privilege) error {
	if len(privs) == 0 {
		return newError(CodeInvalidPrivileges,
			"scope_details.privilegeList is empty: name at least one privilege of scope %s",
			"scope_details.privilegeList jest pusta: podaj co najmniej jeden przywilej zakresu %s", scope)
	}
	initiations, cancels := 0, 0
	for i := range privs {
		p := &privs[i]
		kind, ok := privilegeKinds[p.Name]
		if !ok {
			return newError(CodeInvalidPrivileges, "unknown privilege %q", "nieznany przywilej %q", p.Name)
		}
		if kind.scope != scope {
			return newError(CodeInvalidPrivileges,
				"privilege %s does not belong to scope %s: ask for it in a consent of scope %s",
				"przywilej %s nie należy do zakresu %s: poproś o niego w zgodzie o zakresie %s", p.Name, scope, kind.scope)
		}
		p.AccountNumber = NormalizeNRB(p.AccountNumber)
		if p.AccountNumber != "" && !validNRB(p.AccountNumber) {
			return newError(CodeInvalidPrivileges,
				"account number %q of privilege %s is not a 26-digit NRB",
				"numer rachunku %q przywileju %s nie jest 26-cyfrowym NRB", p.AccountNumber, p.Name)
		}
		if p.AccountNumber != "" && !kind.perAccount && scope != ScopePIS {
			return newError(CodeInvalidPrivileges,
				"privilege %s is not given per account: leave accountNumber out",
				"przywilej %s nie jest udzielany per rachunek: pomiń accountNumber", p.Name)
		}
		switch p.ScopeUsageLimit = strings.ToLower(p.ScopeUsageLimit); p.ScopeUsageLimit {
		case "":
			p.ScopeUsageLimit = UsageMultiple
			if kind.initiation || kind.cancel {
				p.ScopeUsageLimit = UsageSingle
			}
		case UsageSingle, UsageMultiple:
		default:
			return newError(CodeInvalidPrivileges,
				"scopeUsageLimit %q of privilege %s is neither single nor multiple",
				"scopeUsageLimit %q przywileju %s to ani single, ani multiple", p.ScopeUsageLimit, p.Name)
		}
		if kind.history {
			if p.MaxAllowedHistoryLong < 1 || p.MaxAllowedHistoryLong > MaxHistoryDays {
				return newError(CodeInvalidPrivileges,
					"maxAllowedHistoryLong of %s must be 1 to %d days, not %d",
					"maxAllowedHistoryLong przywileju %s musi wynosić od 1 do %d dni, a nie %d", p.Name, MaxHistoryDays, p.MaxAllowedHistoryLong)
			}
		} else {
			p.MaxAllowedHistoryLong = 0
		}
		if kind.initiation {
			initiations++
			if p.ScopeUsageLimit != UsageSingle {
				return newError(CodeInvalidPrivileges,
					"a payment privilege (%s) is single-use: set scopeUsageLimit to single",
					"przywilej płatniczy (%s) jest jednorazowy: ustaw scopeUsageLimit na single", p.Name)
			}
			if len(bytes.TrimSpace(p.Payment)) == 0 || !json.Valid(p.Payment) {
				return newError(CodeInvalidPrivileges,
					"privilege %s must carry the payment data (a JSON object)",
					"przywilej %s musi zawierać dane płatności (obiekt JSON)", p.Name)
			}
		}
		if kind.cancel {
			cancels++
		}
		if scope == ScopePIS && len(p.Payment) > 0 && !json.Valid(p.Payment) {
			return newError(CodeInvalidPrivileges, "the data of privilege %s is not valid JSON", "dane przywileju %s nie są poprawnym JSON-em", p.Name)
		}
	}
	if scope == ScopePIS && (initiations > 1 || initiations == 0 && cancels == 0) {
		return newError(CodeInvalidPrivileges,
			"a pis consent needs exactly one payment privilege (pis:domestic, pis:EEA, pis:nonEEA, pis:tax, pis:bundle or pis:recurring), found %d: ask for one payment per consent",
			"zgoda pis wymaga dokładnie jednego przywileju płatniczego (pis:domestic, pis:EEA, pis:nonEEA, pis:tax, pis:bundle lub pis:recurring), podano %d: proś o jedną płatność na zgodę", initiations)
	}
	return nil
}

// NamedAccounts returns the distinct account numbers that privileges name,
// in order of appearance.
func NamedAccounts(privs []Privilege) []string {
	var out []string
	for _, p := range privs {
		if a := NormalizeNRB(p.AccountNumber); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// MaxHistory returns the largest maxAllowedHistoryLong of privs (0 if none).
func MaxHistory(privs []Privilege) int {
	m := 0
	for _, p := range privs {
		m = max(m, p.MaxAllowedHistoryLong)
	}
	return m
}

// SenderAccounts returns the account numbers found under "sender" (or
// "debtor") objects of pis payment data, at any depth: the accounts the
// payments would be debited from.
func SenderAccounts(privs []Privilege) []string {
	var out []string
	for _, p := range privs {
		if len(p.Payment) == 0 {
			continue
		}
		var v any
		if json.Unmarshal(p.Payment, &v) != nil {
			continue
		}
		collectSenders(v, false, 0, &out)
	}
	return out
}

func collectSenders(v any, inSender bool, depth int, out *[]string) {
	if depth > 16 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if inSender && (k == "accountNumber" || k == "iban") {
				if s, ok := e.(string); ok {
					if n := NormalizeNRB(s); n != "" && !slices.Contains(*out, n) {
						*out = append(*out, n)
					}
				}
				continue
			}
			collectSenders(e, inSender || k == "sender" || k == "debtor" || k == "debtorAccount", depth+1, out)
		}
	case []any:
		for _, e := range t {
			collectSenders(e, inSender, depth+1, out)
		}
	}
}
