package common

import (
	"context"

	"github.com/psd2bank/psd2bank/internal/access"
	"github.com/psd2bank/psd2bank/internal/fault"
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

// AccessRefusal renders an access error in the gateway's terms (by
// Errors); other errors pass unchanged.
func AccessRefusal(err error) error {
	if e := fault.Find(err, "access"); e != nil {
		return refusalOf(e)
	}
	return err
}
