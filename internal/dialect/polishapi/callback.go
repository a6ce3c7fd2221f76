package polishapi

import (
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// PaymentCallback is PolishAPI's status notification of p (the change n),
// POSTed to requestHeader.callbackURL: the getPayment response of the
// payment in the status of the change, with responseHeader.isCallback
// true, responseHeader.requestId the notification's id and sendDate the
// time of the change:
//
//	{"responseHeader":{"requestId":…,"sendDate":…,"isCallback":true},
//	"paymentId":…,"tppTransactionId":…,"generalStatus":"done",
//	"detailedStatus":…,"executionMode":"Immediate"}
//
// signed in X-JWS-SIGNATURE (signatureHeader; a detached JWS of the body).
func PaymentCallback(n payment.Notification, p payment.Payment) (body any, signatureHeader string) {
	p.Status = n.Status // the change told, whatever happened since
	return GetPaymentResponse{
		ResponseHeader: ResponseHeader{RequestID: n.ID, SendDate: gateway.FormatDateTime(n.At), IsCallback: true},
		PaymentInfo:    InfoOf(p)}, gateway.HeaderPolishAPISignature
}
