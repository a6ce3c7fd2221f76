package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/store"
)

// Segment is the kind of customer.
type Segment string

const (
	Retail    Segment = "retail"
	Company   Segment = "company"
	Corporate Segment = "corporate"
)

// Customer is a holder of accounts: a person (retail) or a firm (company,
// corporate). For a firm, PESEL is that of the person who acts for it.
type Customer struct {
	ID           string
	Segment      Segment
	Name         string
	Login        string
	PasswordHash string
	PESEL        string
	NIP          string
	REGON        string
	Phone        string
	Address      string
	CreatedAt    time.Time
}

// Account is a bank account. Booked is the balance of booked items;
// Available is Booked less active holds, plus nothing else: an overdraft
// limit is shown separately.
type Account struct {
	ID             string
	NRB            string
	CustomerID     string // empty for the bank's own accounts
	Currency       string
	Type           string
	Name           string
	Booked         money.Amount
	Available      money.Amount
	OverdraftLimit money.Amount
	AllowNegative  bool
	LastSeq        int64
	OpenedOn       string
	CreatedAt      time.Time
}

// Account types.
const (
	TypePersonal  = "personal"
	TypeSavings   = "savings"
	TypeBusiness  = "business"
	TypeVAT       = "vat" // the VAT account of the split payment mechanism
	TypeCorporate = "corporate"
	TypeClearing  = "clearing" // the bank's own: the other side of money leaving or entering the bank
)

// CreateCustomer stores a new customer; an empty ID gets a new one.
func (l *Ledger) CreateCustomer(ctx context.Context, c Customer) (Customer, error) {
	if c.ID == "" {
		c.ID = NewID()
	}
	switch c.Segment {
	case Retail, Company, Corporate:
	default:
		return Customer{}, errorf(CodeInvalid, "customer segment %q is not one of retail, company, corporate", c.Segment)
	}
	if c.Name == "" || c.Login == "" {
		return Customer{}, errorf(CodeInvalid, "a customer needs a name and a login")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = l.clock.Now()
	}
	_, err := l.db.ExecContext(ctx, `INSERT INTO customers
		(id, segment, name, login, password_hash, pesel, nip, regon, phone, address, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, string(c.Segment), c.Name, c.Login, c.PasswordHash, c.PESEL, c.NIP, c.REGON, c.Phone, c.Address, micros(c.CreatedAt))
	if err != nil {
		return Customer{}, fmt.Errorf("create customer %s: %w", c.Login, err)
	}
	return c, nil
}

const customerColumns = `id, segment, name, login, password_hash, pesel, nip, regon, phone, address, created_at`

func scanCustomer(row rowScanner) (Customer, error) {
	var c Customer
	var seg string
	var created int64
	err := row.Scan(&c.ID, &seg, &c.Name, &c.Login, &c.PasswordHash, &c.PESEL, &c.NIP, &c.REGON, &c.Phone, &c.Address, &created)
	c.Segment = Segment(seg)
	c.CreatedAt = fromMicros(created)
	return c, err
}

// Customer returns the customer with the given id.
func (l *Ledger) Customer(ctx context.Context, id string) (Customer, error) {
	c, err := scanCustomer(l.db.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, errorf(CodeNotFound, "no customer with id %s", id)
	}
	return c, err
}

// CustomerByLogin returns the customer who logs in with login.
func (l *Ledger) CustomerByLogin(ctx context.Context, login string) (Customer, error) {
	c, err := scanCustomer(l.db.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE login = $1`, login))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, errorf(CodeNotFound, "no customer with login %q", login)
	}
	return c, err
}

// Customers lists every customer, by login.
func (l *Ledger) Customers(ctx context.Context) ([]Customer, error) {
	return queryAll(ctx, l.db, scanCustomer, `SELECT `+customerColumns+` FROM customers ORDER BY login`)
}

