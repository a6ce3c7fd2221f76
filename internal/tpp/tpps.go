package tpp

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/store"
)

// TPP is a third party provider known to the bank.
type TPP struct {
	// ID is the organizationIdentifier of its certificates as first
	// registered, e.g. "PSDPL-KNF-0123456789".
	ID              string
	Name            string
	Environment     string // EnvSandbox or EnvProduction
	Status          string // StatusActive or StatusSuspended
	SuspendedReason string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Active reports whether the TPP may use the API.
func (t TPP) Active() bool { return t.Status == StatusActive }

// Client is an OAuth client of a TPP.
type Client struct {
	ClientID     string
	TPPID        string
	Name         string
	RedirectURIs []string // matched exactly
	CreatedAt    time.Time
}

// AllowsRedirect reports whether uri is one of the client's redirect URIs
// (exact match).
func (c Client) AllowsRedirect(uri string) bool { return slices.Contains(c.RedirectURIs, uri) }

// Certificate kinds as stored.
const (
	KindQWAC   = "qwac"
	KindQSealC = "qsealc"
)

// Certificate is a certificate a TPP registered.
type Certificate struct {
	TPPID           string
	Kind            string // KindQWAC or KindQSealC
	FingerprintS256 string // x5t#S256: base64url (no padding) SHA-256 of the DER
	PEM             string
	SerialHex       string
	NotAfter        time.Time
	CreatedAt       time.Time
}

func kindName(k eidas.Kind) string {
	switch k {
	case eidas.KindQWAC:
		return KindQWAC
	case eidas.KindQSealC:
		return KindQSealC
	}
	return ""
}

const tppColumns = `id, name, environment, status, suspended_reason, created_at, updated_at`

func scanTPP(row interface{ Scan(...any) error }) (TPP, error) {
	var t TPP
	var created, updated int64
	err := row.Scan(&t.ID, &t.Name, &t.Environment, &t.Status, &t.SuspendedReason, &created, &updated)
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return t, err
}

func errTPPNotFound(id string) error {
	return newError(CodeNotFound, "no TPP %s is registered", "TPP %s nie jest zarejestrowany", id)
}

// TPP returns the TPP with the given organizationIdentifier; aliases of the
// NCA ("PFSA" for "KNF") and separators in the number do not matter.
func (r *Registry) TPP(ctx context.Context, id string) (TPP, error) {
	return r.tpp(ctx, r.db, id)
}

func (r *Registry) tpp(ctx context.Context, q store.Querier, id string) (TPP, error) {
	t, err := scanTPP(q.QueryRowContext(ctx, `SELECT `+tppColumns+` FROM tpps WHERE norm_id = $1`, LookupKey(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return TPP{}, errTPPNotFound(id)
	}
	if err != nil {
		return TPP{}, fmt.Errorf("read TPP %s: %w", id, err)
	}
	return t, nil
}

// TPPs returns every TPP, ordered by name.
func (r *Registry) TPPs(ctx context.Context) ([]TPP, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT `+tppColumns+` FROM tpps ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list TPPs: %w", err)
	}
	defer rows.Close()
	var out []TPP
	for rows.Next() {
		t, err := scanTPP(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

const clientColumns = `client_id, tpp_id, name, redirect_uris, created_at`

func scanClient(row interface{ Scan(...any) error }) (Client, error) {
	var c Client
	var uris string
	var created int64
	err := row.Scan(&c.ClientID, &c.TPPID, &c.Name, &uris, &created)
	c.RedirectURIs, c.CreatedAt = decodeURIs(uris), fromMicros(created)
	return c, err
}

// Client returns the client with the given client_id.
func (r *Registry) Client(ctx context.Context, clientID string) (Client, error) {
	return r.client(ctx, r.db, clientID)
}

func (r *Registry) client(ctx context.Context, q store.Querier, clientID string) (Client, error) {
	c, err := scanClient(q.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM tpp_clients WHERE client_id = $1`, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return Client{}, newError(CodeNotFound, "no client %s is registered", "klient %s nie jest zarejestrowany", clientID)
	}
	if err != nil {
		return Client{}, fmt.Errorf("read client %s: %w", clientID, err)
	}
	return c, nil
}

// ClientsOf returns the clients of a TPP, oldest first.
func (r *Registry) ClientsOf(ctx context.Context, tppID string) ([]Client, error) {
	t, err := r.TPP(ctx, tppID)
	if err != nil {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, `SELECT `+clientColumns+` FROM tpp_clients WHERE tpp_id = $1 ORDER BY created_at, client_id`, t.ID)
	if err != nil {
		return nil, fmt.Errorf("list clients of %s: %w", tppID, err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CertificatesOf returns the certificates a TPP registered, oldest first.
func (r *Registry) CertificatesOf(ctx context.Context, tppID string) ([]Certificate, error) {
	t, err := r.TPP(ctx, tppID)
	if err != nil {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx,
		`SELECT tpp_id, kind, fingerprint_s256, pem, serial, not_after, created_at FROM tpp_certificates
		 WHERE tpp_id = $1 ORDER BY created_at, fingerprint_s256`, t.ID)
	if err != nil {
		return nil, fmt.Errorf("list certificates of %s: %w", tppID, err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		var c Certificate
		var notAfter, created int64
		if err := rows.Scan(&c.TPPID, &c.Kind, &c.FingerprintS256, &c.PEM, &c.SerialHex, &notAfter, &created); err != nil {
			return nil, err
		}
		c.NotAfter, c.CreatedAt = fromMicros(notAfter), fromMicros(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// CertificateByThumbprint returns the certificate of the TPP whose
// x5t#S256 thumbprint is x5t, for a JWS header that names the QSealC by
// thumbprint instead of carrying it.
func (r *Registry) CertificateByThumbprint(ctx context.Context, tppID, x5t string) (*x509.Certificate, error) {
	t, err := r.TPP(ctx, tppID)
	if err != nil {
		return nil, err
	}
	var pemText string
	err = r.db.QueryRowContext(ctx,
		`SELECT pem FROM tpp_certificates WHERE tpp_id = $1 AND fingerprint_s256 = $2`, t.ID, x5t).Scan(&pemText)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, newError(CodeNotFound,
			"TPP %s has registered no certificate with the x5t#S256 thumbprint %q",
			"TPP %s nie zarejestrował certyfikatu o odcisku x5t#S256 %q", tppID, x5t)
	}
	if err != nil {
		return nil, fmt.Errorf("read certificate of %s: %w", tppID, err)
	}
	certs, err := eidas.LoadCertificatesPEM([]byte(pemText))
	if err != nil {
		return nil, fmt.Errorf("stored certificate of %s: %w", tppID, err)
	}
	return certs[0], nil
}

// parsedCert is a certificate with what eidas read from it.
type parsedCert struct {
	cert *x509.Certificate
	info *eidas.Info
	pem  string
}

// parsePSD2PEM parses the first certificate of a PEM text and its PSD2
// content; what names it in messages ("the QWAC").
func parsePSD2PEM(pemBytes []byte, what, whatPL string) (parsedCert, error) {
	certs, err := eidas.LoadCertificatesPEM(pemBytes)
	if err != nil {
		return parsedCert{}, &Error{Code: CodeCertificate,
			Message:   fmt.Sprintf("%s is not a PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block): %v", what, err),
			MessagePL: fmt.Sprintf("%s nie jest certyfikatem PEM (blok \"-----BEGIN CERTIFICATE-----\"): %v", whatPL, err)}
	}
	return parsePSD2(certs[0], what, whatPL)
}

func parsePSD2(cert *x509.Certificate, what, whatPL string) (parsedCert, error) {
	info, err := eidas.Parse(cert)
	if err != nil {
		return parsedCert{}, &Error{Code: CodeCertificate,
			Message:   fmt.Sprintf("%s is not a PSD2 certificate: %v", what, err),
			MessagePL: fmt.Sprintf("%s nie jest certyfikatem PSD2: %v", whatPL, err)}
	}
	return parsedCert{cert: cert, info: info, pem: string(eidas.CertificatePEM(cert))}, nil
}

// checkPair checks that a QWAC and a QSealC are of their kinds and of the
// organisation orgID (normalized comparison).
func checkPair(qwac, qseal parsedCert, orgID string) error {
	if qwac.info.Kind != eidas.KindQWAC {
		return newError(CodeCertificate, "the QWAC is a %s, not a QWAC (QcType web)", "certyfikat QWAC jest typu %s, a nie QWAC (QcType web)", qwac.info.Kind)
	}
	if qseal.info.Kind != eidas.KindQSealC {
		return newError(CodeCertificate, "the QSealC is a %s, not a QSealC (QcType eseal)", "certyfikat QSealC jest typu %s, a nie QSealC (QcType eseal)", qseal.info.Kind)
	}
	want := LookupKey(orgID)
	for _, c := range []parsedCert{qwac, qseal} {
		if c.info.OrgID().Normalized() != want {
			return newError(CodeCertificate,
				"the %s belongs to %s, not to %s",
				"certyfikat %s należy do %s, a nie do %s", c.info.Kind, c.info.OrganizationID, orgID)
		}
	}
	return nil
}

// upsertTPP creates the TPP or updates its name and environment; it never
// changes a suspended TPP's status.
func (r *Registry) upsertTPP(ctx context.Context, tx *store.Tx, id, name, env string) (TPP, bool, error) {
	now := micros(r.clock.Now())
	t, err := r.tpp(ctx, tx, id)
	if CodeOf(err) == CodeNotFound {
		_, err = tx.ExecContext(ctx,
			`INSERT INTO tpps (id, norm_id, name, environment, status, suspended_reason, created_at, updated_at)
			 VALUES ($1, $2, $3, $4, $5, '', $6, $6)`, id, LookupKey(id), name, env, StatusActive, now)
		if err != nil {
			return TPP{}, false, fmt.Errorf("create TPP %s: %w", id, err)
		}
		t, err = r.tpp(ctx, tx, id)
		return t, true, err
	}
	if err != nil {
		return TPP{}, false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE tpps SET name = $2, environment = $3, updated_at = $4 WHERE id = $1`, t.ID, name, env, now)
	if err != nil {
		return TPP{}, false, fmt.Errorf("update TPP %s: %w", id, err)
	}
	t.Name, t.Environment = name, env
	return t, false, nil
}

// addCertificates registers certificates for a TPP (again: no change).
func (r *Registry) addCertificates(ctx context.Context, tx *store.Tx, tppID string, certs ...parsedCert) error {
	now := micros(r.clock.Now())
	for _, c := range certs {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tpp_certificates WHERE tpp_id = $1 AND fingerprint_s256 = $2`,
			tppID, c.info.FingerprintS256).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO tpp_certificates (tpp_id, fingerprint_s256, kind, serial, not_after, pem, created_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			tppID, c.info.FingerprintS256, kindName(c.info.Kind), c.info.SerialHex, micros(c.cert.NotAfter), c.pem, now)
		if err != nil {
			return fmt.Errorf("register certificate of %s: %w", tppID, err)
		}
	}
	return nil
}

// createClient adds a client to a TPP.
func (r *Registry) createClient(ctx context.Context, tx *store.Tx, actor string, c Client) (Client, error) {
	c.CreatedAt = r.clock.Now().UTC().Truncate(time.Microsecond)
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{}
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO tpp_clients (client_id, tpp_id, name, redirect_uris, created_at) VALUES ($1, $2, $3, $4, $5)`,
		c.ClientID, c.TPPID, c.Name, encodeURIs(c.RedirectURIs), micros(c.CreatedAt))
	if store.IsUniqueViolation(err) {
		return Client{}, newError(CodeConflict, "the client_id %s is already taken", "client_id %s jest już zajęty", c.ClientID)
	}
	if err != nil {
		return Client{}, fmt.Errorf("create client: %w", err)
	}
	detail := fmt.Sprintf("client %s %q for %s, redirect URIs %s", c.ClientID, c.Name, c.TPPID, strings.Join(c.RedirectURIs, " "))
	if err := r.audit(ctx, tx, actor, ActionClientCreate, c.TPPID, detail); err != nil {
		return Client{}, err
	}
	return c, nil
}

// SandboxRegistration asks for immediate sandbox access.
type SandboxRegistration struct {
	OrgID        string // the certificates' organizationIdentifier
	Name         string // the organisation's name
	QWACPEM      []byte // its QWAC issued by the sandbox QTSP
	QSealCPEM    []byte // its QSealC issued by the sandbox QTSP
	RedirectURIs []string
	ClientID     string // optional: a fixed client_id (the demo TPP's)
	ClientName   string // optional: the client's name (default: Name)
}

// RegisterSandbox gives an organisation immediate, active sandbox access:
// it creates the TPP (or updates its name), registers its certificates,
// which must be issued by the sandbox QTSP, and returns a client. It is
// idempotent: with a ClientID that the TPP already has, it returns that
// client unchanged; with a new or no ClientID, it adds a client. A
// suspended TPP stays suspended.
func (r *Registry) RegisterSandbox(ctx context.Context, reg SandboxRegistration) (Client, error) {
	if _, err := NormalizeOrgID(reg.OrgID); err != nil {
		return Client{}, err
	}
	if strings.TrimSpace(reg.Name) == "" {
		return Client{}, newError(CodeInvalid, "the organisation's name is missing", "brak nazwy organizacji")
	}
	uris := cleanURIs(reg.RedirectURIs)
	if err := ValidateRedirectURIs(uris); err != nil {
		return Client{}, err
	}
	qwac, err := parsePSD2PEM(reg.QWACPEM, "the QWAC", "certyfikat QWAC")
	if err != nil {
		return Client{}, err
	}
	qseal, err := parsePSD2PEM(reg.QSealCPEM, "the QSealC", "certyfikat QSealC")
	if err != nil {
		return Client{}, err
	}
	if err := checkPair(qwac, qseal, reg.OrgID); err != nil {
		return Client{}, err
	}
	for _, c := range []parsedCert{qwac, qseal} {
		if !eidas.IsSandbox(c.cert) {
			return Client{}, newError(CodeCertificate,
				"the %s is not issued by the sandbox QTSP: sandbox registration takes only sandbox certificates (psd2bank certs issue)",
				"certyfikat %s nie został wydany przez sandboksowe QTSP: rejestracja w sandboksie przyjmuje tylko certyfikaty sandboksowe (psd2bank certs issue)",
				c.info.Kind)
		}
	}
	var out Client
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := r.tpp(ctx, tx, reg.OrgID)
		switch {
		case err == nil && t.Environment == EnvProduction:
			return newError(CodeConflict,
				"%s is registered for production; it cannot be registered again with sandbox certificates",
				"%s jest zarejestrowany produkcyjnie; nie można go zarejestrować ponownie z certyfikatami sandboksowymi", t.ID)
		case err != nil && CodeOf(err) != CodeNotFound:
			return err
		}
		t, _, err = r.upsertTPP(ctx, tx, reg.OrgID, strings.TrimSpace(reg.Name), EnvSandbox)
		if err != nil {
			return err
		}
		if err := r.addCertificates(ctx, tx, t.ID, qwac, qseal); err != nil {
			return err
		}
		if reg.ClientID != "" {
			c, err := r.client(ctx, tx, reg.ClientID)
			if err == nil {
				if c.TPPID != t.ID {
					return newError(CodeConflict, "the client_id %s belongs to another TPP", "client_id %s należy do innego TPP", reg.ClientID)
				}
				out = c
				return r.audit(ctx, tx, "sandbox", ActionSandboxRegister, t.ID, "existing client "+c.ClientID)
			}
			if CodeOf(err) != CodeNotFound {
				return err
			}
		}
		id := reg.ClientID
		if id == "" {
			id = NewClientID()
		}
		name := reg.ClientName
		if name == "" {
			name = t.Name
		}
		out, err = r.createClient(ctx, tx, "sandbox", Client{ClientID: id, TPPID: t.ID, Name: name, RedirectURIs: uris})
		if err != nil {
			return err
		}
		return r.audit(ctx, tx, "sandbox", ActionSandboxRegister, t.ID, "client "+out.ClientID)
	})
	return out, err
}

// DynamicRegistration is mBank's dynamic client registration (POST
// /v3/register/) after the gateway verified the TPP's certificates: the
// QWAC of the TLS connection and the QSealC that signed the software
// statement.
type DynamicRegistration struct {
	QWAC, QSealC *x509.Certificate
	ClientName   string   // client_name
	ContactEmail string   // sub_contact_email
	RedirectURIs []string // redirect_uris
}

// RegisterDynamic registers a new client for the TPP of the certificates,
// creating the TPP if it is new. The certificates must name the same
// organisation and be both sandbox or both qualified (which decides the
// TPP's environment); the register, when the registry has one, must show the
// organisation authorised for at least one role of its certificates. A
// suspended TPP is refused.
func (r *Registry) RegisterDynamic(ctx context.Context, reg DynamicRegistration) (Client, error) {
	if reg.QWAC == nil || reg.QSealC == nil {
		return Client{}, newError(CodeCertificate, "both the QWAC and the QSealC are needed", "potrzebne są oba certyfikaty: QWAC i QSealC")
	}
	qwac, err := parsePSD2(reg.QWAC, "the QWAC", "certyfikat QWAC")
	if err != nil {
		return Client{}, err
	}
	qseal, err := parsePSD2(reg.QSealC, "the QSealC", "certyfikat QSealC")
	if err != nil {
		return Client{}, err
	}
	orgID := qwac.info.OrganizationID
	if err := checkPair(qwac, qseal, orgID); err != nil {
		return Client{}, err
	}
	env := EnvProduction
	switch sq, ss := eidas.IsSandbox(reg.QWAC), eidas.IsSandbox(reg.QSealC); {
	case sq && ss:
		env = EnvSandbox
	case sq != ss:
		return Client{}, newError(CodeSandboxCertificate,
			"one certificate is a sandbox certificate and the other is not: use both from the same QTSP",
			"jeden certyfikat jest sandboksowy, a drugi nie: użyj obu od tego samego QTSP")
	}
	if r.licences != nil {
		e, ok := r.licences.Lookup(orgID)
		if !ok {
			return Client{}, newError(CodeNotLicensed, "%s is not in the register of payment institutions", "%s nie figuruje w rejestrze instytucji płatniczych", orgID)
		}
		if !e.Authorised {
			return Client{}, newError(CodeNotLicensed, "the authorisation of %s has been withdrawn (register of payment institutions)", "zezwolenie %s zostało cofnięte (rejestr instytucji płatniczych)", orgID)
		}
		allowed := false
		for _, role := range unionRoles(qwac.info, qseal.info) {
			allowed = allowed || e.Allows(role)
		}
		if !allowed {
			return Client{}, newError(CodeNotLicensed,
				"%s is not authorised in Poland for any role of its certificates (register of payment institutions)",
				"%s nie ma w Polsce zezwolenia na żadną z ról swoich certyfikatów (rejestr instytucji płatniczych)", orgID)
		}
	}
	uris := cleanURIs(reg.RedirectURIs)
	if err := ValidateRedirectURIs(uris); err != nil {
		return Client{}, err
	}
	name := strings.TrimSpace(reg.ClientName)
	if name == "" {
		name = qseal.info.OrganizationName
	}
	var out Client
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := r.tpp(ctx, tx, orgID)
		switch {
		case err == nil && !t.Active():
			return newError(CodeSuspended, "TPP %s is suspended: %s", "TPP %s jest zawieszony: %s", t.ID, t.SuspendedReason)
		case err == nil && t.Environment == EnvProduction && env == EnvSandbox:
			return newError(CodeSandboxCertificate,
				"%s is registered for production and cannot register with sandbox certificates",
				"%s jest zarejestrowany produkcyjnie i nie może się rejestrować certyfikatami sandboksowymi", t.ID)
		case err != nil && CodeOf(err) != CodeNotFound:
			return err
		case err != nil || (t.Environment == EnvSandbox && env == EnvProduction):
			orgName := qseal.info.OrganizationName
			if orgName == "" {
				orgName = name
			}
			if t, _, err = r.upsertTPP(ctx, tx, orgID, orgName, env); err != nil {
				return err
			}
		}
		if err := r.addCertificates(ctx, tx, t.ID, qwac, qseal); err != nil {
			return err
		}
		out, err = r.createClient(ctx, tx, "dcr", Client{ClientID: NewClientID(), TPPID: t.ID, Name: name, RedirectURIs: uris})
		if err != nil {
			return err
		}
		return r.audit(ctx, tx, "dcr", ActionDynamicRegister, t.ID,
			fmt.Sprintf("client %s, contact %s, environment %s", out.ClientID, reg.ContactEmail, env))
	})
	return out, err
}

// unionRoles returns the PSD2 roles of both certificates, each once.
func unionRoles(infos ...*eidas.Info) []string {
	var out []string
	for _, in := range infos {
		for _, r := range in.Roles {
			if !slices.Contains(out, string(r)) {
				out = append(out, string(r))
			}
		}
	}
	return out
}

// Suspend suspends a TPP: its requests are refused until it is reinstated.
// A reason is required; it is shown to the TPP.
func (r *Registry) Suspend(ctx context.Context, id, reason, actor string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return newError(CodeInvalid, "a reason is needed to suspend a TPP", "zawieszenie TPP wymaga podania powodu")
	}
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := r.tpp(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tpps SET status = $2, suspended_reason = $3, updated_at = $4 WHERE id = $1`,
			t.ID, StatusSuspended, reason, micros(r.clock.Now())); err != nil {
			return fmt.Errorf("suspend %s: %w", t.ID, err)
		}
		return r.audit(ctx, tx, actor, ActionTPPSuspend, t.ID, reason)
	})
}

// Reinstate makes a suspended TPP active again.
func (r *Registry) Reinstate(ctx context.Context, id, actor string) error {
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		t, err := r.tpp(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Active() {
			return newError(CodeWrongState, "TPP %s is not suspended", "TPP %s nie jest zawieszony", t.ID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tpps SET status = $2, suspended_reason = '', updated_at = $3 WHERE id = $1`,
			t.ID, StatusActive, micros(r.clock.Now())); err != nil {
			return fmt.Errorf("reinstate %s: %w", t.ID, err)
		}
		return r.audit(ctx, tx, actor, ActionTPPReinstate, t.ID, "was suspended: "+t.SuspendedReason)
	})
}
