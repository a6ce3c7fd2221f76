// Package consent keeps the consents customers give TPPs: their privileges
// (PolishAPI names, per account), their life (received → authorised →
// rejected / expired / revoked, every transition a compare-and-set), and the
// check every TPP call passes (Check): the consent is the TPP's, alive, has
// the privilege for the account, the history asked is within
// maxAllowedHistoryLong, single-use privileges are not used up, and AIS
// calls without the customer present stay within the consent's
// FrequencyPerDay (at most 4, RTS art. 36(5)) per resource in its window
// (any 24 hours, or the calendar day in Warsaw), counted in the database so
// that every node agrees.
//
// Errors are *Error values with a stable Code, an HTTP status class and
// messages in English and Polish.
package consent

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Scope is the scope of a consent (PolishAPI's scope / scopeGroupType).
type Scope string

// The scopes.
const (
	ScopeAISAccounts Scope = "ais-accounts"
	ScopeAIS         Scope = "ais"
	ScopePIS         Scope = "pis"
)

// ParseScope reads a scope in either dialect's spelling: "ais-accounts",
// "AIS_ACCOUNTS", "ais", "AIS", "pis", "PIS".
func ParseScope(s string) (Scope, error) {
	switch sc := Scope(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")); sc {
	case ScopeAISAccounts, ScopeAIS, ScopePIS:
		return sc, nil
	}
	return "", newError(CodeInvalid, "unknown scope %q: use ais-accounts, ais or pis",
		"nieznany zakres %q: użyj ais-accounts, ais lub pis", s)
}

// IsAIS tells whether the scope is account information (ais or
// ais-accounts).
func (s Scope) IsAIS() bool { return s == ScopeAIS || s == ScopeAISAccounts }

// Status is where a consent is in its life.
type Status string

// The statuses. StatusExpired is never stored: a consent whose ExpiresAt
// has passed reads as expired.
const (
	StatusReceived     Status = "received"
	StatusAuthorised   Status = "authorised"
	StatusRejected     Status = "rejected"
	StatusExpired      Status = "expired"
	StatusRevokedByPSU Status = "revoked_by_psu"
	StatusRevokedByTPP Status = "revoked_by_tpp"
)

// Reasons of expiry, in StatusReason of an expired consent.
const (
	ReasonScopeTimeLimit = "scope_time_limit"
	Reason180Days        = "180_days"
)

// ThrottlingPSD2Regulatory is the only throttling policy: RTS art. 36(5).
const ThrottlingPSD2Regulatory = "psd2Regulatory"

// SCAValidity is how long an AIS consent lasts after the customer's strong
// authentication (RTS art. 10a): 180 days.
const SCAValidity = 180 * 24 * time.Hour

// Consent is a consent a customer gives (or is asked to give) a TPP.
type Consent struct {
	ID           string // the bank's
	TPPConsentID string // the TPP's scope_details.consentId
	TPPID        string
	ClientID     string
	CustomerID   string // set when authorised
	Scope        Scope
	Privileges   []Privilege
	// Accounts are the NRBs the consent covers, as the customer chose them.
	Accounts         []string
	ScopeTimeLimit   time.Time
	CreatedAt        time.Time
	AuthorisedAt     time.Time
	ExpiresAt        time.Time // AIS: min(ScopeTimeLimit, AuthorisedAt+180 days); PIS: ScopeTimeLimit
	ThrottlingPolicy string
	Dialect          string
	Status           Status
	StatusReason     string
	ParentID         string // the consent this one was exchanged from
	// FrequencyPerDay is how many accesses per resource (an account, or
	// the account list) the TPP may make in the Window without the
	// customer present: 1 to UnattendedLimit; 0 at creation means
	// UnattendedLimit.
	FrequencyPerDay int
	// Window is how those accesses are counted; "" at creation means the
	// dialect's (WindowOf).
	Window Window
	// OneOff marks a consent for one access (Berlin Group's
	// recurringIndicator false): each kind of read (Access.Kind) once per
	// resource, whether the customer is present or not.
	OneOff bool
}

// Alive tells whether the consent is received or authorised and not expired.
func (c Consent) Alive() bool {
	return c.Status == StatusReceived || c.Status == StatusAuthorised
}

// DB is the storage the service needs: plain queries and transactions.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// Service keeps consents. It is safe for concurrent use.
type Service struct {
	db    DB
	clock clock.Clock
}

// New returns a service over db whose time comes from c.
func New(db DB, c clock.Clock) *Service { return &Service{db: db, clock: c} }

// Now is the service's time.
func (s *Service) Now() time.Time { return s.clock.Now() }

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Create stores a new consent with status received, after checking it: a
// scope, privileges that fit it, a scopeTimeLimit in the future and a
// TPPConsentID the TPP has not used before. An empty ID gets a new one.
func (s *Service) Create(ctx context.Context, c Consent) (Consent, error) {
	var out Consent
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.CreateIn(ctx, tx, c)
		return err
	})
	return out, err
}

