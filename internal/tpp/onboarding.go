package tpp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/psd2bank/psd2bank/internal/eidas"
	"github.com/psd2bank/psd2bank/internal/lockout"
	"github.com/psd2bank/psd2bank/internal/sca"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Application statuses.
const (
	AppDraft     = "draft"
	AppSubmitted = "submitted"
	AppApproved  = "approved"
	AppRejected  = "rejected"
)

// Application is an application of an organisation for production access.
type Application struct {
	ID           string
	OrgID        string // the organizationIdentifier of its certificates
	Name         string // the firm's name
	ContactEmail string
	Environment  string // EnvProduction (the sandbox needs no application)
	Status       string // AppDraft, AppSubmitted, AppApproved or AppRejected
	// PowerOfAttorney is set when the contact person said they act for the
	// firm under a power of attorney.
	PowerOfAttorney bool
	RedirectURIs    []string
	Reason          string // why it was rejected
	ReviewedBy      string // the staff login that decided
	ClientID        string // the client created on approval
	CreatedAt       time.Time
	UpdatedAt       time.Time
	SubmittedAt     time.Time // zero until submitted
	ReviewedAt      time.Time // zero until decided
}

// Editable reports whether documents and certificates may still change: in
// a draft, and after a rejection (to submit again).
func (a Application) Editable() bool { return a.Status == AppDraft || a.Status == AppRejected }

// Developer is a developer account of the portal; it belongs to one
// application.
type Developer struct {
	ID            string
	Email         string
	ApplicationID string
	CreatedAt     time.Time
}

// Document kinds.
const (
	DocRegisterExtract = "register_extract"
	DocLicence         = "licence"
	DocPowerOfAttorney = "power_of_attorney"
	DocOther           = "other"
)

// DocumentKinds lists the kinds of documents in the order the portal shows
// them.
var DocumentKinds = []string{DocRegisterExtract, DocLicence, DocPowerOfAttorney, DocOther}

// MaxDocumentSize is the largest document accepted, in bytes (5 MiB).
const MaxDocumentSize = 5 << 20

// Document is a document of an application (without its content).
type Document struct {
	ID            string
	ApplicationID string
	Kind          string
	Filename      string
	ContentType   string // application/pdf, image/png or image/jpeg
	Size          int64
	SHA256        string // hex
	UploadedAt    time.Time
}

// AppCertificate is a certificate uploaded with an application, with what
// it says.
type AppCertificate struct {
	ApplicationID   string
	Kind            string // KindQWAC or KindQSealC
	FingerprintS256 string
	PEM             string
	UploadedAt      time.Time

	// Read from the certificate.
	OrgID            string
	OrganizationName string
	Roles            []string
	NCAID            string
	SerialHex        string
	Subject, Issuer  string
	NotBefore        time.Time
	NotAfter         time.Time
	Sandbox          bool // issued by the psd2bank sandbox QTSP
	Qualified        bool // carries the QcCompliance statement

	cert *x509.Certificate
}

// SignUp is what a developer gives to open an account and an application.
type SignUp struct {
	OrgID    string // PSDPL-KNF-0123456789
	Name     string // the firm's name
	Email    string // the contact email, also the login
	Password string // at least MinPasswordLength characters
}

// MinPasswordLength is the shortest password a developer may choose.
const MinPasswordLength = 10

