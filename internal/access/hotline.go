package access

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/polish"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Rules of the hotline's identity check.
const (
	maxPESELFailures = 3                // wrong PESELs in a row that end a check
	maxPESELPerDay   = 5                // wrong PESELs per customer and day, across checks
	verificationTTL  = 30 * time.Minute // how long a check (and what it allows) lasts
)

// VerificationStatus is where a hotline identity check stands.
type VerificationStatus string

// The statuses of a check.
const (
	VerificationPending  VerificationStatus = "pending"  // waiting for the right PESEL
	VerificationVerified VerificationStatus = "verified" // the right PESEL was given
	VerificationFailed   VerificationStatus = "failed"   // three wrong PESELs in a row
)

// Verification is a hotline consultant's identity check of a customer, for
// one call: the PESEL of the person acting (for a firm: of the person
// acting for it), then who acts for the firm. It lasts 30 minutes.
type Verification struct {
	ID             string
	CustomerID     string
	Staff          string
	Status         VerificationStatus
	Failures       int
	Representative string // the person acting for the firm
	Role           string // their role (e.g. "prezes zarządu", "pełnomocnik")
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// Expired tells whether the check is over at now.
func (v Verification) Expired(now time.Time) bool { return !now.Before(v.ExpiresAt) }

// FindCustomers finds customers for the hotline by a login, NIP, REGON,
// account number or part of the name (case-insensitive), at most 20.
func (s *Service) FindCustomers(ctx context.Context, query string) ([]ledger.Customer, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return nil, nil
	}
	digits := strings.NewReplacer(" ", "", "-", "").Replace(q)
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM customers c WHERE c.login = $1 OR c.nip = $2 OR c.regon = $2
		OR LOWER(c.name) LIKE $3 OR c.id IN (SELECT customer_id FROM accounts WHERE nrb = $2)
		ORDER BY c.name, c.id LIMIT 20`, q, digits, "%"+strings.ToLower(q)+"%")
	if err != nil {
		return nil, fmt.Errorf("find customers: %w", err)
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
	out := make([]ledger.Customer, 0, len(ids))
	for _, id := range ids {
		c, err := s.ledger.Customer(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Customer returns a customer (for the hotline's pages).
func (s *Service) Customer(ctx context.Context, id string) (ledger.Customer, error) {
	return s.ledger.Customer(ctx, id)
}

// StartVerification starts a consultant's identity check of a customer. It
// is refused (CodeDayLimit, audited) once the customer's PESEL was given
// wrongly 5 times today, across checks.
func (s *Service) StartVerification(ctx context.Context, staff, customerID string) (Verification, error) {
	if _, err := s.ledger.Customer(ctx, customerID); err != nil {
		return Verification{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var failures int
	err := s.db.QueryRowContext(ctx, `SELECT failures FROM access_pesel_days WHERE customer_id = $1 AND day = $2`,
		customerID, peselDay(now)).Scan(&failures)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Verification{}, fmt.Errorf("read wrong PESELs of the day: %w", err)
	}
	if failures >= maxPESELPerDay {
		if err := s.audit(ctx, s.db, AuditEntry{Actor: staff, Channel: ChannelHotline, Action: ActionVerificationDayLimit,
			CustomerID: customerID, Detail: "check refused: the day's limit of wrong PESELs was reached"}); err != nil {
			return Verification{}, err
		}
		return Verification{}, errDayLimit
	}
	v := Verification{ID: newID(), CustomerID: customerID, Staff: staff, Status: VerificationPending,
		CreatedAt: now, ExpiresAt: now.Add(verificationTTL)}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_verifications
			(id, customer_id, staff, status, failures, created_at, expires_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $5)`,
			v.ID, customerID, staff, string(v.Status), micros(now), micros(v.ExpiresAt)); err != nil {
			return fmt.Errorf("start identity check: %w", err)
		}
		return s.audit(ctx, tx, AuditEntry{Actor: staff, Channel: ChannelHotline, Action: ActionVerificationStart,
			CustomerID: customerID, Subject: v.ID})
	})
	if err != nil {
		return Verification{}, err
	}
	return v, nil
}

