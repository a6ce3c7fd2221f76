package consent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/payment"
	"github.com/psd2bank/psd2bank/internal/store"
)

// insert writes a new consent row (its privileges follow in writePrivileges).
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
		o, err := readOrder(r.order)
		if err != nil {
			return Privilege{}, fmt.Errorf("the payment of privilege %s of %s: %w", p.Name, consentID, err)
		}
		p.Order = o
	}
	return p, nil
}

// A payment initiation checks the body against the payment its consent
// keeps (consent_privileges.payment_order, JSON), inside the initiation's
// transaction — on SQLite while the one writer is held. The order is
// written once, when the consent is asked for, and never changes; what
// reading its JSON gives is kept by the JSON itself (orders), so the
// initiation does not read it again: KeepOrder reads it when the dialect
// has the order in hand, before the consent's transaction, and readOrder
// finds it. The key is the whole JSON, so a kept order is exactly what
// reading that JSON gives, on any node, whatever the consent; a node that
// has not kept it (another node, a restart, a full keep) reads it.
var orders = live.Kept[payment.Consented]{Max: 4096}

// KeepOrder keeps what reading the JSON a consent will keep of o gives.
func KeepOrder(o *payment.Consented) {
	js, err := json.Marshal(o)
	if err != nil {
		return
	}
	var read payment.Consented
	if err := json.Unmarshal(js, &read); err != nil {
		return
	}
	orders.Put(string(js), read)
}

// readOrder is the order a consent keeps as js: a copy of the kept one,
// or read from js (and then kept).
func readOrder(js string) (*payment.Consented, error) {
	if o, ok := orders.Get(js); ok {
		return o.Clone(), nil
	}
	var o payment.Consented
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		return nil, err
	}
	orders.Put(js, o)
	return o.Clone(), nil
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

// GetAlso is Get reading also's columns in the consent's own statement
// (also's placeholders start at $2); also.Dest is filled only when the
// consent exists.
func (s *Service) GetAlso(ctx context.Context, id string, also *Also) (Consent, error) {
	c, err := s.loadAlso(ctx, s.db, `id = $1`, false, also, id)
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
