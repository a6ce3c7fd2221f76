// Package gateway is the request pipeline every TPP call passes: the TLS
// identity (a QWAC), the register and the roles, the request signature (a
// QSealC), replay protection, then the handler, then the bank's signature
// on the response. One place renders every refusal in the dialect's error
// format, in English or Polish, and writes it to the audit log.
//
// The checks follow the RTS on SCA and CSC (art. 34: eIDAS certificates)
// and ETSI TS 119 495 (the QC statement's roles). Token and
// consent checks (8 and 9) belong to the authorization server and run in
// the handlers.
package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/obs"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Dialect is the name of a wire format of the API. What the pipeline
// needs of a dialect is its Wire.
type Dialect string

// The names of the dialects whose handlers live in internal/api (the
// Caller of those handlers carries them).
const (
	PolishAPI Dialect = "polishapi"
	MBank     Dialect = "mbank"
)

// Service is what an operation gives access to; it decides the role a TPP
// needs.
type Service string

const (
	AIS      Service = "AIS"      // needs PSP_AI
	PIS      Service = "PIS"      // needs PSP_PI
	CAF      Service = "CAF"      // needs PSP_IC
	AS       Service = "AS"       // authorization server: any PSD2 role; the scope is checked there
	Register Service = "REGISTER" // dynamic client registration: any PSD2 role
)

// Roles returns the roles that allow a service (any one of them).
func (s Service) Roles() []eidas.Role {
	switch s {
	case AIS:
		return []eidas.Role{eidas.RolePSPAI}
	case PIS:
		return []eidas.Role{eidas.RolePSPPI}
	case CAF:
		return []eidas.Role{eidas.RolePSPIC}
	default:
		return []eidas.Role{eidas.RolePSPAI, eidas.RolePSPPI, eidas.RolePSPIC}
	}
}

// Mode tells sandbox from production.
type Mode int

const (
	// Sandbox accepts only certificates of the sandbox QTSP.
	Sandbox Mode = iota
	// Production never accepts them.
	Production
)

// TPPStatus is what the bank's registry says of an organisation.
type TPPStatus struct {
	Known       bool   // registered with the bank (onboarded)
	Active      bool   // false when suspended
	Environment string // "sandbox" or "production"
	Reason      string // why it is suspended
}

// Directory is the bank's registry of TPPs.
type Directory interface {
	TPPStatus(ctx context.Context, orgID string) (TPPStatus, error)
	// QSealC returns the registered QSealC of the TPP with the given
	// x5t#S256 thumbprint, or nil.
	QSealC(ctx context.Context, orgID, thumbprint string) (*x509.Certificate, error)
}

// LicenceRegister is the national register of payment institutions.
type LicenceRegister interface {
	// Allows tells whether the organisation is currently authorised for a
	// role in Poland; when not, reason says why.
	Allows(orgID string, role eidas.Role) (ok bool, reason string)
}

// Grant is what an access token stands for: a consent of a customer,
// given to a client of the calling TPP.
type Grant struct {
	ConsentID  string
	CustomerID string
	ClientID   string
	Scope      string
}

// Tokens authenticates access tokens (the authorization server). The token
// must belong to tppID and be bound to the certificate with the given
// x5t#S256 thumbprint. Errors should be *Refusal values; others are
// reported as an invalid token.
type Tokens interface {
	Authenticate(ctx context.Context, accessToken, tppID, qwacThumbprint string) (Grant, error)
}

// Gateway runs the pipeline. Configure it, then wrap each route's handler
// with Wrap. It is safe for concurrent use.
type Gateway struct {
	Mode      Mode
	QWACs     *eidas.Verifier // verifies client certificates (Kind QWAC)
	QSealCs   *eidas.Verifier // verifies signing certificates (Kind QSealC)
	Directory Directory
	Register  LicenceRegister
	DB        *store.DB
	Signer    *jws.Signer // the bank's seal, for responses
	Tokens    Tokens      // for operations that need an access token
	Clock     clock.Clock
	Log       *slog.Logger
	// Obs logs every refusal and counts every call (requests, refusals by
	// code, latency per dialect and operation); nil: neither.
	Obs *obs.Observer

	// TrustedProxies may forward the client certificate in ProxyCertHeader
	// (URL-encoded PEM, as nginx's $ssl_client_escaped_cert); the header is
	// ignored from any other address.
	TrustedProxies  []netip.Prefix
	ProxyCertHeader string

	// MaxBody bounds request bodies; default 1 MiB.
	MaxBody int64

	idCache sync.Map // certificate fingerprint -> cachedIdentity
}