// SignUp opens a developer account with a new draft application.
func (r *Registry) SignUp(ctx context.Context, s SignUp) (Developer, Application, error) {
	orgID := strings.TrimSpace(s.OrgID)
	if orgID == "" {
		return Developer{}, Application{}, newError(CodeInvalid, "the organisation identifier is missing", "brak identyfikatora organizacji")
	}
	if _, err := NormalizeOrgID(orgID); err != nil {
		return Developer{}, Application{}, err
	}
	name := strings.TrimSpace(s.Name)
	if name == "" {
		return Developer{}, Application{}, newError(CodeInvalid, "the firm's name is missing", "brak nazwy firmy")
	}
	email, err := normalizeEmail(s.Email)
	if err != nil {
		return Developer{}, Application{}, err
	}
	if len([]rune(s.Password)) < MinPasswordLength {
		return Developer{}, Application{}, newError(CodeInvalid,
			"the password must have at least %d characters", "hasło musi mieć co najmniej %d znaków", MinPasswordLength)
	}
	hash, err := sca.HashPasswordContext(ctx, s.Password)
	if errors.Is(err, sca.ErrBusy) {
		return Developer{}, Application{}, errLoginBusy
	}
	if err != nil {
		return Developer{}, Application{}, err
	}
	now := r.clock.Now().UTC().Truncate(time.Microsecond)
	app := Application{ID: newID(), OrgID: orgID, Name: name, ContactEmail: email, Environment: EnvProduction,
		Status: AppDraft, RedirectURIs: []string{}, CreatedAt: now, UpdatedAt: now}
	dev := Developer{ID: newID(), Email: email, ApplicationID: app.ID, CreatedAt: now}
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO tpp_applications (id, org_id, name, contact_email, environment, status, redirect_uris, created_at, updated_at)
			 VALUES ($1, $2, $3, $4, $5, $6, '[]', $7, $7)`,
			app.ID, app.OrgID, app.Name, app.ContactEmail, app.Environment, app.Status, micros(now))
		if err != nil {
			return fmt.Errorf("create application: %w", err)
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO tpp_developers (id, email, password_hash, application_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
			dev.ID, dev.Email, hash, dev.ApplicationID, micros(now))
		if store.IsUniqueViolation(err) {
			return newError(CodeConflict, "an account with the email %s already exists: log in instead", "konto z adresem %s już istnieje: zaloguj się", email)
		}
		if err != nil {
			return fmt.Errorf("create developer: %w", err)
		}
		return r.audit(ctx, tx, email, ActionApplicationCreate, app.ID, fmt.Sprintf("%s %q", app.OrgID, app.Name))
	})
	if err != nil {
		return Developer{}, Application{}, err
	}
	return dev, app, nil
}

func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "", newError(CodeInvalid, "%q is not an email address", "%q nie jest adresem e-mail", s)
	}
	return strings.ToLower(s), nil
}

// AuthenticateDeveloper checks a developer's email and password, under the
// lockout (see internal/lockout): five failures in a row lock the email
// for 15 minutes, the right password included (CodeLocked); CodeBusy when
// every password-hash slot is taken (nothing counted). Failures are audited
// with the client's address (lockout.WithSource).
func (r *Registry) AuthenticateDeveloper(ctx context.Context, email, password string) (Developer, error) {
	var d Developer
	var created int64
	email = strings.ToLower(strings.TrimSpace(email))
	_, err := r.guardedLogin(ctx, lockout.Developer, email, password, "email", "e-mail", func(ctx context.Context) (string, error) {
		var hash string
		err := r.db.QueryRowContext(ctx,
			`SELECT id, email, application_id, created_at, password_hash FROM tpp_developers WHERE email = $1`,
			email).Scan(&d.ID, &d.Email, &d.ApplicationID, &created, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("read developer: %w", err)
		}
		return hash, nil
	})
	if err != nil {
		return Developer{}, err
	}
	d.CreatedAt = fromMicros(created)
	return d, nil
}

// Developer returns the developer account with the given id.
func (r *Registry) Developer(ctx context.Context, id string) (Developer, error) {
	var d Developer
	var created int64
	err := r.db.QueryRowContext(ctx, `SELECT id, email, application_id, created_at FROM tpp_developers WHERE id = $1`, id).
		Scan(&d.ID, &d.Email, &d.ApplicationID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Developer{}, newError(CodeNotFound, "no such developer account", "nie ma takiego konta dewelopera")
	}
	if err != nil {
		return Developer{}, fmt.Errorf("read developer: %w", err)
	}
	d.CreatedAt = fromMicros(created)
	return d, nil
}

const appColumns = `id, org_id, name, contact_email, environment, status, power_of_attorney, redirect_uris,
	reason, reviewed_by, client_id, created_at, updated_at, submitted_at, reviewed_at`

func scanApp(row interface{ Scan(...any) error }) (Application, error) {
	var a Application
	var uris string
	var created, updated int64
	var submitted, reviewed sql.NullInt64
	err := row.Scan(&a.ID, &a.OrgID, &a.Name, &a.ContactEmail, &a.Environment, &a.Status, &a.PowerOfAttorney, &uris,
		&a.Reason, &a.ReviewedBy, &a.ClientID, &created, &updated, &submitted, &reviewed)
	a.RedirectURIs = decodeURIs(uris)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	if submitted.Valid {
		a.SubmittedAt = fromMicros(submitted.Int64)
	}
	if reviewed.Valid {
		a.ReviewedAt = fromMicros(reviewed.Int64)
	}
	return a, err
}

// Application returns the application with the given id.
func (r *Registry) Application(ctx context.Context, id string) (Application, error) {
	return r.application(ctx, r.db, id)
}

func (r *Registry) application(ctx context.Context, q store.Querier, id string) (Application, error) {
	a, err := scanApp(q.QueryRowContext(ctx, `SELECT `+appColumns+` FROM tpp_applications WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, newError(CodeNotFound, "no such application", "nie ma takiego wniosku")
	}
	if err != nil {
		return Application{}, fmt.Errorf("read application: %w", err)
	}
	return a, nil
}

