package consent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// UnattendedLimit is the most times a TPP may access one resource of an
// AIS consent in the consent's window without the customer present (RTS
// art. 36(5)(b)); a consent's FrequencyPerDay may allow fewer.
// UnattendedWindow is the length of Window24Hours.
const (
	UnattendedLimit  = 4
	UnattendedWindow = 24 * time.Hour
)

// Window is how the accesses without the customer present are counted.
type Window string

// The windows.
const (
	// Window24Hours counts the accesses of any 24 hours: the limit is
	// reached when FrequencyPerDay accesses fall in the last 24 hours,
	// and the next becomes possible 24 hours after the oldest of them.
	Window24Hours Window = "24h"
	// WindowCalendarDay counts the accesses of the calendar day in
	// Europe/Warsaw, by the bank's clock: the next becomes possible at
	// midnight in Warsaw.
	WindowCalendarDay Window = "day"
)

// WindowOf is the window of a dialect's consents, as each dialect's
// contract says: PolishAPI and mBank count any 24 hours (RTS art.
// 36(5)(b): "four times in a 24-hour period", which PolishAPI's
// throttlingPolicy psd2Regulatory refers to); Berlin Group's
// frequencyPerDay counts per calendar day in Europe/Warsaw.
func WindowOf(dialect string) Window {
	if dialect == DialectBerlinGroup {
		return WindowCalendarDay
	}
	return Window24Hours
}

// After is the instant after which (exclusive) accesses count at now.
func (w Window) After(now time.Time) time.Time {
	if w == WindowCalendarDay {
		return dayStart(now).Add(-time.Microsecond)
	}
	return now.Add(-UnattendedWindow)
}

// dayStart is midnight in Warsaw of now's day there.
func dayStart(now time.Time) time.Time {
	t := now.In(polish.Warsaw)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, polish.Warsaw)
}

// next is when, with the window full, the next access becomes possible;
// oldest is the oldest of the accesses that fill it.
func (w Window) next(now, oldest time.Time) time.Time {
	if w == WindowCalendarDay {
		t := dayStart(now)
		return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, polish.Warsaw)
	}
	return oldest.Add(UnattendedWindow)
}

// limitError is the refusal of an access beyond the consent's frequency:
// it says when the next read is allowed.
func limitError(c Consent, resource string, next time.Time) *Error {
	what, whatPL := "this account", "tego rachunku"
	if resource == ResourceAccounts {
		what, whatPL = "the account list", "listy rachunków"
	}
	e := &Error{Code: CodeAccessLimit, RetryAfter: next}
	if c.Window == WindowCalendarDay {
		at := next.In(polish.Warsaw).Format(time.RFC3339)
		e.Message = fmt.Sprintf("the consent allows %d reads of %s a day without the customer present (frequencyPerDay, counted per calendar day in Europe/Warsaw) and today's are used: next read allowed at %s (midnight in Warsaw), or read with the customer present",
			c.FrequencyPerDay, what, at)
		e.MessagePL = fmt.Sprintf("zgoda pozwala na %d odczyt(y) %s dziennie bez udziału klienta (frequencyPerDay, liczone w dniach kalendarzowych czasu polskiego) i dzisiejsze zostały wykorzystane: kolejny odczyt możliwy o %s (północ w Warszawie) albo z udziałem klienta",
			c.FrequencyPerDay, whatPL, at)
		return e
	}
	at := next.UTC().Format(time.RFC3339)
	e.Message = fmt.Sprintf("the consent allows %d reads of %s in 24 hours without the customer present and they are used: next read allowed at %s, or read with the customer present",
		c.FrequencyPerDay, what, at)
	e.MessagePL = fmt.Sprintf("zgoda pozwala na %d odczyt(y) %s w ciągu 24 godzin bez udziału klienta i zostały wykorzystane: kolejny odczyt możliwy o %s albo z udziałem klienta",
		c.FrequencyPerDay, whatPL, at)
	return e
}

// ResourceAccounts is the resource of the account list in the access
// counters; the other resources are account numbers.
const ResourceAccounts = "accounts"

// The kinds of read a one-off consent allows once each per resource.
const (
	KindAccounts           = "accounts" // the account list
	KindAccount            = "account"  // an account's details
	KindBalances           = "balances"
	KindTransactions       = "transactions"
	KindTransactionDetails = "transactionDetails"
)

