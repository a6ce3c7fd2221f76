package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies every embedded migration that the database does not have
// yet and returns the versions it applied.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	defer db.migrating()()
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// Version is the newest migration the database has.
func (db *DB) Version(ctx context.Context) (int64, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// migrating lets SQLite's writer have a second connection while goose
// migrates, and returns the function that takes it away again: goose holds
// one connection for its session and gives a migration that runs outside
// its transaction (paymentsByID) the pool, which with the writer's one
// connection would wait for ever.
func (db *DB) migrating() func() {
	if db.engine != SQLite {
		return func() {}
	}
	db.write.SetMaxOpenConns(2)
	return func() { db.write.SetMaxOpenConns(1) }
}

func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	opts := []goose.ProviderOption{goose.WithGoMigrations(postingsPageIndex(db.engine), clusteredTables(db.engine), clusteredAccesses(db.engine), ledViewMigration(db.engine), accessesByConsent(db.engine), paymentsByID(db.engine))}
	if db.engine == Postgres {
		// Nodes that start together (a new version rolled out to all of
		// them) migrate one after the other: the first applies what is new
		// while the others wait, then find nothing left to do. Without it
		// a node could fail to start ("duplicate key value": reproduced
		// with two sandboxes, TestNodesMigrateTogether). The lock is a row of a table (goose_lock) with a lease
		// that a heartbeat renews — plain SQL, no advisory lock (see the
		// package comment) — so a node that dies while migrating holds it
		// for at most the lease.
		locker, err := nodeLock(lock.DefaultLockID)
		if err != nil {
			return nil, fmt.Errorf("migrations lock: %w", err)
		}
		opts = append(opts, goose.WithLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.write, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// postingsPageIndex is migration 28: an index that holds every column of a
// booked item, in the order of an account's page (account_id, seq), so that
// a page of the account's history (ledger.BookedItems) is one range scan of
// the index and never a seek into the table per item. The two engines spell
// it differently, which is why it is a Go migration and not a file:
// SQLite puts the columns in the key (it has no INCLUDE; a key may be any
// length), PostgreSQL keeps them out of the key with INCLUDE (the key stays
// the page's order; the row is read by an index-only scan once the table's
// visibility map is set, which autovacuum does for an insert-only table).
// The index costs about the table's size again on disk and one more index
// entry per posting written.
func postingsPageIndex(engine Engine) *goose.Migration {
	up := `CREATE INDEX postings_page ON postings (account_id, seq, id, transfer_id, amount, balance_after, currency,
	kind, title, counterparty_name, counterparty_account, trade_date, booking_date, booked_at)`
	if engine == Postgres {
		up = `CREATE INDEX postings_page ON postings (account_id, seq) INCLUDE (id, transfer_id, amount, balance_after,
	currency, kind, title, counterparty_name, counterparty_account, trade_date, booking_date, booked_at)`
	}
	return goose.NewGoMigration(28,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, up)
			return err
		}},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DROP INDEX postings_page`)
			return err
		}})
}

// clusteredTables is migration 30: on SQLite, three tables that every
// payment initiation writes become WITHOUT ROWID tables, each stored in
// the B-tree of its primary key. A rowid table with a TEXT or composite
// primary key is two B-trees (the rows by rowid, and the key's index), and
// each B-tree an insert touches is one more page in the write-ahead log's
// commit, written while SQLite's one writer is held: the audit record
// (keyed by its UUIDv7 id, so new rows go to the right edge), a payment's
// history (keyed by the order it is read in, payment, time, id: one B-tree
// instead of three) and the API payment totals (keyed by account, day and
// kind). An initiation writes four pages fewer (BENCHMARKS.md). PostgreSQL's
// tables are heaps with separate indexes whatever the key: nothing to do.
func clusteredTables(engine Engine) *goose.Migration {
	return goose.NewGoMigration(30, sqliteOnly(engine, rebuild(clusteredSchema)), sqliteOnly(engine, rebuild(rowidSchema)))
}

// sqliteOnly is a migration's step that runs stmts on SQLite and does
// nothing on PostgreSQL.
func sqliteOnly(engine Engine, stmts []string) *goose.GoFunc {
	return &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		if engine != SQLite {
			return nil
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%.60s: %w", q, err)
			}
		}
		return nil
	}}
}

// clusteredAccesses is migration 31: on SQLite, the two rows every AIS
// call writes — its audit record and the consent's access record — each
// touch one B-tree fewer. The audit record is kept in the order of the
// bank's time (primary key at, id), which makes the index on at alone
// redundant; the access record becomes a WITHOUT ROWID table keyed by its
// UUIDv7 id. Five pages a call instead of seven in the write-ahead log's
// commits; a payment initiation writes one fewer too (BENCHMARKS.md).
// PostgreSQL: nothing to do (see clusteredTables).
func clusteredAccesses(engine Engine) *goose.Migration {
	return goose.NewGoMigration(31, sqliteOnly(engine, rebuild(accessesByTime)), sqliteOnly(engine, rebuild(accessesBefore)))
}

// accessesByConsent is migration 33: on SQLite, an AIS call writes three
// pages instead of five. The access record is kept in the order its limit
// counts it in — primary key (consent_id, resource, psu_present, at, id),
// the window index's columns, which it replaces (nothing reads an access by
// its id alone) — and the audit record's index on (tpp_id, at), which no
// statement of the bank uses (a TPP's calls in a time range are read by
// the table's own key on at), is dropped. The led view over
// consent_accesses goes while the table is rebuilt and comes back.
// PostgreSQL: nothing to do (see clusteredTables).
func accessesByConsent(engine Engine) *goose.Migration {
	view, noView := ledViewStatements(), dropLedView()
	byConsent := []rebuiltTable{{name: "consent_accesses", columns: accessColumns, create: accessByConsentTable}}
	up := append(append(append(slices.Clone(noView), rebuild(byConsent)...), "DROP INDEX request_audit_tpp"), view...)
	down := append(append(append(slices.Clone(noView), rebuild(accessesByTime[1:])...), auditIndexes[1]), view...)
	return goose.NewGoMigration(33, sqliteOnly(engine, up), sqliteOnly(engine, down))
}

// accessByConsentTable is consent_accesses as of migration 33 on SQLite.
const accessByConsentTable = `CREATE TABLE %s (
    id          TEXT NOT NULL,
    consent_id  TEXT NOT NULL REFERENCES consents (id),
    resource    TEXT NOT NULL,
    privilege   TEXT NOT NULL,
    psu_present BOOLEAN NOT NULL,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (consent_id, resource, psu_present, at, id)
) WITHOUT ROWID`

// rebuild is SQLite's way to change a table's storage: a new table, the
// rows copied, the old one dropped and the new one renamed, its indexes
// made again. Only tables no foreign key points to are rebuilt so.
func rebuild(tables []rebuiltTable) []string {
	var out []string
	for _, t := range tables {
		out = append(out, fmt.Sprintf(t.create, t.name+"_rebuilt"),
			fmt.Sprintf("INSERT INTO %s_rebuilt SELECT %s FROM %s", t.name, t.columns, t.name),
			"DROP TABLE "+t.name, fmt.Sprintf("ALTER TABLE %s_rebuilt RENAME TO %s", t.name, t.name))
		out = append(out, t.indexes...)
	}
	return out
}

type rebuiltTable struct {
	name, columns, create string
	indexes               []string
}

const (
	auditColumns = "id, at, tpp_id, cert_serial, request_id, dialect, operation, method, path, remote_addr, decision, code, reason, status"
	auditTable   = `CREATE TABLE %s (
    id           TEXT NOT NULL PRIMARY KEY,
    at           BIGINT NOT NULL,
    tpp_id       TEXT NOT NULL,
    cert_serial  TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    dialect      TEXT NOT NULL,
    operation    TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    remote_addr  TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('allowed', 'refused')),
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       INTEGER NOT NULL
)`
	historyColumns = "id, payment_id, status, reason, at"
	totalsColumns  = "account_nrb, day, kind, total, payments"
	totalsTable    = `CREATE TABLE %s (
    account_nrb TEXT NOT NULL,
    day         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    total       BIGINT NOT NULL,
    payments    INTEGER NOT NULL,
    PRIMARY KEY (account_nrb, day, kind)
)`
)

var auditIndexes = []string{
	`CREATE UNIQUE INDEX request_audit_once ON request_audit (tpp_id, request_id) WHERE decision = 'allowed'`,
	`CREATE INDEX request_audit_tpp ON request_audit (tpp_id, at)`,
	`CREATE INDEX request_audit_at ON request_audit (at)`,
}

const (
	accessColumns = "id, consent_id, resource, privilege, psu_present, at, kind"
	accessTable   = `CREATE TABLE %s (
    id          TEXT PRIMARY KEY,
    consent_id  TEXT NOT NULL REFERENCES consents (id),
    resource    TEXT NOT NULL,
    privilege   TEXT NOT NULL,
    psu_present BOOLEAN NOT NULL,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL DEFAULT ''
)`
	accessIndex = `CREATE INDEX consent_accesses_window ON consent_accesses (consent_id, resource, psu_present, at)`
	// auditByTimeTable is auditTable kept in the order of the bank's time.
	auditByTimeTable = `CREATE TABLE %s (
    id           TEXT NOT NULL,
    at           BIGINT NOT NULL,
    tpp_id       TEXT NOT NULL,
    cert_serial  TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    dialect      TEXT NOT NULL,
    operation    TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    remote_addr  TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('allowed', 'refused')),
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       INTEGER NOT NULL,
    PRIMARY KEY (at, id)
) WITHOUT ROWID`
)

// accessesByTime is migration 31's layout, accessesBefore the one before.
var (
	accessesByTime = []rebuiltTable{
		{name: "request_audit", columns: auditColumns, create: auditByTimeTable, indexes: auditIndexes[:2]},
		{name: "consent_accesses", columns: accessColumns, create: accessTable + " WITHOUT ROWID", indexes: []string{accessIndex}},
	}
	accessesBefore = []rebuiltTable{
		{name: "request_audit", columns: auditColumns, create: auditTable + " WITHOUT ROWID", indexes: auditIndexes},
		{name: "consent_accesses", columns: accessColumns, create: accessTable, indexes: []string{accessIndex}},
	}
)

var clusteredSchema = []rebuiltTable{
	{name: "request_audit", columns: auditColumns, create: auditTable + " WITHOUT ROWID", indexes: auditIndexes},
	{name: "payment_history", columns: historyColumns, create: `CREATE TABLE %s (
    id         TEXT NOT NULL,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL,
    PRIMARY KEY (payment_id, at, id)
) WITHOUT ROWID`},
	{name: "api_payment_totals", columns: totalsColumns, create: totalsTable + " WITHOUT ROWID"},
}

var rowidSchema = []rebuiltTable{
	{name: "request_audit", columns: auditColumns, create: auditTable, indexes: auditIndexes},
	{name: "payment_history", columns: historyColumns, create: `CREATE TABLE %s (
    id         TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    at         BIGINT NOT NULL
)`, indexes: []string{`CREATE INDEX payment_history_payment ON payment_history (payment_id, at, id)`}},
	{name: "api_payment_totals", columns: totalsColumns, create: totalsTable},
}

// nodeLock is a lock among the nodes sharing a PostgreSQL database: the row
// id of the goose_lock table, held with a lease of 30 s that a heartbeat
// renews every 5 s, asked for again every 250 ms for up to 10 minutes.
func nodeLock(id int64) (lock.Locker, error) {
	return lock.NewPostgresTableLocker(lock.WithTableLockID(id),
		lock.WithTableLockTimeout(250*time.Millisecond, 2400),
		lock.WithTableLeaseDuration(30*time.Second), lock.WithTableHeartbeatInterval(5*time.Second))
}

// LockTable is the table of the nodes' locks (Exclusive, migrations):
// data of no business of the bank's, which emptying the bank's tables
// leaves alone.
const LockTable = lock.DefaultLockTableName

// Exclusive runs fn while this node holds lock id among all the nodes on
// the database, so that work only one node may do at a time — such as a
// new database's first filling — is done once: a node that comes second
// waits, then finds it done. On PostgreSQL the lock is a row of LockTable
// (plain SQL, no advisory lock) with a lease: a node that dies holding it
// holds it for at most 30 s. On SQLite, one node's file, fn simply runs.
// Ids are the callers' constants; the migrations use goose's default,
// lock.DefaultLockID.
func (db *DB) Exclusive(ctx context.Context, id int64, fn func() error) error {
	if db.engine != Postgres {
		return fn()
	}
	l, err := nodeLock(id)
	if err != nil {
		return err
	}
	if err := l.Lock(ctx, db.write); err != nil {
		return fmt.Errorf("wait for lock %d: %w", id, err)
	}
	fnErr := fn()
	if err := l.Unlock(ctx, db.write); err != nil && fnErr == nil {
		return fmt.Errorf("release lock %d: %w", id, err)
	}
	return fnErr
}
