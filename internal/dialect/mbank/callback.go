package mbank

import (
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// paymentCallback is the body of an mBank status notification.
type paymentCallback struct {
	AspspPaymentID string `json:"aspspPaymentId"`
	TPPPaymentID   string `json:"tppPaymentId"`
	Status         string `json:"status"`
	DetailedStatus string `json:"detailedStatus"`
	ExecutionMode  string `json:"executionMode"`
	StatusDate     string `json:"statusDate"`
}

// PaymentCallback is mBank's status notification of p (the change n).
// mBank has no callback field on the wire today; the shape is ready for
// one: the payment's status answer without links, plus the time of the
// change:
//
//	{"aspspPaymentId":…,"tppPaymentId":…,"status":"DONE","detailedStatus":…,
//	"executionMode":"IMMEDIATE","statusDate":…}
//
// signed in JWS-Signature (signatureHeader; a detached JWS of the body, as
// the bank signs its responses).
func PaymentCallback(n payment.Notification, p payment.Payment) (body any, signatureHeader string) {
	p.Status = n.Status // the change told, whatever happened since
	r := PaymentOf(p, "")
	return paymentCallback{AspspPaymentID: r.AspspPaymentID, TPPPaymentID: r.TPPPaymentID, Status: r.Status,
		DetailedStatus: r.DetailedStatus, ExecutionMode: r.ExecutionMode, StatusDate: gateway.FormatDateTime(n.At)}, gateway.HeaderMBankSignature
}
