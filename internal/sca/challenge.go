package sca

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Method is how a customer confirms: an SMS code or the mobile app.
type Method string

const (
	MethodSMS    Method = "sms"
	MethodMobile Method = "mobile"
)

// Status is where a challenge stands.
type Status string

const (
	StatusPending  Status = "pending"  // waiting for the code or the decision
	StatusApproved Status = "approved" // right code entered, or approved in the app
	StatusRejected Status = "rejected" // rejected in the app
	StatusFailed   Status = "failed"   // the code was entered wrongly too many times
	StatusExpired  Status = "expired"  // not confirmed in time
)

// Challenge is one request to a customer to confirm something.
type Challenge struct {
	ID         string
	CustomerID string
	Login      string
	Method     Method
	// Purpose says, for the code that started the challenge, what it
	// authorises (e.g. "consent:REQUEST"); Text says it to the customer.
	Purpose   string
	Text      string
	Status    Status
	Attempts  int // wrong SMS codes entered so far
	CreatedAt time.Time
	ExpiresAt time.Time
	DecidedAt time.Time // zero while pending
	Consumed  bool      // the decision has been acted on (see Consume)
}

// SMS is a message in the outbox.
type SMS struct {
	SentAt time.Time `json:"sent_at"`
	Text   string    `json:"text"`
	Code   string    `json:"code"`
}

// StartSMS starts an SMS-code challenge: it makes a 6-digit code valid for 5
// minutes, keeps its hash, and writes an SMS with the code and text (what
// the code confirms, in Polish, e.g. "Zgoda dla Demo TPP: dostęp do
// rachunków") to the customer's phone in the outbox.
func (s *Service) StartSMS(ctx context.Context, customer ledger.Customer, purpose, text string) (Challenge, error) {
	if strings.TrimSpace(customer.Phone) == "" {
		return Challenge{}, errNoPhone
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return Challenge{}, err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	c := s.newChallenge(customer, MethodSMS, purpose, text)
	msg := fmt.Sprintf("Kod SMS: %s. %s. psd2bank", code, strings.TrimRight(strings.TrimSpace(text), "."))
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertChallenge(ctx, tx, c, codeHash(c.ID, code)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sms_outbox
			(id, customer_id, login, phone, text, code, challenge_id, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			ledger.NewID(), customer.ID, customer.Login, customer.Phone, msg, code, c.ID, c.CreatedAt.UnixMicro())
		return err
	})
	if err != nil {
		return Challenge{}, fmt.Errorf("start SMS challenge: %w", err)
	}
	s.Obs.SMSSent(ctx, customer.ID, c.ID, purpose)
	return c, nil
}

// StartMobile starts a mobile-app challenge: a request, valid for 5
// minutes, that the customer approves or rejects in the app (DecideMobile).
func (s *Service) StartMobile(ctx context.Context, customer ledger.Customer, purpose, text string) (Challenge, error) {
	c := s.newChallenge(customer, MethodMobile, purpose, text)
	if err := s.db.InTx(ctx, func(tx *store.Tx) error { return insertChallenge(ctx, tx, c, "") }); err != nil {
		return Challenge{}, fmt.Errorf("start mobile challenge: %w", err)
	}
	return c, nil
}

func (s *Service) newChallenge(customer ledger.Customer, m Method, purpose, text string) Challenge {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	return Challenge{ID: ledger.NewID(), CustomerID: customer.ID, Login: customer.Login, Method: m,
		Purpose: purpose, Text: text, Status: StatusPending, CreatedAt: now, ExpiresAt: now.Add(challengeTTL)}
}

