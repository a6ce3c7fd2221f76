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
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
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