// OpenAccount opens an account with a zero balance.
func (l *Ledger) OpenAccount(ctx context.Context, a Account) (Account, error) {
	if a.ID == "" {
		a.ID = NewID()
	}
	if err := money.ValidCurrency(a.Currency); err != nil {
		return Account{}, errorf(CodeInvalid, "open account: %v", err)
	}
	if a.NRB == "" || a.Type == "" {
		return Account{}, errorf(CodeInvalid, "open account: number and type are required")
	}
	now := l.clock.Now()
	if a.OpenedOn == "" {
		a.OpenedOn = DateOf(now)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.Booked, a.Available, a.LastSeq = 0, 0, 0
	var owner any
	if a.CustomerID != "" {
		owner = a.CustomerID
	}
	_, err := l.db.ExecContext(ctx, `INSERT INTO accounts
		(id, nrb, customer_id, currency, type, name, overdraft_limit, allow_negative, opened_on, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, a.NRB, owner, a.Currency, a.Type, a.Name, amt(a.OverdraftLimit), a.AllowNegative, a.OpenedOn, micros(a.CreatedAt))
	if err != nil {
		return Account{}, fmt.Errorf("open account: %w", err)
	}
	return a, nil
}

const accountColumns = `id, nrb, COALESCE(customer_id, ''), currency, type, name, booked_balance, available_balance,
	overdraft_limit, allow_negative, last_seq, opened_on, created_at`

// AccountColumnsOf are the columns AccountRow reads, of the accounts
// table named alias (for another service's statement that joins it).
func AccountColumnsOf(alias string) string {
	return alias + ".id, " + alias + ".nrb, " + alias + ".customer_id, " + alias + ".currency, " + alias + ".type, " +
		alias + ".name, " + alias + ".booked_balance, " + alias + ".available_balance, " + alias + ".overdraft_limit, " +
		alias + ".allow_negative, " + alias + ".last_seq, " + alias + ".opened_on, " + alias + ".created_at"
}

// AccountRow scans AccountColumnsOf, which may all be NULL (a LEFT JOIN
// that found no account).
type AccountRow struct {
	id, nrb, customer, currency, typ, name, openedOn sql.NullString
	booked, avail, od, lastSeq, created              sql.NullInt64
	allowNegative                                    sql.NullBool
}

// Dest are the scan destinations of AccountColumnsOf.
func (r *AccountRow) Dest() []any {
	return []any{&r.id, &r.nrb, &r.customer, &r.currency, &r.typ, &r.name, &r.booked, &r.avail, &r.od,
		&r.allowNegative, &r.lastSeq, &r.openedOn, &r.created}
}

// Account is the account read; found is false when there was none.
func (r *AccountRow) Account() (a Account, found bool) {
	if !r.id.Valid {
		return Account{}, false
	}
	return Account{ID: r.id.String, NRB: r.nrb.String, CustomerID: r.customer.String, Currency: r.currency.String,
		Type: r.typ.String, Name: r.name.String, Booked: money.Amount(r.booked.Int64), Available: money.Amount(r.avail.Int64),
		OverdraftLimit: money.Amount(r.od.Int64), AllowNegative: r.allowNegative.Bool, LastSeq: r.lastSeq.Int64,
		OpenedOn: r.openedOn.String, CreatedAt: fromMicros(r.created.Int64)}, true
}

func scanAccount(row rowScanner) (Account, error) {
	var a Account
	var booked, avail, od, created int64
	err := row.Scan(&a.ID, &a.NRB, &a.CustomerID, &a.Currency, &a.Type, &a.Name, &booked, &avail, &od,
		&a.AllowNegative, &a.LastSeq, &a.OpenedOn, &created)
	a.Booked, a.Available, a.OverdraftLimit = money.Amount(booked), money.Amount(avail), money.Amount(od)
	a.CreatedAt = fromMicros(created)
	return a, err
}

// Account returns the account with the given id.
func (l *Ledger) Account(ctx context.Context, id string) (Account, error) {
	a, err := scanAccount(l.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errorf(CodeNotFound, "no account with id %s", id)
	}
	return a, err
}

// AccountsWhere are the accounts that meet cond, a condition on the
// accounts table with its arguments, in one statement.
func (l *Ledger) AccountsWhere(ctx context.Context, cond string, args ...any) ([]Account, error) {
	return queryAll(ctx, l.db, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE `+cond, args...)
}

// AccountWithOwner returns the account with the given id and the customer
// who owns it, in one statement.
func (l *Ledger) AccountWithOwner(ctx context.Context, id string) (Account, Customer, error) {
	var a Account
	var c Customer
	var booked, avail, od, created, ownerCreated int64
	var seg string
	err := l.db.QueryRowContext(ctx, `SELECT a.id, a.nrb, a.customer_id, a.currency, a.type, a.name, a.booked_balance,
		a.available_balance, a.overdraft_limit, a.allow_negative, a.last_seq, a.opened_on, a.created_at,
		o.id, o.segment, o.name, o.login, o.password_hash, o.pesel, o.nip, o.regon, o.phone, o.address, o.created_at
		FROM accounts a JOIN customers o ON o.id = a.customer_id WHERE a.id = $1`, id).Scan(
		&a.ID, &a.NRB, &a.CustomerID, &a.Currency, &a.Type, &a.Name, &booked, &avail, &od, &a.AllowNegative, &a.LastSeq, &a.OpenedOn, &created,
		&c.ID, &seg, &c.Name, &c.Login, &c.PasswordHash, &c.PESEL, &c.NIP, &c.REGON, &c.Phone, &c.Address, &ownerCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, Customer{}, errorf(CodeNotFound, "no customer's account with id %s", id)
	}
	if err != nil {
		return Account{}, Customer{}, err
	}
	a.Booked, a.Available, a.OverdraftLimit = money.Amount(booked), money.Amount(avail), money.Amount(od)
	a.CreatedAt = fromMicros(created)
	c.Segment, c.CreatedAt = Segment(seg), fromMicros(ownerCreated)
	return a, c, nil
}

// AccountByNRB returns the account with the given 26-digit number.
func (l *Ledger) AccountByNRB(ctx context.Context, nrb string) (Account, error) {
	return AccountByNRBIn(ctx, l.db, nrb)
}

// AccountByNRBIn is AccountByNRB reading through q (a transaction).
func AccountByNRBIn(ctx context.Context, q store.Querier, nrb string) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE nrb = $1`, nrb))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errorf(CodeNotFound, "no account with number %s", maskNRB(nrb))
	}
	return a, err
}

// AccountsOf lists a customer's accounts, by number.
func (l *Ledger) AccountsOf(ctx context.Context, customerID string) ([]Account, error) {
	return l.queryAccounts(ctx, `SELECT `+accountColumns+` FROM accounts WHERE customer_id = $1 ORDER BY nrb`, customerID)
}

// Accounts lists every account, by number.
func (l *Ledger) Accounts(ctx context.Context) ([]Account, error) {
	return l.queryAccounts(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY nrb`)
}