const verificationColumns = `id, customer_id, staff, status, failures, representative, role, created_at, expires_at`

func scanVerification(row interface{ Scan(...any) error }) (Verification, error) {
	var v Verification
	var status string
	var created, expires int64
	err := row.Scan(&v.ID, &v.CustomerID, &v.Staff, &status, &v.Failures, &v.Representative, &v.Role, &created, &expires)
	v.Status, v.CreatedAt, v.ExpiresAt = VerificationStatus(status), fromMicros(created), fromMicros(expires)
	return v, err
}

// Verification returns a check by id.
func (s *Service) Verification(ctx context.Context, id string) (Verification, error) {
	return s.verification(ctx, s.db, id)
}

func (s *Service) verification(ctx context.Context, q store.Querier, id string) (Verification, error) {
	v, err := scanVerification(q.QueryRowContext(ctx, `SELECT `+verificationColumns+` FROM access_verifications WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Verification{}, errNoVerification
	}
	if err != nil {
		return Verification{}, fmt.Errorf("read identity check: %w", err)
	}
	return v, nil
}

var (
	errNoVerification   = newError(CodeNotFound, "no such identity check; start a new one", "nie ma takiej weryfikacji tożsamości; rozpocznij nową")
	errVerificationOver = newError(CodeVerificationFailed,
		"the PESEL was wrong three times in a row: this identity check has ended; the change cannot be made in this call",
		"PESEL podano błędnie trzy razy z rzędu: weryfikacja tożsamości zakończyła się; zmiany nie można wykonać w tej rozmowie")
	errDayLimit = newError(CodeDayLimit,
		"the customer's PESEL was given wrongly %d times today (across identity checks): no more identity checks of this customer by phone today; the customer may call again tomorrow or visit a branch with an identity document",
		"PESEL klienta podano dziś błędnie %d razy (we wszystkich weryfikacjach): dziś nie można już weryfikować tego klienta przez telefon; klient może zadzwonić jutro lub przyjść do oddziału z dokumentem tożsamości",
		maxPESELPerDay)
	errVerificationExpired = newError(CodeNotVerified, "the identity check has expired; start a new one",
		"weryfikacja tożsamości wygasła; rozpocznij nową")
)

// VerifyPESEL checks the PESEL the caller gives against the customer's (for
// a firm: the person registered as acting for it). A PESEL with a wrong
// checksum, or not the customer's, is a wrong try: the answer says
// CodeWrongPESEL with the tries left, and the third wrong try in a row ends
// the check (CodeVerificationFailed). Every try is audited (without the
// PESEL). The right PESEL verifies the check. Across all of a customer's
// checks, 5 wrong PESELs a day end every check and refuse new ones until
// the next day (CodeDayLimit, audited); the tries left told count that too.
// Concurrent tries for one customer are serialised on the day's row, on
// any number of nodes.
func (s *Service) VerifyPESEL(ctx context.Context, verificationID, staff, pesel string) (Verification, error) {
	pesel = strings.ReplaceAll(strings.TrimSpace(pesel), " ", "")
	now := s.clock.Now()
	first, err := s.verification(ctx, s.db, verificationID)
	if err != nil {
		return Verification{}, err
	}
	day := peselDay(now)
	var out Verification
	var refusal error
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		refusal = nil
		// The day's row of the customer, locked (on PostgreSQL the
		// no-op update takes the row lock until commit) before the check
		// is read again: every try of the customer waits for the one
		// before it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_pesel_days (customer_id, day, failures) VALUES ($1, $2, 0)
			ON CONFLICT (customer_id, day) DO NOTHING`, first.CustomerID, day); err != nil {
			return err
		}
		var dayFailures int
		if err := tx.QueryRowContext(ctx, `UPDATE access_pesel_days SET failures = failures
			WHERE customer_id = $1 AND day = $2 RETURNING failures`, first.CustomerID, day).Scan(&dayFailures); err != nil {
			return err
		}
		v, err := s.verification(ctx, tx, verificationID)
		if err != nil {
			return err
		}
		out = v
		if v.Status == VerificationPending && !v.Expired(now) && dayFailures >= maxPESELPerDay {
			if _, err := tx.ExecContext(ctx, `UPDATE access_verifications SET status = 'failed', updated_at = $2 WHERE id = $1`,
				v.ID, micros(now)); err != nil {
				return err
			}
			out.Status = VerificationFailed
			refusal = errDayLimit
			return s.audit(ctx, tx, AuditEntry{Actor: staff, Channel: ChannelHotline, Action: ActionVerificationDayLimit,
				CustomerID: v.CustomerID, Subject: v.ID, Detail: "PESEL not checked: the day's limit of wrong PESELs was reached"})
		}
		switch {
		case v.Status == VerificationFailed:
			refusal = errVerificationOver
			return nil
		case v.Expired(now):
			refusal = errVerificationExpired
			return nil
		case v.Status == VerificationVerified:
			return nil
		}
		c, err := s.ledger.Customer(ctx, v.CustomerID)
		if err != nil {
			return err
		}
		_, _, formatErr := polish.ValidatePESEL(pesel)
		ok := formatErr == nil && c.PESEL != "" &&
			subtle.ConstantTimeCompare([]byte(pesel), []byte(c.PESEL)) == 1
		guard := ` WHERE id = $1 AND status = 'pending' AND failures = $2`
		if ok {
			if _, err := tx.ExecContext(ctx, `UPDATE access_verifications SET status = 'verified', failures = 0, updated_at = $3`+guard,
				v.ID, v.Failures, micros(now)); err != nil {
				return err
			}
			out.Status, out.Failures = VerificationVerified, 0
			return s.audit(ctx, tx, AuditEntry{Actor: staff, Channel: ChannelHotline, Action: ActionVerificationPassed,
				CustomerID: v.CustomerID, Subject: v.ID, Detail: "PESEL " + maskPESEL(pesel)})
		}
		out.Failures = v.Failures + 1
		dayFailures++
		if _, err := tx.ExecContext(ctx, `UPDATE access_pesel_days SET failures = $3 WHERE customer_id = $1 AND day = $2`,
			v.CustomerID, day, dayFailures); err != nil {
			return err
		}
		left := min(maxPESELFailures-out.Failures, maxPESELPerDay-dayFailures)
		why := "not the customer's PESEL"
		if formatErr != nil {
			why = "invalid PESEL (checksum or format)"
		}
		action := ActionVerificationWrong
		e := newError(CodeWrongPESEL, "wrong PESEL: tries left %d", "nieprawidłowy PESEL: pozostałe próby %d", left)
		e.TriesLeft = left
		if formatErr != nil {
			e = newError(CodeWrongPESEL, "this is not a valid PESEL (wrong checksum or format): tries left %d",
				"to nie jest prawidłowy PESEL (zła suma kontrolna lub format): pozostałe próby %d", left)
			e.TriesLeft = left
		}
		refusal = e
		switch {
		case dayFailures >= maxPESELPerDay:
			out.Status = VerificationFailed
			action = ActionVerificationDayLimit
			refusal = errDayLimit
		case out.Failures >= maxPESELFailures:
			out.Status = VerificationFailed
			action = ActionVerificationFailed
			refusal = errVerificationOver
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_verifications SET failures = $3, status = $4, updated_at = $5`+guard,
			v.ID, v.Failures, out.Failures, string(out.Status), micros(now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditEntry{Actor: staff, Channel: ChannelHotline, Action: action,
			CustomerID: v.CustomerID, Subject: v.ID, Detail: fmt.Sprintf("%s; wrong tries in a row: %d; wrong today: %d of %d", why, out.Failures, dayFailures, maxPESELPerDay)})
	})
	if err != nil {
		return Verification{}, err
	}
	return out, refusal
}

// RecordRepresentative records, on a verified check, who acts for the firm
// and in which role (from the register extract or a power of attorney).
func (s *Service) RecordRepresentative(ctx context.Context, verificationID, staff, name, role string) (Verification, error) {
	name, role = strings.TrimSpace(name), strings.TrimSpace(role)
	if name == "" || role == "" {
		return Verification{}, newError(CodeInvalid, "record who acts for the firm: a name and a role",
			"zapisz, kto działa w imieniu firmy: imię i nazwisko oraz funkcję")
	}
	v, err := s.usable(ctx, s.db, verificationID, false)
	if err != nil {
		return Verification{}, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE access_verifications SET representative = $2, role = $3, updated_at = $4 WHERE id = $1`,
			v.ID, name, role, micros(s.clock.Now())); err != nil {
			return fmt.Errorf("record representative: %w", err)
		}
		return s.audit(ctx, tx, AuditEntry{Actor: staff, Channel: ChannelHotline, Action: ActionRepresentative,
			CustomerID: v.CustomerID, Subject: v.ID, Detail: name + " (" + role + ")"})
	})
	if err != nil {
		return Verification{}, err
	}
	v.Representative, v.Role = name, role
	return v, nil
}

