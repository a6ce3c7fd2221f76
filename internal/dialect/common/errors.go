package common

import (
	"errors"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/ais"
	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/fault"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/oauth"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/tpp"
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

// Wire is how one domain code appears on the wire of PolishAPI and mBank:
// the HTTP status, the wire code, and the general words for a refusal
// that carries none of its own (a ledger refusal always shows these; its
// own words go to the detail).
type Wire struct {
	Status int
	Code   gateway.Code
	EN, PL string
}

// Errors is PolishAPI's and mBank's table of every domain code
// (fault.Codes; TestEveryCodeHasAWireAnswer checks none is missing): the
// one place that chooses their statuses and wire codes. The two dialects
// answer the same codes today; one that must differ gets its own table.
//
// Not found: a consent that is not the TPP's is 403 CONSENT_UNKNOWN (both
// standards treat an unknown consent as a refused authorisation); every
// other resource that is not found (account, item, payment, authorization
// request, registry entry) is 404.
var Errors = map[fault.Code]Wire{
	access.CodeBlocked:                  {http.StatusForbidden, CodeAccessBlocked, "", ""},
	access.CodeDayLimit:                 {http.StatusForbidden, gateway.Code("pesel_day_limit"), "", ""},
	access.CodeHotlineOnly:              {http.StatusForbidden, gateway.Code("hotline_only"), "", ""},
	access.CodeInvalid:                  {http.StatusForbidden, gateway.Code("invalid"), "", ""},
	access.CodeLimitExceeded:            {http.StatusUnprocessableEntity, CodeLimitExceeded, "", ""},
	access.CodeNotActivated:             {http.StatusForbidden, CodeAccessNotActivated, "", ""},
	access.CodeNotChangeable:            {http.StatusForbidden, gateway.Code("not_changeable"), "", ""},
	access.CodeNotFound:                 {http.StatusNotFound, gateway.Code("not_found"), "", ""},
	access.CodeNotVerified:              {http.StatusForbidden, gateway.Code("not_verified"), "", ""},
	access.CodeNotYours:                 {http.StatusForbidden, gateway.Code("not_yours"), "", ""},
	access.CodeUnchanged:                {http.StatusForbidden, gateway.Code("unchanged"), "", ""},
	access.CodeUnknownAccount:           {http.StatusNotFound, CodeAccountUnknown, "", ""},
	access.CodeVerificationFailed:       {http.StatusForbidden, gateway.Code("verification_failed"), "", ""},
	access.CodeWrongPESEL:               {http.StatusForbidden, gateway.Code("wrong_pesel"), "", ""},
	ais.CodeAccountUnknown:              {http.StatusNotFound, CodeAccountUnknown, "", ""},
	ais.CodeInvalid:                     {http.StatusBadRequest, gateway.CodeFormatError, "", ""},
	ais.CodeItemUnknown:                 {http.StatusNotFound, CodeItemUnknown, "", ""},
	ais.CodePageInvalid:                 {http.StatusBadRequest, CodePageInvalid, "", ""},
	ais.CodeTokenMissing:                {http.StatusUnauthorized, gateway.CodeTokenMissing, "", ""},
	consent.CodeAccessLimit:             {http.StatusTooManyRequests, CodeAccessLimit, "Request limit for the requested service exceeded", "Przekroczono limit żądań dla usługi"},
	consent.CodeAccountNotInConsent:     {http.StatusForbidden, CodeAccountNotInConsent, "the consent does not cover this account", "zgoda nie obejmuje tego rachunku"},
	consent.CodeAlreadyRevoked:          {http.StatusForbidden, CodeConsentRevoked, "the consent is already revoked", "zgoda jest już odwołana"},
	consent.CodeDuplicate:               {http.StatusConflict, CodeConsentState, "the consentId was used before", "consentId był już użyty"},
	consent.CodeExpired:                 {http.StatusForbidden, CodeConsentExpired, "the consent has expired: ask the customer for a new one", "zgoda wygasła: poproś klienta o nową"},
	consent.CodeHistoryTooLong:          {http.StatusBadRequest, CodeHistoryTooLong, "the history asked reaches further back than the consent allows (maxAllowedHistoryLong)", "żądana historia sięga dalej wstecz, niż pozwala zgoda (maxAllowedHistoryLong)"},
	consent.CodeInvalid:                 {http.StatusBadRequest, gateway.CodeFormatError, "the request is not valid", "żądanie jest niepoprawne"},
	consent.CodeInvalidPrivileges:       {http.StatusBadRequest, gateway.CodeFormatError, "the privileges are not valid", "przywileje są niepoprawne"},
	consent.CodeNotAuthorised:           {http.StatusForbidden, CodeConsentNotAuthorised, "the customer has not authorised the consent yet", "klient nie zatwierdził jeszcze zgody"},
	consent.CodeNotFound:                {http.StatusForbidden, CodeConsentUnknown, "the consent is not known for your organisation", "zgoda nie jest znana dla Twojej organizacji"},
	consent.CodePrivilegeMissing:        {http.StatusForbidden, CodePrivilegeMissing, "the consent does not include the privilege this operation needs", "zgoda nie obejmuje przywileju wymaganego przez tę operację"},
	consent.CodeRejected:                {http.StatusForbidden, CodeConsentRejected, "the customer refused the consent", "klient odmówił zgody"},
	consent.CodeRevoked:                 {http.StatusForbidden, CodeConsentRevoked, "the customer revoked the consent", "klient odwołał zgodę"},
	consent.CodeRevokedByTPP:            {http.StatusForbidden, CodeConsentRevoked, "your organisation deleted the consent", "Twoja organizacja usunęła zgodę"},
	consent.CodeUnknown:                 {http.StatusForbidden, CodeConsentUnknown, "the consent is not known for your organisation", "zgoda nie jest znana dla Twojej organizacji"},
	consent.CodeUsageExhausted:          {http.StatusForbidden, CodePrivilegeUsed, "the single-use privilege has been used", "jednorazowy przywilej został wykorzystany"},
	consent.CodeWrongState:              {http.StatusConflict, CodeConsentState, "the consent is not in a state that allows this", "stan zgody na to nie pozwala"},
	ledger.CodeInsufficientFunds:        {http.StatusUnprocessableEntity, CodeInsufficientFunds, "the account lacks the funds", "na rachunku brakuje środków"},
	ledger.CodeConflict:                 {http.StatusConflict, CodeConsentState, "the item changed meanwhile: try again", "pozycja zmieniła się w międzyczasie: spróbuj ponownie"},
	ledger.CodeCurrencyMismatch:         {http.StatusBadRequest, CodeCurrencyMismatch, "the currency is not the account's currency", "waluta nie jest walutą rachunku"},
	ledger.CodeInvalid:                  {http.StatusBadRequest, gateway.CodeFormatError, "the request is not valid", "żądanie jest niepoprawne"},
	ledger.CodeNotFound:                 {http.StatusNotFound, CodeAccountUnknown, "the bank has no such account", "bank nie prowadzi takiego rachunku"},
	oauth.AccessDenied:                  {http.StatusForbidden, gateway.Code("access_denied"), "", ""},
	oauth.AccountNotOwned:               {http.StatusForbidden, gateway.Code("account_not_owned"), "", ""},
	oauth.InvalidClient:                 {http.StatusUnauthorized, gateway.Code("invalid_client"), "", ""},
	oauth.InvalidGrant:                  {http.StatusBadRequest, gateway.Code("invalid_grant"), "", ""},
	oauth.InvalidRequest:                {http.StatusBadRequest, gateway.Code("invalid_request"), "", ""},
	oauth.InvalidScope:                  {http.StatusBadRequest, gateway.Code("invalid_scope"), "", ""},
	oauth.RequestDecided:                {http.StatusConflict, gateway.Code("request_decided"), "", ""},
	oauth.RequestExpired:                {http.StatusGone, gateway.Code("request_expired"), "", ""},
	oauth.RequestUnknown:                {http.StatusNotFound, gateway.Code("request_unknown"), "", ""},
	oauth.TokenExpired:                  {http.StatusUnauthorized, gateway.Code("token_expired"), "", ""},
	oauth.TokenInvalid:                  {http.StatusUnauthorized, gateway.Code("token_invalid"), "", ""},
	oauth.TokenWrongCertificate:         {http.StatusUnauthorized, gateway.Code("token_wrong_certificate"), "", ""},
	oauth.UnauthorizedClient:            {http.StatusBadRequest, gateway.Code("unauthorized_client"), "", ""},
	oauth.UnsupportedGrantType:          {http.StatusBadRequest, gateway.Code("unsupported_grant_type"), "", ""},
	oauth.UnsupportedResponseType:       {http.StatusBadRequest, gateway.Code("unsupported_response_type"), "", ""},
	oauth.WrongCustomer:                 {http.StatusForbidden, gateway.Code("wrong_customer"), "", ""},
	payment.CodeDuplicate:               {http.StatusConflict, CodeDuplicateTransaction, "the TPP's id of the payment was used for another payment", "identyfikator płatności TPP użyto już dla innej płatności"},
	payment.CodeInsufficientFunds:       {http.StatusUnprocessableEntity, CodeInsufficientFunds, "the sender's account lacks the funds: the payment is rejected", "na rachunku nadawcy brakuje środków: płatność odrzucono"},
	payment.CodeInvalidAmount:           {http.StatusBadRequest, CodeInvalidAmount, "the amount is not valid", "kwota jest niepoprawna"},
	payment.CodeInvalidBundle:           {http.StatusBadRequest, CodeInvalidBundle, "the bundle is not valid", "paczka przelewów jest niepoprawna"},
	payment.CodeInvalidCurrency:         {http.StatusBadRequest, CodeInvalidCurrency, "the currency is not valid", "waluta jest niepoprawna"},
	payment.CodeInvalidExecutionDate:    {http.StatusBadRequest, CodeInvalidExecutionDate, "the execution date is not valid", "data realizacji jest niepoprawna"},
	payment.CodeInvalidRecipient:        {http.StatusBadRequest, CodeInvalidRecipient, "the recipient is not valid", "odbiorca jest niepoprawny"},
	payment.CodeInvalidRecipientAccount: {http.StatusBadRequest, CodeInvalidRecipient, "the recipient's account is not valid", "rachunek odbiorcy jest niepoprawny"},
	payment.CodeInvalidRecipientName:    {http.StatusBadRequest, CodeInvalidRecipient, "the recipient's name is not valid", "nazwa odbiorcy jest niepoprawna"},
	payment.CodeInvalidRecurrence:       {http.StatusBadRequest, CodeInvalidRecurrence, "the recurrence is not valid", "cykl płatności jest niepoprawny"},
	payment.CodeInvalidRequest:          {http.StatusBadRequest, CodePaymentInvalid, "the payment order is not valid", "zlecenie płatności jest niepoprawne"},
	payment.CodeInvalidSenderAccount:    {http.StatusBadRequest, CodeInvalidSender, "the sender's account is not valid", "rachunek nadawcy jest niepoprawny"},
	payment.CodeInvalidSplitPayment:     {http.StatusBadRequest, CodeInvalidSplitPayment, "the split payment details are not valid", "dane płatności podzielonej są niepoprawne"},
	payment.CodeInvalidSystem:           {http.StatusBadRequest, CodeInvalidSystem, "the clearing system cannot take this payment", "system rozliczeniowy nie przyjmie tej płatności"},
	payment.CodeInvalidTaxInfo:          {http.StatusBadRequest, CodeInvalidTaxInfo, "the tax details are not valid", "dane podatkowe są niepoprawne"},
	payment.CodeInvalidTitle:            {http.StatusBadRequest, CodeInvalidTitle, "the title is not valid", "tytuł jest niepoprawny"},
	payment.CodeInvalidType:             {http.StatusBadRequest, CodePaymentInvalid, "the payment type is not known", "typ płatności jest nieznany"},
	payment.CodeLimitExceeded:           {http.StatusUnprocessableEntity, CodeLimitExceeded, "the payment exceeds a limit", "płatność przekracza limit"},
	payment.CodeNotCancellable:          {http.StatusUnprocessableEntity, CodePaymentNotCancellable, "the payment can no longer be cancelled", "płatności nie można już anulować"},
	payment.CodeNotFound:                {http.StatusNotFound, CodePaymentUnknown, "the bank has no such payment of your organisation", "bank nie ma takiej płatności Twojej organizacji"},
	payment.CodeNotInConsent:            {http.StatusForbidden, CodePaymentMismatch, "the payment is not the one the customer authorised in the consent", "płatność nie jest tą, którą klient autoryzował w zgodzie"},
	sca.CodeBusy:                        {http.StatusServiceUnavailable, gateway.Code("BUSY"), "", ""},
	sca.CodeCodeFailed:                  {http.StatusForbidden, gateway.Code("CODE_FAILED"), "", ""},
	sca.CodeExpired:                     {http.StatusForbidden, gateway.Code("EXPIRED"), "", ""},
	sca.CodeInvalid:                     {http.StatusBadRequest, gateway.Code("INVALID"), "", ""},
	sca.CodeLocked:                      {http.StatusForbidden, gateway.Code("LOCKED"), "", ""},
	sca.CodeNoPhone:                     {http.StatusForbidden, gateway.Code("NO_PHONE"), "", ""},
	sca.CodeNotFound:                    {http.StatusNotFound, gateway.Code("NOT_FOUND"), "", ""},
	sca.CodeNothingPending:              {http.StatusForbidden, gateway.Code("NOTHING_PENDING"), "", ""},
	sca.CodeUnknownLogin:                {http.StatusNotFound, gateway.Code("UNKNOWN_LOGIN"), "", ""},
	sca.CodeUsed:                        {http.StatusForbidden, gateway.Code("USED"), "", ""},
	sca.CodeWrongCode:                   {http.StatusForbidden, gateway.Code("WRONG_CODE"), "", ""},
	sca.CodeWrongCredentials:            {http.StatusForbidden, gateway.Code("WRONG_CREDENTIALS"), "", ""},
	tpp.CodeBusy:                        {http.StatusServiceUnavailable, gateway.Code("BUSY"), "", ""},
	tpp.CodeCertificate:                 {http.StatusBadRequest, gateway.Code("CERTIFICATE"), "", ""},
	tpp.CodeConflict:                    {http.StatusConflict, gateway.Code("CONFLICT"), "", ""},
	tpp.CodeIncomplete:                  {http.StatusBadRequest, gateway.Code("INCOMPLETE"), "", ""},
	tpp.CodeInvalid:                     {http.StatusBadRequest, gateway.Code("INVALID"), "", ""},
	tpp.CodeLocked:                      {http.StatusTooManyRequests, gateway.Code("LOCKED"), "", ""},
	tpp.CodeNotFound:                    {http.StatusNotFound, gateway.Code("NOT_FOUND"), "", ""},
	tpp.CodeNotLicensed:                 {http.StatusForbidden, gateway.Code("NOT_LICENSED"), "", ""},
	tpp.CodeSandboxCertificate:          {http.StatusBadRequest, gateway.Code("SANDBOX_CERTIFICATE"), "", ""},
	tpp.CodeSuspended:                   {http.StatusForbidden, gateway.Code("SUSPENDED"), "", ""},
	tpp.CodeTooLarge:                    {http.StatusRequestEntityTooLarge, gateway.Code("TOO_LARGE"), "", ""},
	tpp.CodeUnauthenticated:             {http.StatusUnauthorized, gateway.Code("UNAUTHENTICATED"), "", ""},
	tpp.CodeUnsupportedType:             {http.StatusUnsupportedMediaType, gateway.Code("UNSUPPORTED_TYPE"), "", ""},
	tpp.CodeWrongState:                  {http.StatusConflict, gateway.Code("WRONG_STATE"), "", ""},
}

// Refusal turns a domain refusal into the refusal the TPP gets, by
// Errors: the first of a consent, payment, access or ledger refusal in
// err's chain (in that order); a *gateway.Refusal passes, and other errors
// (the database failing) pass unchanged, which the gateway answers with
// 500.
func Refusal(err error) error {
	if err == nil {
		return nil
	}
	var ref *gateway.Refusal
	if errors.As(err, &ref) {
		return ref
	}
	for _, domain := range []string{"consent", "payment", "access", "ledger"} {
		if e := fault.Find(err, domain); e != nil {
			return refusalOf(e)
		}
	}
	return err
}

// refusalOf renders one domain refusal by Errors.
func refusalOf(e *fault.Error) *gateway.Refusal {
	w, ok := Errors[e.Code]
	if !ok {
		w = Wire{http.StatusBadRequest, gateway.CodeFormatError, "the request is not valid", "żądanie jest niepoprawne"}
	}
	r := &gateway.Refusal{Status: w.Status, Code: w.Code, EN: e.In("en"), PL: e.In("pl")}
	switch {
	case e.Code.Domain() == "ledger":
		// The ledger's words are technical and English: the general words,
		// its own as the detail.
		r.EN, r.PL, r.Detail = w.EN, w.PL, e.Message
		return r
	case e.Code == consent.CodeAccessLimit:
		// The standard's wording first, then when the next access is possible.
		r.EN, r.PL = w.EN, w.PL
		if !e.RetryAfter.IsZero() {
			next := e.RetryAfter.UTC().Format(time.RFC3339)
			r.EN += ": the next access without the customer present is possible at " + next
			r.PL += ": kolejny dostęp bez udziału klienta będzie możliwy o " + next
		}
	}
	if e.Message == "" {
		r.EN, r.PL = w.EN, w.PL
	}
	if e.Field != "" {
		r.EN, r.PL = e.Field+": "+r.EN, e.Field+": "+r.PL
	}
	return r
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
