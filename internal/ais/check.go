package ais

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/store"
)

// The consent check of a list in one statement.
//
// The check of an AIS call reads the consent, its privileges, the account,
// its holder and its API access, counts the unattended accesses in the
// consent's window (frequency_per_day of them in the last 24 hours, or in
// the calendar day in Warsaw) and records the access: as the consent, ledger and access
// services do it (check), that is ten statements in a transaction and
// beside it. checkStatement does all of it in one: a statement that
// selects the consent, the privilege, the account, the holder and the API
// access under every condition on which the access is allowed, and inserts
// the access record from that selection, returning what the page needs.
// When it returns no row the access was not allowed (or is one the
// statement leaves to the full check: a single-use privilege, a one-off
// consent, an unattended access on PostgreSQL), nothing was written, and the full
// check runs — which says exactly why, or allows and records the access.
// So the statement's conditions only ever narrow what the full check
// allows; TestOneStatementCheckAgrees runs both over the refusals on both
// engines.
//
// The consent's unattended accesses a day: on SQLite every write statement runs on
// the one writing connection, so the count in the statement and its
// insert are atomic. On PostgreSQL a statement's subquery reads its
// snapshot and two nodes could both see one access less than the limit; unattended accesses there take
// the full check, which locks the consent row (SELECT ... FOR UPDATE) and
// counts after the lock.
//
// sel is MATERIALIZED (both engines know the word): computed once, before
// the insert, so that RETURNING reads the selection the insert was made
// from (SQLite would otherwise evaluate it again after the insert, when
// the new access may already fill the day's count).

const checkSelect = `WITH sel AS MATERIALIZED (
	SELECT c.id AS consent_id, a.id AS account_id, a.nrb AS nrb, o.name AS owner, p.max_history_days AS max_days,
	       a.last_seq AS last_seq
	FROM consents c
	JOIN accounts a ON a.%s = $3
	JOIN customers o ON o.id = a.customer_id
	JOIN consent_privileges p ON p.consent_id = c.id
	LEFT JOIN account_access x ON x.account_nrb = a.nrb
	WHERE c.id = $1 AND c.tpp_id = $2 AND c.status = 'authorised' AND c.expires_at > $4 AND c.one_off = FALSE
	  AND ($5 = '' OR c.customer_id = $5)
	  AND a.customer_id = c.customer_id
	  AND p.seq = (SELECT MIN(q.seq) FROM consent_privileges q WHERE q.consent_id = c.id AND q.name = $6
	               AND (q.account_number = a.nrb OR q.account_number = '' AND $7))
	  AND p.scope_usage_limit = 'multiple'
	  AND (p.max_history_days = 0 OR p.max_history_days >= $8)
	  AND ($9 OR x.state = 'active' OR x.state IS NULL AND o.segment = $10)
	  AND ($11 OR c.scope NOT IN ('ais', 'ais-accounts') OR
	       (SELECT COUNT(*) FROM consent_accesses h WHERE h.consent_id = c.id AND h.resource = a.nrb
	        AND h.psu_present = FALSE
	        AND h.at > CASE WHEN c.unattended_window = 'day' THEN CAST($13 AS BIGINT) ELSE CAST($12 AS BIGINT) END)
	       < c.frequency_per_day)%[2]s
)`

var (
	// checkRecord[byID] checks and records an access.
	checkRecord = [2]string{checkRecordQuery("nrb"), checkRecordQuery("id")}
	// checkOnly[byID] checks the next page of a list (not recorded).
	checkOnly = [2]string{checkOnlyQuery("nrb"), checkOnlyQuery("id")}
)

func checkRecordQuery(col string) string {
	return fmt.Sprintf(checkSelect, col, live.Cond(15)) + `
INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at)
SELECT $14, consent_id, nrb, $6, $11, $4 FROM sel
RETURNING resource, (SELECT account_id FROM sel), (SELECT owner FROM sel), (SELECT max_days FROM sel), (SELECT last_seq FROM sel)`
}

func checkOnlyQuery(col string) string {
	return fmt.Sprintf(checkSelect, col, live.Cond(14)) + `
SELECT nrb, account_id, owner, max_days, last_seq FROM sel`
}