// Applications returns the applications in the given status (all when
// status is empty), the most recently changed first.
func (r *Registry) Applications(ctx context.Context, status string) ([]Application, error) {
	q := `SELECT ` + appColumns + ` FROM tpp_applications ORDER BY updated_at DESC, id`
	var args []any
	if status != "" {
		q = `SELECT ` + appColumns + ` FROM tpp_applications WHERE status = $1 ORDER BY updated_at DESC, id`
		args = append(args, status)
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	defer rows.Close()
	var out []Application
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// editable loads an application for a change by its developer.
func (r *Registry) editable(ctx context.Context, tx *store.Tx, id string) (Application, error) {
	a, err := r.application(ctx, tx, id)
	if err != nil {
		return Application{}, err
	}
	if !a.Editable() {
		return Application{}, newError(CodeWrongState,
			"the application is %s and can no longer be changed", "wniosek ma status %s i nie można go już zmieniać", a.Status)
	}
	return a, nil
}

// DocumentInput is an uploaded document.
type DocumentInput struct {
	Kind     string
	Filename string
	Content  []byte
}

// sniffDocument returns the content type of a PDF, PNG or JPEG file, judged
// by its first bytes (not by its name).
func sniffDocument(b []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf", true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", true
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg", true
	}
	return "", false
}

// cleanFilename keeps the base name of an uploaded file, without control
// characters, at most 200 characters.
func cleanFilename(s string) string {
	s = path.Base(strings.ReplaceAll(s, `\`, "/"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	if s == "" || s == "." || s == "/" {
		s = "document"
	}
	return s
}

// AddDocument stores a document of an application (draft or rejected): a
// PDF, PNG or JPEG file of at most MaxDocumentSize bytes.
func (r *Registry) AddDocument(ctx context.Context, appID, actor string, in DocumentInput) (Document, error) {
	if !slices.Contains(DocumentKinds, in.Kind) {
		return Document{}, newError(CodeInvalid, "%q is not a kind of document (register_extract, licence, power_of_attorney, other)",
			"%q nie jest rodzajem dokumentu (register_extract, licence, power_of_attorney, other)", in.Kind)
	}
	if len(in.Content) == 0 {
		return Document{}, newError(CodeInvalid, "the file is empty", "plik jest pusty")
	}
	if len(in.Content) > MaxDocumentSize {
		return Document{}, newError(CodeTooLarge, "the file is larger than 5 MiB (%d bytes): send a smaller scan",
			"plik jest większy niż 5 MiB (%d bajtów): wyślij mniejszy skan", len(in.Content))
	}
	ct, ok := sniffDocument(in.Content)
	if !ok {
		return Document{}, newError(CodeUnsupportedType, "the file %q is not a PDF, PNG or JPEG document",
			"plik %q nie jest dokumentem PDF, PNG ani JPEG", cleanFilename(in.Filename))
	}
	sum := sha256.Sum256(in.Content)
	d := Document{ID: newID(), ApplicationID: appID, Kind: in.Kind, Filename: cleanFilename(in.Filename), ContentType: ct,
		Size: int64(len(in.Content)), SHA256: hex.EncodeToString(sum[:]), UploadedAt: r.clock.Now().UTC().Truncate(time.Microsecond)}
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := r.editable(ctx, tx, appID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO tpp_documents (id, application_id, kind, filename, content_type, size, sha256, content, uploaded_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			d.ID, appID, d.Kind, d.Filename, d.ContentType, d.Size, d.SHA256, base64.StdEncoding.EncodeToString(in.Content), micros(d.UploadedAt))
		if err != nil {
			return fmt.Errorf("store document: %w", err)
		}
		if err := r.touch(ctx, tx, appID); err != nil {
			return err
		}
		return r.audit(ctx, tx, actor, ActionDocumentAdd, appID, fmt.Sprintf("%s %q (%s, %d bytes, sha256 %s)", d.Kind, d.Filename, d.ContentType, d.Size, d.SHA256))
	})
	if err != nil {
		return Document{}, err
	}
	return d, nil
}

func (r *Registry) touch(ctx context.Context, tx *store.Tx, appID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE tpp_applications SET updated_at = $2 WHERE id = $1`, appID, micros(r.clock.Now()))
	return err
}

const docColumns = `id, application_id, kind, filename, content_type, size, sha256, uploaded_at`

func scanDoc(row interface{ Scan(...any) error }, extra ...any) (Document, error) {
	var d Document
	var up int64
	err := row.Scan(append([]any{&d.ID, &d.ApplicationID, &d.Kind, &d.Filename, &d.ContentType, &d.Size, &d.SHA256, &up}, extra...)...)
	d.UploadedAt = fromMicros(up)
	return d, err
}

// Documents returns the documents of an application, oldest first.
func (r *Registry) Documents(ctx context.Context, appID string) ([]Document, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT `+docColumns+` FROM tpp_documents WHERE application_id = $1 ORDER BY uploaded_at, id`, appID)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d, err := scanDoc(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DocumentContent returns a document of the application and its content. A
// document of another application is not found.
func (r *Registry) DocumentContent(ctx context.Context, appID, docID string) (Document, []byte, error) {
	var content string
	d, err := scanDoc(r.db.QueryRowContext(ctx,
		`SELECT `+docColumns+`, content FROM tpp_documents WHERE id = $1 AND application_id = $2`, docID, appID), &content)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, nil, newError(CodeNotFound, "no such document", "nie ma takiego dokumentu")
	}
	if err != nil {
		return Document{}, nil, fmt.Errorf("read document: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		return Document{}, nil, fmt.Errorf("stored document %s: %w", docID, err)
	}
	return d, b, nil
}

// AddCertificate stores the QWAC or the QSealC of an application (draft or
// rejected), replacing the previous one of the same kind. The certificate
// must be a PSD2 certificate of the application's organisation.
func (r *Registry) AddCertificate(ctx context.Context, appID, actor string, pemBytes []byte) (AppCertificate, error) {
	pc, err := parsePSD2PEM(pemBytes, "the file", "plik")
	if err != nil {
		return AppCertificate{}, err
	}
	kind := kindName(pc.info.Kind)
	if kind == "" {
		return AppCertificate{}, newError(CodeCertificate,
			"the certificate is neither a QWAC nor a QSealC (its QcType is %s)",
			"certyfikat nie jest ani QWAC, ani QSealC (jego QcType to %s)", pc.info.Kind)
	}
	var out AppCertificate
	err = r.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := r.editable(ctx, tx, appID)
		if err != nil {
			return err
		}
		if pc.info.OrgID().Normalized() != LookupKey(a.OrgID) {
			return newError(CodeCertificate,
				"the certificate belongs to %s, but the application is for %s",
				"certyfikat należy do %s, a wniosek dotyczy %s", pc.info.OrganizationID, a.OrgID)
		}
		now := r.clock.Now().UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, `DELETE FROM tpp_application_certificates WHERE application_id = $1 AND kind = $2`, appID, kind); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO tpp_application_certificates (application_id, kind, fingerprint_s256, pem, uploaded_at) VALUES ($1, $2, $3, $4, $5)`,
			appID, kind, pc.info.FingerprintS256, pc.pem, micros(now)); err != nil {
			return fmt.Errorf("store certificate: %w", err)
		}
		if err := r.touch(ctx, tx, appID); err != nil {
			return err
		}
		out = appCertificate(appID, kind, pc, now)
		return r.audit(ctx, tx, actor, ActionCertificateAdd, appID,
			fmt.Sprintf("%s %s serial %s x5t#S256 %s", pc.info.Kind, pc.info.OrganizationID, pc.info.SerialHex, pc.info.FingerprintS256))
	})
	return out, err
}

