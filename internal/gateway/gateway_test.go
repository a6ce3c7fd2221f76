package gateway_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/dialect/mbank"
	"github.com/psd2bank/psd2bank/internal/dialect/polishapi"
	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/gateway"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/store"
	"github.com/psd2bank/psd2bank/internal/store/storetest"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// directory and register are in-memory stand-ins for the bank's registry
// and the national register.
type directory map[string]gateway.TPPStatus

func (d directory) TPPStatus(_ context.Context, org string) (gateway.TPPStatus, error) {
	return d[org], nil
}

func (d directory) QSealC(context.Context, string, string) (*x509.Certificate, error) {
	return nil, nil
}

type register map[string][]eidas.Role

func (r register) Allows(org string, role eidas.Role) (bool, string) {
	roles, ok := r[org]
	if !ok {
		return false, org + " is not in the register"
	}
	for _, x := range roles {
		if x == role {
			return true, ""
		}
	}
	return false, org + " is not authorised for " + string(role)
}

const (
	orgA       = "PSDPL-KNF-0000000001" // AIS, PIS, CAF; registered and licensed
	orgB       = "PSDPL-KNF-0000000002" // AIS only
	orgUnlic   = "PSDPL-KNF-0000000003" // onboarded but not in the register
	orgSusp    = "PSDPL-KNF-0000000004" // suspended
	orgUnknown = "PSDPL-KNF-0000000005" // certificates fine, never onboarded
)

var all = []eidas.Role{eidas.RolePSPAI, eidas.RolePSPPI, eidas.RolePSPIC}

// tpp is a TPP's client certificate and seal.
type tpp struct {
	qwac   *tls.Certificate // nil: no client certificate
	signer *jws.Signer
}

func issue(t testing.TB, q *eidas.QTSP, req eidas.IssueRequest) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	if req.NotBefore.IsZero() {
		req.NotBefore, req.NotAfter = now.Add(-time.Hour), now.Add(365*24*time.Hour)
	}
	if req.Name == "" {
		req.Name = "TPP " + req.OrgID
	}
	certPEM, keyPEM, err := q.Issue(req)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pair.Leaf = cert
	return pair, cert
}

func qwac(t testing.TB, q *eidas.QTSP, org string, roles []eidas.Role) *tls.Certificate {
	pair, _ := issue(t, q, eidas.IssueRequest{OrgID: org, Roles: roles, Kind: eidas.KindQWAC})
	return &pair
}

