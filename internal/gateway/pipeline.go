package gateway

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/cork"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Signature headers of the dialects, on requests and responses. The
// dialects' packages own them (polishapi.HeaderSignature, ...); these
// names stay for the callers that sign callbacks.
const (
	HeaderPolishAPISignature = "X-JWS-SIGNATURE"
	HeaderPolishAPIRequestID = "X-REQUEST-ID"
	HeaderMBankSignature     = "JWS-Signature"
	HeaderMBankRequestID     = "TPP-Request-ID"
	HeaderMBankTPPID         = "TPP-ID"
)

// requestIdentity finds the request id (and checks the TPP id the request
// names) in the dialect's places.
func (g *Gateway) requestIdentity(r *http.Request, req *request) *Refusal {
	id, ref := req.op.Wire.RequestID(r, &req.caller, req.op)
	req.requestID = id
	if ref != nil {
		return ref
	}
	if _, err := uuid.Parse(req.requestID); err != nil || len(req.requestID) != 36 {
		return refuse(http.StatusBadRequest, CodeFormatError, "the request id must be a UUID (RFC 4122, e.g. 3f1c5b2e-8a4d-11ef-9f2b-0242ac120002)",
			"identyfikator żądania musi być identyfikatorem UUID (RFC 4122)", fmt.Sprintf("got %q", req.requestID))
	}
	req.caller.RequestID = req.requestID
	return nil
}

// sameOrg compares organisation identifiers, treating the Polish NCA's two
// names (KNF and PFSA) as one.
func sameOrg(a, b string) bool {
	if a == b {
		return true
	}
	oa, err1 := eidas.ParseOrganizationID(a)
	ob, err2 := eidas.ParseOrganizationID(b)
	return err1 == nil && err2 == nil && oa.Normalized() == ob.Normalized()
}

// verifySignature checks the request's signature as its dialect makes
// it: by a QSealC of the same organisation as the QWAC, with the roles the
// service needs.
func (g *Gateway) verifySignature(r *http.Request, req *request) *Refusal {
	cert, ref := req.op.Wire.VerifyRequest(r, &req.caller, req.op, g)
	if ref != nil {
		return ref
	}
	req.caller.QSealC = cert
	return nil
}

// KeyRef names a signing certificate outside the JWS header: mBank's
// software statement leaves its header at {"alg","typ"} and names its key in
// the payload's jwks (RFC 7517 keys with x5c or x5t#S256; x5u, which the
// bank never fetches, names where the TPP publishes the certificate).
type KeyRef struct {
	X5C     []*x509.Certificate // the key's x5c, signing certificate first
	X5TS256 string              // the key's x5t#S256
}

// VerifySealed verifies a compact JWS whose payload the caller has (a
// detached signature over payload, or an attached JWS whose payload is
// payload) as sealed by a QSealC of orgID with a role for service. It is
// for signed objects inside bodies, such as mBank's software statement.
// The certificate is the header's (x5c, or x5t#S256 of a registered QSealC);
// when the header names none, the first of keys that names one.
func (g *Gateway) VerifySealed(ctx context.Context, compact string, payload []byte, orgID string, service Service, keys ...KeyRef) (*x509.Certificate, *Refusal) {
	sig, err := jws.ParseSignature(compact)
	if err != nil {
		return nil, signatureRefusal(err)
	}
	h := sig.Header
	refs := append([]KeyRef{{X5C: h.X5C, X5TS256: h.X5TS256}}, keys...)
	if len(h.X5C) > 0 || h.X5TS256 != "" {
		refs = refs[:1] // the header decides
	}
	var chain []*x509.Certificate
	named, inKeys := false, false
	for i, k := range refs {
		switch {
		case len(k.X5C) > 0:
			chain = k.X5C
		case k.X5TS256 != "":
			named, inKeys = true, i > 0
			cert, err := g.Directory.QSealC(ctx, orgID, k.X5TS256)
			if err != nil {
				return nil, g.unavailable(err)
			}
			if cert != nil {
				chain = []*x509.Certificate{cert}
			}
		}
		if chain != nil {
			break
		}
	}
	switch {
	case chain != nil:
	case inKeys:
		return nil, refuse(http.StatusUnauthorized, CodeSignatureCert,
			"the x5t#S256 of the jwks key names no QSealC your organisation registered: register the QSealC first, or give the certificate in the key's x5c (the bank does not fetch x5u)",
			"x5t#S256 klucza z jwks nie wskazuje zarejestrowanego certyfikatu QSealC Twojej organizacji: najpierw zarejestruj QSealC albo podaj certyfikat w x5c klucza (bank nie pobiera x5u)")
	case named:
		return nil, refuse(http.StatusUnauthorized, CodeSignatureCert,
			"the x5t#S256 of the signature names no QSealC your organisation registered: send the certificate in x5c",
			"x5t#S256 podpisu nie wskazuje zarejestrowanego certyfikatu QSealC Twojej organizacji: wyślij certyfikat w x5c")
	case len(keys) > 0:
		return nil, refuse(http.StatusUnauthorized, CodeSignatureCert,
			"neither the signature's header nor the jwks keys name a certificate: give your QSealC in x5c, or its x5t#S256",
			"ani nagłówek podpisu, ani klucze jwks nie wskazują certyfikatu: podaj certyfikat QSealC w x5c albo jego x5t#S256")
	default:
		return nil, refuse(http.StatusUnauthorized, CodeSignatureCert,
			"the signature's header names no certificate: give your QSealC in x5c",
			"nagłówek podpisu nie wskazuje certyfikatu: podaj certyfikat QSealC w x5c")
	}
	if _, ref := g.VerifySeal(ctx, chain, orgID, service); ref != nil {
		return nil, ref
	}
	if err := sig.Verify(payload, chain[0]); err != nil {
		return nil, signatureRefusal(err)
	}
	return chain[0], nil
}

