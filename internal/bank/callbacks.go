package bank

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// Callback notifications: where the TPP gave a callbackURL
// (requestHeader.callbackURL of PolishAPI), every status change of the
// payment is POSTed to it, signed with the bank's seal, by the sender that
// drains the payments' outbox (payment.Notifier) in the payments loop: every
// few seconds and right after the sandbox clock moves (Bank.Run, Bank.RunPayments).
//
// The body is in the dialect of the consent that initiated the payment:
//
//   - PolishAPI: the getPayment response of the payment in the status of the
//     change, with responseHeader.isCallback true, responseHeader.requestId
//     the notification's id and sendDate the time of the change:
//     {"responseHeader":{"requestId":…,"sendDate":…,"isCallback":true},
//     "paymentId":…,"tppTransactionId":…,"generalStatus":"done",
//     "detailedStatus":…,"executionMode":"Immediate"}
//     signed in X-JWS-SIGNATURE (detached JWS of the body).
//   - mBank (which has no callback field on the wire today; the shape is
//     ready for one): the payment's status answer without links, plus the
//     time of the change:
//     {"aspspPaymentId":…,"tppPaymentId":…,"status":"DONE","detailedStatus":…,
//     "executionMode":"IMMEDIATE","statusDate":…}
//     signed in JWS-Signature (detached JWS of the body, as the bank signs
//     its responses).
//
// A notification that fails (no 2xx answer) is retried with backoff up to
// payment.NotifierConfig.MaxAttempts times, then given up and logged.

// mbankCallback is the body of an mBank status notification.
type mbankCallback struct {
	AspspPaymentID string `json:"aspspPaymentId"`
	TPPPaymentID   string `json:"tppPaymentId"`
	Status         string `json:"status"`
	DetailedStatus string `json:"detailedStatus"`
	ExecutionMode  string `json:"executionMode"`
	StatusDate     string `json:"statusDate"`
}

// renderCallback renders a notification in its consent's dialect and signs it
// with signer.
func renderCallback(ctx context.Context, consents *consent.Service, signer *jws.Signer, n payment.Notification, p payment.Payment) (payment.Callback, error) {
	dialect := consent.DialectPolishAPI
	if c, err := consents.Get(ctx, p.ConsentID); err == nil && c.Dialect != "" {
		dialect = c.Dialect
	}
	p.Status = n.Status // the change told, whatever happened since
	var body any
	header := gateway.HeaderPolishAPISignature
	if dialect == consent.DialectMBank {
		r := mbank.PaymentOf(p, "")
		body = mbankCallback{AspspPaymentID: r.AspspPaymentID, TPPPaymentID: r.TPPPaymentID, Status: r.Status,
			DetailedStatus: r.DetailedStatus, ExecutionMode: r.ExecutionMode, StatusDate: gateway.FormatDateTime(n.At)}
		header = gateway.HeaderMBankSignature
	} else {
		body = polishapi.GetPaymentResponse{
			ResponseHeader: polishapi.ResponseHeader{RequestID: n.ID, SendDate: gateway.FormatDateTime(n.At), IsCallback: true},
			PaymentInfo:    polishapi.InfoOf(p)}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return payment.Callback{}, err
	}
	sig, err := signer.SignDetached(raw)
	if err != nil {
		return payment.Callback{}, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(header, sig)
	return payment.Callback{Body: raw, Header: h}, nil
}

// kickCallbacks asks the callback sender to run now (without waiting for it:
// a slow TPP must not hold the payments run or the clock's answer).
func (b *Bank) kickCallbacks() {
	select {
	case b.callbackKick <- struct{}{}:
	default: // a run is already asked for
	}
}

// callbacksLoop delivers callbacks every period and when kicked, until ctx
// ends.
func (b *Bank) callbacksLoop(ctx context.Context) {
	t := time.NewTicker(b.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.callbackKick:
		}
		rep, err := b.notifier.Run(ctx)
		if err != nil && ctx.Err() == nil {
			b.log.Error("payment callbacks", "err", err)
		}
		if rep.Delivered+rep.Retrying+rep.GivenUp > 0 {
			b.log.Info("payment callbacks", "delivered", rep.Delivered, "retrying", rep.Retrying, "given_up", rep.GivenUp)
		}
	}
}
