package sandbox

import (
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/web"
	"github.com/psd2bank/psd2bank/internal/webguard"
)

var errNoRows = sql.ErrNoRows

// apiTLS is the API listener's TLS: a server certificate from the sandbox's
// bank TLS CA (bank-tls-ca.pem), and a request for the TPP's client
// certificate, which the request pipeline checks.
func (b *Bank) apiTLS() (*tls.Config, error) {
	now := b.Clock.Now()
	ca, err := eidas.LoadOrCreateTLSCA(b.dir, now)
	if err != nil {
		return nil, fmt.Errorf("bank TLS CA: %w", err)
	}
	hosts := append([]string{"localhost", "127.0.0.1", "::1"}, b.cfg.APIHosts...)
	sc := &serverCert{ca: ca, hosts: hosts, real: clock.System{}, sbx: b.Clock}
	if _, err := sc.get(); err != nil {
		return nil, fmt.Errorf("API server certificate: %w", err)
	}
	return &tls.Config{
		GetCertificate: sc.getCertificate,
		ClientAuth:     tls.RequestClientCert,
		MinVersion:     tls.VersionTLS12,
	}, nil
}

// webHandler serves the bank's pages (internet banking, the developer
// portal, the back office, health and metrics) and the sandbox tools.
func (b *Bank) webHandler() http.Handler {
	r := b.WebRouter()
	scaSandbox := scaTools(b.SCA)
	// The SMS box and the start page in the pages' look; the SMS box stays
	// JSON for programs (web.SandboxPages).
	pages := web.SandboxPages{SCA: b.SCA, Clock: b.Clock, Dir: b.dir}
	r.Handle("/sandbox/sms", pages.SMSBox(scaSandbox))
	r.Handle("/sandbox/mobile/approve", webguard.SameSite(scaSandbox))
	r.Handle("/sandbox/assets/*", pages.Assets())
	r.Method(http.MethodGet, "/", pages.Index())
	r.Get("/sandbox/qtsp/crl", b.crl)
	r.Get("/sandbox/clock", b.getClock)
	r.Method(http.MethodPost, "/sandbox/clock", webguard.SameSite(http.HandlerFunc(b.moveClock)))
	return r
}

// crl publishes the sandbox QTSP's certificate revocation list (DER).
func (b *Bank) crl(w http.ResponseWriter, r *http.Request) {
	der, err := b.trust.qtsp.CRL(b.Clock.Now())
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "the CRL could not be made: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}

type clockAnswer struct {
	Now string `json:"now"`
}

func (b *Bank) getClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, clockAnswer{Now: b.Clock.Now().UTC().Format(time.RFC3339)})
}

// moveClock handles POST /sandbox/clock {"advance":"26h"} or {"set":RFC 3339}.
// The clock only moves forward: the ledger's history is in time order.
func (b *Bank) moveClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
		Set     string `json:"set"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeProblem(w, http.StatusBadRequest, `the body must be {"advance":"26h"} or {"set":"2026-12-24T09:00:00+01:00"}: `+err.Error())
		return
	}
	now := b.Clock.Now()
	switch {
	case req.Advance != "" && req.Set != "":
		writeProblem(w, http.StatusBadRequest, `give either "advance" or "set", not both`)
		return
	case req.Advance != "":
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d < 0 {
			writeProblem(w, http.StatusBadRequest, fmt.Sprintf("advance %q is not a non-negative Go duration such as \"90m\" or \"26h\"", req.Advance))
			return
		}
		if _, err := b.Clock.Advance(r.Context(), d); err != nil { // added in the database: concurrent advances all count
			writeProblem(w, http.StatusInternalServerError, "the new clock could not be saved: "+err.Error())
			return
		}
	case req.Set != "":
		t, err := time.Parse(time.RFC3339, req.Set)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, fmt.Sprintf("set %q is not an RFC 3339 time such as \"2026-12-24T09:00:00+01:00\"", req.Set))
			return
		}
		if t.Before(now) {
			writeProblem(w, http.StatusConflict, fmt.Sprintf("the sandbox clock only moves forward: it is %s, %s is earlier", now.UTC().Format(time.RFC3339), req.Set))
			return
		}
		// The database decides: another node may have moved the clock past
		// t since this one last read it.
		if now, err := b.Clock.Set(r.Context(), t); errors.Is(err, clock.ErrBackwards) {
			writeProblem(w, http.StatusConflict, fmt.Sprintf("the sandbox clock only moves forward: it is %s, %s is earlier",
				now.UTC().Format(time.RFC3339), req.Set))
			return
		} else if err != nil {
			writeProblem(w, http.StatusInternalServerError, "the new clock could not be saved: "+err.Error())
			return
		}
	default:
		writeProblem(w, http.StatusBadRequest, `give "advance" (a duration) or "set" (an RFC 3339 time)`)
		return
	}
	b.Obs.ClockMoved(r.Context(), now, b.Clock.Now(), r.RemoteAddr)
	b.RunPayments(r.Context()) // what the new time makes due happens before the answer
	writeJSON(w, http.StatusOK, clockAnswer{Now: b.Clock.Now().UTC().Format(time.RFC3339)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}