func signatureRefusal(err error) *Refusal {
	switch jws.ReasonOf(err) {
	case jws.ReasonBadSignature, jws.ReasonPayloadMismatch:
		return refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			"the signature does not match the request: sign the exact bytes you send, with your QSealC's key",
			"podpis nie pasuje do żądania: podpisz dokładnie wysyłane bajty kluczem certyfikatu QSealC", err.Error())
	case jws.ReasonKeyMismatch:
		return refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			"the request is signed with a key that is not your QSealC's", "żądanie podpisano kluczem innym niż klucz certyfikatu QSealC", err.Error())
	default:
		return refuse(http.StatusUnauthorized, CodeSignatureInvalid,
			"the signature is not an acceptable detached JWS", "podpis nie jest akceptowalnym odłączonym JWS", err.Error())
	}
}

// admit records that the request passed the pipeline. The audit row is
// also the replay check: a second allowed row for the same TPP and request
// id violates a unique index, on every node.
func (g *Gateway) admit(r *http.Request, req *request) *Refusal {
	return g.admitted(req, g.writeAudit(r, req, "allowed", "", "", 0))
}

// settle writes the audit record owed (Operation.AuditWithWrite), if the
// handler's writes did not.
func (g *Gateway) settle(r *http.Request, req *request) *Refusal {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	return g.admitted(req, g.DB.Settle(ctx, req.lead))
}

// admitted is the refusal, if any, of a call whose audit record was written
// with err.
func (g *Gateway) admitted(req *request, err error) *Refusal {
	if store.IsUniqueViolation(err) {
		return refuse(http.StatusConflict, CodeRequestReplayed,
			"this request id was already used: send a new request id with every request",
			"ten identyfikator żądania został już użyty: każde żądanie wysyłaj z nowym identyfikatorem", req.requestID)
	}
	if err != nil {
		return g.unavailable(err)
	}
	return nil
}

// tpp is the caller's organisation id, normalised (once per request: the
// audit and the log both name it).
func (req *request) tpp() string {
	if req.tppID == "" || req.tppOf != req.caller.OrgID {
		req.tppID, req.tppOf = normalOrg(req.caller.OrgID), req.caller.OrgID
	}
	return req.tppID
}

func normalOrg(id string) string {
	if o, err := eidas.ParseOrganizationID(id); err == nil {
		return o.Normalized()
	}
	return id
}

// renderRefusal writes the dialect's error body.
func (g *Gateway) renderRefusal(w *bufferedWriter, req *request) {
	ref := req.refusal
	status, body := req.op.Wire.ErrorBody(ref, req.requestID, req.caller.Lang, g.Clock.Now())
	data, _ := json.Marshal(body)
	w.header.Set("Content-Type", "application/json; charset=utf-8")
	w.status = status
	w.body.Write(data)
}

// ResponseHeader is PolishAPI's responseHeader.
type ResponseHeader struct {
	RequestID  string `json:"requestId,omitempty"`
	SendDate   string `json:"sendDate"`
	IsCallback bool   `json:"isCallback"`
}

