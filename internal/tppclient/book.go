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
    PRIMARY KEY (account, item_id));
CREATE TABLE IF NOT EXISTS accesses (day TEXT NOT NULL, account TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (day, account));
`

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

// Item is an imported item as the book keeps it.
type Item struct {
	Account, ItemID, Status, BookingDate, TradeDate, Amount, Currency string
	Description, CounterpartyName, CounterpartyAccount, BalanceAfter  string
}

// Items lists an account's items, newest first.
func (b *Book) Items(account string) ([]Item, error) {
	rows, err := b.db.Query(`SELECT account, item_id, status, booking_date, trade_date, amount, currency, description,
		counterparty_name, counterparty_account, balance_after FROM items WHERE account = ?
		ORDER BY COALESCE(NULLIF(booking_date, ''), trade_date) DESC, item_id DESC`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.Account, &it.ItemID, &it.Status, &it.BookingDate, &it.TradeDate, &it.Amount, &it.Currency,
			&it.Description, &it.CounterpartyName, &it.CounterpartyAccount, &it.BalanceAfter); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// upsert records an item; a booked item replaces its pending row, a
// pending item never overwrites a booked one.
func (b *Book) upsert(ctx context.Context, it Item, raw []byte, now time.Time) error {
	_, err := b.db.ExecContext(ctx, `INSERT INTO items (account, item_id, status, booking_date, trade_date, amount, currency, description,
		counterparty_name, counterparty_account, balance_after, raw, synced_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (account, item_id) DO UPDATE SET status = excluded.status, booking_date = excluded.booking_date,
		trade_date = excluded.trade_date, amount = excluded.amount, balance_after = excluded.balance_after, raw = excluded.raw,
		synced_at = excluded.synced_at, description = excluded.description
		WHERE items.status <> 'booked' OR excluded.status = 'booked'`,
		it.Account, it.ItemID, it.Status, it.BookingDate, it.TradeDate, it.Amount, it.Currency, it.Description, it.CounterpartyName,
		it.CounterpartyAccount, it.BalanceAfter, string(raw), now.UTC().Format(time.RFC3339))
	return err
}

// lastBooking is the newest booking date imported for an account.
func (b *Book) lastBooking(account string) string {
	var d sql.NullString
	b.db.QueryRow(`SELECT MAX(booking_date) FROM items WHERE account = ? AND status = 'booked'`, account).Scan(&d)
	return d.String
}

// countAccess records an unattended access to an account today and tells
// how many there were.
func (b *Book) countAccess(account string, day string) (int, error) {
	var n int
	err := b.db.QueryRow(`INSERT INTO accesses (day, account, n) VALUES (?, ?, 1)
		ON CONFLICT (day, account) DO UPDATE SET n = n + 1 RETURNING n`, day, account).Scan(&n)
	return n, err
}

func (b *Book) accessesToday(account, day string) int {
	var n int
	b.db.QueryRow(`SELECT n FROM accesses WHERE day = ? AND account = ?`, day, account).Scan(&n)
	return n
}