// Access is one TPP call to check against its consent.
type Access struct {
	ConsentID string
	TPPID     string
	// Privilege is the PolishAPI name of the privilege the call needs.
	Privilege string
	// AccountNumber is the account the call reads or debits ("" for the
	// account list and for privileges not per account).
	AccountNumber string
	// PSUPresent is true when the customer is actively asking (PolishAPI
	// isDirectPsu / is_user_session, mBank and Berlin Group
	// PSU-IP-Address): such calls are not counted towards the consent's
	// FrequencyPerDay.
	PSUPresent bool
	// Kind is the kind of read (KindBalances, ...): a one-off consent
	// allows each kind once per resource. "" for calls of no kind.
	Kind string
	// HistoryFrom is the earliest date the call asks for; zero = none.
	HistoryFrom time.Time
	// Consume records the access: single-use privileges are used up and,
	// for AIS without the customer present, the access is counted. Without
	// it Check only tells whether the access would be allowed.
	Consume bool
}

// Check tells, in one transaction, whether the access is allowed, and when
// it is and a.Consume is set records it. It returns the consent. The
// refusals, each an *Error: consent_unknown (no such consent for this TPP),
// not_authorised, rejected, revoked (by the customer), revoked_by_tpp,
// expired (saying whether by scopeTimeLimit or the 180-day rule),
// privilege_missing, account_not_in_consent, history_too_long,
// usage_exhausted and access_limit (HTTP 429, with RetryAfter).
//
// On PostgreSQL the consent row is locked (SELECT ... FOR UPDATE) so that
// concurrent checks on several nodes count accesses one after the other;
// SQLite serialises writing transactions already.
func (s *Service) Check(ctx context.Context, a Access) (Consent, error) {
	var out Consent
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.check(ctx, tx, a)
		return err
	})
	return out, err
}

func (s *Service) check(ctx context.Context, tx *store.Tx, a Access) (Consent, error) {
	return s.checkAlso(ctx, tx, a, nil)
}