// identityTTL bounds how long a verified certificate's chain, kind and
// roles are trusted without verifying them again. Revocation is not cached
// here: every request asks the verifier's revocation checker again (see
// verify), so a revocation takes effect on the next request once the
// checker knows it — at once for the sandbox QTSP (`psd2bank certs
// revoke`), and for CRL/OCSP as soon as the checker has fetched a CRL or
// an OCSP answer that says so (it keeps each until the source's
// nextUpdate, at most an hour).
const identityTTL = time.Minute

type cachedIdentity struct {
	info    *eidas.Info
	expires time.Time
}

// Operation is one route of the API.
type Operation struct {
	Wire    Wire // the dialect
	Service Service
	Name    string // the standard's operation name, e.g. getAccounts
	// Token: the operation needs an access token (Authorization: Bearer;
	// in PolishAPI also requestHeader.token, which must be the same).
	Token   bool
	Handler Handler
	// AuditWithWrite: the audit record of an admitted call (which is also
	// the replay check) is written with the handler's first write — in its
	// transaction, one commit instead of two — and not before the handler
	// runs (store.Lead). Only for handlers that make every write with the
	// request's context: a replayed request id then fails that first write
	// and changes nothing. The payment initiations of PolishAPI and mBank,
	// and the account information reads of every dialect (their write is
	// the consent check's access record, store.WriteRow).
	AuditWithWrite bool
	// LiveInStatement: with the access token's unchanging facts kept from
	// an earlier read (LiveLookup; for an operation without a token, the
	// TPP's registration, LiveDirectory), the call does not read them
	// again; their changing facts (the token not revoked, the TPP active)
	// go to the handler's statement that grants the access, which proves
	// them, or are read before its first other write (package live). Only
	// for handlers whose every write is such a statement or follows
	// live.Confirm: the account information reads of every dialect
	// (package ais; Berlin Group's own check). Whatever a handler proved,
	// the gateway reads what is still owed before the answer leaves.
	LiveInStatement bool
}

// Handler serves a request that passed the pipeline. It writes the
// response body through w (the gateway signs it) or returns a refusal.
type Handler func(w http.ResponseWriter, r *http.Request, c *Caller) error

// Caller is who is calling, as the pipeline established it.
type Caller struct {
	OrgID     string // organizationIdentifier of the QWAC (= of the QSealC)
	Name      string
	QWAC      *x509.Certificate
	QWACInfo  *eidas.Info
	QSealC    *x509.Certificate
	RequestID string
	Grant     *Grant // the access token's grant, for operations that need one
	Body      []byte // the raw request body, as signed
	// BodyHeader is what the dialect's wire read of the body's own
	// header when it took the request id (PolishAPI's requestHeader), for
	// its later checks of the same request not to parse the body again.
	BodyHeader any
	Dialect    Dialect
	Lang       string // "pl" or "en"
	// SealPrefix, set by a handler, is a beginning its answer usually has
	// and the bank has sealed before (jws.Prefix): the seal's hash over it
	// is not computed again.
	SealPrefix *jws.Prefix
	// DigestPrefix, set by a handler, is likewise a beginning its answer
	// usually has, with SHA-256's state over it, for a dialect that hashes
	// the answer itself (Berlin Group's Digest header).
	DigestPrefix *DigestPrefix
}

// Wrap returns the HTTP handler of an operation: the pipeline, then h.
func (g *Gateway) Wrap(op Operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.serve(w, r, op)
	})
}

