package sandbox

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/jws"
	"github.com/psd2bank/psd2bank/internal/server"
	"github.com/psd2bank/psd2bank/internal/tpp"
)

// The sandbox bank's and the demo TPP's identities.
const (
	BankOrgID       = "PSDPL-KNF-0990000001"
	BankName        = "psd2bank sandbox bank"
	DemoTPPOrgID    = "PSDPL-KNF-0000000001"
	DemoTPPName     = "Demo TPP sp. z o.o."
	DemoRedirectURI = "http://127.0.0.1:8765/callback"
	demoDir         = "demo-tpp"
)

// ClientFile is client.json: how a TPP identifies itself to the sandbox.
type ClientFile struct {
	ClientID    string   `json:"client_id"`
	TPPID       string   `json:"tpp_id"`
	RedirectURI string   `json:"redirect_uri"`
	Roles       []string `json:"roles"`
}

// TPPCertificates asks the sandbox QTSP for a TPP's pair of certificates.
type TPPCertificates struct {
	OrgID       string
	Name        string
	Roles       []eidas.Role
	ValidFor    time.Duration // default one year
	Expired     bool          // issue certificates that expired a month ago
	KeyType     string        // "ec" (default) or "rsa"
	RedirectURI string        // default DemoRedirectURI
	CRLURL      string        // the QTSP's CRL address, when known
}

// IssuedTPP is what IssueTPP wrote.
type IssuedTPP struct {
	QWACPEM, QWACKey, QSealCPEM, QSealCKey []byte
	Client                                 ClientFile
}

// IssueTPP issues a QWAC and a QSealC for a TPP and writes qwac.pem,
// qwac.key, qsealc.pem, qsealc.key and client.json (without a client_id
// until the TPP is registered) into out.
func IssueTPP(q *eidas.QTSP, req TPPCertificates, out string, now time.Time) (*IssuedTPP, error) {
	if len(req.Roles) == 0 {
		return nil, errors.New("a TPP needs at least one role: PSP_AI, PSP_PI or PSP_IC")
	}
	if _, err := eidas.ParseOrganizationID(req.OrgID); err != nil {
		return nil, fmt.Errorf("--org-id: %w", err)
	}
	if req.ValidFor == 0 {
		req.ValidFor = 365 * 24 * time.Hour
	}
	if req.RedirectURI == "" {
		req.RedirectURI = DemoRedirectURI
	}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(req.ValidFor)
	if req.Expired {
		notBefore, notAfter = now.Add(-400*24*time.Hour), now.Add(-30*24*time.Hour)
	}
	issued := &IssuedTPP{Client: ClientFile{TPPID: req.OrgID, RedirectURI: req.RedirectURI}}
	for _, r := range req.Roles {
		issued.Client.Roles = append(issued.Client.Roles, string(r))
	}
	for _, k := range []struct {
		kind      eidas.Kind
		cert, key *[]byte
	}{{eidas.KindQWAC, &issued.QWACPEM, &issued.QWACKey}, {eidas.KindQSealC, &issued.QSealCPEM, &issued.QSealCKey}} {
		c, key, err := q.Issue(eidas.IssueRequest{OrgID: req.OrgID, Name: req.Name, Roles: req.Roles, Kind: k.kind,
			KeyType: req.KeyType, NotBefore: notBefore, NotAfter: notAfter, CRLURL: req.CRLURL})
		if err != nil {
			return nil, fmt.Errorf("issue %s: %w", k.kind, err)
		}
		*k.cert, *k.key = c, key
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{
		"qwac.pem": issued.QWACPEM, "qwac.key": issued.QWACKey, "qsealc.pem": issued.QSealCPEM, "qsealc.key": issued.QSealCKey,
	} {
		perm := os.FileMode(0o644)
		if strings.HasSuffix(name, ".key") {
			perm = 0o600
		}
		if err := writeFile(filepath.Join(out, name), data, perm); err != nil {
			return nil, err
		}
	}
	return issued, writeClientFile(out, issued.Client)
}

func writeClientFile(dir string, c ClientFile) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "client.json"), append(data, '\n'), 0o644)
}