func sealer(t testing.TB, q *eidas.QTSP, org string, roles []eidas.Role) *jws.Signer {
	t.Helper()
	pair, cert := issue(t, q, eidas.IssueRequest{OrgID: org, Roles: roles, Kind: eidas.KindQSealC})
	s, err := jws.NewSigner(pair.PrivateKey.(crypto.Signer), cert, jws.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTPP(t testing.TB, q *eidas.QTSP, org string, roles []eidas.Role) tpp {
	return tpp{qwac: qwac(t, q, org, roles), signer: sealer(t, q, org, roles)}
}

// bank is a gateway over real TLS with one operation per service of each
// dialect; the handlers echo who called.
type bank struct {
	qtsp     *eidas.QTSP
	db       *store.DB
	gw       *gateway.Gateway
	srv      *httptest.Server
	roots    *x509.CertPool // to verify the bank's server certificate
	bankSeal *x509.Certificate
}

func newBank(t testing.TB, db *store.DB, mode gateway.Mode) *bank {
	t.Helper()
	dir := t.TempDir()
	q, err := eidas.LoadOrCreateQTSP(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(q.Root())
	clk := func() time.Time { return now }
	sealPair, sealCert := issue(t, q, eidas.IssueRequest{OrgID: "PSDPL-KNF-0990000001", Name: "psd2bank", Roles: []eidas.Role{eidas.RolePSPAS}, Kind: eidas.KindQSealC})
	bankSigner, err := jws.NewSigner(sealPair.PrivateKey.(crypto.Signer), sealCert, jws.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gw := &gateway.Gateway{
		Mode:    mode,
		QWACs:   &eidas.Verifier{Roots: roots, Revocation: q, Clock: clk, RejectSandbox: mode == gateway.Production},
		QSealCs: &eidas.Verifier{Roots: roots, Revocation: q, Clock: clk, RejectSandbox: mode == gateway.Production},
		Directory: directory{
			orgA:     {Known: true, Active: true, Environment: "sandbox"},
			orgB:     {Known: true, Active: true, Environment: "sandbox"},
			orgUnlic: {Known: true, Active: true, Environment: "sandbox"},
			orgSusp:  {Known: true, Active: false, Environment: "sandbox", Reason: "unpaid fees"},
		},
		Register:        register{orgA: all, orgB: {eidas.RolePSPAI}, orgSusp: all, orgUnknown: all},
		DB:              db,
		Signer:          bankSigner,
		Clock:           clock.NewFixed(now),
		Log:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		TrustedProxies:  []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")},
		ProxyCertHeader: "X-SSL-Client-Cert",
	}
	echo := func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
		return gateway.WriteJSON(w, 200, map[string]string{"tpp": c.OrgID, "requestId": c.RequestID})
	}
	mux := http.NewServeMux()
	for _, op := range []gateway.Operation{
		{Wire: polishapi.Wire, Service: gateway.AIS, Name: "getAccounts", Handler: echo},
		{Wire: polishapi.Wire, Service: gateway.PIS, Name: "domestic", Handler: echo},
		{Wire: polishapi.Wire, Service: gateway.CAF, Name: "getConfirmationOfFunds", Handler: echo},
		// An AIS read that proves the token's and TPP's changing facts
		// when asked to (X-Test-Prove: as its statement would), for
		// TestLiveFactsSettledBeforeTheAnswer.
		{Wire: polishapi.Wire, Service: gateway.AIS, Name: "getAccount", Token: true, AuditWithWrite: true, LiveInStatement: true,
			Handler: func(w http.ResponseWriter, r *http.Request, c *gateway.Caller) error {
				if r.Header.Get("X-Test-Prove") == "1" {
					live.Proven(r.Context())
				}
				return echo(w, r, c)
			}},
	} {
		mux.Handle("POST /v2_1_2.1/x/v2_1_2.1/"+op.Name, gw.Wrap(op))
	}
	mux.Handle("GET /pl-retail/v3/accounts", gw.Wrap(gateway.Operation{Wire: mbank.Wire, Service: gateway.AIS, Name: "accounts", Handler: echo}))
	mux.Handle("POST /pl-retail/v3/payments/domestic", gw.Wrap(gateway.Operation{Wire: mbank.Wire, Service: gateway.PIS, Name: "domestic", Handler: echo}))

	tlsCA, err := eidas.LoadOrCreateTLSCA(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := tlsCA.ServerCert([]string{"127.0.0.1", "localhost"}, now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	serverRoots := x509.NewCertPool()
	serverRoots.AddCert(tlsCA.Root())
	return &bank{qtsp: q, db: db, gw: gw, srv: srv, roots: serverRoots, bankSeal: sealCert}
}

func (b *bank) client(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: b.roots, ServerName: "127.0.0.1"}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
}

// polishAPI builds a signed PolishAPI call; mutate may spoil it.
func (b *bank) polishAPI(t testing.TB, who tpp, op string, requestID string, mutate func(r *http.Request, body *[]byte)) *http.Request {
	t.Helper()
	if requestID == "" {
		requestID = uuid.Must(uuid.NewUUID()).String()
	}
	org := orgA
	if who.qwac != nil {
		if info, err := eidas.Parse(who.qwac.Leaf); err == nil {
			org = info.OrganizationID
		}
	}
	body, _ := json.Marshal(map[string]any{"requestHeader": map[string]any{"requestId": requestID, "sendDate": "2026-11-23T12:00:00.000Z", "tppId": org}})
	sig, err := who.signer.SignDetached(body)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("POST", b.srv.URL+"/v2_1_2.1/x/v2_1_2.1/"+op, nil)
	r.Header.Set("X-JWS-SIGNATURE", sig)
	r.Header.Set("X-REQUEST-ID", requestID)
	r.Header.Set("Content-Type", "application/json")
	if mutate != nil {
		mutate(r, &body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

func (b *bank) mbank(t testing.TB, who tpp, org, method, path string, body []byte) *http.Request {
	t.Helper()
	r, _ := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(body))
	r.Header.Set("TPP-Request-ID", uuid.Must(uuid.NewUUID()).String())
	r.Header.Set("TPP-ID", org)
	r.Header.Set("Client-ID", "client-1")
	sig, err := who.signer.SignDetached(jws.MBankPayload(jws.MBankRequestURI(r), r.Header, body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("JWS-Signature", sig)
	return r
}

type answer struct {
	status int
	code   string
	msg    string
	body   []byte
	header http.Header
}

func (b *bank) do(t testing.TB, who tpp, r *http.Request) answer {
	t.Helper()
	res, err := b.client(who.qwac).Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	json.Unmarshal(data, &e)
	return answer{status: res.StatusCode, code: e.Code, msg: e.Message, body: data, header: res.Header}
}

// checkSigned verifies the bank's seal on a response.
func (b *bank) checkSigned(t testing.TB, a answer, header string) {
	t.Helper()
	sig := a.header.Get(header)
	if sig == "" {
		t.Fatalf("response without %s", header)
	}
	if _, err := jws.VerifyDetached(sig, a.body, b.bankSeal); err != nil {
		t.Fatalf("the bank's response signature does not verify: %v", err)
	}
}

func (b *bank) lastAudit(t testing.TB) (org, decision, code string) {
	t.Helper()
	err := b.db.QueryRowContext(context.Background(),
		`SELECT tpp_id, decision, code FROM request_audit ORDER BY at DESC, id DESC LIMIT 1`).Scan(&org, &decision, &code)
	if err != nil {
		t.Fatalf("no audit record: %v", err)
	}
	return
}

func TestSignedCallsPass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, gateway.Sandbox)
		a := newTPP(t, b.qtsp, orgA, all)
		for _, op := range []string{"getAccounts", "domestic", "getConfirmationOfFunds"} {
			ans := b.do(t, a, b.polishAPI(t, a, op, "", nil))
			if ans.status != 200 || !strings.Contains(string(ans.body), orgA) {
				t.Fatalf("%s: %d %s", op, ans.status, ans.body)
			}
			b.checkSigned(t, ans, "X-JWS-SIGNATURE")
			if org, decision, _ := b.lastAudit(t); org != orgA || decision != "allowed" {
				t.Fatalf("audit %s %s", org, decision)
			}
		}
		ans := b.do(t, a, b.mbank(t, a, orgA, "GET", "/pl-retail/v3/accounts?pageSize=10", nil))
		if ans.status != 200 {
			t.Fatalf("mBank accounts: %d %s", ans.status, ans.body)
		}
		b.checkSigned(t, ans, "JWS-Signature")
		ans = b.do(t, a, b.mbank(t, a, orgA, "POST", "/pl-retail/v3/payments/domestic", []byte(`{"transferData":{"amount":"1.00"}}`)))
		if ans.status != 200 {
			t.Fatalf("mBank domestic: %d %s", ans.status, ans.body)
		}
	})
}

// Each refusal of the issue, from outside over real TLS: the dialect's
// error body with a reason, the bank's signature on it, an audit record.
func TestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBank(t, db, gateway.Sandbox)
		q := b.qtsp
		a := newTPP(t, q, orgA, all)

		selfSigned := a
		ss, _ := issue(t, q, eidas.IssueRequest{OrgID: orgA, Roles: all, Kind: eidas.KindQWAC, SelfSigned: true})
		selfSigned.qwac = &ss

		expired := a
		ex, _ := issue(t, q, eidas.IssueRequest{OrgID: orgA, Roles: all, Kind: eidas.KindQWAC, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
		expired.qwac = &ex

		revoked := a
		rv, rvCert := issue(t, q, eidas.IssueRequest{OrgID: orgA, Roles: all, Kind: eidas.KindQWAC})
		if err := q.Revoke(rvCert.SerialNumber, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		revoked.qwac = &rv

		noPSD2 := a
		np, _ := issue(t, q, eidas.IssueRequest{OrgID: orgA, Kind: eidas.KindQWAC, NoPSD2Statement: true})
		noPSD2.qwac = &np

		otherSeal := tpp{qwac: a.qwac, signer: sealer(t, q, orgB, all)}
		aisOnly := newTPP(t, q, orgB, []eidas.Role{eidas.RolePSPAI})
		unlicensed := newTPP(t, q, orgUnlic, all)
		suspended := newTPP(t, q, orgSusp, all)
		unknown := newTPP(t, q, orgUnknown, all)
		// A seal of the right organisation but another key than the one that signed.
		stranger := tpp{qwac: a.qwac, signer: sealer(t, q, orgA, all)}

		replayID := uuid.Must(uuid.NewUUID()).String()
		if ans := b.do(t, a, b.polishAPI(t, a, "getAccounts", replayID, nil)); ans.status != 200 {
			t.Fatalf("first use of the request id: %d %s", ans.status, ans.body)
		}

		for _, tc := range []struct {
			name   string
			who    tpp
			op     string
			mutate func(r *http.Request, body *[]byte)
			id     string
			status int
			code   gateway.Code
		}{
			{"no client certificate", tpp{signer: a.signer}, "getAccounts", nil, "", 401, gateway.CodeCertificateMissing},
			{"self-signed certificate", selfSigned, "getAccounts", nil, "", 401, gateway.CodeCertificateInvalid},
			{"expired certificate", expired, "getAccounts", nil, "", 401, gateway.CodeCertificateExpired},
			{"revoked certificate", revoked, "getAccounts", nil, "", 401, gateway.CodeCertificateRevoked},
			{"no PSD2 statement", noPSD2, "getAccounts", nil, "", 401, gateway.CodeCertificateNotPSD2},
			{"QSealC of another organisation", otherSeal, "getAccounts", nil, "", 403, gateway.CodeOrganisationMismatch},
			{"AIS-only TPP calls PIS", aisOnly, "domestic", nil, "", 403, gateway.CodeRoleNotAllowed},
			{"TPP not in the register", unlicensed, "getAccounts", nil, "", 403, gateway.CodeTPPNotLicensed},
			{"suspended TPP", suspended, "getAccounts", nil, "", 403, gateway.CodeTPPSuspended},
			{"never onboarded", unknown, "getAccounts", nil, "", 401, gateway.CodeTPPUnknown},
			{"tampered body", a, "getAccounts", func(r *http.Request, body *[]byte) {
				*body = bytes.Replace(*body, []byte(`"tppId"`), []byte(`"tppId" `), 1)
			}, "", 401, gateway.CodeSignatureInvalid},
			{"signature by another key", a, "getAccounts", func(r *http.Request, body *[]byte) {
				sig, _ := stranger.signer.SignDetached(*body)
				// keep the header naming a's certificate but a signature by another key
				h := strings.SplitN(r.Header.Get("X-JWS-SIGNATURE"), ".", 3)
				s := strings.SplitN(sig, ".", 3)
				r.Header.Set("X-JWS-SIGNATURE", h[0]+".."+s[2])
			}, "", 401, gateway.CodeSignatureInvalid},
			{"signature missing", a, "getAccounts", func(r *http.Request, _ *[]byte) { r.Header.Del("X-JWS-SIGNATURE") }, "", 401, gateway.CodeSignatureMissing},
			{"alg none", a, "getAccounts", func(r *http.Request, _ *[]byte) {
				r.Header.Set("X-JWS-SIGNATURE", "eyJhbGciOiJub25lIn0..")
			}, "", 401, gateway.CodeSignatureInvalid},
			{"replayed request id", a, "getAccounts", nil, replayID, 409, gateway.CodeRequestReplayed},
			{"X-REQUEST-ID differs from the body", a, "getAccounts", func(r *http.Request, _ *[]byte) {
				r.Header.Set("X-REQUEST-ID", uuid.Must(uuid.NewUUID()).String())
			}, "", 400, gateway.CodeRequestIDMismatch},
			{"untrusted proxy header ignored", tpp{signer: a.signer}, "getAccounts", func(r *http.Request, _ *[]byte) {
				r.Header.Set("X-SSL-Client-Cert", url.QueryEscape(string(pemOf(a.qwac.Leaf))))
			}, "", 401, gateway.CodeCertificateMissing},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ans := b.do(t, tc.who, b.polishAPI(t, tc.who, tc.op, tc.id, tc.mutate))
				if ans.status != tc.status || ans.code != string(tc.code) {
					t.Fatalf("got %d %s %q; want %d %s", ans.status, ans.code, ans.msg, tc.status, tc.code)
				}
				if len(ans.msg) < 20 {
					t.Fatalf("message %q says too little", ans.msg)
				}
				var e struct {
					ResponseHeader struct {
						SendDate string `json:"sendDate"`
					} `json:"responseHeader"`
				}
				json.Unmarshal(ans.body, &e)
				if e.ResponseHeader.SendDate == "" {
					t.Fatalf("PolishAPI error without responseHeader: %s", ans.body)
				}
				b.checkSigned(t, ans, "X-JWS-SIGNATURE")
				if _, decision, code := b.lastAudit(t); decision != "refused" || code != string(tc.code) {
					t.Fatalf("audit says %s %s", decision, code)
				}
			})
		}

		// Polish messages on request.
		r := b.polishAPI(t, aisOnly, "domestic", "", nil)
		r.Header.Set("Accept-Language", "pl-PL,pl;q=0.9")
		if ans := b.do(t, aisOnly, r); !strings.Contains(ans.msg, "Twój certyfikat") {
			t.Fatalf("Polish message: %q", ans.msg)
		}
		// mBank dialect refusals: its own error body and header.
		ans := b.do(t, aisOnly, b.mbank(t, aisOnly, orgB, "POST", "/pl-retail/v3/payments/domestic", []byte(`{}`)))
		if ans.status != 403 || ans.code != string(gateway.CodeRoleNotAllowed) {
			t.Fatalf("mBank AIS-only PIS: %d %s", ans.status, ans.body)
		}
		b.checkSigned(t, ans, "JWS-Signature")
		tampered := b.mbank(t, a, orgA, "GET", "/pl-retail/v3/accounts?pageSize=10", nil)
		tampered.URL.RawQuery = "pageSize=100"
		if ans := b.do(t, a, tampered); ans.code != string(gateway.CodeSignatureInvalid) {
			t.Fatalf("mBank tampered query: %d %s", ans.status, ans.body)
		}
		wrongID := b.mbank(t, a, orgB, "GET", "/pl-retail/v3/accounts", nil)
		if ans := b.do(t, a, wrongID); ans.code != string(gateway.CodeOrganisationMismatch) {
			t.Fatalf("mBank TPP-ID of another org: %d %s", ans.status, ans.body)
		}
	})
}

func TestSandboxCertificateRefusedInProduction(t *testing.T) {
	b := newBank(t, storetest.SQLite(t), gateway.Production)
	b.gw.Directory = directory{orgA: {Known: true, Active: true, Environment: "production"}}
	a := newTPP(t, b.qtsp, orgA, all)
	ans := b.do(t, a, b.polishAPI(t, a, "getAccounts", "", nil))
	if ans.status != 401 || ans.code != string(gateway.CodeCertificateSandbox) {
		t.Fatalf("sandbox QWAC in production: %d %s", ans.status, ans.body)
	}
}

func TestClientCertificateFromTrustedProxy(t *testing.T) {
	b := newBank(t, storetest.SQLite(t), gateway.Sandbox)
	a := newTPP(t, b.qtsp, orgA, all)
	r := b.polishAPI(t, a, "getAccounts", "", nil)
	r.Header.Set("X-SSL-Client-Cert", url.QueryEscape(string(pemOf(a.qwac.Leaf))))
	r.RemoteAddr = "10.9.1.2:40000" // a trusted proxy
	r.RequestURI = ""
	rec := httptest.NewRecorder()
	r.URL.Path = "/v2_1_2.1/x/v2_1_2.1/getAccounts"
	b.srv.Config.Handler.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Fatalf("certificate from a trusted proxy: %d %s", rec.Code, rec.Body)
	}
	r2 := b.polishAPI(t, a, "getAccounts", "", nil)
	r2.Header.Set("X-SSL-Client-Cert", url.QueryEscape(string(pemOf(a.qwac.Leaf))))
	r2.RemoteAddr = "192.0.2.7:40000" // anyone else
	r2.URL.Path = "/v2_1_2.1/x/v2_1_2.1/getAccounts"
	rec = httptest.NewRecorder()
	b.srv.Config.Handler.ServeHTTP(rec, r2)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), string(gateway.CodeCertificateMissing)) {
		t.Fatalf("certificate header from an untrusted address: %d %s", rec.Code, rec.Body)
	}
}

func pemOf(c *x509.Certificate) []byte { return eidas.CertificatePEM(c) }
