package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Check tells whether a TPP may use service ("AIS", "PIS" or "CAF") on the
// account with the given NRB now: nil when its API access is active, a
// *Error with CodeNotActivated or CodeBlocked (saying which account, and
// how its holder turns access on) otherwise, CodeUnknownAccount when the
// bank has no such customer account. It runs one query over primary keys
// and unique indexes, on every API request, so that a block takes effect on
// the very next request whatever tokens and consents exist. An account
// never changed follows the default of its owner's segment.
func (s *Service) Check(ctx context.Context, accountNRB, service string) error {
	return s.CheckIn(ctx, s.db, accountNRB, service)
}

// CheckIn is Check reading through q (a transaction).
func (s *Service) CheckIn(ctx context.Context, q store.Querier, accountNRB, service string) error {
	svc := strings.ToUpper(strings.TrimSpace(service))
	switch svc {
	case AIS, PIS, CAF:
	default:
		return newError(CodeInvalid, "unknown API service %q: use AIS, PIS or CAF", "nieznana usługa API %q: użyj AIS, PIS lub CAF", service)
	}
	var segment string
	var state sql.NullString
	err := q.QueryRowContext(ctx, `SELECT c.segment, x.state FROM accounts a
		JOIN customers c ON c.id = a.customer_id
		LEFT JOIN account_access x ON x.account_nrb = a.nrb
		WHERE a.nrb = $1`, accountNRB).Scan(&segment, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return errUnknownAccount(accountNRB)
	}
	if err != nil {
		return fmt.Errorf("check API access: %w", err)
	}
	return Refusal(ledger.Segment(segment), state.String, accountNRB, svc)
}

// Refusal is CheckIn's answer from what a caller read in a statement of its
// own, in the same transaction: the owner's segment and the stored state
// of the account's API access ("" when never changed: the segment's
// default). service is AIS, PIS or CAF.
func Refusal(segment ledger.Segment, stored, accountNRB, service string) error {
	st := DefaultFor(segment)
	if stored != "" {
		st = State(stored)
	}
	return refusal(st, segment, accountNRB, service)
}

// refusal is nil for active access and says why not otherwise.
func refusal(st State, seg ledger.Segment, nrb, svc string) error {
	switch st {
	case Active:
		return nil
	case Blocked:
		return newError(CodeBlocked,
			"API access (%s) to account %s is blocked by the account holder or the bank; requests are refused until it is unblocked",
			"dostęp do API (%s) rachunku %s jest zablokowany przez posiadacza rachunku lub bank; żądania są odrzucane do czasu odblokowania",
			svc, maskNRB(nrb))
	default:
		how, howPL := "the account holder activates it in internet banking", "posiadacz rachunku włącza go w bankowości internetowej"
		if seg == ledger.Company {
			how, howPL = "the account holder activates it by calling the bank's hotline", "posiadacz rachunku włącza go, dzwoniąc na infolinię banku"
		}
		return &Error{Code: CodeNotActivated,
			Message:   fmt.Sprintf("API access (%s) to account %s has not been activated: %s", svc, maskNRB(nrb), how),
			MessagePL: fmt.Sprintf("dostęp do API (%s) rachunku %s nie został włączony: %s", svc, maskNRB(nrb), howPL)}
	}
}