// CreateIn is Create inside the caller's transaction.
func (s *Service) CreateIn(ctx context.Context, tx *store.Tx, c Consent) (Consent, error) {
	now := s.clock.Now()
	if err := s.validate(&c, now); err != nil {
		return Consent{}, err
	}
	if c.ID == "" {
		c.ID = newID()
	}
	c.Status, c.StatusReason = StatusReceived, ""
	c.CreatedAt, c.AuthorisedAt = now, time.Time{}
	c.ExpiresAt = c.ScopeTimeLimit
	c.CustomerID = ""
	c.Accounts = nil
	if err := insert(ctx, tx, c, now); err != nil {
		return Consent{}, err
	}
	return c, nil
}

func (s *Service) validate(c *Consent, now time.Time) error {
	sc, err := ParseScope(string(c.Scope))
	if err != nil {
		return err
	}
	c.Scope = sc
	c.TPPConsentID = strings.TrimSpace(c.TPPConsentID)
	switch {
	case c.TPPConsentID == "":
		return newError(CodeInvalid, "scope_details.consentId is required: generate a UUID for each consent",
			"scope_details.consentId jest wymagane: wygeneruj UUID dla każdej zgody")
	case len(c.TPPConsentID) > 64:
		return newError(CodeInvalid, "scope_details.consentId is longer than 64 characters",
			"scope_details.consentId ma więcej niż 64 znaki")
	case c.TPPID == "" || c.ClientID == "":
		return newError(CodeInvalid, "a consent needs a TPP and a client", "zgoda wymaga TPP i klienta OAuth")
	case c.ScopeTimeLimit.IsZero() || !c.ScopeTimeLimit.After(now):
		return newError(CodeInvalid,
			"scope_details.scopeTimeLimit %s is not in the future: give the instant until which the consent should last",
			"scope_details.scopeTimeLimit %s nie jest w przyszłości: podaj chwilę, do której zgoda ma obowiązywać",
			c.ScopeTimeLimit.UTC().Format(time.RFC3339))
	}
	switch strings.ToLower(strings.ReplaceAll(c.ThrottlingPolicy, "_", "")) {
	case "", "psd2regulatory":
		c.ThrottlingPolicy = ThrottlingPSD2Regulatory
	default:
		return newError(CodeInvalid, "throttlingPolicy %q is not supported: use psd2Regulatory",
			"throttlingPolicy %q nie jest obsługiwane: użyj psd2Regulatory", c.ThrottlingPolicy)
	}
	if c.Dialect == "" {
		c.Dialect = DialectPolishAPI
	}
	if c.FrequencyPerDay == 0 {
		c.FrequencyPerDay = UnattendedLimit
	}
	if c.FrequencyPerDay < 1 || c.FrequencyPerDay > UnattendedLimit {
		return newError(CodeInvalid,
			"the frequency of reads without the customer must be 1 to %d a day (RTS art. 36(5)), not %d",
			"liczba odczytów bez udziału klienta musi wynosić od 1 do %d na dobę (RTS art. 36 ust. 5), a nie %d",
			UnattendedLimit, c.FrequencyPerDay)
	}
	if c.Window == "" {
		c.Window = WindowOf(c.Dialect)
	}
	if c.Window != Window24Hours && c.Window != WindowCalendarDay {
		return fmt.Errorf("consent: unknown window %q", c.Window)
	}
	c.Privileges = slices.Clone(c.Privileges)
	for i := range c.Privileges {
		c.Privileges[i].Uses = 0
	}
	return validatePrivileges(c.Scope, c.Privileges)
}

