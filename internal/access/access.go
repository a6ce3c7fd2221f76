// Package access is the account holder's control over the PSD2 API: API
// access per account (not activated, active, blocked) with its history,
// the hotline's identity check by PESEL, limits of API payments (one-off
// and recurring, per payment and per day) and the audit of every change.
//
// The rules, from mBank's practice:
//
//   - Retail accounts have API access active by default (PSD2 requires it
//     for payment accounts); company and corporate accounts start "not
//     activated".
//   - Company accounts are changed only by the hotline (ChangeByHotline),
//     after the consultant has checked the identity of the person acting for
//     the firm by PESEL (StartVerification, VerifyPESEL) and recorded who
//     acts for it (RecordRepresentative).
//   - Corporate accounts are changed by the customer in internet banking,
//     after SCA (ChangeByCustomer); the hotline may change them too.
//   - Access can be blocked at any time; the API calls Check on every
//     request, so a block takes effect on the very next one whatever tokens
//     and consents exist.
//   - Limits are set by the customer after SCA (SetLimits); payment
//     initiation calls CheckPaymentLimit and then RecordPayment in the
//     payment's own transaction, which adds to the day total only when it
//     stays within the limit (so two concurrent payments cannot both pass).
package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/psd2bank/psd2bank/internal/clock"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// State is where an account's API access stands.
type State string

// The states.
const (
	NotActivated State = "not_activated"
	Active       State = "active"
	Blocked      State = "blocked"
)

// Valid tells whether s is one of the states.
func (s State) Valid() bool { return s == NotActivated || s == Active || s == Blocked }

// Channel is where a change came from.
type Channel string

// The channels.
const (
	ChannelHotline         Channel = "hotline"          // a consultant in the back office
	ChannelInternetBanking Channel = "internet_banking" // the customer, after SCA
	ChannelSystem          Channel = "system"           // bootstrap (EnsureActive)
	ChannelAPI             Channel = "api"              // a TPP call (payments)
)

// The services Check knows.
const (
	AIS = "AIS"
	PIS = "PIS"
	CAF = "CAF"
)

// DefaultFor is the state of an account whose owner is in segment and whose
// access was never changed.
func DefaultFor(segment ledger.Segment) State {
	if segment == ledger.Retail {
		return Active
	}
	return NotActivated
}

// DB is the storage the service needs: plain queries and transactions.
type DB interface {
	store.Querier
	InTx(ctx context.Context, fn func(*store.Tx) error) error
}

// Ledger is what the service reads of the core banking (the ledger does).
type Ledger interface {
	Customer(ctx context.Context, id string) (ledger.Customer, error)
	AccountByNRB(ctx context.Context, nrb string) (ledger.Account, error)
	AccountsOf(ctx context.Context, customerID string) ([]ledger.Account, error)
}

// Service keeps API access, limits and their audit. It keeps all its state
// in the database and is safe for concurrent use, on any number of nodes.
type Service struct {
	db     DB
	ledger Ledger
	clock  clock.Clock
}

