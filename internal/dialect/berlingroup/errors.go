package berlingroup

import (
	"encoding/base64"
	"net/http"

	"github.com/psd2bank/psd2bank/internal/gateway"
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

// refuse is a refusal of this dialect, with the standard's code.
func refuse(status int, code, en, pl string, detail ...any) *gateway.Refusal {
	return gateway.Refuse(status, gateway.Code(code), en, pl, detail...)
}

func formatError(en, pl string, detail ...any) *gateway.Refusal {
	return refuse(http.StatusBadRequest, CodeFormatError, en, pl, detail...)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