func appCertificate(appID, kind string, pc parsedCert, uploaded time.Time) AppCertificate {
	roles := make([]string, len(pc.info.Roles))
	for i, r := range pc.info.Roles {
		roles[i] = string(r)
	}
	return AppCertificate{ApplicationID: appID, Kind: kind, FingerprintS256: pc.info.FingerprintS256, PEM: pc.pem,
		UploadedAt: uploaded, OrgID: pc.info.OrganizationID, OrganizationName: pc.info.OrganizationName, Roles: roles,
		NCAID: pc.info.NCAID, SerialHex: pc.info.SerialHex, Subject: pc.cert.Subject.String(), Issuer: pc.cert.Issuer.String(),
		NotBefore: pc.cert.NotBefore, NotAfter: pc.cert.NotAfter, Sandbox: eidas.IsSandbox(pc.cert),
		Qualified: pc.info.QCCompliance, cert: pc.cert}
}

// Certificates returns the certificates of an application (QWAC first).
func (r *Registry) Certificates(ctx context.Context, appID string) ([]AppCertificate, error) {
	return r.appCertificates(ctx, r.db, appID)
}

func (r *Registry) appCertificates(ctx context.Context, q store.Querier, appID string) ([]AppCertificate, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT kind, pem, uploaded_at FROM tpp_application_certificates WHERE application_id = $1 ORDER BY kind DESC`, appID)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	defer rows.Close()
	var out []AppCertificate
	for rows.Next() {
		var kind, pemText string
		var up int64
		if err := rows.Scan(&kind, &pemText, &up); err != nil {
			return nil, err
		}
		pc, err := parsePSD2PEM([]byte(pemText), "the stored "+kind, "zapisany certyfikat "+kind)
		if err != nil {
			return nil, err
		}
		out = append(out, appCertificate(appID, kind, pc, fromMicros(up)))
	}
	return out, rows.Err()
}

// Submission is what the developer confirms when submitting.
type Submission struct {
	// PowerOfAttorney: "I act on behalf of the firm under a power of
	// attorney"; a power of attorney document is then required.
	PowerOfAttorney bool
	// RedirectURIs of the production client (optional).
	RedirectURIs []string
}

// Submit sends a draft (or a rejected application, again) for review. It
// requires a register extract, a licence, the QWAC and the QSealC, and a
// power of attorney when the contact person acts under one; the refusal
// names every missing piece.
func (r *Registry) Submit(ctx context.Context, appID, actor string, s Submission) (Application, error) {
	uris := cleanURIs(s.RedirectURIs)
	if err := ValidateRedirectURIs(uris); err != nil {
		return Application{}, err
	}
	var out Application
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := r.editable(ctx, tx, appID)
		if err != nil {
			return err
		}
		kinds := map[string]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT kind FROM tpp_documents WHERE application_id = $1
			UNION SELECT kind FROM tpp_application_certificates WHERE application_id = $1`, appID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return err
			}
			kinds[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var missing, missingPL []string
		need := func(ok bool, en, pl string) {
			if !ok {
				missing, missingPL = append(missing, en), append(missingPL, pl)
			}
		}
		need(kinds[DocRegisterExtract], "a register extract", "odpis z rejestru")
		need(kinds[DocLicence], "a licence", "zezwolenie (licencja)")
		need(kinds[KindQWAC], "a QWAC certificate", "certyfikat QWAC")
		need(kinds[KindQSealC], "a QSealC certificate", "certyfikat QSealC")
		need(!s.PowerOfAttorney || kinds[DocPowerOfAttorney], "a power of attorney", "pełnomocnictwo")
		if len(missing) > 0 {
			return &Error{Code: CodeIncomplete,
				Message:   "The application cannot be submitted yet: it lacks " + joinList(missing, "and") + ".",
				MessagePL: "Wniosku nie można jeszcze złożyć: brakuje: " + joinList(missingPL, "i") + "."}
		}
		now := r.clock.Now().UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx,
			`UPDATE tpp_applications SET status = $2, power_of_attorney = $3, redirect_uris = $4, reason = '', reviewed_by = '',
			 submitted_at = $5, reviewed_at = NULL, updated_at = $5 WHERE id = $1`,
			appID, AppSubmitted, s.PowerOfAttorney, encodeURIs(uris), micros(now)); err != nil {
			return fmt.Errorf("submit application: %w", err)
		}
		detail := "submitted"
		if a.Status == AppRejected {
			detail = "submitted again after rejection"
		}
		if s.PowerOfAttorney {
			detail += "; acts under a power of attorney"
		}
		if err := r.audit(ctx, tx, actor, ActionApplicationSubmit, appID, detail); err != nil {
			return err
		}
		out, err = r.application(ctx, tx, appID)
		return err
	})
	return out, err
}