func insert(ctx context.Context, q store.Querier, c Consent, now time.Time) error {
	accounts, err := json.Marshal(nonNil(c.Accounts))
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT INTO consents
		(id, tpp_consent_id, tpp_id, client_id, customer_id, scope, accounts, scope_time_limit, throttling_policy,
		 dialect, status, status_reason, parent_id, created_at, authorised_at, expires_at, updated_at,
		 frequency_per_day, unattended_window, one_off)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		c.ID, c.TPPConsentID, c.TPPID, c.ClientID, c.CustomerID, string(c.Scope), string(accounts),
		micros(c.ScopeTimeLimit), c.ThrottlingPolicy, c.Dialect, string(c.Status), c.StatusReason, c.ParentID,
		micros(c.CreatedAt), micros(c.AuthorisedAt), micros(c.ExpiresAt), micros(now),
		c.FrequencyPerDay, string(c.Window), c.OneOff)
	if store.IsUniqueViolation(err) {
		return newError(CodeDuplicate,
			"consentId %s was already used by your organisation: generate a new consentId (a UUID) for each consent",
			"consentId %s został już użyty przez Twoją organizację: generuj nowy consentId (UUID) dla każdej zgody", c.TPPConsentID)
	}
	if err != nil {
		return fmt.Errorf("create consent: %w", err)
	}
	return writePrivileges(ctx, q, c.ID, c.Privileges)
}

