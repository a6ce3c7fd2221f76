package bank

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/payment"
)

// Callback notifications: where the TPP gave a callbackURL
// (requestHeader.callbackURL of PolishAPI), every status change of the
// payment is POSTed to it, signed with the bank's seal, by the sender that
// drains the payments' outbox (payment.Notifier) in the payments loop: every
// few seconds and right after the sandbox clock moves (Bank.Run, Bank.RunPayments).
//
// The body and its signature's header are the dialect's, of the consent
// that initiated the payment (polishapi.PaymentCallback,
// mbank.PaymentCallback; callbackDialects).
//
// A notification that fails (no 2xx answer) is retried with backoff up to
// payment.NotifierConfig.MaxAttempts times, then given up and logged.

// callbackDialects render a status notification in each dialect (by
// consent.Consent.Dialect); a consent of another dialect gets PolishAPI's.
var callbackDialects = map[string]func(payment.Notification, payment.Payment) (any, string){
	consent.DialectPolishAPI: polishapi.PaymentCallback,
	consent.DialectMBank:     mbank.PaymentCallback,
}

// renderCallback renders a notification in its consent's dialect and signs it
// with signer.
func renderCallback(ctx context.Context, consents *consent.Service, signer *jws.Signer, n payment.Notification, p payment.Payment) (payment.Callback, error) {
	render := polishapi.PaymentCallback
	if c, err := consents.Get(ctx, p.ConsentID); err == nil && callbackDialects[c.Dialect] != nil {
		render = callbackDialects[c.Dialect]
	}
	body, header := render(n, p)
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