// request is one call going through the pipeline.
type request struct {
	op        Operation
	started   time.Time // the bank's time (the sandbox's clock may have moved)
	wall      time.Time // the machine's, for the latency
	caller    Caller
	refusal   *Refusal
	requestID string    // as far as known, for the audit and the error body
	looked    *lookedUp // the access token, when read with the TPP's status
	tppID     string    // normalOrg(tppOf), see tpp
	tppOf     string
	lead      *store.Lead // the admitted call's audit record, owed (Operation.AuditWithWrite)
	live      *live.Check // the token's and TPP's changing facts, owed (Operation.LiveInStatement)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, op Operation) {
	req := &request{op: op, started: g.Clock.Now(), wall: time.Now()}
	// The bank's time (the sandbox's moved clock too), for the TPP to compare by.
	w.Header().Set("Date", req.started.UTC().Format(http.TimeFormat))
	req.caller.Dialect = op.Wire.Name()
	req.caller.Lang = language(r)
	rw := newBufferedWriter()
	defer func() { rw.release() }()
	if ref := g.measured(w, r, op); ref != nil {
		req.refusal = ref
	} else if ref := g.check(r, req); ref != nil {
		req.refusal = ref
	} else if err := g.handle(rw, r, req); err != nil {
		var ref *Refusal
		if !errors.As(err, &ref) {
			g.Log.Error("handler failed", "operation", op.Name, "tpp", req.caller.OrgID, "err", err)
			ref = refuse(http.StatusInternalServerError, CodeInternal,
				"the bank could not process the request; try again later", "bank nie mógł przetworzyć żądania; spróbuj ponownie później")
		}
		req.refusal = ref
	}
	if req.refusal != nil {
		rw.release()
		rw = newBufferedWriter()
		g.renderRefusal(rw, req)
	}
	g.finish(w, r, req, rw)
}

// handle runs the operation's handler; with an audit record owed, it goes
// with the handler's first write, and is written afterwards if the handler
// wrote nothing (or rolled back): a replayed request id refuses the call
// then, whatever the handler answered.
func (g *Gateway) handle(w http.ResponseWriter, r *http.Request, req *request) error {
	if req.lead == nil && req.live == nil {
		return req.op.Handler(w, r, &req.caller)
	}
	ctx := r.Context()
	if req.lead != nil {
		ctx = store.WithLead(ctx, req.lead)
	}
	if req.live != nil {
		ctx = live.With(ctx, req.live)
	}
	err := req.op.Handler(w, r.WithContext(ctx), &req.caller)
	if req.live != nil {
		// Not proven by the handler's statement: read now, and refuse
		// (the handler's answer is dropped, its audit record not written:
		// it wrote nothing on facts it did not check, see package live).
		if lerr := req.live.Settle(ctx); lerr != nil {
			return lerr
		}
	}
	if req.lead == nil {
		return err
	}
	if ref := g.settle(r, req); ref != nil {
		return ref
	}
	return err
}

// check runs checks 1-7 and 10 of the pipeline.
func (g *Gateway) check(r *http.Request, req *request) *Refusal {
	ctx := r.Context()
	// 1-3: the QWAC: present, chained, valid, a PSD2 web certificate, not revoked.
	chain, ref := g.clientChain(r)
	if ref != nil {
		return ref
	}
	req.caller.QWAC = chain[0]
	info, ref := g.verify(ctx, g.QWACs, chain, eidas.KindQWAC)
	if ref != nil {
		return ref
	}
	req.caller.QWACInfo = info
	req.caller.OrgID = info.OrganizationID
	req.caller.Name = info.OrganizationName

	// The body, bounded, read once: signatures are over its exact bytes.
	max := g.MaxBody
	if max == 0 {
		max = 1 << 20
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return refuse(http.StatusBadRequest, CodeFormatError, "the request body could not be read", "nie udało się odczytać treści żądania", err)
	}
	if int64(len(body)) > max {
		return refuse(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			"the request body is too large", "treść żądania jest zbyt duża", "limit ", max, " bytes")
	}
	req.caller.Body = body
	if ref := strictBody(r, body); ref != nil {
		return ref
	}

	// Request id and the TPP id the request claims (dialect specific).
	if ref := g.requestIdentity(r, req); ref != nil {
		return ref
	}

	// 4: the TPP is onboarded and not suspended.
	st, err := g.tppStatus(r, req, info.OrganizationID)
	if err != nil {
		return g.unavailable(err)
	}
	if ref := g.statusRefusal(req, st, info.OrganizationID); ref != nil {
		return ref
	}

	// 4-5: the register and the certificate both allow the service.
	if ref := g.allowed(info, req.op.Service, "QWAC"); ref != nil {
		return ref
	}

	// 6-7: the signature, by a QSealC of the same organisation. Dynamic
	// registration carries its signature inside the body (the software
	// statement), which its handler verifies with VerifySealed.
	if req.op.Service != Register {
		if ref := g.verifySignature(r, req); ref != nil {
			return ref
		}
	}

	// 8: the access token: valid, this TPP's, bound to this QWAC.
	if req.op.Token {
		if ref := g.authenticate(r, req); ref != nil {
			return ref
		}
	}

	// 10: a request id is accepted once per TPP, on every node.
	if req.op.AuditWithWrite {
		q, args := g.auditRecord(r, req, "allowed", "", "", 0)
		req.lead = store.NewLead(q, args...)
		if req.live != nil && g.DB.Engine() == store.Postgres {
			// On PostgreSQL the record goes as a WITH query of the
			// handler's statement, which runs whether or not that
			// statement grants the access: there it is written only if
			// the token and the TPP are live (on SQLite it goes with the
			// statement's first row, of which there is none then).
			// Written on its own (Settle, a transaction's first
			// statement), the facts are settled before it. The record's
			// id is its first column.
			lq, largs := liveLead(args, req.live)
			req.lead.JoinedAs(lq, largs, `SELECT COUNT(*) FROM request_audit WHERE id = $1`, args[:1])
		}
		return nil
	}
	return g.admit(r, req)
}

