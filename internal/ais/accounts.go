package ais

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/psd2bank/psd2bank/internal/consent"
	"github.com/psd2bank/psd2bank/internal/ledger"
	"github.com/psd2bank/psd2bank/internal/live"
	"github.com/psd2bank/psd2bank/internal/store"
)

// getAccounts in two statements.
//
// The consent check of getAccounts (the consent, its getAccounts privilege
// for no account in particular, the token's customer, the unattended
// accesses of the day to the list of accounts) and the access record are
// one statement, as a list's (check.go), which returns the consent's
// customer and accounts; the accounts, those of the customer whose API
// access is active, are one more. When the statement does not allow the
// access nothing was written, and the separate checks run — which say
// exactly why, or allow. TestAccountsOneStatementAgrees runs both over the
// refusals on both engines.
var accountsCheck = `WITH sel AS MATERIALIZED (
	SELECT c.id AS consent_id, c.customer_id AS customer_id, c.accounts AS accounts,
	       (SELECT COALESCE(string_agg(q.account_number, ','), '') FROM consent_privileges q
	        WHERE q.consent_id = c.id AND q.account_number <> '') AS named
	FROM consents c
	JOIN consent_privileges p ON p.consent_id = c.id
	WHERE c.id = $1 AND c.tpp_id = $2 AND c.status = 'authorised' AND c.expires_at > $3 AND c.one_off = FALSE
	  AND ($4 = '' OR c.customer_id = $4)
	  AND p.seq = (SELECT MIN(q.seq) FROM consent_privileges q WHERE q.consent_id = c.id AND q.name = $5 AND q.account_number = '')
	  AND p.scope_usage_limit = 'multiple'
	  AND ($6 OR c.scope NOT IN ('ais', 'ais-accounts') OR
	       (SELECT COUNT(*) FROM consent_accesses h WHERE h.consent_id = c.id AND h.resource = $7
	        AND h.psu_present = FALSE
	        AND h.at > CASE WHEN c.unattended_window = 'day' THEN CAST($9 AS BIGINT) ELSE CAST($8 AS BIGINT) END)
	       < c.frequency_per_day)` + live.Cond(11) + `
)
INSERT INTO consent_accesses (id, consent_id, resource, privilege, psu_present, at)
SELECT $10, consent_id, $7, $5, $6, $3 FROM sel
RETURNING (SELECT customer_id FROM sel), (SELECT accounts FROM sel), (SELECT named FROM sel)`

// accountsOneStatement passes getAccounts' consent check in one statement
// and returns the consent's customer and the numbers of its accounts; ok
// is false when it did not allow the access (nothing was written then).
func (s *Service) accountsOneStatement(ctx context.Context, c Caller, psu bool) (customerID string, numbers []string, ok bool, err error) {
	if s.db == nil || c.ConsentID == "" || !psu && s.db.Engine() != store.SQLite {
		return "", nil, false, nil // unattended on PostgreSQL: the check that locks the consent (check.go)
	}
	now := s.Now()
	var customer, accounts, named sql.NullString
	args := append([]any{c.ConsentID, c.TPPID, now.UnixMicro(), c.CustomerID, consent.PrivGetAccounts, psu,
		consent.ResourceAccounts, consent.Window24Hours.After(now).UnixMicro(), consent.WindowCalendarDay.After(now).UnixMicro(), ledger.NewID()},
		live.Args(ctx)...)
	err = s.db.WriteRow(ctx, accountsCheck, args, &customer, &accounts, &named)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	if err == nil && !(customer.Valid && accounts.Valid && named.Valid) {
		err = errors.New("the selection came back empty")
	}
	if err == nil {
		err = json.Unmarshal([]byte(accounts.String), &numbers)
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("check access: %w", err)
	}
	live.Proven(ctx)
	if len(numbers) == 0 && named.String != "" { // as consent.NamedAccounts
		for _, n := range strings.Split(named.String, ",") {
			if n = consent.NormalizeNRB(n); !slices.Contains(numbers, n) {
				numbers = append(numbers, n)
			}
		}
	}
	return customer.String, numbers, true, nil
}

// shownAccounts are the accounts numbered numbers that customerID keeps
// and whose API access for AIS is active, in one statement.
func (s *Service) shownAccounts(ctx context.Context, customerID string, numbers []string) ([]ledger.Account, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	var in strings.Builder
	args := make([]any, 0, len(numbers)+3)
	args = append(args, customerID, s.access == nil, string(ledger.Retail))
	for i, n := range numbers {
		if i > 0 {
			in.WriteString(", ")
		}
		args = append(args, consent.NormalizeNRB(n))
		in.WriteString("$" + strconv.Itoa(len(args)))
	}
	// Active: so stored, or never changed and active by default (retail).
	return s.ledger.AccountsWhere(ctx, `customer_id = $1 AND nrb IN (`+in.String()+`)
		AND ($2 OR EXISTS (SELECT 1 FROM account_access x WHERE x.account_nrb = accounts.nrb AND x.state = 'active')
		     OR NOT EXISTS (SELECT 1 FROM account_access x WHERE x.account_nrb = accounts.nrb)
		        AND EXISTS (SELECT 1 FROM customers o WHERE o.id = accounts.customer_id AND o.segment = $3))`, args...)
}