// FormatDateTime is PolishAPI's date-time: YYYY-MM-DDThh:mm:ss.mmmZ.
func FormatDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// finish signs the response with the bank's seal, sends it, and audits the
// decision.
func (g *Gateway) finish(w http.ResponseWriter, r *http.Request, req *request, rw *bufferedWriter) {
	for k, v := range rw.header {
		w.Header()[k] = v
	}
	if rw.status == 0 {
		rw.status = http.StatusNoContent
	}
	if es, ok := req.op.Wire.(EmptySigner); rw.body.Len() > 0 || rw.status != http.StatusNoContent || ok && es.SignsEmptyAnswers() {
		if req.caller.RequestID == "" {
			req.caller.RequestID = req.requestID
		}
		if err := req.op.Wire.SignResponse(w.Header(), &req.caller, rw.body.Bytes(), g.Signer); err != nil {
			g.Log.Error("signing the response failed", "err", err)
		}
	}
	if rw.body.Len() > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(rw.body.Len()))
	}
	// Recorded, logged and counted before the answer leaves: a TPP that
	// has it can rely on the record, and an operator on the count.
	g.audit(r, req, rw.status)
	g.observe(r, req, rw.status)
	// The header and the body leave in one write of the TLS records
	// (cork): net/http's buffers are flushed while the connection holds
	// what it is given.
	func() {
		uncork := cork.Cork(r.Context())
		defer uncork()
		w.WriteHeader(rw.status)
		w.Write(rw.body.Bytes())
		http.NewResponseController(w).Flush()
	}()
}

// observe is the one place an API call is logged and counted: a refusal
// with its code, the TPP, the operation and the dialect (never the token,
// the body or the refusal's free-text detail, which may quote them).
func (g *Gateway) observe(r *http.Request, req *request, status int) {
	if g.Obs == nil {
		return
	}
	c := obs.APICall{Operation: req.op.Name, TPP: req.tpp(), RequestID: req.requestID,
		Status: status, Duration: time.Since(req.wall)}
	if req.op.Wire != nil {
		c.Dialect = string(req.op.Wire.Name())
	}
	if req.refusal != nil {
		c.Code, c.Reason = string(req.refusal.Code), req.refusal.Reason
	}
	g.Obs.API(r.Context(), c)
}

// audit records a refusal (an admitted request is recorded by admit).
func (g *Gateway) audit(r *http.Request, req *request, status int) {
	if req.refusal == nil {
		return
	}
	if err := g.writeAudit(r, req, "refused", string(req.refusal.Code), req.refusal.Error(), status); err != nil {
		g.Log.Error("audit write failed", "err", err, "tpp", req.caller.OrgID, "operation", req.op.Name)
	}
}

func (g *Gateway) writeAudit(r *http.Request, req *request, decision, code, reason string, status int) error {
	q, args := g.auditRecord(r, req, decision, code, reason, status)
	// The audit must not depend on the client still listening.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	_, err := g.DB.ExecContext(ctx, q, args...)
	return err
}

// auditInsert and auditParams are the audit record's INSERT: its columns,
// and the parameters of its values (auditRecord's args, in order);
// auditSQL the INSERT with those values.
const (
	auditInsert = `INSERT INTO request_audit
		(id, at, tpp_id, cert_serial, request_id, dialect, operation, method, path, remote_addr, decision, code, reason, status)`
	auditParams = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14`
	auditSQL    = auditInsert + ` VALUES (` + auditParams + `)`
)

// auditRecord is the statement that writes a call's audit record.
func (g *Gateway) auditRecord(r *http.Request, req *request, decision, code, reason string, status int) (string, []any) {
	serial := ""
	if req.caller.QWAC != nil {
		serial = req.caller.QWAC.SerialNumber.Text(16)
	}
	tppID := req.tpp()
	dialect := "" // none for a request that matched no operation (AuditUnrouted)
	if req.op.Wire != nil {
		dialect = string(req.op.Wire.Name())
	}
	return auditSQL,
		[]any{uuid.Must(uuid.NewV7()).String(), req.started.UnixMicro(), tppID, serial, req.requestID,
			dialect, req.op.Name, r.Method, r.URL.Path, r.RemoteAddr, decision, code, reason, status}
}

// parseForwardedCert reads a client certificate forwarded by a proxy:
// URL-encoded PEM (nginx $ssl_client_escaped_cert), plain PEM, or base64 DER.
func parseForwardedCert(v string) ([]*x509.Certificate, error) {
	if strings.Contains(v, "%") {
		u, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		v = u
	}
	if strings.Contains(v, "-----BEGIN") {
		var certs []*x509.Certificate
		rest := []byte(v)
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, err
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("no certificate in the PEM")
		}
		return certs, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{c}, nil
}