// liveLeadSQL is the audit record as an INSERT ... SELECT that inserts only
// when the token and TPP are live (live.Cond, its parameters after the
// record's fourteen).
var liveLeadSQL = auditInsert + ` SELECT ` + auditParams + ` WHERE TRUE` + live.Cond(strings.Count(auditParams, "$")+1)

// liveLead is the audit record with args (auditRecord's) as liveLeadSQL
// for the token and TPP of c.
func liveLead(args []any, c *live.Check) (string, []any) {
	return liveLeadSQL, append(args[:len(args):len(args)], c.TokenHash, c.TPP, c.Environment)
}

// statusRefusal is check 4's refusal of the TPP's registration st, if any.
func (g *Gateway) statusRefusal(req *request, st TPPStatus, orgID string) *Refusal {
	if !st.Known && !(req.op.Service == Register && g.Mode == Sandbox) {
		return refuse(http.StatusUnauthorized, CodeTPPUnknown,
			"your organisation is not registered with this bank: register in the developer portal (or, in the sandbox, with `psd2bank certs issue --register`)",
			"Twoja organizacja nie jest zarejestrowana w tym banku: zarejestruj się w portalu dla deweloperów (w sandboksie: `psd2bank certs issue --register`)",
			"organizationIdentifier ", orgID)
	}
	if st.Known && !st.Active {
		return refuse(http.StatusForbidden, CodeTPPSuspended,
			"the bank has suspended your organisation's access; contact the bank",
			"bank zawiesił dostęp Twojej organizacji; skontaktuj się z bankiem", st.Reason)
	}
	if g.Mode == Production && st.Environment != "production" {
		return refuse(http.StatusForbidden, CodeTPPUnknown,
			"your organisation has no production access yet: its application must be approved first",
			"Twoja organizacja nie ma jeszcze dostępu produkcyjnego: wniosek musi zostać zatwierdzony")
	}
	return nil
}

// authenticate checks the access token of the request.
func (g *Gateway) authenticate(r *http.Request, req *request) *Refusal {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || token == "" {
		return refuse(http.StatusUnauthorized, CodeTokenMissing,
			"this operation needs an access token: send Authorization: Bearer <access_token>",
			"ta operacja wymaga tokena dostępowego: wyślij nagłówek Authorization: Bearer <access_token>")
	}
	if tb, ok := req.op.Wire.(TokenBinder); ok {
		if ref := tb.CheckToken(&req.caller, token); ref != nil {
			return ref
		}
	}
	if g.Tokens == nil {
		return g.unavailable(errors.New("no authorization server configured"))
	}
	grant, err := g.authenticateToken(r, req, token)
	if err != nil {
		var ref *Refusal
		if errors.As(err, &ref) {
			return ref
		}
		return refuse(http.StatusUnauthorized, CodeTokenInvalid, "the access token is not valid", "token dostępowy jest nieważny", err.Error())
	}
	req.caller.Grant = &grant
	return nil
}