// usable returns a verified, unexpired check; needRepresentative also asks
// for a recorded representative when the customer is a firm.
func (s *Service) usable(ctx context.Context, q store.Querier, id string, needRepresentative bool) (Verification, error) {
	v, err := s.verification(ctx, q, id)
	if err != nil {
		return Verification{}, err
	}
	switch {
	case v.Status == VerificationFailed:
		return Verification{}, errVerificationOver
	case v.Expired(s.clock.Now()):
		return Verification{}, errVerificationExpired
	case v.Status != VerificationVerified:
		return Verification{}, newError(CodeNotVerified, "verify the caller's identity by PESEL first",
			"najpierw zweryfikuj tożsamość dzwoniącego numerem PESEL")
	}
	if needRepresentative && v.Representative == "" {
		c, err := s.ledger.Customer(ctx, v.CustomerID)
		if err != nil {
			return Verification{}, err
		}
		if c.Segment != ledger.Retail {
			return Verification{}, newError(CodeNotVerified, "record who acts for the firm first",
				"najpierw zapisz, kto działa w imieniu firmy")
		}
	}
	return v, nil
}

// ChangeByHotline activates or blocks API access to an account of the
// verified customer, as the hotline consultant staff does during a call: it
// needs a verified, unexpired check of the account's owner and, for a firm,
// who acts for it (recorded in the history). The hotline may change
// accounts of every segment (a block, for instance, at any time).
func (s *Service) ChangeByHotline(ctx context.Context, verificationID, staff, nrb string, to State, reason string) (Status, error) {
	v, err := s.usable(ctx, s.db, verificationID, true)
	if err != nil {
		return Status{}, err
	}
	a, err := s.account(ctx, nrb)
	if err != nil {
		return Status{}, err
	}
	if a.CustomerID != v.CustomerID {
		return Status{}, newError(CodeNotYours, "account %s does not belong to the verified customer",
			"rachunek %s nie należy do zweryfikowanego klienta", maskNRB(nrb))
	}
	if strings.TrimSpace(reason) == "" {
		return Status{}, newError(CodeInvalid, "give the reason of the change", "podaj powód zmiany")
	}
	rep := ""
	if v.Representative != "" {
		rep = v.Representative + " (" + v.Role + ")"
	}
	var out Status
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		out, err = s.setState(ctx, tx, a, to, staff, ChannelHotline, strings.TrimSpace(reason), rep)
		return err
	})
	return out, err
}

// maskPESEL keeps the first two digits (birth year) and the last one.
func maskPESEL(p string) string {
	if len(p) != 11 {
		return "***********"
	}
	return p[:2] + "********" + p[10:]
}

// peselDay is the day (in Poland) the hotline's daily limit counts in.
func peselDay(t time.Time) string { return t.In(polish.Warsaw).Format(time.DateOnly) }