// RegisterTPP puts a TPP whose certificates IssueTPP wrote into the
// sandbox register (licensed for its roles) and registers it with the bank
// as a client, updating client.json with the client_id.
func RegisterTPP(ctx context.Context, reg *tpp.Registry, registerFile string, issued *IssuedTPP, name, out string, now time.Time) (ClientFile, error) {
	if err := tpp.AddToRegisterFile(registerFile, tpp.EntryInput{OrgID: issued.Client.TPPID, Name: name, Roles: issued.Client.Roles,
		AuthorisedOn: now.AddDate(-1, 0, 0)}); err != nil {
		return ClientFile{}, fmt.Errorf("add to the sandbox register: %w", err)
	}
	client, err := reg.RegisterSandbox(ctx, tpp.SandboxRegistration{OrgID: issued.Client.TPPID, Name: name,
		QWACPEM: issued.QWACPEM, QSealCPEM: issued.QSealCPEM, RedirectURIs: []string{issued.Client.RedirectURI},
		ClientID: issued.Client.ClientID})
	if err != nil {
		return ClientFile{}, fmt.Errorf("register the TPP with the bank: %w", err)
	}
	issued.Client.ClientID = client.ClientID
	return issued.Client, writeClientFile(out, issued.Client)
}

// trust is the sandbox's certificate world.
type trust struct {
	qtsp     *eidas.QTSP
	register *tpp.FileRegister
	seal     *jws.Signer
	sealCert *x509.Certificate
}

// bootstrapTrust loads or creates the sandbox QTSP, the bank's seal, the
// register and the demo TPP: every file of the contract.
func (b *Bank) bootstrapTrust(ctx context.Context, reg *tpp.Registry, fr *tpp.FileRegister) (*trust, error) {
	now := b.Clock.Now()
	q, err := eidas.LoadOrCreateQTSP(b.dir, now)
	if err != nil {
		return nil, fmt.Errorf("sandbox QTSP: %w", err)
	}
	sealCert, sealKey, err := b.bankSeal(q, now)
	if err != nil {
		return nil, err
	}
	signer, err := jws.NewSigner(sealKey, sealCert, jws.SignerOptions{})
	if err != nil {
		return nil, fmt.Errorf("bank seal: %w", err)
	}
	registerPath := fr.Path()
	out := filepath.Join(b.dir, demoDir)
	if _, err := os.Stat(filepath.Join(out, "client.json")); errors.Is(err, os.ErrNotExist) {
		issued, err := IssueTPP(q, TPPCertificates{OrgID: DemoTPPOrgID, Name: DemoTPPName,
			Roles: []eidas.Role{eidas.RolePSPAI, eidas.RolePSPPI, eidas.RolePSPIC}, ValidFor: 2 * 365 * 24 * time.Hour}, out, now)
		if err != nil {
			return nil, fmt.Errorf("demo TPP: %w", err)
		}
		if _, err := RegisterTPP(ctx, reg, registerPath, issued, DemoTPPName, out, now); err != nil {
			return nil, fmt.Errorf("demo TPP: %w", err)
		}
	}
	if err := fr.Reload(); err != nil {
		return nil, fmt.Errorf("sandbox register: %w", err)
	}
	return &trust{qtsp: q, register: fr, seal: signer, sealCert: sealCert}, nil
}

// bankSeal loads or issues the bank's QSealC (bank-qsealc.pem), with which
// every API response is signed.
func (b *Bank) bankSeal(q *eidas.QTSP, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPath, keyPath := filepath.Join(b.dir, "bank-qsealc.pem"), filepath.Join(b.dir, "bank-qsealc.key")
	certPEM, err1 := os.ReadFile(certPath)
	keyPEM, err2 := os.ReadFile(keyPath)
	if err1 != nil || err2 != nil {
		var err error
		certPEM, keyPEM, err = q.Issue(eidas.IssueRequest{OrgID: BankOrgID, Name: BankName, Roles: []eidas.Role{eidas.RolePSPAS},
			Kind: eidas.KindQSealC, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0)})
		if err != nil {
			return nil, nil, fmt.Errorf("issue the bank's seal: %w", err)
		}
		if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
			return nil, nil, err
		}
		if err := writeFile(certPath, certPEM, 0o644); err != nil {
			return nil, nil, err
		}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("bank seal %s: %w", certPath, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	return cert, pair.PrivateKey.(crypto.Signer), nil
}

// endpointsFile records where a running sandbox listens, for other
// commands and scripts: {"api": "https://...", "web": "http://..."}.
const endpointsFile = "endpoints.json"

// CRLURL is the sandbox QTSP's CRL address on the web listener of the
// sandbox last started from dir (DATA/sandbox), or "" when it never ran.
func CRLURL(dir string) string {
	raw, err := os.ReadFile(filepath.Join(dir, endpointsFile))
	if err != nil {
		return ""
	}
	var e server.Endpoints
	if json.Unmarshal(raw, &e) != nil || e.Web == "" {
		return ""
	}
	return e.Web + "/sandbox/qtsp/crl"
}