func writePrivileges(ctx context.Context, q store.Querier, id string, privs []Privilege) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM consent_privileges WHERE consent_id = $1`, id); err != nil {
		return fmt.Errorf("write privileges: %w", err)
	}
	for i, p := range privs {
		order := ""
		if p.Order != nil {
			js, err := json.Marshal(p.Order)
			if err != nil {
				return fmt.Errorf("write privileges: %w", err)
			}
			order = string(js)
		}
		_, err := q.ExecContext(ctx, `INSERT INTO consent_privileges
			(consent_id, seq, name, account_number, scope_usage_limit, max_history_days, payment, uses, payment_order)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			id, i, p.Name, p.AccountNumber, p.ScopeUsageLimit, p.MaxAllowedHistoryLong, string(p.Payment), p.Uses, order)
		if err != nil {
			return fmt.Errorf("write privileges: %w", err)
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const consentColumns = `id, tpp_consent_id, tpp_id, client_id, customer_id, scope, accounts, scope_time_limit,
	throttling_policy, dialect, status, status_reason, parent_id, created_at, authorised_at, expires_at,
	frequency_per_day, unattended_window, one_off`

func scanConsent(row interface{ Scan(...any) error }) (Consent, error) {
	var c Consent
	var scope, accounts, status, window string
	var stl, created, authorised, expires int64
	err := row.Scan(&c.ID, &c.TPPConsentID, &c.TPPID, &c.ClientID, &c.CustomerID, &scope, &accounts, &stl,
		&c.ThrottlingPolicy, &c.Dialect, &status, &c.StatusReason, &c.ParentID, &created, &authorised, &expires,
		&c.FrequencyPerDay, &window, &c.OneOff)
	if err != nil {
		return Consent{}, err
	}
	c.Scope, c.Status, c.Window = Scope(scope), Status(status), Window(window)
	c.ScopeTimeLimit, c.CreatedAt = fromMicros(stl), fromMicros(created)
	c.AuthorisedAt, c.ExpiresAt = fromMicros(authorised), fromMicros(expires)
	if err := json.Unmarshal([]byte(accounts), &c.Accounts); err != nil {
		return Consent{}, fmt.Errorf("consent %s: accounts: %w", c.ID, err)
	}
	return c, nil
}

// effective turns an alive consent past its ExpiresAt into an expired one,
// saying by which rule.
func effective(c Consent, now time.Time) Consent {
	if c.Alive() && !now.Before(c.ExpiresAt) {
		c.Status = StatusExpired
		c.StatusReason = ReasonScopeTimeLimit
		if c.ExpiresAt.Before(c.ScopeTimeLimit) {
			c.StatusReason = Reason180Days
		}
	}
	return c
}

func (s *Service) load(ctx context.Context, q store.Querier, where string, lock bool, args ...any) (Consent, error) {
	return s.loadAlso(ctx, q, where, lock, nil, args...)
}

// Also is what a caller reads in the consent's own statement, so that a
// business transaction makes one round trip for the consent, its
// privileges and what it needs besides (a payment initiation: the accounts
// it debits and credits). Joins are LEFT JOINs that may refer to the
// consent as c and whose placeholders follow those of the consent's
// condition; Columns are read from the first row into Dest.
type Also struct {
	Columns string
	Joins   string
	Args    []any
	Dest    []any
}

// consentColumnsC is consentColumns of the consent c.
var consentColumnsC = func() string {
	cols := strings.Split(consentColumns, ",")
	for i, col := range cols {
		cols[i] = "c." + strings.TrimSpace(col)
	}
	return strings.Join(cols, ", ")
}()

// loadAlso reads a consent and its privileges in one statement (the
// consent's row, locked on PostgreSQL when lock is set, joined with its
// privileges), and also's columns when also is not nil.
func (s *Service) loadAlso(ctx context.Context, q store.Querier, where string, lock bool, also *Also, args ...any) (Consent, error) {
	inner := `SELECT ` + consentColumns + ` FROM consents WHERE ` + where
	if lock {
		inner += ` FOR UPDATE`
	}
	query := `SELECT ` + consentColumnsC + `, COALESCE(p.seq, -1), COALESCE(p.name, ''), COALESCE(p.account_number, ''),
		COALESCE(p.scope_usage_limit, ''), COALESCE(p.max_history_days, 0), COALESCE(p.payment, ''), COALESCE(p.uses, 0),
		COALESCE(p.payment_order, '')`
	if also != nil {
		query += `, ` + also.Columns
	}
	query += ` FROM (` + inner + `) c LEFT JOIN consent_privileges p ON p.consent_id = c.id`
	if also != nil {
		query += ` ` + also.Joins
		args = append(args[:len(args):len(args)], also.Args...)
	}
	query += ` ORDER BY p.seq`
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return Consent{}, err
	}
	defer rows.Close()
	var c Consent
	n := 0
	for rows.Next() {
		row := consentRow{}
		dest := row.dest()
		if also != nil {
			if n == 0 {
				dest = append(dest, also.Dest...)
			} else {
				for range also.Dest {
					dest = append(dest, new(any))
				}
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return Consent{}, err
		}
		if n == 0 {
			if c, err = row.consent(); err != nil {
				return Consent{}, err
			}
		}
		n++
		if row.seq < 0 {
			continue
		}
		p, err := row.privilege(c.ID)
		if err != nil {
			return Consent{}, err
		}
		c.Privileges = append(c.Privileges, p)
	}
	if err := rows.Err(); err != nil {
		return Consent{}, err
	}
	if n == 0 {
		return Consent{}, sql.ErrNoRows
	}
	return effective(c, s.clock.Now()), nil
}

// consentRow is a row of loadAlso: the consent and one privilege.
type consentRow struct {
	c                             Consent
	scope, accounts, status       string
	window                        string
	stl, created, authorised, exp int64
	seq                           int
	p                             Privilege
	raw, order                    string
}

func (r *consentRow) dest() []any {
	return []any{&r.c.ID, &r.c.TPPConsentID, &r.c.TPPID, &r.c.ClientID, &r.c.CustomerID, &r.scope, &r.accounts, &r.stl,
		&r.c.ThrottlingPolicy, &r.c.Dialect, &r.status, &r.c.StatusReason, &r.c.ParentID, &r.created, &r.authorised, &r.exp,
		&r.c.FrequencyPerDay, &r.window, &r.c.OneOff,
		&r.seq, &r.p.Name, &r.p.AccountNumber, &r.p.ScopeUsageLimit, &r.p.MaxAllowedHistoryLong, &r.raw, &r.p.Uses, &r.order}
}

func (r *consentRow) consent() (Consent, error) {
	c := r.c
	c.Scope, c.Status, c.Window = Scope(r.scope), Status(r.status), Window(r.window)
	c.ScopeTimeLimit, c.CreatedAt = fromMicros(r.stl), fromMicros(r.created)
	c.AuthorisedAt, c.ExpiresAt = fromMicros(r.authorised), fromMicros(r.exp)
	if err := json.Unmarshal([]byte(r.accounts), &c.Accounts); err != nil {
		return Consent{}, fmt.Errorf("consent %s: accounts: %w", c.ID, err)
	}
	return c, nil
}

func (r *consentRow) privilege(consentID string) (Privilege, error) {
	p := r.p
	if r.raw != "" {
		p.Payment = json.RawMessage(r.raw)
	}
	if r.order != "" {
		p.Order = new(payment.Consented)
		if err := json.Unmarshal([]byte(r.order), p.Order); err != nil {
			return Privilege{}, fmt.Errorf("the payment of privilege %s of %s: %w", p.Name, consentID, err)
		}
	}
	return p, nil
}

func notFound(id string) error {
	return newError(CodeNotFound, "no consent %s", "brak zgody %s", id)
}

// Get returns the consent with the bank's id.
func (s *Service) Get(ctx context.Context, id string) (Consent, error) {
	return s.GetIn(ctx, s.db, id)
}

// GetIn is Get with the caller's querier (a transaction).
func (s *Service) GetIn(ctx context.Context, q store.Querier, id string) (Consent, error) {
	c, err := s.load(ctx, q, `id = $1`, false, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Consent{}, notFound(id)
	}
	return c, err
}

// GetByTPPConsentID returns a TPP's consent by the TPP's consentId: the
// newest one with it (a consent exchanged from another may keep its id).
func (s *Service) GetByTPPConsentID(ctx context.Context, tppID, tppConsentID string) (Consent, error) {
	c, err := s.load(ctx, s.db, `tpp_id = $1 AND tpp_consent_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, false, tppID, tppConsentID)
	if errors.Is(err, sql.ErrNoRows) {
		return Consent{}, notFound(tppConsentID)
	}
	return c, err
}

// ForCustomer lists a customer's consents, newest first.
func (s *Service) ForCustomer(ctx context.Context, customerID string) ([]Consent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM consents WHERE customer_id = $1 ORDER BY created_at DESC, id DESC`, customerID)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Consent, 0, len(ids))
	for _, id := range ids {
		c, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// LastUsed returns when the consent was last used by a TPP call, if ever.
func (s *Service) LastUsed(ctx context.Context, id string) (time.Time, bool) {
	var at sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(at) FROM (
		SELECT MAX(at) AS at FROM consent_accesses WHERE consent_id = $1
		UNION ALL SELECT MAX(used_at) FROM consent_privileges WHERE consent_id = $1 AND used_at > 0) u`, id).Scan(&at); err != nil || !at.Valid {
		return time.Time{}, false
	}
	return fromMicros(at.Int64), true
}

// Authorise records that customerID authorised consent id for the given
// accounts: a compare-and-set from received to authorised. For ais
// consents whose privileges name accounts, the accounts must be exactly
// those (none means those); privileges that are per account but name none
// are given once per chosen account. AIS consents expire at the earlier of
// scopeTimeLimit and 180 days from now; PIS consents at scopeTimeLimit.
func (s *Service) Authorise(ctx context.Context, id, customerID string, accounts []string) (Consent, error) {
	var out Consent
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.AuthoriseIn(ctx, tx, id, customerID, accounts)
		return err
	})
	return out, err
}

// AuthoriseIn is Authorise inside the caller's transaction.
func (s *Service) AuthoriseIn(ctx context.Context, tx *store.Tx, id, customerID string, accounts []string) (Consent, error) {
	now := s.clock.Now()
	c, err := s.GetIn(ctx, tx, id)
	if err != nil {
		return Consent{}, err
	}
	if c.Status != StatusReceived {
		return Consent{}, stateError(c, "authorise")
	}
	if customerID == "" {
		return Consent{}, newError(CodeInvalid, "authorising a consent needs the customer", "autoryzacja zgody wymaga klienta")
	}
	chosen := make([]string, 0, len(accounts))
	for _, a := range accounts {
		if a = NormalizeNRB(a); a != "" && !slices.Contains(chosen, a) {
			chosen = append(chosen, a)
		}
	}
	named := NamedAccounts(c.Privileges)
	if c.Scope == ScopeAIS && len(named) > 0 {
		if len(chosen) == 0 {
			chosen = slices.Clone(named)
		}
		if !sameSet(chosen, named) {
			return Consent{}, newError(CodeInvalid,
				"the TPP asked for accounts %s: the consent covers exactly those, approve or reject it as a whole",
				"TPP poprosił o rachunki %s: zgoda obejmuje dokładnie je, zatwierdź lub odrzuć ją w całości", maskAll(named))
		}
	}
	if c.Scope.IsAIS() && len(chosen) == 0 {
		return Consent{}, newError(CodeInvalid, "choose at least one account for the consent",
			"wybierz co najmniej jeden rachunek objęty zgodą")
	}
	c.Privileges = expand(c.Privileges, chosen)
	c.Accounts = chosen
	c.CustomerID = customerID
	c.AuthorisedAt = now
	c.ExpiresAt = c.ScopeTimeLimit
	if c.Scope.IsAIS() && now.Add(SCAValidity).Before(c.ExpiresAt) {
		c.ExpiresAt = now.Add(SCAValidity)
	}
	acc, _ := json.Marshal(nonNil(c.Accounts))
	res, err := tx.ExecContext(ctx, `UPDATE consents SET status = $1, customer_id = $2, accounts = $3,
		authorised_at = $4, expires_at = $5, updated_at = $6 WHERE id = $7 AND status = $8 AND expires_at > $9`,
		string(StatusAuthorised), customerID, string(acc), micros(now), micros(c.ExpiresAt), micros(now), id,
		string(StatusReceived), micros(now))
	if err := oneRow(res, err); err != nil {
		if errors.Is(err, errNoRow) {
			return Consent{}, newError(CodeWrongState, "consent %s was decided meanwhile", "zgoda %s została w międzyczasie rozstrzygnięta", id)
		}
		return Consent{}, fmt.Errorf("authorise consent: %w", err)
	}
	if err := writePrivileges(ctx, tx, id, c.Privileges); err != nil {
		return Consent{}, err
	}
	c.Status = StatusAuthorised
	return c, nil
}

// expand gives every per-account privilege that names no account once per
// chosen account.
func expand(privs []Privilege, accounts []string) []Privilege {
	var out []Privilege
	for _, p := range privs {
		if p.AccountNumber != "" || !IsPerAccount(p.Name) {
			out = append(out, p)
			continue
		}
		for _, a := range accounts {
			q := p
			q.AccountNumber = a
			if !slices.ContainsFunc(out, func(o Privilege) bool { return o.Name == q.Name && o.AccountNumber == a }) {
				out = append(out, q)
			}
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func maskAll(nrbs []string) string {
	m := make([]string, len(nrbs))
	for i, n := range nrbs {
		m[i] = Mask(n)
	}
	return strings.Join(m, ", ")
}

var errNoRow = errors.New("no row changed")

func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return errNoRow
	}
	return nil
}

// CreateExchanged stores, inside the caller's transaction, an authorised
// ais consent obtained by exchange_token from parent (an authorised
// ais-accounts consent): the same TPP, client and customer; privileges
// that must name only accounts parent covers (per-account privileges that
// name none are given for each of parent's accounts). As no new strong
// authentication took place, it expires no later than parent's 180 days.
func (s *Service) CreateExchanged(ctx context.Context, tx *store.Tx, parent, c Consent) (Consent, error) {
	now := s.clock.Now()
	if parent.Scope != ScopeAISAccounts || parent.Status != StatusAuthorised {
		return Consent{}, newError(CodeWrongState,
			"only an authorised ais-accounts consent can be exchanged for an ais consent",
			"na zgodę ais można wymienić tylko autoryzowaną zgodę ais-accounts")
	}
	if c.TPPConsentID == "" {
		c.TPPConsentID = parent.TPPConsentID
	}
	c.TPPID, c.ClientID, c.Dialect = parent.TPPID, parent.ClientID, parent.Dialect
	c.FrequencyPerDay, c.Window, c.OneOff = parent.FrequencyPerDay, parent.Window, parent.OneOff
	if c.ScopeTimeLimit.IsZero() {
		c.ScopeTimeLimit = parent.ScopeTimeLimit
	}
	if err := s.validate(&c, now); err != nil {
		return Consent{}, err
	}
	if c.Scope != ScopeAIS {
		return Consent{}, newError(CodeInvalid, "exchange_token gives an ais consent: ask for scope ais",
			"exchange_token daje zgodę ais: poproś o zakres ais")
	}
	for _, a := range NamedAccounts(c.Privileges) {
		if !slices.Contains(parent.Accounts, a) {
			return Consent{}, newError(CodeAccountNotInConsent,
				"account %s is not covered by the ais-accounts consent: name only the accounts the customer shared, or ask the customer for a new consent",
				"rachunek %s nie jest objęty zgodą ais-accounts: podaj tylko rachunki udostępnione przez klienta albo poproś klienta o nową zgodę", Mask(a))
		}
	}
	accounts := NamedAccounts(c.Privileges)
	if slices.ContainsFunc(c.Privileges, func(p Privilege) bool { return p.AccountNumber == "" }) {
		accounts = slices.Clone(parent.Accounts)
	}
	c.ID = newID()
	c.ParentID = parent.ID
	c.CustomerID = parent.CustomerID
	c.Privileges = expand(c.Privileges, accounts)
	c.Accounts = NamedAccounts(c.Privileges)
	c.Status, c.StatusReason = StatusAuthorised, ""
	c.CreatedAt, c.AuthorisedAt = now, now
	c.ExpiresAt = c.ScopeTimeLimit
	if limit := parent.AuthorisedAt.Add(SCAValidity); limit.Before(c.ExpiresAt) {
		c.ExpiresAt = limit
	}
	if !now.Before(c.ExpiresAt) {
		return Consent{}, expiredError(effective(parent, c.ExpiresAt))
	}
	if err := insert(ctx, tx, c, now); err != nil {
		return Consent{}, err
	}
	return c, nil
}

// Reject records that the customer refused consent id (received →
// rejected).
func (s *Service) Reject(ctx context.Context, id, reason string) (Consent, error) {
	var out Consent
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.RejectIn(ctx, tx, id, reason)
		return err
	})
	return out, err
}

// RejectIn is Reject inside the caller's transaction.
func (s *Service) RejectIn(ctx context.Context, tx *store.Tx, id, reason string) (Consent, error) {
	return s.transition(ctx, tx, id, StatusRejected, reason, "reject", StatusReceived)
}

// Revoke ends a received or authorised consent; by is "psu" (the customer)
// or "tpp". Revoking a revoked consent says it is already revoked.
func (s *Service) Revoke(ctx context.Context, id, by, reason string) (Consent, error) {
	var out Consent
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.RevokeIn(ctx, tx, id, by, reason)
		return err
	})
	return out, err
}

// RevokeIn is Revoke inside the caller's transaction.
func (s *Service) RevokeIn(ctx context.Context, tx *store.Tx, id, by, reason string) (Consent, error) {
	var to Status
	switch by {
	case "psu":
		to = StatusRevokedByPSU
	case "tpp":
		to = StatusRevokedByTPP
	default:
		return Consent{}, newError(CodeInvalid, "a consent is revoked by psu or tpp, not %q", "zgodę odwołuje psu lub tpp, a nie %q", by)
	}
	return s.transition(ctx, tx, id, to, reason, "revoke", StatusReceived, StatusAuthorised)
}

func (s *Service) transition(ctx context.Context, tx *store.Tx, id string, to Status, reason, verb string, from ...Status) (Consent, error) {
	now := s.clock.Now()
	c, err := s.GetIn(ctx, tx, id)
	if err != nil {
		return Consent{}, err
	}
	if !slices.Contains(from, c.Status) {
		return Consent{}, stateError(c, verb)
	}
	res, err := tx.ExecContext(ctx, `UPDATE consents SET status = $1, status_reason = $2, updated_at = $3
		WHERE id = $4 AND status = $5 AND expires_at > $6`,
		string(to), reason, micros(now), id, string(c.Status), micros(now))
	if err := oneRow(res, err); err != nil {
		if errors.Is(err, errNoRow) {
			return Consent{}, newError(CodeWrongState, "consent %s changed meanwhile: try again", "zgoda %s zmieniła się w międzyczasie: spróbuj ponownie", id)
		}
		return Consent{}, fmt.Errorf("%s consent: %w", verb, err)
	}
	c.Status, c.StatusReason = to, reason
	return c, nil
}

// stateError explains why a consent in its current status cannot be
// authorised, rejected or revoked.
func stateError(c Consent, verb string) error {
	switch c.Status {
	case StatusRevokedByPSU, StatusRevokedByTPP:
		if verb == "revoke" {
			return newError(CodeAlreadyRevoked, "consent %s is already revoked", "zgoda %s jest już odwołana", c.Named())
		}
		return newError(CodeWrongState, "consent %s was revoked: ask the customer for a new consent",
			"zgoda %s została odwołana: poproś klienta o nową zgodę", c.Named())
	case StatusExpired:
		return expiredError(c)
	case StatusRejected:
		return newError(CodeWrongState, "consent %s was rejected by the customer: ask for a new consent",
			"zgoda %s została odrzucona przez klienta: poproś o nową zgodę", c.ID)
	case StatusAuthorised:
		return newError(CodeWrongState, "consent %s is already authorised", "zgoda %s jest już autoryzowana", c.ID)
	default:
		return newError(CodeWrongState, "consent %s is %s and cannot be changed that way", "zgoda %s ma status %s i nie można jej tak zmienić", c.ID, c.Status)
	}
}

func expiredError(c Consent) error {
	at := c.ExpiresAt.UTC().Format(time.RFC3339)
	if c.StatusReason == Reason180Days {
		return newError(CodeExpired,
			"the consent expired on %s, 180 days after the customer's strong authentication: ask the customer to renew it",
			"zgoda wygasła %s, 180 dni po silnym uwierzytelnieniu klienta: poproś klienta o jej odnowienie", at)
	}
	return newError(CodeExpired,
		"the consent expired on %s, its scopeTimeLimit: ask the customer for a new consent",
		"zgoda wygasła %s (scopeTimeLimit): poproś klienta o nową zgodę", at)
}

// AddPrivilegesIn adds privs to consent id inside tx, after the ones it
// has (a privilege already there, same name, account and data, is not
// added twice), and returns the consent. It is for mBank's refresh_token
// with scope_details, which adds the status read of a payment initiated
// under the consent (pis:payment); the caller checks what may be added.
func (s *Service) AddPrivilegesIn(ctx context.Context, tx *store.Tx, id string, privs []Privilege) (Consent, error) {
	c, err := s.load(ctx, tx, `id = $1`, tx.Engine() == store.Postgres, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Consent{}, notFound(id)
	}
	if err != nil {
		return Consent{}, err
	}
	added := false
	for _, p := range privs {
		if slices.ContainsFunc(c.Privileges, func(q Privilege) bool {
			return q.Name == p.Name && q.AccountNumber == p.AccountNumber && bytes.Equal(q.Payment, p.Payment)
		}) {
			continue
		}
		c.Privileges = append(c.Privileges, p)
		added = true
	}
	if !added {
		return c, nil
	}
	if err := writePrivileges(ctx, tx, c.ID, c.Privileges); err != nil {
		return Consent{}, err
	}
	return c, nil
}
