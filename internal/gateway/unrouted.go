package gateway

import (
	"net/http"
	"time"
)

// AuditUnrouted records a request that matched no operation (404) or not
// with its method (405) in the audit log, as a refusal: probing the API
// leaves a trace. Nothing of the request is verified, so no organisation is
// named; the presented certificate's serial is kept.
func (g *Gateway) AuditUnrouted(r *http.Request, status int, code Code) {
	req := &request{op: Operation{Name: "unrouted"}, started: g.Clock.Now(), wall: time.Now()}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		req.caller.QWAC = r.TLS.PeerCertificates[0]
	}
	req.requestID = r.Header.Get("X-REQUEST-ID")
	if req.requestID == "" {
		req.requestID = r.Header.Get("TPP-Request-ID")
	}
	if len(req.requestID) > 100 {
		req.requestID = req.requestID[:100]
	}
	reason := "no API operation at " + r.Method + " " + r.URL.Path
	if len(reason) > 500 {
		reason = reason[:500]
	}
	if err := g.writeAudit(r, req, "refused", string(code), reason, status); err != nil {
		g.Log.Error("audit write failed", "err", err, "operation", "unrouted")
	}
	req.refusal = &Refusal{Status: status, Code: code}
	g.observe(r, req, status)
}
