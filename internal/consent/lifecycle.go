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

	"github.com/psd2bank/psd2bank/internal/store"
)

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
