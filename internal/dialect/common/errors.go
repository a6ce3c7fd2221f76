package common

import (
	"errors"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// Wire codes of the refusals of account information and confirmation of
// funds, the same in both dialects.
const (
	CodeConsentUnknown       gateway.Code = "CONSENT_UNKNOWN"
	CodeConsentNotAuthorised gateway.Code = "CONSENT_NOT_AUTHORISED"
	CodeConsentRejected      gateway.Code = "CONSENT_REJECTED"
	CodeConsentExpired       gateway.Code = "CONSENT_EXPIRED"
	CodeConsentRevoked       gateway.Code = "CONSENT_REVOKED"
	CodeConsentState         gateway.Code = "CONSENT_STATE"
	CodePrivilegeMissing     gateway.Code = "PRIVILEGE_MISSING"
	CodePrivilegeUsed        gateway.Code = "PRIVILEGE_USED"
	CodeAccountNotInConsent  gateway.Code = "ACCOUNT_NOT_IN_CONSENT"
	CodeHistoryTooLong       gateway.Code = "HISTORY_TOO_LONG"
	CodeAccessLimit          gateway.Code = "ACCESS_LIMIT"
	CodeAccountUnknown       gateway.Code = "ACCOUNT_UNKNOWN"
	CodeItemUnknown          gateway.Code = "ITEM_UNKNOWN"
	CodeCurrencyMismatch     gateway.Code = "CURRENCY_MISMATCH"
	CodePageInvalid          gateway.Code = "PAGE_INVALID"
)

// Wire codes of the refusals of payment initiation, the same in both
// dialects.
const (
	CodePaymentInvalid        gateway.Code = "PAYMENT_INVALID"
	CodeInvalidSender         gateway.Code = "INVALID_SENDER_ACCOUNT"
	CodeInvalidRecipient      gateway.Code = "INVALID_RECIPIENT"
	CodeInvalidAmount         gateway.Code = "INVALID_AMOUNT"
	CodeInvalidCurrency       gateway.Code = "INVALID_CURRENCY"
	CodeInvalidTitle          gateway.Code = "INVALID_TITLE"
	CodeInvalidExecutionDate  gateway.Code = "INVALID_EXECUTION_DATE"
	CodeInvalidSystem         gateway.Code = "INVALID_SYSTEM"
	CodeInvalidTaxInfo        gateway.Code = "INVALID_TAX_INFO"
	CodeInvalidSplitPayment   gateway.Code = "INVALID_SPLIT_PAYMENT"
	CodeInvalidRecurrence     gateway.Code = "INVALID_RECURRENCE"
	CodeInvalidBundle         gateway.Code = "INVALID_BUNDLE"
	CodeInsufficientFunds     gateway.Code = "INSUFFICIENT_FUNDS"
	CodeDuplicateTransaction  gateway.Code = "DUPLICATE_TRANSACTION_ID"
	CodePaymentUnknown        gateway.Code = "PAYMENT_UNKNOWN"
	CodePaymentNotCancellable gateway.Code = "PAYMENT_NOT_CANCELLABLE"
	CodePaymentMismatch       gateway.Code = "PAYMENT_NOT_IN_CONSENT"
)

// wireError is how one domain error code appears on the wire.
type wireError struct {
	status int
	code   gateway.Code
	en, pl string // the general message; a domain error's own message, when it has one, says more
}

// consentErrors maps every consent error code to the wire: the one table
// for both dialects.
var consentErrors = map[consent.Code]wireError{
	consent.CodeUnknown:  {http.StatusForbidden, CodeConsentUnknown, "the consent is not known for your organisation", "zgoda nie jest znana dla Twojej organizacji"},
	consent.CodeNotFound: {http.StatusForbidden, CodeConsentUnknown, "the consent is not known for your organisation", "zgoda nie jest znana dla Twojej organizacji"},
	consent.CodeNotAuthorised: {http.StatusForbidden, CodeConsentNotAuthorised,
		"the customer has not authorised the consent yet", "klient nie zatwierdził jeszcze zgody"},
	consent.CodeRejected: {http.StatusForbidden, CodeConsentRejected, "the customer refused the consent", "klient odmówił zgody"},
	consent.CodeExpired: {http.StatusForbidden, CodeConsentExpired,
		"the consent has expired: ask the customer for a new one", "zgoda wygasła: poproś klienta o nową"},
	consent.CodeRevoked: {http.StatusForbidden, CodeConsentRevoked,
		"the customer revoked the consent", "klient odwołał zgodę"},
	consent.CodeRevokedByTPP: {http.StatusForbidden, CodeConsentRevoked,
		"your organisation deleted the consent", "Twoja organizacja usunęła zgodę"},
	consent.CodeAlreadyRevoked: {http.StatusForbidden, CodeConsentRevoked,
		"the consent is already revoked", "zgoda jest już odwołana"},
	consent.CodeWrongState: {http.StatusConflict, CodeConsentState,
		"the consent is not in a state that allows this", "stan zgody na to nie pozwala"},
	consent.CodePrivilegeMissing: {http.StatusForbidden, CodePrivilegeMissing,
		"the consent does not include the privilege this operation needs", "zgoda nie obejmuje przywileju wymaganego przez tę operację"},
	consent.CodeUsageExhausted: {http.StatusForbidden, CodePrivilegeUsed,
		"the single-use privilege has been used", "jednorazowy przywilej został wykorzystany"},
	consent.CodeAccountNotInConsent: {http.StatusForbidden, CodeAccountNotInConsent,
		"the consent does not cover this account", "zgoda nie obejmuje tego rachunku"},
	consent.CodeHistoryTooLong: {http.StatusBadRequest, CodeHistoryTooLong,
		"the history asked reaches further back than the consent allows (maxAllowedHistoryLong)",
		"żądana historia sięga dalej wstecz, niż pozwala zgoda (maxAllowedHistoryLong)"},
	consent.CodeAccessLimit: {http.StatusTooManyRequests, CodeAccessLimit,
		"Request limit for the requested service exceeded", "Przekroczono limit żądań dla usługi"},
	consent.CodeInvalid:           {http.StatusBadRequest, gateway.CodeFormatError, "the request is not valid", "żądanie jest niepoprawne"},
	consent.CodeInvalidPrivileges: {http.StatusBadRequest, gateway.CodeFormatError, "the privileges are not valid", "przywileje są niepoprawne"},
	consent.CodeDuplicate:         {http.StatusConflict, CodeConsentState, "the consentId was used before", "consentId był już użyty"},
}

// ledgerErrors maps the ledger's error codes to the wire.
var ledgerErrors = map[ledger.Code]wireError{
	ledger.CodeNotFound: {http.StatusNotFound, CodeAccountUnknown, "the bank has no such account", "bank nie prowadzi takiego rachunku"},
	ledger.CodeInvalid:  {http.StatusBadRequest, gateway.CodeFormatError, "the request is not valid", "żądanie jest niepoprawne"},
	ledger.CodeCurrencyMismatch: {http.StatusBadRequest, CodeCurrencyMismatch,
		"the currency is not the account's currency", "waluta nie jest walutą rachunku"},
	ledger.CodeConflict: {http.StatusConflict, CodeConsentState, "the item changed meanwhile: try again", "pozycja zmieniła się w międzyczasie: spróbuj ponownie"},
}

// paymentErrors maps the payment domain's error codes to the wire; the
// domain error's own message, naming the field, is what the TPP reads.
var paymentErrors = map[payment.Code]wireError{
	payment.CodeInvalidType:             {http.StatusBadRequest, CodePaymentInvalid, "the payment type is not known", "typ płatności jest nieznany"},
	payment.CodeInvalidRequest:          {http.StatusBadRequest, CodePaymentInvalid, "the payment order is not valid", "zlecenie płatności jest niepoprawne"},
	payment.CodeInvalidSenderAccount:    {http.StatusBadRequest, CodeInvalidSender, "the sender's account is not valid", "rachunek nadawcy jest niepoprawny"},
	payment.CodeInvalidRecipientAccount: {http.StatusBadRequest, CodeInvalidRecipient, "the recipient's account is not valid", "rachunek odbiorcy jest niepoprawny"},
	payment.CodeInvalidRecipientName:    {http.StatusBadRequest, CodeInvalidRecipient, "the recipient's name is not valid", "nazwa odbiorcy jest niepoprawna"},
	payment.CodeInvalidRecipient:        {http.StatusBadRequest, CodeInvalidRecipient, "the recipient is not valid", "odbiorca jest niepoprawny"},
	payment.CodeInvalidTitle:            {http.StatusBadRequest, CodeInvalidTitle, "the title is not valid", "tytuł jest niepoprawny"},
	payment.CodeInvalidAmount:           {http.StatusBadRequest, CodeInvalidAmount, "the amount is not valid", "kwota jest niepoprawna"},
	payment.CodeInvalidCurrency:         {http.StatusBadRequest, CodeInvalidCurrency, "the currency is not valid", "waluta jest niepoprawna"},
	payment.CodeInvalidExecutionDate:    {http.StatusBadRequest, CodeInvalidExecutionDate, "the execution date is not valid", "data realizacji jest niepoprawna"},
	payment.CodeInvalidSystem:           {http.StatusBadRequest, CodeInvalidSystem, "the clearing system cannot take this payment", "system rozliczeniowy nie przyjmie tej płatności"},
	payment.CodeInvalidTaxInfo:          {http.StatusBadRequest, CodeInvalidTaxInfo, "the tax details are not valid", "dane podatkowe są niepoprawne"},
	payment.CodeInvalidSplitPayment:     {http.StatusBadRequest, CodeInvalidSplitPayment, "the split payment details are not valid", "dane płatności podzielonej są niepoprawne"},
	payment.CodeInvalidRecurrence:       {http.StatusBadRequest, CodeInvalidRecurrence, "the recurrence is not valid", "cykl płatności jest niepoprawny"},
	payment.CodeInvalidBundle:           {http.StatusBadRequest, CodeInvalidBundle, "the bundle is not valid", "paczka przelewów jest niepoprawna"},
	payment.CodeLimitExceeded:           {http.StatusUnprocessableEntity, CodeLimitExceeded, "the payment exceeds a limit", "płatność przekracza limit"},
	payment.CodeInsufficientFunds: {http.StatusUnprocessableEntity, CodeInsufficientFunds,
		"the sender's account lacks the funds: the payment is rejected", "na rachunku nadawcy brakuje środków: płatność odrzucono"},
	payment.CodeDuplicate: {http.StatusConflict, CodeDuplicateTransaction,
		"the TPP's id of the payment was used for another payment", "identyfikator płatności TPP użyto już dla innej płatności"},
	payment.CodeNotFound: {http.StatusNotFound, CodePaymentUnknown, "the bank has no such payment of your organisation",
		"bank nie ma takiej płatności Twojej organizacji"},
	payment.CodeNotCancellable: {http.StatusUnprocessableEntity, CodePaymentNotCancellable,
		"the payment can no longer be cancelled", "płatności nie można już anulować"},
	payment.CodeNotInConsent: {http.StatusForbidden, CodePaymentMismatch,
		"the payment is not the one the customer authorised in the consent", "płatność nie jest tą, którą klient autoryzował w zgodzie"},
}

// Refusal turns a consent or ledger error into the refusal the TPP gets;
// other errors (the database failing) pass unchanged, and the gateway
// answers them with 500.
func Refusal(err error) error {
	if err == nil {
		return nil
	}
	var ref *gateway.Refusal
	if errors.As(err, &ref) {
		return ref
	}
	var ce *consent.Error
	if errors.As(err, &ce) {
		w, ok := consentErrors[ce.Code]
		if !ok {
			w = wireError{ce.Status, gateway.Code(ce.Code), ce.Message, ce.MessagePL}
		}
		r := &gateway.Refusal{Status: w.status, Code: w.code, EN: ce.In("en"), PL: ce.In("pl")}
		if ce.Code == consent.CodeAccessLimit {
			// The standard's wording first, then when the next access is possible.
			r.EN, r.PL = w.en, w.pl
			if !ce.RetryAfter.IsZero() {
				next := ce.RetryAfter.UTC().Format(time.RFC3339)
				r.EN += ": the next access without the customer present is possible at " + next
				r.PL += ": kolejny dostęp bez udziału klienta będzie możliwy o " + next
			}
		}
		if r.EN == "" {
			r.EN, r.PL = w.en, w.pl
		}
		return r
	}
	var pe *payment.Error
	if errors.As(err, &pe) {
		w, ok := paymentErrors[pe.Code]
		if !ok {
			w = wireError{http.StatusBadRequest, CodePaymentInvalid, "the payment order is not valid", "zlecenie płatności jest niepoprawne"}
		}
		r := &gateway.Refusal{Status: w.status, Code: w.code, EN: pe.Message, PL: pe.MessagePL}
		if r.EN == "" {
			r.EN, r.PL = w.en, w.pl
		}
		if pe.Field != "" {
			r.EN, r.PL = pe.Field+": "+r.EN, pe.Field+": "+r.PL
		}
		return r
	}
	var ae *access.Error
	if errors.As(err, &ae) {
		return AccessRefusal(ae)
	}
	var le *ledger.Error
	if errors.As(err, &le) {
		w, ok := ledgerErrors[le.Code]
		if !ok {
			return err
		}
		return &gateway.Refusal{Status: w.status, Code: w.code, EN: w.en, PL: w.pl, Detail: le.Message}
	}
	return err
}

// Refuse is a refusal of this package's own, with what to do.
func Refuse(status int, code gateway.Code, en, pl string) *gateway.Refusal {
	return &gateway.Refusal{Status: status, Code: code, EN: en, PL: pl}
}

func FormatError(en, pl string) *gateway.Refusal {
	return Refuse(http.StatusBadRequest, gateway.CodeFormatError, en, pl)
}

func AccountUnknown() *gateway.Refusal {
	return Refuse(http.StatusNotFound, CodeAccountUnknown,
		"the bank keeps no account with this number", "bank nie prowadzi rachunku o tym numerze")
}