// New returns a service over db that reads customers and accounts from l
// and the time from c.
func New(db DB, l Ledger, c clock.Clock) *Service {
	return &Service{db: db, ledger: l, clock: c}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Status is an account's API access now.
type Status struct {
	AccountNRB string
	CustomerID string
	Segment    ledger.Segment
	State      State
	Default    bool // never changed: the state is the segment's default
	Actor      string
	Channel    Channel
	Reason     string
	ChangedAt  time.Time // zero when Default
}

// Change is one entry of an account's access history.
type Change struct {
	ID             string
	AccountNRB     string
	CustomerID     string
	From, To       State
	Actor          string
	Channel        Channel
	Reason         string
	Representative string // who acted for the firm (hotline changes)
	At             time.Time
}

// Status returns the API access of the account with the given NRB.
func (s *Service) Status(ctx context.Context, nrb string) (Status, error) {
	a, err := s.ledger.AccountByNRB(ctx, nrb)
	if err != nil {
		if ledger.CodeOf(err) == ledger.CodeNotFound {
			return Status{}, errUnknownAccount(nrb)
		}
		return Status{}, err
	}
	return s.statusOf(ctx, s.db, a)
}

// statusOf reads the stored state of a, or its owner's default.
func (s *Service) statusOf(ctx context.Context, q store.Querier, a ledger.Account) (Status, error) {
	st := Status{AccountNRB: a.NRB, CustomerID: a.CustomerID}
	if a.CustomerID == "" {
		return Status{}, errUnknownAccount(a.NRB)
	}
	c, err := s.ledger.Customer(ctx, a.CustomerID)
	if err != nil {
		return Status{}, fmt.Errorf("owner of the account: %w", err)
	}
	st.Segment = c.Segment
	var state, channel string
	var at int64
	err = q.QueryRowContext(ctx, `SELECT state, actor, channel, reason, changed_at FROM account_access WHERE account_nrb = $1`,
		a.NRB).Scan(&state, &st.Actor, &channel, &st.Reason, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		st.State, st.Default = DefaultFor(c.Segment), true
		return st, nil
	case err != nil:
		return Status{}, fmt.Errorf("read API access: %w", err)
	}
	st.State, st.Channel, st.ChangedAt = State(state), Channel(channel), fromMicros(at)
	return st, nil
}

// AccountStatus is an account with its API access and limits, as the pages
// show it.
type AccountStatus struct {
	Account ledger.Account
	Status  Status
	Limits  Limits
}

// Accounts lists a customer's accounts with their API access and limits.
func (s *Service) Accounts(ctx context.Context, customerID string) ([]AccountStatus, error) {
	accounts, err := s.ledger.AccountsOf(ctx, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]AccountStatus, 0, len(accounts))
	for _, a := range accounts {
		st, err := s.statusOf(ctx, s.db, a)
		if err != nil {
			return nil, err
		}
		l, err := s.Limits(ctx, a.NRB)
		if err != nil {
			return nil, err
		}
		out = append(out, AccountStatus{Account: a, Status: st, Limits: l})
	}
	return out, nil
}

