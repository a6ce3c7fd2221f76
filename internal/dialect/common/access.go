package common

import (
	"context"
	"errors"
	"net/http"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/gateway"
)

// Wire codes of API access per account.
const (
	CodeAccessNotActivated gateway.Code = "ACCESS_NOT_ACTIVATED"
	CodeAccessBlocked      gateway.Code = "ACCESS_BLOCKED"
	CodeLimitExceeded      gateway.Code = "LIMIT_EXCEEDED"
)

// checkAccess refuses a call on an account whose API access is not active
// (blocking takes effect on the very next request, whatever tokens and
// consents exist). A nil service allows everything.
func CheckAccess(ctx context.Context, a *access.Service, nrb, service string) error {
	if a == nil || nrb == "" {
		return nil
	}
	return AccessRefusal(a.Check(ctx, nrb, service))
}

// accessRefusal renders an access error in the gateway's terms.
func AccessRefusal(err error) error {
	var ae *access.Error
	if !errors.As(err, &ae) {
		return err
	}
	status, code := http.StatusForbidden, gateway.Code(ae.Code)
	switch ae.Code {
	case access.CodeNotActivated:
		code = CodeAccessNotActivated
	case access.CodeBlocked:
		code = CodeAccessBlocked
	case access.CodeLimitExceeded:
		status, code = http.StatusUnprocessableEntity, CodeLimitExceeded
	}
	return &gateway.Refusal{Status: status, Code: code, EN: ae.In("en"), PL: ae.In("pl")}
}