func (s *Service) checkAlso(ctx context.Context, tx *store.Tx, a Access, also *Also) (Consent, error) {
	now := s.clock.Now()
	c, err := s.loadAlso(ctx, tx, `id = $1`, tx.Engine() == store.Postgres, also, a.ConsentID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && c.TPPID != a.TPPID {
		return Consent{}, newError(CodeUnknown,
			"no consent %s is known for your organisation: use the consent your access token was issued for",
			"Twoja organizacja nie ma zgody %s: użyj zgody, dla której wydano token dostępu", a.ConsentID)
	}
	if err != nil {
		return Consent{}, fmt.Errorf("check consent: %w", err)
	}
	if err := statusError(c); err != nil {
		return c, err
	}

	// The privilege, for the account.
	account := NormalizeNRB(a.AccountNumber)
	idx, found := -1, false
	for i, p := range c.Privileges {
		if p.Name != a.Privilege {
			continue
		}
		found = true
		if p.AccountNumber == "" && !IsPerAccount(p.Name) || p.AccountNumber == account {
			idx = i
			break
		}
	}
	if !found {
		return c, newError(CodePrivilegeMissing,
			"the consent does not include privilege %s: ask the customer for a consent that does",
			"zgoda nie obejmuje przywileju %s: poproś klienta o zgodę, która go obejmuje", a.Privilege)
	}
	if idx < 0 {
		return c, newError(CodeAccountNotInConsent,
			"the consent gives %s for other accounts than %s: use an account of the consent, or ask the customer for a new one",
			"zgoda daje %s dla innych rachunków niż %s: użyj rachunku objętego zgodą albo poproś klienta o nową zgodę", a.Privilege, Mask(account))
	}
	p := c.Privileges[idx]

	// How far back.
	if !a.HistoryFrom.IsZero() && p.MaxAllowedHistoryLong > 0 {
		earliest := ledger.DateOf(now.AddDate(0, 0, -p.MaxAllowedHistoryLong))
		if ledger.DateOf(a.HistoryFrom) < earliest {
			return c, newError(CodeHistoryTooLong,
				"the consent allows history of %d days for %s: ask from %s or later",
				"zgoda pozwala na historię z %d dni dla %s: pytaj od %s lub później", p.MaxAllowedHistoryLong, a.Privilege, earliest)
		}
	}

	// Single use.
	if p.ScopeUsageLimit == UsageSingle && p.Uses >= 1 {
		return c, newError(CodeUsageExhausted,
			"privilege %s of this consent was single-use and has been used: ask the customer for a new consent",
			"przywilej %s tej zgody był jednorazowy i został już wykorzystany: poproś klienta o nową zgodę", a.Privilege)
	}

	// FrequencyPerDay unattended accesses per resource in the window.
	resource := account
	if resource == "" {
		resource = ResourceAccounts
	}
	if c.Scope.IsAIS() && !a.PSUPresent {
		next, err := s.nextAllowed(ctx, tx, c, resource, now)
		if err != nil {
			return c, err
		}
		if !next.IsZero() {
			return c, limitError(c, resource, next)
		}
	}
	// A one-off consent: each kind of read once per resource.
	if c.OneOff && a.Kind != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_accesses WHERE consent_id = $1 AND resource = $2 AND kind = $3`,
			c.ID, resource, a.Kind).Scan(&n); err != nil {
			return c, fmt.Errorf("count accesses: %w", err)
		}
		if n > 0 {
			return c, newError(CodeUsageExhausted,
				"the consent is for one access (recurringIndicator false) and this read (%s) was made: ask the customer for a new consent",
				"zgoda jest jednorazowa (recurringIndicator false) i ten odczyt (%s) został już wykonany: poproś klienta o nową zgodę", a.Kind)
		}
	}
	if !a.Consume {
		return c, nil
	}
	return c, s.use(ctx, tx, &c, idx, a, resource, now)
}

// CheckIn is Check inside the caller's transaction tx, so that what the
// caller writes commits or rolls back together with the access. On
// PostgreSQL the consent row stays locked until tx ends: concurrent calls
// under one consent run one after the other, on any number of nodes.
func (s *Service) CheckIn(ctx context.Context, tx *store.Tx, a Access) (Consent, error) {
	return s.check(ctx, tx, a)
}

// CheckInAlso is CheckIn reading also's columns in the consent's own
// statement (also's placeholders start at $2). also.Dest is filled only
// when the consent exists.
func (s *Service) CheckInAlso(ctx context.Context, tx *store.Tx, a Access, also *Also) (Consent, error) {
	return s.checkAlso(ctx, tx, a, also)
}

// UseIn records, in tx, the access a of consent c that CheckIn (without
// Consume) allowed in the same transaction: a single-use privilege is used
// up with a compare-and-set (CodeUsageExhausted when it was used
// meanwhile), and the access is recorded. c's privilege is updated.
func (s *Service) UseIn(ctx context.Context, tx *store.Tx, c *Consent, a Access) error {
	account := NormalizeNRB(a.AccountNumber)
	for i, p := range c.Privileges {
		if p.Name == a.Privilege && (p.AccountNumber == "" && !IsPerAccount(p.Name) || p.AccountNumber == account) {
			resource := account
			if resource == "" {
				resource = ResourceAccounts
			}
			return s.use(ctx, tx, c, i, a, resource, s.clock.Now())
		}
	}
	return newError(CodePrivilegeMissing,
		"the consent does not include privilege %s: ask the customer for a consent that does",
		"zgoda nie obejmuje przywileju %s: poproś klienta o zgodę, która go obejmuje", a.Privilege)
}

// use consumes privilege idx of c for access a and records the access. A
// payment initiation's privilege records its use on itself (uses and
// used_at, in the one statement that uses it up); the other accesses are
// recorded in consent_accesses, which the unattended limit counts.
func (s *Service) use(ctx context.Context, tx *store.Tx, c *Consent, idx int, a Access, resource string, now time.Time) error {
	p := c.Privileges[idx]
	stamp := IsInitiation(p.Name)
	var res sql.Result
	var err error
	switch {
	case p.ScopeUsageLimit == UsageSingle && stamp:
		res, err = tx.ExecContext(ctx, `UPDATE consent_privileges SET uses = uses + 1, used_at = $3
			WHERE consent_id = $1 AND seq = $2 AND uses = 0`, c.ID, idx, micros(now))
	case p.ScopeUsageLimit == UsageSingle:
		res, err = tx.ExecContext(ctx, `UPDATE consent_privileges SET uses = uses + 1
			WHERE consent_id = $1 AND seq = $2 AND uses = 0`, c.ID, idx)
	case stamp:
		_, err = tx.ExecContext(ctx, `UPDATE consent_privileges SET uses = uses + 1, used_at = $3 WHERE consent_id = $1 AND seq = $2`,
			c.ID, idx, micros(now))
	default:
		_, err = tx.ExecContext(ctx, `UPDATE consent_privileges SET uses = uses + 1 WHERE consent_id = $1 AND seq = $2`, c.ID, idx)
	}
	if p.ScopeUsageLimit == UsageSingle {
		err = oneRow(res, err)
		if errors.Is(err, errNoRow) {
			return newError(CodeUsageExhausted,
				"privilege %s of this consent was single-use and has been used: ask the customer for a new consent",
				"przywilej %s tej zgody był jednorazowy i został już wykorzystany: poproś klienta o nową zgodę", a.Privilege)
		}
	}
	if err != nil {
		return fmt.Errorf("use privilege: %w", err)
	}
	c.Privileges[idx].Uses++
	if stamp {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, newID(), c.ID, resource, a.Privilege, a.PSUPresent, micros(now), a.Kind); err != nil {
		return fmt.Errorf("record access: %w", err)
	}
	return nil
}

// nextAllowed returns, when c's unattended limit is reached for the
// resource, the instant the next access becomes possible; zero otherwise.
func (s *Service) nextAllowed(ctx context.Context, q store.Querier, c Consent, resource string, now time.Time) (time.Time, error) {
	limit := c.FrequencyPerDay
	rows, err := q.QueryContext(ctx, `SELECT at FROM consent_accesses
		WHERE consent_id = $1 AND resource = $2 AND psu_present = $3 AND at > $4 ORDER BY at DESC LIMIT $5`,
		c.ID, resource, false, micros(c.Window.After(now)), limit)
	if err != nil {
		return time.Time{}, fmt.Errorf("count accesses: %w", err)
	}
	defer rows.Close()
	var ats []int64
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return time.Time{}, err
		}
		ats = append(ats, at)
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, err
	}
	if len(ats) < limit {
		return time.Time{}, nil
	}
	// 24 hours: the oldest of the last limit accesses leaves the window
	// first; a calendar day: the next day.
	return c.Window.next(now, fromMicros(ats[len(ats)-1])), nil
}

// Usable is the first part of the consent check on a consent read
// already (Get): unknown for another TPP, then not authorised and alive
// (the refusals of Check, before it looks at the privilege).
func Usable(c Consent, tppID string) error {
	if c.TPPID != tppID {
		return newError(CodeUnknown,
			"no consent %s is known for your organisation: use the consent your access token was issued for",
			"Twoja organizacja nie ma zgody %s: użyj zgody, dla której wydano token dostępu", c.ID)
	}
	return statusError(c)
}

// statusError is the refusal for a consent that is not authorised and
// alive, or nil. It names the consent by the id the TPP knows.
func statusError(c Consent) error {
	switch c.Status {
	case StatusAuthorised:
		return nil
	case StatusReceived:
		return newError(CodeNotAuthorised,
			"the customer has not authorised consent %s yet: wait until the customer approves it",
			"klient nie autoryzował jeszcze zgody %s: poczekaj, aż ją zatwierdzi", c.Named())
	case StatusRejected:
		return newError(CodeRejected, "the customer rejected consent %s: ask for a new consent",
			"klient odrzucił zgodę %s: poproś o nową zgodę", c.Named())
	case StatusRevokedByPSU:
		return newError(CodeRevoked, "the customer revoked consent %s: ask the customer for a new consent",
			"klient odwołał zgodę %s: poproś klienta o nową zgodę", c.Named())
	case StatusRevokedByTPP:
		return newError(CodeRevokedByTPP, "your organisation revoked consent %s: ask the customer for a new consent",
			"Twoja organizacja odwołała zgodę %s: poproś klienta o nową zgodę", c.Named())
	case StatusExpired:
		return expiredError(c)
	}
	return newError(CodeNotAuthorised, "consent %s is %s", "zgoda %s ma status %s", c.Named(), c.Status)
}

// Named is the consent's id as the TPP knows it: the consentId it gave
// (PolishAPI, mBank), or the bank's id when it gave none.
func (c Consent) Named() string {
	if c.TPPConsentID != "" {
		return c.TPPConsentID
	}
	return c.ID
}