// clientChain finds the client certificate chain: from the TLS connection,
// or from a trusted proxy's header.
func (g *Gateway) clientChain(r *http.Request) ([]*x509.Certificate, *Refusal) {
	if g.ProxyCertHeader != "" {
		if v := r.Header.Get(g.ProxyCertHeader); v != "" && g.fromTrustedProxy(r) {
			certs, err := parseForwardedCert(v)
			if err != nil {
				return nil, refuse(http.StatusUnauthorized, CodeCertificateInvalid,
					"the client certificate forwarded by the proxy could not be read", "nie udało się odczytać certyfikatu klienta przekazanego przez proxy", err)
			}
			return certs, nil
		}
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates, nil
	}
	return nil, refuse(http.StatusUnauthorized, CodeCertificateMissing,
		"no client certificate: connect with mutual TLS using your QWAC",
		"brak certyfikatu klienta: połącz się przez wzajemne TLS z użyciem certyfikatu QWAC")
}

func (g *Gateway) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range g.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// verify checks a certificate chain, caching the answer for a minute per
// certificate: a TPP's every request presents the same one.
func (g *Gateway) verify(ctx context.Context, v *eidas.Verifier, chain []*x509.Certificate, kind eidas.Kind) (*eidas.Info, *Refusal) {
	key := cacheKey(chain[0], kind)
	now := g.Clock.Now()
	if c, ok := g.idCache.Load(key); ok {
		ci := c.(cachedIdentity)
		if now.Before(ci.expires) && now.Before(chain[0].NotAfter) && stillGood(ctx, v, chain[0], ci.info) {
			return ci.info, nil
		}
		g.idCache.Delete(key)
	}
	info, err := v.Verify(ctx, chain, kind)
	if err != nil {
		return nil, certificateRefusal(err, kind)
	}
	if g.Mode == Production && eidas.IsSandbox(chain[0]) {
		return nil, certificateRefusal(&eidas.Error{Reason: eidas.ReasonSandbox}, kind)
	}
	if g.Mode == Sandbox && !eidas.IsSandbox(chain[0]) {
		return nil, refuse(http.StatusUnauthorized, CodeCertificateInvalid,
			"the sandbox accepts only certificates of the sandbox QTSP: issue them with `psd2bank certs issue`",
			"sandboks przyjmuje tylko certyfikaty sandboksowego QTSP: wystaw je poleceniem `psd2bank certs issue`")
	}
	g.idCache.Store(key, cachedIdentity{info: info, expires: now.Add(identityTTL)})
	return info, nil
}

func cacheKey(cert *x509.Certificate, kind eidas.Kind) [33]byte {
	var k [33]byte
	sum := sha256.Sum256(cert.Raw)
	copy(k[:], sum[:])
	k[32] = byte(kind)
	return k
}

// allowed checks that both the certificate's roles and the register allow
// the service.
func (g *Gateway) allowed(info *eidas.Info, s Service, which string) *Refusal {
	roles := s.Roles()
	var hasRole bool
	for _, role := range roles {
		if info.HasRole(role) {
			hasRole = true
			break
		}
	}
	if !hasRole {
		return refuse(http.StatusForbidden, CodeRoleNotAllowed,
			"your "+which+" does not carry the PSD2 role this service needs ("+rolesText(roles)+"); your certificate has "+rolesText(info.Roles),
			"Twój certyfikat "+which+" nie ma roli PSD2 wymaganej dla tej usługi ("+rolesText(roles)+"); certyfikat ma "+rolesText(info.Roles))
	}
	var reasons []string
	for _, role := range roles {
		if !info.HasRole(role) {
			continue
		}
		ok, reason := g.Register.Allows(info.OrganizationID, role)
		if ok {
			return nil
		}
		reasons = append(reasons, reason)
	}
	return refuse(http.StatusForbidden, CodeTPPNotLicensed,
		"the register of payment institutions does not authorise your organisation for this service ("+rolesText(roles)+")",
		"rejestr instytucji płatniczych nie uprawnia Twojej organizacji do tej usługi ("+rolesText(roles)+")",
		strings.Join(reasons, "; "))
}