func insertChallenge(ctx context.Context, tx *store.Tx, c Challenge, hash string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sca_challenges
		(id, customer_id, login, method, purpose, text, code_hash, status, attempts, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)`,
		c.ID, c.CustomerID, c.Login, string(c.Method), c.Purpose, c.Text, hash, string(c.Status),
		c.CreatedAt.UnixMicro(), c.ExpiresAt.UnixMicro())
	return err
}

// codeHash binds a code to its challenge: the same code of two challenges
// hashes differently.
func codeHash(challengeID, code string) string {
	sum := sha256.Sum256([]byte("psd2bank-sms-code\x00" + challengeID + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

const challengeColumns = `id, customer_id, login, method, purpose, text, code_hash, status, attempts,
	created_at, expires_at, decided_at, consumed_at`

// scanChallenge reads a challenge row; a pending challenge past its
// validity reads as expired.
func scanChallenge(row interface{ Scan(...any) error }, now time.Time) (Challenge, string, error) {
	var c Challenge
	var method, status, hash string
	var created, expires, decided, consumed int64
	if err := row.Scan(&c.ID, &c.CustomerID, &c.Login, &method, &c.Purpose, &c.Text, &hash, &status, &c.Attempts,
		&created, &expires, &decided, &consumed); err != nil {
		return Challenge{}, "", err
	}
	c.Method, c.Status = Method(method), Status(status)
	c.CreatedAt, c.ExpiresAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC()
	if decided != 0 {
		c.DecidedAt = time.UnixMicro(decided).UTC()
	}
	c.Consumed = consumed != 0
	if c.Status == StatusPending && !now.Before(c.ExpiresAt) {
		c.Status = StatusExpired
	}
	return c, hash, nil
}

// Challenge returns a challenge by id.
func (s *Service) Challenge(ctx context.Context, id string) (Challenge, error) {
	c, _, err := scanChallenge(s.db.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM sca_challenges WHERE id = $1`, id),
		s.clock.Now())
	if errors.Is(err, sql.ErrNoRows) {
		return Challenge{}, errNotFound
	}
	if err != nil {
		return Challenge{}, fmt.Errorf("read challenge: %w", err)
	}
	return c, nil
}

// VerifySMS checks the code of the customer's SMS challenge. The right code
// approves the challenge and uses it up (nil is returned once per
// challenge). A wrong code answers CodeWrongCode with the tries left; the
// third wrong code ends the challenge (CodeCodeFailed); after 5 minutes the
// code has expired (CodeExpired); a used challenge answers CodeUsed.
func (s *Service) VerifySMS(ctx context.Context, challengeID, customerID, code string) error {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	now := s.clock.Now()
	var refusal error
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		refusal = nil
		c, hash, err := scanChallenge(tx.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM sca_challenges WHERE id = $1`,
			challengeID), now)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (c.CustomerID != customerID || c.Method != MethodSMS)) {
			refusal = errNotFound
			return nil
		}
		if err != nil {
			return err
		}
		switch c.Status {
		case StatusApproved, StatusRejected:
			refusal = errUsed
			return nil
		case StatusFailed:
			refusal = errCodeFailed
			return nil
		case StatusExpired:
			refusal = errSMSExpired
			return nil
		}
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			refusal = errCodeFormat
			return nil
		}
		// Every update is one conditional statement on the row as it is
		// when the update runs (on PostgreSQL it waits for a concurrent
		// attempt and re-reads the row), so that concurrent attempts each
		// count as their own try and each is told the tries truly left.
		if subtle.ConstantTimeCompare([]byte(codeHash(c.ID, code)), []byte(hash)) == 1 {
			res, err := tx.ExecContext(ctx, `UPDATE sca_challenges SET status = 'approved', decided_at = $3, consumed_at = $3
				WHERE id = $1 AND status = 'pending' AND attempts < $2`, c.ID, maxCodeAttempts, now.UnixMicro())
			if err != nil {
				return err
			}
			if changed(res, errUsed) == nil {
				return nil
			}
			refusal, err = settled(ctx, tx, c.ID, now)
			return err
		}
		var attempts int
		err = tx.QueryRowContext(ctx, `UPDATE sca_challenges SET attempts = attempts + 1,
				status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE status END,
				decided_at = CASE WHEN attempts + 1 >= $2 THEN CAST($3 AS BIGINT) ELSE decided_at END
			WHERE id = $1 AND status = 'pending' AND attempts < $2
			RETURNING attempts`, c.ID, maxCodeAttempts, now.UnixMicro()).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			// A concurrent attempt settled the challenge first.
			refusal, err = settled(ctx, tx, c.ID, now)
			return err
		}
		if err != nil {
			return err
		}
		refusal = errWrongCode(maxCodeAttempts - attempts)
		if attempts >= maxCodeAttempts {
			refusal = errCodeFailed
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify SMS code: %w", err)
	}
	return refusal
}

// settled is the refusal for a challenge that a concurrent attempt settled
// (approved, failed) while this one was checked.
func settled(ctx context.Context, tx *store.Tx, id string, now time.Time) (error, error) {
	c, _, err := scanChallenge(tx.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM sca_challenges WHERE id = $1`, id), now)
	if err != nil {
		return nil, err
	}
	switch c.Status {
	case StatusFailed:
		return errCodeFailed, nil
	case StatusExpired:
		return errSMSExpired, nil
	}
	return errUsed, nil
}

