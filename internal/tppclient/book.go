package tppclient

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	_ "modernc.org/sqlite" // the book is a local SQLite file
)

// Book is the TPP's local copy of what it imported: tokens (encrypted at
// rest), accounts and items. Re-importing never duplicates an item: items
// are keyed by account and the bank's item id, which a pending payment keeps
// when it is booked, so it stays one row.
type Book struct {
	db  *sql.DB
	gcm cipher.AEAD
}

const bookSchema = `
CREATE TABLE IF NOT EXISTS vault (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    number TEXT PRIMARY KEY, currency TEXT NOT NULL DEFAULT '', name TEXT NOT NULL DEFAULT '',
    booking_balance TEXT NOT NULL DEFAULT '', available_balance TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS items (
    account TEXT NOT NULL, item_id TEXT NOT NULL, status TEXT NOT NULL,
    booking_date TEXT NOT NULL DEFAULT '', trade_date TEXT NOT NULL DEFAULT '', amount TEXT NOT NULL, currency TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', counterparty_name TEXT NOT NULL DEFAULT '', counterparty_account TEXT NOT NULL DEFAULT '',
    balance_after TEXT NOT NULL DEFAULT '', raw TEXT NOT NULL, synced_at TEXT NOT NULL,
    day_pos INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, item_id));
CREATE TABLE IF NOT EXISTS accesses (day TEXT NOT NULL, account TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (day, account));
CREATE TABLE IF NOT EXISTS reads (consent TEXT NOT NULL, account TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reads_by_account ON reads (consent, account, at);
CREATE TABLE IF NOT EXISTS coverage (
    account TEXT PRIMARY KEY, booked_from TEXT NOT NULL, synced_at TEXT NOT NULL);
`

// bookUpgrades bring a book made by an older psd2bank up to the schema: a
// column is added when missing (old items keep day_pos 0, ordered by their
// balance chain until a re-sync gives them the bank's order).
var bookUpgrades = []struct{ table, column, ddl string }{
	{"items", "day_pos", `ALTER TABLE items ADD COLUMN day_pos INTEGER NOT NULL DEFAULT 0`},
}

func upgradeBook(db *sql.DB) error {
	for _, u := range bookUpgrades {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, u.table, u.column).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := db.Exec(u.ddl); err != nil {
				return err
			}
		}
	}
	return nil
}

