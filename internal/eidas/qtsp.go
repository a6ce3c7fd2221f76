package eidas

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Files of the sandbox QTSP in its directory.
const (
	QTSPRootFile    = "qtsp-root.pem"     // the root certificate (public)
	QTSPKeyFile     = "qtsp-root.key"     // the root's PKCS#8 key, mode 0600
	QTSPRevokedFile = "qtsp-revoked.json" // revoked serials with times
)

// crlValidity is how long a CRL from QTSP.CRL (and an OCSP answer) is valid.
const crlValidity = time.Hour

// QTSP is the sandbox's qualified trust service provider: a root CA (ECDSA
// P-256) that issues PSD2 QWACs and QSealCs, and its revocation list. It is
// not qualified: everything it issues carries the sandbox marker (IsSandbox).
// It is safe for concurrent use. Revocations are kept in a file that other
// processes on the same directory may change; the QTSP rereads it when it
// changes.
type QTSP struct {
	dir  string
	root *x509.Certificate
	key  *ecdsa.PrivateKey

	mu      sync.Mutex
	revoked map[string]revocation // by serialHex
	stamp   fileStamp             // of the revocation file when last read
}

type revocation struct {
	serial *big.Int
	at     time.Time
}

type fileStamp struct {
	exists  bool
	modTime time.Time
	size    int64
}

// revokedFileJSON is the format of qtsp-revoked.json.
type revokedFileJSON struct {
	Revoked []revokedJSON `json:"revoked"`
}

type revokedJSON struct {
	Serial    string    `json:"serial"` // lower-case hex
	RevokedAt time.Time `json:"revoked_at"`
}

// LoadOrCreateQTSP loads the sandbox QTSP from dir (qtsp-root.pem,
// qtsp-root.key, qtsp-revoked.json), or creates a new root there when there
// is none. The root ("CN=psd2bank Sandbox QTSP Root, O=psd2bank sandbox,
// C=PL") is valid from a year before now until ten years after.
func LoadOrCreateQTSP(dir string, now time.Time) (*QTSP, error) {
	subject := pkix.Name{
		CommonName:   "psd2bank Sandbox QTSP Root",
		Organization: []string{sandboxOrganization},
		Country:      []string{"PL"},
	}
	root, key, err := loadOrCreateCA(dir, QTSPRootFile, QTSPKeyFile, subject, now)
	if err != nil {
		return nil, err
	}
	q := &QTSP{dir: dir, root: root, key: key}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.refreshLocked(); err != nil {
		return nil, err
	}
	return q, nil
}

// Root returns the QTSP's root certificate, the trust anchor for the
// certificates it issues.
func (q *QTSP) Root() *x509.Certificate { return q.root }

// RootPEM returns the root certificate in PEM.
func (q *QTSP) RootPEM() []byte { return CertificatePEM(q.root) }

// IssueRequest describes a certificate for QTSP.Issue.
type IssueRequest struct {
	// OrgID is the organizationIdentifier, e.g. "PSDPL-KNF-0000000000".
	OrgID string
	// Name is the organisation's name (subject O).
	Name string
	// Country is the subject C; default: the OrgID's country.
	Country string
	// Roles are the PSD2 roles (at least one, unless NoPSD2Statement).
	Roles []Role
	// Kind is KindQWAC or KindQSealC.
	Kind Kind
	// KeyType is "ec" (ECDSA P-256, the default) or "rsa" (RSA-2048).
	KeyType string
	// NotBefore and NotAfter bound the validity; both are required.
	NotBefore, NotAfter time.Time
	// NCAName and NCAID name the competent authority; by default NCAID is
	// taken from OrgID ("PSDPL-KNF-..." gives "PL-KNF") and NCAName from
	// the NCA table ("Polish Financial Supervision Authority").
	NCAName, NCAID string
	// DNSNames go into the subjectAltName; the first is also the CN
	// (otherwise the CN is Name).
	DNSNames []string
	// CRLURL and OCSPURL, when set, become the CRL distribution point and
	// the OCSP responder of the certificate.
	CRLURL, OCSPURL string
	// NoPSD2Statement leaves out the PSD2 QC statement (negative tests).
	NoPSD2Statement bool
	// SelfSigned makes the certificate sign itself instead of being issued
	// by the QTSP (negative tests).
	SelfSigned bool
}