func rolesText(roles []eidas.Role) string {
	if len(roles) == 0 {
		return "no roles"
	}
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

func (g *Gateway) unavailable(err error) *Refusal {
	g.Log.Error("pipeline dependency failed", "err", err)
	return refuse(http.StatusServiceUnavailable, CodeUnavailable,
		"the bank cannot check the request right now; try again later", "bank nie może teraz sprawdzić żądania; spróbuj ponownie później")
}

// certificateRefusal maps a certificate error to the wire.
func certificateRefusal(err error, kind eidas.Kind) *Refusal {
	which, whichPL := "client certificate (QWAC)", "certyfikat klienta (QWAC)"
	code := CodeCertificateInvalid
	if kind == eidas.KindQSealC {
		which, whichPL = "signing certificate (QSealC)", "certyfikat pieczęci (QSealC)"
		code = CodeSignatureCert
	}
	ref := certificateRefusalOf(err, kind, code, which, whichPL)
	ref.Reason = string(eidas.ReasonOf(err))
	return ref
}

func certificateRefusalOf(err error, kind eidas.Kind, code Code, which, whichPL string) *Refusal {
	detail := err.Error()
	switch eidas.ReasonOf(err) {
	case eidas.ReasonExpired, eidas.ReasonNotYetValid:
		if kind == eidas.KindQWAC {
			code = CodeCertificateExpired
		}
		return refuse(http.StatusUnauthorized, code, "your "+which+" is outside its validity period: renew it",
			"Twój "+whichPL+" jest poza okresem ważności: odnów go", detail)
	case eidas.ReasonRevoked:
		if kind == eidas.KindQWAC {
			code = CodeCertificateRevoked
		}
		return refuse(http.StatusUnauthorized, code, "your "+which+" has been revoked by its issuer",
			"Twój "+whichPL+" został unieważniony przez wystawcę", detail)
	case eidas.ReasonSandbox:
		if kind == eidas.KindQWAC {
			code = CodeCertificateSandbox
		}
		return refuse(http.StatusUnauthorized, code, "your "+which+" was issued by the sandbox QTSP; production accepts only qualified certificates",
			"Twój "+whichPL+" wystawił sandboksowy QTSP; środowisko produkcyjne przyjmuje tylko certyfikaty kwalifikowane", detail)
	case eidas.ReasonNoPSD2Statement, eidas.ReasonNotQualified, eidas.ReasonWrongKind, eidas.ReasonBadQCStatement, eidas.ReasonRoleMismatch, eidas.ReasonBadOrgID:
		if kind == eidas.KindQWAC {
			code = CodeCertificateNotPSD2
		}
		return refuse(http.StatusUnauthorized, code, "your "+which+" is not a PSD2 certificate of the right kind (ETSI TS 119 495)",
			"Twój "+whichPL+" nie jest certyfikatem PSD2 właściwego rodzaju (ETSI TS 119 495)", detail)
	case eidas.ReasonRevocationUnknown:
		return refuse(http.StatusServiceUnavailable, CodeUnavailable, "the revocation status of your "+which+" cannot be checked right now; try again later",
			"nie można teraz sprawdzić statusu unieważnienia: "+whichPL+"; spróbuj ponownie później", detail)
	default:
		return refuse(http.StatusUnauthorized, code, "your "+which+" is not issued by a QTSP this bank trusts, or is malformed",
			"Twój "+whichPL+" nie pochodzi od QTSP, któremu bank ufa, lub jest uszkodzony", detail)
	}
}

// language picks Polish or English from Accept-Language.
func language(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "pl"):
			return "pl"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// bufferedWriter collects the handler's response so that the gateway can
// sign it before it leaves.
type bufferedWriter struct {
	header http.Header
	status int
	body   *bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// WriteJSON is a helper for handlers: status and a JSON body.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	if b, ok := w.(*bufferedWriter); ok {
		return b.writeJSON(status, v)
	}
	var data []byte
	if a, ok := v.(JSONAppender); ok {
		data = a.AppendJSON(nil)
	} else {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(data)
	return err
}
