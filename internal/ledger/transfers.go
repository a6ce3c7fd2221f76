package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Status is where a transfer is in its life.
type Status string

const (
	StatusScheduled Status = "scheduled" // future-dated: nothing reserved yet
	StatusPending   Status = "pending"   // the money is held, waiting for clearing
	StatusBooked    Status = "booked"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
)

// Party is one side of a transfer as shown on statements.
type Party struct {
	Name    string
	Account string // NRB, IBAN or other account identifier
}

// TransferRequest asks the ledger to move Amount from the debit account to
// the credit account. When an account is a clearing account, the matching
// Party must name the outside counterparty; for customer accounts the party
// is filled in from the account and its owner.
type TransferRequest struct {
	ID              string // optional; a new id when empty. It stays the transfer's id for life.
	Kind            string // internal, elixir, sepa, card, tax, zus, split, salary, ...
	DebitAccountID  string
	CreditAccountID string
	Debtor          Party
	Creditor        Party
	Amount          money.Amount
	Currency        string
	Title           string
	TradeDate       string // defaults to the day it is booked
	ExecutionDate   string // the requested day; defaults to today
}

// Transfer is a movement of money and its state.
type Transfer struct {
	ID              string
	Kind            string
	DebitAccountID  string
	CreditAccountID string
	Debtor          Party
	Creditor        Party
	Amount          money.Amount
	Currency        string
	Status          Status
	StatusReason    string
	Title           string
	ExecutionDate   string
	TradeDate       string
	BookingDate     string
	HoldID          string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Posting is a booked item of one account: immutable.
type Posting struct {
	ID           string
	AccountID    string
	Seq          int64
	TransferID   string
	Amount       money.Amount // negative for a debit
	BalanceAfter money.Amount
	Currency     string
	Kind         string
	Title        string
	Counterparty Party
	TradeDate    string
	BookingDate  string
	BookedAt     time.Time
}

// maxTitle is the longest title the ledger keeps (4 lines of 35 characters,
// as Elixir carries).
const maxTitle = 140

// prepare checks a request and fills in the parties from the accounts:
// those given in known when both are, read otherwise.
func (l *Ledger) prepare(ctx context.Context, q store.Querier, req TransferRequest, now time.Time, known ...Known) (Transfer, error) {
	if req.Amount <= 0 {
		return Transfer{}, errorf(CodeInvalid, "the amount must be greater than zero, got %s", req.Amount)
	}
	if req.DebitAccountID == req.CreditAccountID {
		return Transfer{}, errorf(CodeInvalid, "the debit and credit accounts are the same account")
	}
	if len([]rune(req.Title)) > maxTitle {
		return Transfer{}, errorf(CodeInvalid, "the title has %d characters; at most %d are allowed", len([]rune(req.Title)), maxTitle)
	}
	if req.Kind == "" {
		req.Kind = "internal"
	}
	t := Transfer{
		ID: req.ID, Kind: req.Kind, DebitAccountID: req.DebitAccountID, CreditAccountID: req.CreditAccountID,
		Debtor: req.Debtor, Creditor: req.Creditor, Amount: req.Amount, Currency: req.Currency, Title: req.Title,
		ExecutionDate: req.ExecutionDate, TradeDate: req.TradeDate, CreatedAt: now, UpdatedAt: now,
	}
	if t.ID == "" {
		t.ID = NewID()
	}
	today := DateOf(now)
	if t.ExecutionDate == "" {
		t.ExecutionDate = today
	}
	if t.TradeDate == "" {
		t.TradeDate = today
	}
	found := make(map[string]Known, 2)
	for _, k := range known {
		if k.ID == req.DebitAccountID || k.ID == req.CreditAccountID {
			found[k.ID] = k
		}
	}
	if len(found) < 2 {
		var err error
		if found, err = readParties(ctx, q, req.DebitAccountID, req.CreditAccountID); err != nil {
			return Transfer{}, err
		}
	}
	return fillParties(t, req, found)
}

// Known is an account the caller has read already, in a statement of its
// own, with its owner's name (the party a statement shows): TransferIn takes
// it instead of reading the account again.
type Known struct {
	ID, NRB, Currency, Type string
	CustomerID              string // "" for the bank's own accounts
	Owner                   string // the customer's name; "" for the bank's own accounts
}

// readParties reads the two accounts of a transfer, with their owners' names.
func readParties(ctx context.Context, q store.Querier, debit, credit string) (map[string]Known, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.nrb, a.currency, a.type, COALESCE(c.name, '')
		FROM accounts a LEFT JOIN customers c ON c.id = a.customer_id WHERE a.id IN ($1, $2)`,
		debit, credit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[string]Known, 2)
	for rows.Next() {
		var a Known
		if err := rows.Scan(&a.ID, &a.NRB, &a.Currency, &a.Type, &a.Owner); err != nil {
			return nil, err
		}
		found[a.ID] = a
	}
	return found, rows.Err()
}

// fillParties checks the accounts of a transfer and fills in its parties.
func fillParties(t Transfer, req TransferRequest, found map[string]Known) (Transfer, error) {
	for _, side := range []struct {
		id    string
		party *Party
		role  string
	}{{req.DebitAccountID, &t.Debtor, "debit"}, {req.CreditAccountID, &t.Creditor, "credit"}} {
		a, ok := found[side.id]
		if !ok || a.ID == "" {
			return Transfer{}, errorf(CodeNotFound, "the %s account %s does not exist", side.role, side.id)
		}
		if t.Currency == "" {
			t.Currency = a.Currency
		}
		if a.Currency != t.Currency {
			return Transfer{}, errorf(CodeCurrencyMismatch, "the %s account is kept in %s, the transfer is in %s", side.role, a.Currency, t.Currency)
		}
		if a.Type == TypeClearing {
			if side.party.Name == "" {
				return Transfer{}, errorf(CodeInvalid, "a transfer leaving or entering the bank needs the outside party's name")
			}
			continue
		}
		if side.party.Name == "" {
			side.party.Name = a.Owner
		}
		if side.party.Account == "" {
			side.party.Account = a.NRB
		}
	}
	return t, nil
}

// Transfer books a transfer at once: both postings, in one database
// transaction that checks the debit account's available balance.
func (l *Ledger) Transfer(ctx context.Context, req TransferRequest) (Transfer, error) {
	var out Transfer
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		t, err := l.prepare(ctx, tx, req, now)
		if err != nil {
			return err
		}
		t.Status = StatusBooked
		t.BookingDate = DateOf(now)
		if err := insertTransfer(ctx, tx, t); err != nil {
			return err
		}
		if err := book(ctx, tx, t, now, false); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// TransferIn books a transfer at once, as Transfer does, inside the
// caller's transaction tx, so that the booking commits or rolls back with
// what the caller writes (a payment initiated and booked in one
// transaction). The accounts in known (both, with their owners' names,
// read by the caller in this transaction) are not read again. On any error
// the caller must roll tx back: a refused debit (CodeInsufficientFunds)
// comes after the credit's update in the same statement.
func (l *Ledger) TransferIn(ctx context.Context, tx *store.Tx, req TransferRequest, known ...Known) (Transfer, error) {
	now := l.clock.Now()
	t, err := l.prepare(ctx, tx, req, now, known...)
	if err != nil {
		return Transfer{}, err
	}
	t.Status = StatusBooked
	t.BookingDate = DateOf(now)
	if err := insertTransfer(ctx, tx, t); err != nil {
		return Transfer{}, err
	}
	if err := book(ctx, tx, t, now, false); err != nil {
		return Transfer{}, err
	}
	return t, nil
}

func insertTransfer(ctx context.Context, q store.Querier, t Transfer) error {
	var hold, booking any
	if t.HoldID != "" {
		hold = t.HoldID
	}
	if t.BookingDate != "" {
		booking = t.BookingDate
	}
	_, err := q.ExecContext(ctx, `INSERT INTO transfers
		(id, kind, debit_account_id, credit_account_id, amount, currency, status, title,
		 debtor_name, debtor_account, creditor_name, creditor_account,
		 execution_date, trade_date, booking_date, hold_id, status_reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		t.ID, t.Kind, t.DebitAccountID, t.CreditAccountID, amt(t.Amount), t.Currency, string(t.Status), t.Title,
		t.Debtor.Name, t.Debtor.Account, t.Creditor.Name, t.Creditor.Account,
		t.ExecutionDate, t.TradeDate, booking, hold, t.StatusReason, micros(t.CreatedAt), micros(t.UpdatedAt))
	if store.IsUniqueViolation(err) {
		return errorf(CodeConflict, "a transfer with id %s already exists", t.ID)
	}
	return err
}

// book moves the money of t and writes both postings. When held is true
// the debit was reserved by a hold earlier: the available balance is not
// reduced again. The debit refuses to go below the available balance (with
// the overdraft): CodeInsufficientFunds, on which the caller rolls back. On
// PostgreSQL the accounts are updated one by one in ascending id order, so
// that concurrent transfers never deadlock (one statement locking both rows
// in order first was tried: under contention PostgreSQL's re-check of a
// concurrently updated row made two such statements wait for each other
// without a deadlock being reported). On SQLite, which has one writer, both
// balances move in one statement (after the credit's update when the debit
// is refused).
func book(ctx context.Context, q store.Querier, t Transfer, now time.Time, held bool) error {
	type leg struct {
		account string
		delta   int64
		other   Party
		id      string
		balance int64
		seq     int64
	}
	debit := &leg{account: t.DebitAccountID, delta: -amt(t.Amount), other: t.Creditor, id: t.ID}
	credit := &leg{account: t.CreditAccountID, delta: amt(t.Amount), other: t.Debtor, id: NewID()}
	legs := []*leg{debit, credit}
	if credit.account < debit.account {
		legs = []*leg{credit, debit}
	}
	pg := false
	if e, ok := q.(interface{ Engine() store.Engine }); ok && e.Engine() == store.Postgres {
		pg = true
	}
	if held || pg {
		for _, lg := range legs {
			var err error
			switch {
			case lg.delta > 0:
				err = q.QueryRowContext(ctx, `UPDATE accounts
					SET booked_balance = booked_balance + $1, available_balance = available_balance + $1, last_seq = last_seq + 1
					WHERE id = $2 RETURNING booked_balance, last_seq`, lg.delta, lg.account).Scan(&lg.balance, &lg.seq)
			case held:
				err = q.QueryRowContext(ctx, `UPDATE accounts
					SET booked_balance = booked_balance + $1, last_seq = last_seq + 1
					WHERE id = $2 RETURNING booked_balance, last_seq`, lg.delta, lg.account).Scan(&lg.balance, &lg.seq)
			default:
				err = q.QueryRowContext(ctx, `UPDATE accounts
					SET booked_balance = booked_balance + $1, available_balance = available_balance + $1, last_seq = last_seq + 1
					WHERE id = $2 AND (allow_negative OR available_balance + overdraft_limit + $1 >= 0)
					RETURNING booked_balance, last_seq`, lg.delta, lg.account).Scan(&lg.balance, &lg.seq)
				if errors.Is(err, sql.ErrNoRows) {
					return errorf(CodeInsufficientFunds, "insufficient funds: the available balance of account %s does not cover %s %s",
						maskNRB(t.Debtor.Account), t.Amount, t.Currency)
				}
			}
			if err != nil {
				return fmt.Errorf("book transfer %s on account %s: %w", t.ID, lg.account, err)
			}
		}
	} else {
		rows, err := q.QueryContext(ctx, bothBalances, debit.account, credit.account, debit.delta, credit.delta)
		if err != nil {
			return fmt.Errorf("book transfer %s: %w", t.ID, err)
		}
		n := 0
		for rows.Next() {
			var id string
			var balance, seq int64
			if err := rows.Scan(&id, &balance, &seq); err != nil {
				rows.Close()
				return fmt.Errorf("book transfer %s: %w", t.ID, err)
			}
			for _, lg := range legs {
				if lg.account == id {
					lg.balance, lg.seq = balance, seq
					n++
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("book transfer %s: %w", t.ID, err)
		}
		if debit.seq == 0 {
			return errorf(CodeInsufficientFunds, "insufficient funds: the available balance of account %s does not cover %s %s",
				maskNRB(t.Debtor.Account), t.Amount, t.Currency)
		}
		if n != 2 {
			return fmt.Errorf("book transfer %s: %d of 2 accounts updated", t.ID, n)
		}
	}
	bookingDate := DateOf(now)
	postings := make([]any, 0, 28)
	for _, lg := range legs {
		postings = append(postings, lg.id, lg.account, lg.seq, t.ID, lg.delta, lg.balance, t.Currency, t.Kind, t.Title,
			lg.other.Name, lg.other.Account, t.TradeDate, bookingDate, micros(now))
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO postings
		(id, account_id, seq, transfer_id, amount, balance_after, currency, kind, title,
		 counterparty_name, counterparty_account, trade_date, booking_date, booked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14),
		       ($15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)`, postings...); err != nil {
		return fmt.Errorf("write postings of transfer %s: %w", t.ID, err)
	}
	return nil
}

// bothBalances moves the two balances of a transfer in one statement, on
// SQLite ($1 the debit account, $2 the credit account, $3 the debit's
// negative amount, $4 the credit's amount); the debit's row is updated only
// when the available balance (with the overdraft) covers it.
const bothBalances = `UPDATE accounts
	SET booked_balance = booked_balance + CASE WHEN id = $1 THEN $3 ELSE $4 END,
		available_balance = available_balance + CASE WHEN id = $1 THEN $3 ELSE $4 END,
		last_seq = last_seq + 1
	WHERE id IN ($1, $2) AND (id <> $1 OR allow_negative OR available_balance + overdraft_limit + $3 >= 0)
	RETURNING id, booked_balance, last_seq`

const transferColumns = `id, kind, debit_account_id, credit_account_id, amount, currency, status, status_reason, title,
	debtor_name, debtor_account, creditor_name, creditor_account, execution_date, trade_date,
	COALESCE(booking_date, ''), COALESCE(hold_id, ''), created_at, updated_at`

func scanTransfer(row rowScanner) (Transfer, error) {
	var t Transfer
	var amount, created, updated int64
	var status string
	err := row.Scan(&t.ID, &t.Kind, &t.DebitAccountID, &t.CreditAccountID, &amount, &t.Currency, &status, &t.StatusReason,
		&t.Title, &t.Debtor.Name, &t.Debtor.Account, &t.Creditor.Name, &t.Creditor.Account, &t.ExecutionDate,
		&t.TradeDate, &t.BookingDate, &t.HoldID, &created, &updated)
	t.Amount, t.Status = money.Amount(amount), Status(status)
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return t, err
}

// GetTransfer returns a transfer by id.
func (l *Ledger) GetTransfer(ctx context.Context, id string) (Transfer, error) {
	return getTransfer(ctx, l.db, id)
}

func getTransfer(ctx context.Context, q store.Querier, id string) (Transfer, error) {
	query := `SELECT ` + transferColumns + ` FROM transfers WHERE id = $1`
	t, err := scanTransfer(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Transfer{}, errorf(CodeNotFound, "no transfer with id %s", id)
	}
	return t, err
}

// Submit accepts a transfer that clears later (an outgoing Elixir payment,
// say): the amount is held on the debit account at once and the transfer is
// pending until Settle books it or Reject releases it.
func (l *Ledger) Submit(ctx context.Context, req TransferRequest) (Transfer, error) {
	var out Transfer
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		t, err := l.prepare(ctx, tx, req, now)
		if err != nil {
			return err
		}
		t.Status = StatusPending
		t.HoldID = NewID()
		if err := insertTransfer(ctx, tx, t); err != nil {
			return err
		}
		if err := placeHold(ctx, tx, Hold{
			ID: t.HoldID, AccountID: t.DebitAccountID, Amount: t.Amount, Currency: t.Currency, Kind: "transfer",
			Description: t.Title, TransferID: t.ID, CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour),
		}, t.Debtor.Account); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// Settle books a pending transfer, consuming its hold. The booked item keeps
// the transfer's id.
func (l *Ledger) Settle(ctx context.Context, id string) (Transfer, error) {
	var out Transfer
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		t, err := l.transition(ctx, tx, id, StatusPending, StatusBooked, "", now)
		if err != nil {
			return err
		}
		if err := closeHold(ctx, tx, t.HoldID, "consumed", now, false); err != nil {
			return err
		}
		if err := book(ctx, tx, t, now, true); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// Reject ends a pending or scheduled transfer without moving money,
// releasing what it held, and records why.
func (l *Ledger) Reject(ctx context.Context, id, reason string) (Transfer, error) {
	return l.end(ctx, id, StatusRejected, reason)
}

// Cancel ends a scheduled or pending transfer at the customer's or TPP's
// request, releasing what it held.
func (l *Ledger) Cancel(ctx context.Context, id, reason string) (Transfer, error) {
	return l.end(ctx, id, StatusCancelled, reason)
}

func (l *Ledger) end(ctx context.Context, id string, to Status, reason string) (Transfer, error) {
	var out Transfer
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		t, err := getTransfer(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Status != StatusPending && t.Status != StatusScheduled {
			return errorf(CodeConflict, "transfer %s is %s and can no longer be %s", id, t.Status, to)
		}
		t, err = l.transition(ctx, tx, id, t.Status, to, reason, now)
		if err != nil {
			return err
		}
		if t.HoldID != "" {
			if err := closeHold(ctx, tx, t.HoldID, "released", now, true); err != nil {
				return err
			}
		}
		out = t
		return nil
	})
	return out, err
}

// transition moves a transfer from one status to another with a
// compare-and-set, so that two nodes can never both settle it.
func (l *Ledger) transition(ctx context.Context, q store.Querier, id string, from, to Status, reason string, now time.Time) (Transfer, error) {
	var booking any
	if to == StatusBooked {
		booking = DateOf(now)
	}
	res, err := q.ExecContext(ctx, `UPDATE transfers SET status = $1, status_reason = $2, updated_at = $3,
		booking_date = COALESCE($4, booking_date) WHERE id = $5 AND status = $6`,
		string(to), reason, micros(now), booking, id, string(from))
	if err != nil {
		return Transfer{}, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t, err := getTransfer(ctx, q, id)
		if err != nil {
			return Transfer{}, err
		}
		return Transfer{}, errorf(CodeConflict, "transfer %s is %s, not %s", id, t.Status, from)
	}
	return getTransfer(ctx, q, id)
}

// Schedule records a future-dated transfer. Nothing is reserved until
// Execute runs it on its date.
func (l *Ledger) Schedule(ctx context.Context, req TransferRequest) (Transfer, error) {
	var out Transfer
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		t, err := l.prepare(ctx, tx, req, now)
		if err != nil {
			return err
		}
		if t.ExecutionDate <= DateOf(now) {
			return errorf(CodeInvalid, "a scheduled transfer needs an execution date after today (%s), got %s", DateOf(now), t.ExecutionDate)
		}
		t.Status = StatusScheduled
		if err := insertTransfer(ctx, tx, t); err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// Execute books a scheduled transfer whose date has come; without enough
// funds it is rejected instead, with the reason recorded.
func (l *Ledger) Execute(ctx context.Context, id string) (Transfer, error) {
	var out Transfer
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		now := l.clock.Now()
		t, err := getTransfer(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Status != StatusScheduled {
			return errorf(CodeConflict, "transfer %s is %s, not scheduled", id, t.Status)
		}
		if t.ExecutionDate > DateOf(now) {
			return errorf(CodeInvalid, "transfer %s is due on %s, not before", id, t.ExecutionDate)
		}
		t, err = l.transition(ctx, tx, id, StatusScheduled, StatusBooked, "", now)
		if err != nil {
			return err
		}
		t.TradeDate = DateOf(now)
		out = t
		return book(ctx, tx, t, now, false)
	})
	if CodeOf(err) == CodeInsufficientFunds {
		return l.Reject(ctx, id, err.Error())
	}
	return out, err
}

// DueTransfers lists scheduled transfers due on or before day.
func (l *Ledger) DueTransfers(ctx context.Context, day string) ([]Transfer, error) {
	return l.queryTransfers(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE status = $1 AND execution_date <= $2 ORDER BY execution_date, id`, string(StatusScheduled), day)
}

// TransfersOf lists the transfers of an account (either side) in a status,
// newest first.
func (l *Ledger) TransfersOf(ctx context.Context, accountID string, status Status) ([]Transfer, error) {
	return l.queryTransfers(ctx, `SELECT `+transferColumns+` FROM transfers
		WHERE (debit_account_id = $1 OR credit_account_id = $1) AND status = $2
		ORDER BY execution_date DESC, id DESC`, accountID, string(status))
}

func (l *Ledger) queryTransfers(ctx context.Context, q string, args ...any) ([]Transfer, error) {
	return queryAll(ctx, l.db, scanTransfer, q, args...)
}