// Issue creates a PSD2 certificate and its new private key, both in PEM
// (the key as PKCS#8). A QWAC has key usage digitalSignature (plus
// keyEncipherment for RSA) and extended key usages clientAuth and serverAuth;
// a QSealC has digitalSignature and contentCommitment and no extended key
// usage. Both carry QcCompliance, QcType (web or eseal) and the PSD2
// statement, and the subject's organizationIdentifier as a UTF8String.
func (q *QTSP) Issue(req IssueRequest) (certPEM, keyPEM []byte, err error) {
	tmpl, err := q.template(req)
	if err != nil {
		return nil, nil, err
	}
	key, err := generateKey(req.KeyType)
	if err != nil {
		return nil, nil, err
	}
	if _, isRSA := key.(*rsa.PrivateKey); isRSA && req.Kind == KindQWAC {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	parent, signer := q.root, crypto.Signer(q.key)
	if req.SelfSigned {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, nil, fmt.Errorf("eidas: issuing the certificate: %w", err)
	}
	keyPEM, err = marshalKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

func (q *QTSP) template(req IssueRequest) (*x509.Certificate, error) {
	if req.Kind != KindQWAC && req.Kind != KindQSealC {
		return nil, fmt.Errorf("eidas: IssueRequest.Kind must be KindQWAC or KindQSealC, not %v", req.Kind)
	}
	org, err := ParseOrganizationID(req.OrgID)
	if err != nil {
		return nil, fmt.Errorf("eidas: IssueRequest.OrgID: %w", err)
	}
	if req.Name == "" {
		return nil, errors.New("eidas: IssueRequest.Name (the organisation's name) is required")
	}
	if req.NotBefore.IsZero() || req.NotAfter.IsZero() {
		return nil, errors.New("eidas: IssueRequest.NotBefore and NotAfter are required")
	}
	if !req.NotAfter.After(req.NotBefore) {
		return nil, errors.New("eidas: IssueRequest.NotAfter must be after NotBefore")
	}
	country := req.Country
	if country == "" {
		country = org.Country
	}
	ncaID := req.NCAID
	if ncaID == "" {
		ncaID = org.NCAID()
	}
	if !validNCAID(ncaID) {
		return nil, fmt.Errorf("eidas: NCA id %q is not a country code, '-' and 2 to 8 letters A-Z", ncaID)
	}
	ncaName := req.NCAName
	if ncaName == "" {
		n, ok := NCAName(ncaID)
		if !ok {
			return nil, fmt.Errorf("eidas: no known name for the NCA %s; set IssueRequest.NCAName", ncaID)
		}
		ncaName = n
	}

	var psd2 *psd2Statement
	if !req.NoPSD2Statement {
		if len(req.Roles) == 0 {
			return nil, errors.New("eidas: IssueRequest.Roles must hold at least one PSD2 role")
		}
		psd2 = &psd2Statement{ncaName: ncaName, ncaID: ncaID}
		for _, r := range req.Roles {
			if !r.Valid() {
				return nil, fmt.Errorf("eidas: unknown PSD2 role %q", r)
			}
			psd2.roles = appendRole(psd2.roles, r)
		}
	}
	qcs, err := marshalQCStatements(true, []asn1.ObjectIdentifier{req.Kind.QcType()}, psd2)
	if err != nil {
		return nil, err
	}
	orgIDValue, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(req.OrgID)})
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	cn := req.Name
	if len(req.DNSNames) > 0 {
		cn = req.DNSNames[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   cn,
			Organization: []string{req.Name},
			Country:      []string{country},
			ExtraNames: []pkix.AttributeTypeAndValue{
				{Type: oidOrgID, Value: asn1.RawValue{FullBytes: orgIDValue}},
			},
		},
		NotBefore:             req.NotBefore.UTC(),
		NotAfter:              req.NotAfter.UTC(),
		BasicConstraintsValid: true,
		DNSNames:              slices.Clone(req.DNSNames),
		Policies:              []x509.OID{sandboxPolicy},
		ExtraExtensions:       []pkix.Extension{{Id: oidQCStatements, Value: qcs}},
	}
	switch req.Kind {
	case KindQWAC:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	case KindQSealC:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	if req.CRLURL != "" {
		tmpl.CRLDistributionPoints = []string{req.CRLURL}
	}
	if req.OCSPURL != "" {
		tmpl.OCSPServer = []string{req.OCSPURL}
	}
	return tmpl, nil
}

// Revoke marks the certificate with the given serial as revoked at the given
// time and saves the list. Revoking a certificate twice keeps the first time.
func (q *QTSP) Revoke(serial *big.Int, at time.Time) error {
	if serial == nil || serial.Sign() <= 0 {
		return errors.New("eidas: Revoke needs a positive serial number")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.refreshLocked(); err != nil {
		return err
	}
	k := serialHex(serial)
	if _, ok := q.revoked[k]; ok {
		return nil
	}
	q.revoked[k] = revocation{serial: new(big.Int).Set(serial), at: at.UTC().Truncate(time.Second)}
	if err := q.saveLocked(); err != nil {
		delete(q.revoked, k)
		return err
	}
	return nil
}

// IsRevoked reports whether the certificate with the given serial is revoked
// and since when.
func (q *QTSP) IsRevoked(serial *big.Int) (time.Time, bool) {
	if serial == nil {
		return time.Time{}, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	// A file that cannot be read leaves the last good list in force.
	_ = q.refreshLocked()
	r, ok := q.revoked[serialHex(serial)]
	return r.at, ok
}

// CRL returns a DER CRL signed by the root, listing every revoked serial,
// valid from now for one hour.
func (q *QTSP) CRL(now time.Time) ([]byte, error) {
	q.mu.Lock()
	if err := q.refreshLocked(); err != nil {
		q.mu.Unlock()
		return nil, err
	}
	entries := make([]x509.RevocationListEntry, 0, len(q.revoked))
	for _, r := range q.revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: r.serial, RevocationTime: r.at})
	}
	q.mu.Unlock()
	slices.SortFunc(entries, func(a, b x509.RevocationListEntry) int { return a.SerialNumber.Cmp(b.SerialNumber) })
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(now.Unix()),
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.Add(crlValidity).UTC(),
		RevokedCertificateEntries: entries,
	}
	return x509.CreateRevocationList(rand.Reader, tmpl, q.root, q.key)
}