// grant is what the consent check of a list gives.
type grant struct {
	accountID  string
	self       ledger.Party
	maxHistory int // the privilege's maxAllowedHistoryLong (0: none)
	// lastSeq is the account's last_seq as the check read it: every
	// posting up to it is committed, and a posting never changes, so a
	// page of booked items bounded by it is the same page whenever it is
	// read (see pages.go).
	lastSeq int64
}

// grant passes the consent check of a list's page: in one statement when
// it can (see above), else as the services' separate checks.
func (s *Service) grant(ctx context.Context, c Caller, privilege string, ref AccountRef, psu bool, historyFrom time.Time, continuation bool, now time.Time) (grant, error) {
	if c.ConsentID == "" {
		return grant{}, tokenMissing()
	}
	if g, ok, err := s.oneStatement(ctx, c, privilege, ref, psu, historyFrom, continuation, now); err != nil || ok {
		return g, err
	}
	return s.fullCheck(ctx, c, privilege, ref, psu, historyFrom, continuation)
}

// Record passes the consent check of a read of one account and records
// the access in one statement (see above): for dialects whose reads keep
// a check of their own (Berlin Group). ok is false when the statement did
// not allow the access or leaves it to the full check; nothing was written
// then, and the caller runs its own check, which says why or allows.
func (s *Service) Record(ctx context.Context, c Caller, privilege string, ref AccountRef, psu bool, historyFrom time.Time) (bool, error) {
	if c.ConsentID == "" {
		return false, nil
	}
	_, ok, err := s.oneStatement(ctx, c, privilege, ref, psu, historyFrom, false, s.Now())
	return ok, err
}

// fullCheck is the consent check as the consent, ledger and access
// services run it: it gives the exact refusal.
func (s *Service) fullCheck(ctx context.Context, c Caller, privilege string, ref AccountRef, psu bool, historyFrom time.Time, continuation bool) (grant, error) {
	acct, number, found, err := s.resolve(ctx, ref)
	if err != nil {
		return grant{}, err
	}
	cons, err := s.check(ctx, c, privilege, number, psu, historyFrom, continuation)
	if err != nil {
		return grant{}, err
	}
	self, err := s.own(ctx, cons, acct, found)
	if err != nil {
		return grant{}, err
	}
	return grant{accountID: acct.ID, self: self, maxHistory: maxHistory(cons, privilege, acct.NRB), lastSeq: acct.LastSeq}, nil
}

// oneStatement runs the check in one statement; ok is false when it did
// not allow the access (nothing was written then).
func (s *Service) oneStatement(ctx context.Context, c Caller, privilege string, ref AccountRef, psu bool, historyFrom time.Time, continuation bool, now time.Time) (grant, bool, error) {
	if s.db == nil || ref.Value == "" {
		return grant{}, false, nil
	}
	counted := !psu && !continuation
	if counted && s.db.Engine() != store.SQLite {
		return grant{}, false, nil
	}
	minDays, ok := minHistoryDays(now, historyFrom)
	if !ok {
		return grant{}, false, nil
	}
	value := ref.Value
	byID := 0
	if ref.ByID {
		byID = 1
	} else {
		value = consent.NormalizeNRB(value)
	}
	args := []any{c.ConsentID, c.TPPID, value, now.UnixMicro(), c.CustomerID, privilege, !consent.IsPerAccount(privilege),
		minDays, s.access == nil, string(ledger.Retail), !counted,
		consent.Window24Hours.After(now).UnixMicro(), consent.WindowCalendarDay.After(now).UnixMicro()}
	var nrb, accountID, owner sql.NullString
	var maxDays, lastSeq sql.NullInt64
	var err error
	if continuation {
		err = s.db.QueryRowContext(ctx, checkOnly[byID], append(args, live.Args(ctx)...)...).Scan(&nrb, &accountID, &owner, &maxDays, &lastSeq)
	} else {
		// With the call's audit record owed (gateway.Operation.AuditWithWrite),
		// the record goes in the same statement (store.WriteRow; on SQLite through the led view).
		err = s.db.WriteRow(ctx, checkRecord[byID], append(append(args, ledger.NewID()), live.Args(ctx)...), &nrb, &accountID, &owner, &maxDays, &lastSeq)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return grant{}, false, nil
	}
	if err == nil && !(nrb.Valid && accountID.Valid && owner.Valid && maxDays.Valid && lastSeq.Valid) {
		err = errors.New("the selection came back empty")
	}
	if err != nil {
		return grant{}, false, fmt.Errorf("check access: %w", err)
	}
	live.Proven(ctx)
	return grant{accountID: accountID.String, self: self(nrb.String, owner.String), maxHistory: int(maxDays.Int64), lastSeq: lastSeq.Int64}, true, nil
}