// joinList joins "a", "b" and "c" as "a, b and c".
func joinList(items []string, and string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + and + " " + items[len(items)-1]
}

// submitted loads an application that is waiting for review.
func (r *Registry) submitted(ctx context.Context, tx *store.Tx, id string) (Application, error) {
	a, err := r.application(ctx, tx, id)
	if err != nil {
		return Application{}, err
	}
	if a.Status != AppSubmitted {
		return Application{}, newError(CodeWrongState,
			"the application is %s, not submitted: only a submitted application can be reviewed",
			"wniosek ma status %s, a nie złożony: rozpatrzyć można tylko złożony wniosek", a.Status)
	}
	return a, nil
}

// Reject rejects a submitted application; the reason is required and shown
// to the applicant, who may correct the application and submit it again.
func (r *Registry) Reject(ctx context.Context, appID, reviewer, reason string) (Application, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Application{}, newError(CodeInvalid, "a reason is needed to reject an application", "odrzucenie wniosku wymaga podania powodu")
	}
	var out Application
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := r.submitted(ctx, tx, appID); err != nil {
			return err
		}
		now := micros(r.clock.Now())
		if _, err := tx.ExecContext(ctx,
			`UPDATE tpp_applications SET status = $2, reason = $3, reviewed_by = $4, reviewed_at = $5, updated_at = $5 WHERE id = $1`,
			appID, AppRejected, reason, reviewer, now); err != nil {
			return fmt.Errorf("reject application: %w", err)
		}
		if err := r.audit(ctx, tx, reviewer, ActionApplicationReject, appID, reason); err != nil {
			return err
		}
		var err error
		out, err = r.application(ctx, tx, appID)
		return err
	})
	return out, err
}