// OCSPResponse answers a DER OCSP request for a certificate of this QTSP,
// signed by the root and valid from now for one hour. The QTSP does not keep
// a list of what it issued, so every serial not revoked is "good". A
// request about another issuer gets the "unauthorized" answer.
func (q *QTSP) OCSPResponse(request []byte, now time.Time) ([]byte, error) {
	req, err := ocsp.ParseRequest(request)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil
	}
	nameHash, keyHash, err := issuerHashes(q.root, req.HashAlgorithm)
	if err != nil || !bytes.Equal(nameHash, req.IssuerNameHash) || !bytes.Equal(keyHash, req.IssuerKeyHash) {
		return ocsp.UnauthorizedErrorResponse, nil
	}
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now.UTC(),
		NextUpdate:   now.Add(crlValidity).UTC(),
		IssuerHash:   req.HashAlgorithm,
	}
	if at, revoked := q.IsRevoked(req.SerialNumber); revoked {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = at
		tmpl.RevocationReason = ocsp.Unspecified
	}
	return ocsp.CreateResponse(q.root, q.root, tmpl, q.key)
}

// issuerHashes computes the CertID hashes of an issuer (RFC 6960 §4.1.1).
func issuerHashes(issuer *x509.Certificate, h crypto.Hash) (nameHash, keyHash []byte, err error) {
	if !h.Available() {
		return nil, nil, fmt.Errorf("hash %v unavailable", h)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, err
	}
	hh := h.New()
	hh.Write(issuer.RawSubject)
	nameHash = hh.Sum(nil)
	hh.Reset()
	hh.Write(spki.PublicKey.RightAlign())
	return nameHash, hh.Sum(nil), nil
}

// Check implements RevocationChecker from the QTSP's own list, for use in
// the sandbox's process. Certificates of other issuers get
// ReasonRevocationUnknown.
func (q *QTSP) Check(_ context.Context, cert, issuer *x509.Certificate) error {
	if issuer == nil || !bytes.Equal(issuer.Raw, q.root.Raw) || !bytes.Equal(cert.RawIssuer, q.root.RawSubject) {
		return unknownError(cert, nil, "it was not issued by the sandbox QTSP")
	}
	if at, revoked := q.IsRevoked(cert.SerialNumber); revoked {
		return revokedError(cert, at, 0, "the sandbox QTSP")
	}
	return nil
}

// refreshLocked rereads the revocation file if it changed since it was
// last read.
func (q *QTSP) refreshLocked() error {
	path := filepath.Join(q.dir, QTSPRevokedFile)
	fi, err := os.Stat(path)
	var st fileStamp
	switch {
	case err == nil:
		st = fileStamp{exists: true, modTime: fi.ModTime(), size: fi.Size()}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return err
	}
	if q.revoked != nil && st == q.stamp {
		return nil
	}
	revoked := map[string]revocation{}
	if st.exists {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var f revokedFileJSON
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("eidas: %s: %w", path, err)
		}
		for _, r := range f.Revoked {
			n, ok := new(big.Int).SetString(r.Serial, 16)
			if !ok || n.Sign() <= 0 {
				return fmt.Errorf("eidas: %s: bad serial %q", path, r.Serial)
			}
			revoked[serialHex(n)] = revocation{serial: n, at: r.RevokedAt}
		}
	}
	q.revoked, q.stamp = revoked, st
	return nil
}

func (q *QTSP) saveLocked() error {
	var f revokedFileJSON
	f.Revoked = []revokedJSON{}
	for k, r := range q.revoked {
		f.Revoked = append(f.Revoked, revokedJSON{Serial: k, RevokedAt: r.at.UTC()})
	}
	slices.SortFunc(f.Revoked, func(a, b revokedJSON) int {
		if c := a.RevokedAt.Compare(b.RevokedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Serial, b.Serial)
	})
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(q.dir, QTSPRevokedFile)
	if err := writeFileAtomic(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	q.stamp = fileStamp{exists: true, modTime: fi.ModTime(), size: fi.Size()}
	return nil
}