// changed returns nil when res changed a row, and otherwise lost (the row
// had changed under the guard).
func changed(res sql.Result, lost error) error {
	n, err := res.RowsAffected()
	if err == nil && n == 1 {
		return nil
	}
	if lost == nil {
		return errUsed
	}
	return lost
}

// DecideMobile approves (or rejects) the newest pending mobile-app challenge
// of the customer with login, as the bank's mobile app does; the sandbox
// calls it too. An unknown login answers CodeUnknownLogin, no pending
// challenge CodeNothingPending. After the decision is committed, OnDecision
// (if set) is called with the decided challenge.
func (s *Service) DecideMobile(ctx context.Context, login string, approve bool) (Challenge, error) {
	cust, err := s.Customer(ctx, login)
	if err != nil {
		return Challenge{}, err
	}
	now := s.clock.Now()
	status := StatusRejected
	if approve {
		status = StatusApproved
	}
	var decided Challenge
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		decided = Challenge{}
		c, _, err := scanChallenge(tx.QueryRowContext(ctx, `SELECT `+challengeColumns+` FROM sca_challenges
			WHERE customer_id = $1 AND method = 'mobile' AND status = 'pending' AND expires_at > $2
			ORDER BY created_at DESC, id DESC LIMIT 1`, cust.ID, now.UnixMicro()), now)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE sca_challenges SET status = $2, decided_at = $3 WHERE id = $1 AND status = 'pending'`,
			c.ID, string(status), now.UnixMicro())
		if err != nil {
			return err
		}
		if changed(res, nil) == nil {
			c.Status, c.DecidedAt = status, now.UTC().Truncate(time.Microsecond)
			decided = c
		}
		return nil
	})
	if err != nil {
		return Challenge{}, fmt.Errorf("decide mobile challenge: %w", err)
	}
	if decided.ID == "" {
		return Challenge{}, errNothingPending(cust.Login)
	}
	if s.OnDecision != nil {
		s.OnDecision(ctx, decided)
	}
	return decided, nil
}

// Consume marks the customer's decided mobile-app challenge as acted on
// and returns it: for one challenge it succeeds once, so that an approval
// authorises one thing, however many pages or nodes ask. A pending
// challenge answers with it and no error (nothing to act on yet: check
// Status); an expired one CodeExpired; a used one CodeUsed.
func (s *Service) Consume(ctx context.Context, challengeID, customerID string) (Challenge, error) {
	c, err := s.Challenge(ctx, challengeID)
	if err != nil {
		return Challenge{}, err
	}
	if c.CustomerID != customerID {
		return Challenge{}, errNotFound
	}
	switch {
	case c.Status == StatusPending:
		return c, nil
	case c.Status == StatusExpired && c.Method == MethodSMS:
		return Challenge{}, errSMSExpired
	case c.Status == StatusExpired:
		return Challenge{}, errMobileExpired
	case c.Status == StatusFailed:
		return Challenge{}, errCodeFailed
	case c.Consumed:
		return Challenge{}, errUsed
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sca_challenges SET consumed_at = $2 WHERE id = $1 AND consumed_at = 0
		AND status IN ('approved', 'rejected')`, c.ID, s.clock.Now().UnixMicro())
	if err != nil {
		return Challenge{}, fmt.Errorf("consume challenge: %w", err)
	}
	if err := changed(res, errUsed); err != nil {
		return Challenge{}, err
	}
	c.Consumed = true
	return c, nil
}

// SMSOutbox lists the SMS messages sent to the customer with login, newest
// first, at most limit of them (the sandbox shows them; in production a
// gateway delivers them).
func (s *Service) SMSOutbox(ctx context.Context, login string, limit int) ([]SMS, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sent_at, text, code FROM sms_outbox WHERE login = $1
		ORDER BY sent_at DESC, id DESC LIMIT $2`, login, limit)
	if err != nil {
		return nil, fmt.Errorf("read SMS outbox: %w", err)
	}
	defer rows.Close()
	out := []SMS{}
	for rows.Next() {
		var m SMS
		var at int64
		if err := rows.Scan(&at, &m.Text, &m.Code); err != nil {
			return nil, err
		}
		m.SentAt = time.UnixMicro(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}