func (l *Ledger) queryAccounts(ctx context.Context, q string, args ...any) ([]Account, error) {
	return queryAll(ctx, l.db, scanAccount, q, args...)
}

// ClearingAccount returns the bank's clearing account for a currency.
func (l *Ledger) ClearingAccount(ctx context.Context, currency string) (Account, error) {
	a, err := scanAccount(l.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE type = $1 AND currency = $2 AND customer_id IS NULL ORDER BY id LIMIT 1`, TypeClearing, currency))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errorf(CodeNotFound, "the bank has no clearing account in %s", currency)
	}
	return a, err
}

// maskNRB shows only the last four digits of an account number, for
// messages and logs.
func maskNRB(nrb string) string {
	if len(nrb) <= 4 {
		return "****"
	}
	return "…" + nrb[len(nrb)-4:]
}

// ListedAccount is an account as AccountListOf reads it, with its closing
// booked balance at the end of the day asked (0 when none was asked).
type ListedAccount struct {
	Account Account
	Closing money.Amount
}

// AccountListOf is a column for another service's statement — the one
// that reads a consent — holding every account of the customer whose id
// is the SQL expression customer, packed in one text (UnpackAccountList):
// so that a list of a consent's accounts costs no statement of its own.
// day is the SQL expression of the day whose closing balance each account
// carries (ClosingBalanceOf), "" for none; sep the placeholder of PackSep.
// Each account is its columns, each followed by the separator, then its
// name's length in UTF-8 bytes, the separator, and its name (the one free
// text), as a page of booked items is packed (bookedItemsQuery).
func (l *Ledger) AccountListOf(customer, day, sep string) string {
	first, nameLen := sep, "octet_length(x.name)"
	if engineOf(l.db) == store.Postgres {
		first, nameLen = sep+"::text", "octet_length(convert_to(x.name, 'UTF8'))"
	}
	closing := "0"
	if day != "" {
		closing = "COALESCE(" + ClosingBalanceOf("x.id", day) + ", 0)"
	}
	cols := []string{"COALESCE(x.customer_id, '')", "x.currency", "x.type", "x.booked_balance", "x.available_balance",
		"x.overdraft_limit", "CASE WHEN x.allow_negative THEN 1 ELSE 0 END", "x.last_seq", "x.opened_on", "x.created_at",
		closing, nameLen}
	item := "concat(x.id, " + first + ", x.nrb"
	for _, c := range cols {
		item += ", " + sep + ", " + c
	}
	item += ", " + sep + ", x.name)"
	return "(SELECT COALESCE(string_agg(" + item + ", ''), '') FROM accounts x WHERE x.customer_id = " + customer + ")"
}

// PackSep is the separator AccountListOf's sep stands for.
func PackSep() string { return packSep }

// listedFields are the fields of an account AccountListOf packs before
// its name.
const listedFields = 14

// UnpackAccountList cuts AccountListOf's text into its accounts.
func UnpackAccountList(packed string) ([]ListedAccount, error) {
	bad := func(what string) error { return fmt.Errorf("read accounts: %s in the packed list", what) }
	var out []ListedAccount
	for packed != "" {
		var f [listedFields]string
		for i := range f {
			var ok bool
			if f[i], packed, ok = strings.Cut(packed, packSep); !ok {
				return nil, bad("a short account")
			}
		}
		var n [8]int64 // booked, available, overdraft, allow negative, last seq, created at, closing, name length
		for i, s := range [...]string{f[5], f[6], f[7], f[8], f[9], f[11], f[12], f[13]} {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, bad("a number that is not one")
			}
			n[i] = v
		}
		if n[7] < 0 || n[7] > int64(len(packed)) {
			return nil, bad("a name longer than the rest")
		}
		name := packed[:n[7]]
		packed = packed[n[7]:]
		out = append(out, ListedAccount{Account: Account{ID: f[0], NRB: f[1], CustomerID: f[2], Currency: f[3], Type: f[4], Name: name,
			Booked: money.Amount(n[0]), Available: money.Amount(n[1]), OverdraftLimit: money.Amount(n[2]), AllowNegative: n[3] == 1,
			LastSeq: n[4], OpenedOn: f[10], CreatedAt: fromMicros(n[5])}, Closing: money.Amount(n[6])})
	}
	return out, nil
}