// Approve approves a submitted application for production. It is refused,
// with a message naming every condition that fails, unless both
// certificates are qualified (not sandbox-issued) and valid now, and the
// register shows the organisation authorised in Poland for every role of its
// certificates; a suspended TPP must be reinstated first. Approval creates
// the production TPP (or makes an existing one production), registers its
// certificates and creates a client with the application's redirect URIs.
func (r *Registry) Approve(ctx context.Context, appID, reviewer string) (Application, Client, error) {
	var out Application
	var client Client
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		a, err := r.submitted(ctx, tx, appID)
		if err != nil {
			return err
		}
		certs, err := r.appCertificates(ctx, tx, appID)
		if err != nil {
			return err
		}
		now := r.clock.Now()
		var failed, failedPL []string
		fail := func(en, pl string, args ...any) {
			failed = append(failed, fmt.Sprintf(en, args...))
			failedPL = append(failedPL, fmt.Sprintf(pl, args...))
		}
		var roles []string
		for _, c := range certs {
			name := map[string]string{KindQWAC: "QWAC", KindQSealC: "QSealC"}[c.Kind]
			if c.Sandbox {
				fail("the %s is a sandbox certificate (issued by the psd2bank sandbox QTSP); production needs a qualified certificate",
					"certyfikat %s jest certyfikatem sandboksowym (wydanym przez sandboksowe QTSP psd2bank); produkcja wymaga certyfikatu kwalifikowanego", name)
			}
			if !c.Qualified {
				fail("the %s is not declared an EU qualified certificate (no QcCompliance statement)",
					"certyfikat %s nie jest oznaczony jako kwalifikowany certyfikat UE (brak oświadczenia QcCompliance)", name)
			}
			if now.Before(c.NotBefore) || now.After(c.NotAfter) {
				fail("the %s is not valid now (valid from %s to %s)", "certyfikat %s nie jest teraz ważny (ważny od %s do %s)",
					name, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
			}
			for _, r := range c.Roles {
				if !slices.Contains(roles, r) {
					roles = append(roles, r)
				}
			}
		}
		if len(certs) < 2 {
			fail("the application lacks its QWAC or QSealC", "we wniosku brakuje certyfikatu QWAC lub QSealC")
		}
		switch e, ok := r.lookupLicence(a.OrgID); {
		case r.licences == nil:
			fail("no register of payment institutions is configured, so %s cannot be checked",
				"nie skonfigurowano rejestru instytucji płatniczych, więc nie można sprawdzić %s", a.OrgID)
		case !ok:
			fail("%s is not in the register of payment institutions (KNF/EBA)",
				"%s nie figuruje w rejestrze instytucji płatniczych (KNF/EBA)", a.OrgID)
		case !e.Authorised:
			fail("the register shows the authorisation of %s as withdrawn", "według rejestru zezwolenie %s zostało cofnięte", a.OrgID)
		default:
			for _, role := range roles {
				if !e.Allows(role) {
					svc, known := RoleService[role]
					if !known {
						fail("the certificates carry the role %s, which gives no access to this API",
							"certyfikaty zawierają rolę %s, która nie daje dostępu do tego API", role)
						continue
					}
					fail("the register does not authorise %s in Poland for %s (service %s)",
						"rejestr nie daje %s w Polsce zezwolenia na %s (usługa %s)", a.OrgID, role, svc)
				}
			}
		}
		existing, err := r.tpp(ctx, tx, a.OrgID)
		if err == nil && !existing.Active() {
			fail("TPP %s is suspended (%s): reinstate it first", "TPP %s jest zawieszony (%s): najpierw go przywróć",
				existing.ID, existing.SuspendedReason)
		} else if err != nil && CodeOf(err) != CodeNotFound {
			return err
		}
		if len(failed) > 0 {
			return &Error{Code: CodeNotLicensed,
				Message:   "Approval refused: " + strings.Join(failed, "; ") + ".",
				MessagePL: "Zatwierdzenie odmówione: " + strings.Join(failedPL, "; ") + "."}
		}
		t, _, err := r.upsertTPP(ctx, tx, a.OrgID, a.Name, EnvProduction)
		if err != nil {
			return err
		}
		var pcs []parsedCert
		for _, c := range certs {
			pc, err := parsePSD2(c.cert, c.Kind, c.Kind)
			if err != nil {
				return err
			}
			pcs = append(pcs, pc)
		}
		if err := r.addCertificates(ctx, tx, t.ID, pcs...); err != nil {
			return err
		}
		client, err = r.createClient(ctx, tx, reviewer, Client{ClientID: NewClientID(), TPPID: t.ID, Name: a.Name, RedirectURIs: a.RedirectURIs})
		if err != nil {
			return err
		}
		nowUS := micros(now)
		if _, err := tx.ExecContext(ctx,
			`UPDATE tpp_applications SET status = $2, reason = '', reviewed_by = $3, reviewed_at = $4, updated_at = $4, client_id = $5 WHERE id = $1`,
			appID, AppApproved, reviewer, nowUS, client.ClientID); err != nil {
			return fmt.Errorf("approve application: %w", err)
		}
		if err := r.audit(ctx, tx, reviewer, ActionApplicationApprove, appID,
			fmt.Sprintf("production TPP %s, client %s, roles %s", t.ID, client.ClientID, strings.Join(roles, ","))); err != nil {
			return err
		}
		out, err = r.application(ctx, tx, appID)
		return err
	})
	return out, client, err
}

func (r *Registry) lookupLicence(orgID string) (Entry, bool) {
	if r.licences == nil {
		return Entry{}, false
	}
	return r.licences.Lookup(orgID)
}
