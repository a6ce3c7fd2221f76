package berlingroup

import (
	"encoding/base64"
	"net/http"

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

// The standard's message codes this dialect answers with.
const (
	CodeFormatError          = "FORMAT_ERROR"
	CodeParameterNotSupport  = "PARAMETER_NOT_SUPPORTED"
	CodeCertificateInvalid   = "CERTIFICATE_INVALID"
	CodeCertificateExpired   = "CERTIFICATE_EXPIRED"
	CodeCertificateBlocked   = "CERTIFICATE_BLOCKED"
	CodeCertificateRevoked   = "CERTIFICATE_REVOKED"
	CodeCertificateMissing   = "CERTIFICATE_MISSING"
	CodeSignatureInvalid     = "SIGNATURE_INVALID"
	CodeSignatureMissing     = "SIGNATURE_MISSING"
	CodeRoleInvalid          = "ROLE_INVALID"
	CodeTokenInvalid         = "TOKEN_INVALID"
	CodeConsentInvalid       = "CONSENT_INVALID"
	CodeConsentExpired       = "CONSENT_EXPIRED"
	CodeConsentUnknown       = "CONSENT_UNKNOWN"
	CodeServiceInvalid       = "SERVICE_INVALID"
	CodeServiceBlocked       = "SERVICE_BLOCKED"
	CodeResourceUnknown      = "RESOURCE_UNKNOWN"
	CodeResourceExpired      = "RESOURCE_EXPIRED"
	CodeAccessExceeded       = "ACCESS_EXCEEDED"
	CodeStatusInvalid        = "STATUS_INVALID"
	CodePeriodInvalid        = "PERIOD_INVALID"
	CodeProductInvalid       = "PRODUCT_INVALID"
	CodeProductUnknown       = "PRODUCT_UNKNOWN"
	CodePaymentFailed        = "PAYMENT_FAILED"
	CodeFundsNotAvailable    = "FUNDS_NOT_AVAILABLE"
	CodeScaMethodUnknown     = "SCA_METHOD_UNKNOWN"
	CodeScaInvalid           = "SCA_INVALID"
	CodeTimestampInvalid     = "TIMESTAMP_INVALID"
	CodeParameterNotConsiste = "PARAMETER_NOT_CONSISTENT"
	CodeCancellationInvalid  = "CANCELLATION_INVALID"
	CodeExecutionDateInvalid = "EXECUTION_DATE_INVALID"
)

// wireError is how a domain code appears in Berlin Group: the status and
// the standard's message code.
type wireError struct {
	status int
	code   string
}

// wireErrors is Berlin Group's table of every domain code (fault.Codes;
// TestEveryCodeHasAWireAnswer checks none is missing): the one place that
// chooses this dialect's statuses and codes for the domain's refusals.
var wireErrors = map[fault.Code]wireError{
	access.CodeBlocked:                  {http.StatusForbidden, CodeServiceBlocked},
	access.CodeDayLimit:                 {http.StatusForbidden, CodeServiceBlocked},
	access.CodeHotlineOnly:              {http.StatusForbidden, CodeServiceBlocked},
	access.CodeInvalid:                  {http.StatusForbidden, CodeServiceBlocked},
	access.CodeLimitExceeded:            {http.StatusBadRequest, CodePaymentFailed},
	access.CodeNotActivated:             {http.StatusForbidden, CodeServiceBlocked},
	access.CodeNotChangeable:            {http.StatusForbidden, CodeServiceBlocked},
	access.CodeNotFound:                 {http.StatusNotFound, CodeResourceUnknown},
	access.CodeNotVerified:              {http.StatusForbidden, CodeServiceBlocked},
	access.CodeNotYours:                 {http.StatusForbidden, CodeServiceBlocked},
	access.CodeUnchanged:                {http.StatusForbidden, CodeServiceBlocked},
	access.CodeUnknownAccount:           {http.StatusNotFound, CodeResourceUnknown},
	access.CodeVerificationFailed:       {http.StatusForbidden, CodeServiceBlocked},
	access.CodeWrongPESEL:               {http.StatusForbidden, CodeServiceBlocked},
	ais.CodeAccountUnknown:              {http.StatusNotFound, CodeResourceUnknown},
	ais.CodeInvalid:                     {http.StatusBadRequest, CodeFormatError},
	ais.CodeItemUnknown:                 {http.StatusNotFound, CodeResourceUnknown},
	ais.CodePageInvalid:                 {http.StatusBadRequest, CodeFormatError},
	ais.CodeTokenMissing:                {http.StatusUnauthorized, CodeTokenInvalid},
	consent.CodeAccessLimit:             {http.StatusTooManyRequests, CodeAccessExceeded},
	consent.CodeAccountNotInConsent:     {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeAlreadyRevoked:          {http.StatusConflict, CodeStatusInvalid},
	consent.CodeDuplicate:               {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeExpired:                 {http.StatusUnauthorized, CodeConsentExpired},
	consent.CodeHistoryTooLong:          {http.StatusBadRequest, CodePeriodInvalid},
	consent.CodeInvalid:                 {http.StatusBadRequest, CodeFormatError},
	consent.CodeInvalidPrivileges:       {http.StatusBadRequest, CodeFormatError},
	consent.CodeNotAuthorised:           {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeNotFound:                {http.StatusForbidden, CodeConsentUnknown},
	consent.CodePrivilegeMissing:        {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeRejected:                {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeRevoked:                 {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeRevokedByTPP:            {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeUnknown:                 {http.StatusForbidden, CodeConsentUnknown},
	consent.CodeUsageExhausted:          {http.StatusUnauthorized, CodeConsentInvalid},
	consent.CodeWrongState:              {http.StatusConflict, CodeStatusInvalid},
	ledger.CodeConflict:                 {http.StatusConflict, CodeStatusInvalid},
	ledger.CodeCurrencyMismatch:         {http.StatusBadRequest, CodeFormatError},
	ledger.CodeInsufficientFunds:        {http.StatusBadRequest, CodeFundsNotAvailable},
	ledger.CodeInvalid:                  {http.StatusBadRequest, CodeFormatError},
	ledger.CodeNotFound:                 {http.StatusNotFound, CodeResourceUnknown},
	oauth.AccessDenied:                  {http.StatusBadRequest, CodeFormatError},
	oauth.AccountNotOwned:               {http.StatusBadRequest, CodeFormatError},
	oauth.InvalidClient:                 {http.StatusBadRequest, CodeFormatError},
	oauth.InvalidGrant:                  {http.StatusBadRequest, CodeFormatError},
	oauth.InvalidRequest:                {http.StatusBadRequest, CodeFormatError},
	oauth.InvalidScope:                  {http.StatusBadRequest, CodeFormatError},
	oauth.RequestDecided:                {http.StatusBadRequest, CodeFormatError},
	oauth.RequestExpired:                {http.StatusBadRequest, CodeFormatError},
	oauth.RequestUnknown:                {http.StatusNotFound, CodeResourceUnknown},
	oauth.TokenExpired:                  {http.StatusBadRequest, CodeFormatError},
	oauth.TokenInvalid:                  {http.StatusBadRequest, CodeFormatError},
	oauth.TokenWrongCertificate:         {http.StatusBadRequest, CodeFormatError},
	oauth.UnauthorizedClient:            {http.StatusBadRequest, CodeFormatError},
	oauth.UnsupportedGrantType:          {http.StatusBadRequest, CodeFormatError},
	oauth.UnsupportedResponseType:       {http.StatusBadRequest, CodeFormatError},
	oauth.WrongCustomer:                 {http.StatusBadRequest, CodeFormatError},
	payment.CodeDuplicate:               {http.StatusBadRequest, CodePaymentFailed},
	payment.CodeInsufficientFunds:       {http.StatusBadRequest, CodeFundsNotAvailable},
	payment.CodeInvalidAmount:           {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidBundle:           {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidCurrency:         {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidExecutionDate:    {http.StatusBadRequest, CodeExecutionDateInvalid},
	payment.CodeInvalidRecipient:        {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidRecipientAccount: {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidRecipientName:    {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidRecurrence:       {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidRequest:          {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidSenderAccount:    {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidSplitPayment:     {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidSystem:           {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidTaxInfo:          {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidTitle:            {http.StatusBadRequest, CodeFormatError},
	payment.CodeInvalidType:             {http.StatusBadRequest, CodeFormatError},
	payment.CodeLimitExceeded:           {http.StatusBadRequest, CodePaymentFailed},
	payment.CodeNotCancellable:          {http.StatusBadRequest, CodeCancellationInvalid},
	payment.CodeNotFound:                {http.StatusNotFound, CodeResourceUnknown},
	payment.CodeNotInConsent:            {http.StatusBadRequest, CodeFormatError},
	sca.CodeBusy:                        {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeCodeFailed:                  {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeExpired:                     {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeInvalid:                     {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeLocked:                      {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeNoPhone:                     {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeNotFound:                    {http.StatusNotFound, CodeResourceUnknown},
	sca.CodeNothingPending:              {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeUnknownLogin:                {http.StatusNotFound, CodeResourceUnknown},
	sca.CodeUsed:                        {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeWrongCode:                   {http.StatusUnauthorized, CodeScaInvalid},
	sca.CodeWrongCredentials:            {http.StatusUnauthorized, CodeScaInvalid},
	tpp.CodeBusy:                        {http.StatusBadRequest, CodeFormatError},
	tpp.CodeCertificate:                 {http.StatusUnauthorized, CodeCertificateInvalid},
	tpp.CodeConflict:                    {http.StatusBadRequest, CodeFormatError},
	tpp.CodeIncomplete:                  {http.StatusBadRequest, CodeFormatError},
	tpp.CodeInvalid:                     {http.StatusBadRequest, CodeFormatError},
	tpp.CodeLocked:                      {http.StatusBadRequest, CodeFormatError},
	tpp.CodeNotFound:                    {http.StatusNotFound, CodeResourceUnknown},
	tpp.CodeNotLicensed:                 {http.StatusForbidden, CodeRoleInvalid},
	tpp.CodeSandboxCertificate:          {http.StatusUnauthorized, CodeCertificateInvalid},
	tpp.CodeSuspended:                   {http.StatusForbidden, CodeRoleInvalid},
	tpp.CodeTooLarge:                    {http.StatusBadRequest, CodeFormatError},
	tpp.CodeUnauthenticated:             {http.StatusBadRequest, CodeFormatError},
	tpp.CodeUnsupportedType:             {http.StatusBadRequest, CodeFormatError},
	tpp.CodeWrongState:                  {http.StatusBadRequest, CodeFormatError},
}

// domainRefusal renders a domain refusal by wireErrors, with en and pl.
func domainRefusal(e *fault.Error, en, pl string) *gateway.Refusal {
	w, ok := wireErrors[e.Code]
	if !ok {
		w = wireError{http.StatusBadRequest, CodeFormatError}
	}
	return refuse(w.status, w.code, en, pl)
}

// refuse is a refusal of this dialect, with the standard's code.
func refuse(status int, code, en, pl string, detail ...any) *gateway.Refusal {
	return gateway.Refuse(status, gateway.Code(code), en, pl, detail...)
}

func formatError(en, pl string, detail ...any) *gateway.Refusal {
	return refuse(http.StatusBadRequest, CodeFormatError, en, pl, detail...)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