// OpenBook opens (or creates) the book at path; keyFile holds the 32-byte
// key that encrypts the tokens (created, mode 0600, when missing).
func OpenBook(path, keyFile string) (*Book, error) {
	key, err := os.ReadFile(keyFile)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.WriteFile(keyFile, key, 0o600); err != nil {
			return nil, fmt.Errorf("token key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("token key %s must hold 32 bytes, it has %d", keyFile, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The book holds account data and (encrypted) tokens: readable by its
	// owner only; SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("book %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("book %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(bookSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("book %s: %w", path, err)
	}
	if err := upgradeBook(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("book %s: %w", path, err)
	}
	return &Book{db: db, gcm: gcm}, nil
}

// Close closes the book.
func (b *Book) Close() error { return b.db.Close() }

// SaveTokens stores the tokens encrypted (AES-256-GCM).
func (b *Book) SaveTokens(t Tokens) error { return b.seal("tokens", t) }

// ErrNotConnected means no consent was given yet: run connect.
var ErrNotConnected = errors.New("not connected to the bank yet: run `psd2bank tpp connect`")

// Tokens reads the stored tokens.
func (b *Book) Tokens() (Tokens, error) {
	var t Tokens
	return t, b.open("tokens", &t)
}

// seal stores v encrypted under name.
func (b *Book) seal(name string, v any) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return err
	}
	nonce := make([]byte, b.gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := b.gcm.Seal(nonce, nonce, plain, []byte(name))
	_, err = b.db.Exec(`INSERT INTO vault (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, sealed)
	return err
}

// open reads what seal stored under name.
func (b *Book) open(name string, v any) error {
	var sealed []byte
	err := b.db.QueryRow(`SELECT value FROM vault WHERE name = ?`, name).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotConnected
	}
	if err != nil {
		return err
	}
	n := b.gcm.NonceSize()
	if len(sealed) < n {
		return errors.New("the stored secrets are damaged")
	}
	plain, err := b.gcm.Open(nil, sealed[:n], sealed[n:], []byte(name))
	if err != nil {
		return errors.New("the stored secrets cannot be decrypted with this key file")
	}
	return json.Unmarshal(plain, v)
}

// Item is an imported item as the book keeps it. DayPos is the item's
// place among the account's items booked on its booking date, in the
// bank's booking order (1 is the day's first; 0 for a pending item, or an
// item imported by an older psd2bank that a re-sync has not placed yet).
type Item struct {
	Account, ItemID, Status, BookingDate, TradeDate, Amount, Currency string
	Description, CounterpartyName, CounterpartyAccount, BalanceAfter  string
	DayPos                                                            int
}

const itemColumns = `account, item_id, status, booking_date, trade_date, amount, currency, description,
	counterparty_name, counterparty_account, balance_after, day_pos`

func scanItems(rows *sql.Rows) ([]Item, error) {
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.Account, &it.ItemID, &it.Status, &it.BookingDate, &it.TradeDate, &it.Amount, &it.Currency,
			&it.Description, &it.CounterpartyName, &it.CounterpartyAccount, &it.BalanceAfter, &it.DayPos); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Items lists an account's items, newest first: booked items in the
// bank's booking order, reversed.
func (b *Book) Items(account string) ([]Item, error) {
	rows, err := b.db.Query(`SELECT `+itemColumns+` FROM items WHERE account = ?
		ORDER BY COALESCE(NULLIF(booking_date, ''), trade_date) DESC, day_pos DESC, item_id DESC`, account)
	if err != nil {
		return nil, err
	}
	return scanItems(rows)
}

// bookedItems lists an account's booked items oldest first, in the bank's
// booking order.
func (b *Book) bookedItems(account string) ([]Item, error) {
	rows, err := b.db.Query(`SELECT `+itemColumns+` FROM items WHERE account = ? AND status = 'booked'
		ORDER BY booking_date, day_pos, item_id`, account)
	if err != nil {
		return nil, err
	}
	return scanItems(rows)
}

// received is an item as a list of the bank gave it.
type received struct {
	Item
	raw []byte
}

const upsertItem = `INSERT INTO items (account, item_id, status, booking_date, trade_date, amount, currency, description,
	counterparty_name, counterparty_account, balance_after, raw, synced_at, day_pos) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT (account, item_id) DO UPDATE SET status = excluded.status, booking_date = excluded.booking_date,
	trade_date = excluded.trade_date, amount = excluded.amount, balance_after = excluded.balance_after, raw = excluded.raw,
	synced_at = excluded.synced_at, description = excluded.description, day_pos = excluded.day_pos
	WHERE items.status <> 'booked' OR excluded.status = 'booked'`

func upsert(ctx context.Context, tx *sql.Tx, it Item, raw []byte, now time.Time) error {
	_, err := tx.ExecContext(ctx, upsertItem,
		it.Account, it.ItemID, it.Status, it.BookingDate, it.TradeDate, it.Amount, it.Currency, it.Description, it.CounterpartyName,
		it.CounterpartyAccount, it.BalanceAfter, string(raw), now.UTC().Format(time.RFC3339), it.DayPos)
	return err
}

// storeBooked records the booked items of an account that the bank listed
// from the day from on, newest first as the bank lists them, in one
// transaction: the list holds every item booked on each of its days, so
// each item's place in its day is its place in the list. A pending row of
// the same item becomes the booked one, an item already booked is
// rewritten (never doubled), and the book then covers the account from
// from on (or from earlier, when it already did).
func (b *Book) storeBooked(ctx context.Context, account, from string, newestFirst []received, now time.Time) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	pos := 0
	for i := len(newestFirst) - 1; i >= 0; i-- {
		it := newestFirst[i]
		if i == len(newestFirst)-1 || it.BookingDate != newestFirst[i+1].BookingDate {
			pos = 0
		}
		pos++
		it.Account, it.Status, it.DayPos = account, "booked", pos
		if err := upsert(ctx, tx, it.Item, it.raw, now); err != nil {
			return err
		}
	}
	// The list reaches from from to now: it joins what the book held when
	// from is not after the day of the sync before.
	covered := from
	var oldFrom, oldAt string
	if tx.QueryRowContext(ctx, `SELECT booked_from, synced_at FROM coverage WHERE account = ?`, account).Scan(&oldFrom, &oldAt) == nil {
		if at, err := time.Parse(time.RFC3339, oldAt); err == nil && from <= bankDay(at) && oldFrom < covered {
			covered = oldFrom
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO coverage (account, booked_from, synced_at) VALUES (?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET booked_from = excluded.booked_from, synced_at = excluded.synced_at`,
		account, covered, now.UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	return tx.Commit()
}

// storePending records the pending items of an account listed from the
// day from on (by trade date), in one transaction. A pending item never
// overwrites its booked row; a pending row of that period that the bank
// no longer lists (it was booked, rejected or cancelled) is dropped, as
// the booked list brings what was booked.
func (b *Book) storePending(ctx context.Context, account, from string, items []received, now time.Time) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	listed := make([]any, 0, len(items)+2)
	listed = append(listed, account, from)
	marks := ""
	for _, it := range items {
		it.Account, it.Status, it.DayPos = account, "pending", 0
		if err := upsert(ctx, tx, it.Item, it.raw, now); err != nil {
			return err
		}
		listed = append(listed, it.ItemID)
		marks += ",?"
	}
	q := `DELETE FROM items WHERE account = ? AND status = 'pending' AND trade_date >= ?`
	if marks != "" {
		q += ` AND item_id NOT IN (` + marks[1:] + `)`
	}
	if _, err := tx.ExecContext(ctx, q, listed...); err != nil {
		return err
	}
	return tx.Commit()
}