// History returns the changes of an account's API access, newest first, at
// most limit (default 50).
func (s *Service) History(ctx context.Context, nrb string, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, account_nrb, customer_id, from_state, to_state, actor, channel,
		reason, representative, at FROM account_access_history WHERE account_nrb = $1 ORDER BY at DESC, id DESC LIMIT $2`,
		nrb, limit)
	if err != nil {
		return nil, fmt.Errorf("read access history: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var from, to, channel string
		var at int64
		if err := rows.Scan(&c.ID, &c.AccountNRB, &c.CustomerID, &from, &to, &c.Actor, &channel, &c.Reason,
			&c.Representative, &at); err != nil {
			return nil, err
		}
		c.From, c.To, c.Channel, c.At = State(from), State(to), Channel(channel), fromMicros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// setState moves an account to state to inside tx, writing the history and
// the audit; a change to the state it already has is refused as
// CodeUnchanged.
func (s *Service) setState(ctx context.Context, tx *store.Tx, a ledger.Account, to State, actor string,
	ch Channel, reason, representative string) (Status, error) {
	if !to.Valid() || to == NotActivated {
		return Status{}, newError(CodeInvalid, "API access can be set to active or blocked, not %q",
			"dostęp do API można ustawić na aktywny lub zablokowany, a nie %q", to)
	}
	cur, err := s.statusOf(ctx, tx, a)
	if err != nil {
		return Status{}, err
	}
	if cur.State == to {
		return Status{}, errUnchanged(a.NRB, to)
	}
	now := s.clock.Now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_access (account_nrb, customer_id, state, actor, channel, reason, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_nrb) DO UPDATE SET customer_id = EXCLUDED.customer_id, state = EXCLUDED.state,
			actor = EXCLUDED.actor, channel = EXCLUDED.channel, reason = EXCLUDED.reason, changed_at = EXCLUDED.changed_at`,
		a.NRB, a.CustomerID, string(to), actor, string(ch), reason, micros(now)); err != nil {
		return Status{}, fmt.Errorf("write API access: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_access_history
		(id, account_nrb, customer_id, from_state, to_state, actor, channel, reason, representative, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		newID(), a.NRB, a.CustomerID, string(cur.State), string(to), actor, string(ch), reason, representative,
		micros(now)); err != nil {
		return Status{}, fmt.Errorf("write access history: %w", err)
	}
	detail := string(cur.State) + " → " + string(to)
	if reason != "" {
		detail += "; " + reason
	}
	if representative != "" {
		detail += "; acting: " + representative
	}
	action := ActionAccessActivate
	if to == Blocked {
		action = ActionAccessBlock
	}
	if err := s.audit(ctx, tx, AuditEntry{Actor: actor, Channel: ch, Action: action, CustomerID: a.CustomerID,
		Subject: a.NRB, Detail: detail}); err != nil {
		return Status{}, err
	}
	cur.State, cur.Default, cur.Actor, cur.Channel, cur.Reason = to, false, actor, ch, reason
	cur.ChangedAt = now.UTC().Truncate(time.Microsecond)
	return cur, nil
}

// account returns the account with the NRB, with a typed refusal when the
// bank has none (or it is the bank's own).
func (s *Service) account(ctx context.Context, nrb string) (ledger.Account, error) {
	a, err := s.ledger.AccountByNRB(ctx, nrb)
	if ledger.CodeOf(err) == ledger.CodeNotFound || (err == nil && a.CustomerID == "") {
		return ledger.Account{}, errUnknownAccount(nrb)
	}
	return a, err
}

// ChangeByCustomer activates or blocks API access to one of customerID's
// accounts from internet banking. The caller has confirmed the change with
// SCA; method ("sms" or "mobile") is recorded in the history. Only
// corporate customers change access themselves: a company customer is
// refused with CodeHotlineOnly, a retail one with CodeNotChangeable.
func (s *Service) ChangeByCustomer(ctx context.Context, customerID, nrb string, to State, method, reason string) (Status, error) {
	c, err := s.ledger.Customer(ctx, customerID)
	if err != nil {
		return Status{}, err
	}
	a, err := s.account(ctx, nrb)
	if err != nil {
		return Status{}, err
	}
	if a.CustomerID != customerID {
		return Status{}, errNotYours(nrb)
	}
	switch c.Segment {
	case ledger.Company:
		return Status{}, errHotlineOnly
	case ledger.Retail:
		return Status{}, errRetail
	}
	why := "SCA: " + method
	if reason != "" {
		why = reason + " (" + why + ")"
	}
	var out Status
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		out, err = s.setState(ctx, tx, a, to, c.Login, ChannelInternetBanking, why, "")
		return err
	})
	return out, err
}

// EnsureActive makes API access active for the given accounts (NRBs) unless
// it was blocked: the sandbox calls it on every start for its test firms'
// accounts, so that TPP developers can use them at once. Accounts already
// active are left alone; a blocked account stays blocked (a block is a
// deliberate decision); an unknown NRB is an error.
func (s *Service) EnsureActive(ctx context.Context, nrbs ...string) error {
	for _, nrb := range nrbs {
		a, err := s.account(ctx, nrb)
		if err != nil {
			return err
		}
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			st, err := s.statusOf(ctx, tx, a)
			if err != nil || st.State != NotActivated {
				return err
			}
			_, err = s.setState(ctx, tx, a, Active, "sandbox", ChannelSystem, "sandbox bootstrap", "")
			return err
		})
		if err != nil {
			return fmt.Errorf("activate API access to %s: %w", maskNRB(nrb), err)
		}
	}
	return nil
}

// maskNRB shows only the last four digits of an account number.
func maskNRB(nrb string) string {
	if len(nrb) <= 4 {
		return "****"
	}
	return "…" + nrb[len(nrb)-4:]
}
