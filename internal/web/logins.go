package web

import (
	"net/http"

	"github.com/psd2bank/psd2bank/internal/tpp"
)

// retryAfterBusy is the Retry-After (seconds) of a log-in refused because
// every password-hash slot is taken.
const retryAfterBusy = "1"

// busyRetry sets Retry-After when err is the registry's CodeBusy.
func busyRetry(w http.ResponseWriter, err error) {
	if tpp.CodeOf(err) == tpp.CodeBusy {
		w.Header().Set("Retry-After", retryAfterBusy)
	}
}