// Coverage is how much of an account's history the book holds: every item
// booked from BookedFrom until the last sync, SyncedAt.
type Coverage struct {
	BookedFrom string
	SyncedAt   time.Time
}

// Coverage tells how much of an account's history the book holds; ok is
// false when the account was never synced.
func (b *Book) Coverage(account string) (c Coverage, ok bool, err error) {
	var at string
	err = b.db.QueryRow(`SELECT booked_from, synced_at FROM coverage WHERE account = ?`, account).Scan(&c.BookedFrom, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	c.SyncedAt, _ = time.Parse(time.RFC3339, at)
	return c, true, nil
}

// lastBooking is the newest booking date imported for an account.
func (b *Book) lastBooking(account string) string {
	var d sql.NullString
	b.db.QueryRow(`SELECT MAX(booking_date) FROM items WHERE account = ? AND status = 'booked'`, account).Scan(&d)
	return d.String
}

// balanceBefore is the balance after the last booked item of an account
// booked before the day, in the bank's order; ok is false when there is none.
func (b *Book) itemBefore(account, day string) (Item, bool) {
	rows, err := b.db.Query(`SELECT `+itemColumns+` FROM items WHERE account = ? AND status = 'booked' AND booking_date < ?
		ORDER BY booking_date DESC, day_pos DESC, item_id DESC LIMIT 1`, account, day)
	if err != nil {
		return Item{}, false
	}
	items, err := scanItems(rows)
	if err != nil || len(items) == 0 {
		return Item{}, false
	}
	return items[0], true
}

// The bank counts a consent's unattended reads of an account over the last
// 24 hours of its clock (RTS art. 36(5)): the book keeps each read's time
// (the bank's) under the consent, so a new consent starts afresh, as at
// the bank.

// countRead records an unattended read of an account at the bank's time at.
func (b *Book) countRead(consent, account string, at time.Time) error {
	_, err := b.db.Exec(`INSERT INTO reads (consent, account, at) VALUES (?, ?, ?)`, consent, account, at.UTC().Format(time.RFC3339Nano))
	return err
}

// readsWithin lists the times of a consent's unattended reads of an
// account in the 24 hours before now, oldest first.
func (b *Book) readsWithin(consent, account string, now time.Time) []time.Time {
	var out []time.Time
	for _, t := range b.readsSince(consent, account, now.Add(-UnattendedWindow)) {
		if t.After(now.Add(-UnattendedWindow)) {
			out = append(out, t)
		}
	}
	return out
}

// readsSince lists the times of a consent's unattended reads of an
// account from since on, oldest first. The times are compared as times,
// not as their text (RFC 3339 with a varying fraction does not sort).
func (b *Book) readsSince(consent, account string, since time.Time) []time.Time {
	rows, err := b.db.Query(`SELECT at FROM reads WHERE consent = ? AND account = ? AND at >= ?`,
		consent, account, since.Add(-time.Second).UTC().Format(time.RFC3339))
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var s string
		if rows.Scan(&s) == nil {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil && !t.Before(since) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// readsAllowed tells whether n more unattended reads of an account fit in
// the bank's limit (of any 24 hours) now, and if not, from when they do.
func (b *Book) readsAllowed(consent, account string, n int, now time.Time) (ok bool, used int, from time.Time) {
	return b.readsAllowedIn(window24h, consent, account, n, now)
}

// readWindow is how a bank counts unattended reads: in any 24 hours
// (PolishAPI, mBank: RTS art. 36(5)), or per calendar day in Warsaw by the
// bank's clock (Berlin Group's frequencyPerDay).
type readWindow int

const (
	window24h readWindow = iota
	windowDay
)

func (w readWindow) String() string {
	if w == windowDay {
		return "today (the bank's day, Europe/Warsaw)"
	}
	return "in the last 24 hours"
}

// dayStart is midnight in Warsaw of the bank's day of now.
func dayStart(now time.Time) time.Time {
	t := now.In(bankZone)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, bankZone)
}

// readsAllowedIn is readsAllowed in a window.
func (b *Book) readsAllowedIn(w readWindow, consent, account string, n int, now time.Time) (ok bool, used int, from time.Time) {
	if w == windowDay {
		reads := b.readsSince(consent, account, dayStart(now))
		if len(reads)+n <= UnattendedLimit {
			return true, len(reads), time.Time{}
		}
		d := dayStart(now)
		return false, len(reads), time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, bankZone)
	}
	reads := b.readsWithin(consent, account, now)
	if len(reads)+n <= UnattendedLimit {
		return true, len(reads), time.Time{}
	}
	// The oldest reads leave the window first: n fit once all but
	// UnattendedLimit-n of them have.
	return false, len(reads), reads[len(reads)-(UnattendedLimit-n)-1].Add(UnattendedWindow)
}