// minHistoryDays is the least maxAllowedHistoryLong that allows history
// from historyFrom today, by the consent check's rule (history from day d
// is allowed when d is not before the date maxAllowedHistoryLong days ago);
// 0 when historyFrom is zero. ok is false for dates the statement leaves
// to the full check.
func minHistoryDays(now, historyFrom time.Time) (int, bool) {
	if historyFrom.IsZero() {
		return 0, true
	}
	if historyFrom.Year() < 1900 {
		return 0, false
	}
	hf := ledger.DateOf(historyFrom)
	m := max(int(now.Sub(historyFrom).Hours()/24)-2, 0)
	for ledger.DateOf(now.AddDate(0, 0, -m)) > hf {
		m++
	}
	return m, true
}

// RecordAll is Record for several accounts at once — a list of a
// consent's accounts, each read under privilege: the checks of every
// account and their access records in one statement, all or none. ok is
// false when the statement did not allow them all (or leaves them to the
// full check, as Record's); nothing was written then, and the caller
// checks each account itself, which says which and why.
func (s *Service) RecordAll(ctx context.Context, c Caller, privilege string, numbers []string, psu bool) (bool, error) {
	if s.db == nil || c.ConsentID == "" || len(numbers) == 0 || len(numbers) > maxRecordAll {
		return false, nil
	}
	if !psu && s.db.Engine() != store.SQLite {
		return false, nil // unattended on PostgreSQL: the full check (see above)
	}
	var distinct []string
	for _, n := range numbers {
		if n = consent.NormalizeNRB(n); !slices.Contains(distinct, n) {
			distinct = append(distinct, n)
		}
	}
	now := s.Now()
	args := []any{c.ConsentID, c.TPPID, distinct[0], now.UnixMicro(), c.CustomerID, privilege, !consent.IsPerAccount(privilege),
		0, s.access == nil, string(ledger.Retail), psu,
		consent.Window24Hours.After(now).UnixMicro(), consent.WindowCalendarDay.After(now).UnixMicro(), ledger.NewID()}
	for _, n := range distinct[1:] {
		args = append(args, n, ledger.NewID())
	}
	args = append(append(args, len(distinct)), live.Args(ctx)...)
	var resource string
	err := s.db.WriteRow(ctx, recordAllQuery(len(distinct)), args, &resource)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check access: %w", err)
	}
	live.Proven(ctx)
	return true, nil
}

// maxRecordAll bounds the accounts RecordAll checks in one statement.
const maxRecordAll = 64

// recordAllQueries are RecordAll's statements by the number of accounts.
var recordAllQueries sync.Map

// recordAllQuery is checkRecord's statement for n accounts: the first
// account is $3 and its access record's id $14, as in checkRecord; the
// others' numbers and ids follow in pairs, then n. The accesses are
// recorded only when the selection holds all n accounts.
func recordAllQuery(n int) string {
	if q, ok := recordAllQueries.Load(n); ok {
		return q.(string)
	}
	in, ids := "$3", "CASE nrb WHEN $3 THEN $14"
	for i := 1; i < n; i++ {
		in += fmt.Sprintf(", $%d", 13+2*i)
		ids += fmt.Sprintf(" WHEN $%d THEN $%d", 13+2*i, 14+2*i)
	}
	q := strings.Replace(fmt.Sprintf(checkSelect, "nrb", live.Cond(14+2*(n-1)+2)), "JOIN accounts a ON a.nrb = $3", "JOIN accounts a ON a.nrb IN ("+in+")", 1) + `
INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at)
SELECT ` + ids + ` END, consent_id, nrb, $6, $11, $4 FROM sel
WHERE (SELECT COUNT(*) FROM sel) = $` + fmt.Sprint(14+2*(n-1)+1) + `
RETURNING resource`
	recordAllQueries.Store(n, q)
	return q
}
