package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/parleyim/parley/internal/config"
)

//go:embed migrations
var migrations embed.FS

// DB is an open, migrated database. It is safe for concurrent use.
type DB struct {
	sql      *sql.DB
	d        *dialect
	desc     string // what and where, without credentials
	migrator *goose.Provider
	// retryTimeout bounds InTx's retries while the database is
	// unreachable.
	retryTimeout time.Duration
	log          *slog.Logger
	// stmts caches the prepared statements of Query, QueryRow, Exec and
	// TxStmt.
	stmts stmtCache
	// archive is the message archive and its committer, made on first
	// use (see DB.Archive) and stopped by Close.
	archive     atomic.Pointer[Archive]
	archiveOnce sync.Once
	// sqliteDSN is the SQLite connection string, for the archive's own
	// writer connection ("" on the other engines).
	sqliteDSN string
}

// Open opens the database that cfg.Storage selects and applies any pending
// migrations. For sqlite that is <DataDir>/parley.db (or storage.dsn),
// creating DataDir with mode 0700 and the file with mode 0600 if missing;
// for postgres and mysql, storage.dsn names a database that exists.
// Several processes may open the same database at once.
func Open(ctx context.Context, cfg config.Config) (*DB, error) {
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

// OpenNoMigrate opens the database like Open but leaves the schema as it
// is: for `parley db status`, which must not change it.
func OpenNoMigrate(ctx context.Context, cfg config.Config) (*DB, error) {
	return openDB(ctx, cfg)
}

func openDB(ctx context.Context, cfg config.Config) (*DB, error) {
	d, ok := dialects[cfg.Storage.Driver]
	if !ok {
		return nil, fmt.Errorf("storage: driver %q is not supported (supported: %s)", cfg.Storage.Driver, driverNames)
	}
	sqlDB, desc, err := d.open(cfg)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", d.name, err)
	}
	if n := cfg.Storage.MaxOpenConns; n > 0 {
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(min(n, max(cfg.Storage.MaxIdleConns, 0)))
	}
	sqlDB.SetConnMaxLifetime(cfg.Storage.ConnMaxLifetime.D())
	if err := ping(ctx, sqlDB, d, cfg.Storage.RetryTimeout.D()); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: open %s: %w", desc, err)
	}
	sub, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: migrations for %s: %w", d.name, err)
	}
	p, err := goose.NewProvider(d.goose, sqlDB, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: migrations for %s: %w", d.name, err)
	}
	retry := cfg.Storage.RetryTimeout.D()
	if retry <= 0 {
		retry = config.Default().Storage.RetryTimeout.D()
	}
	db := &DB{sql: sqlDB, d: d, desc: desc, migrator: p, retryTimeout: retry, log: slog.With("storage", d.name)}
	if d.name == "sqlite" {
		db.sqliteDSN, _ = sqliteDSN(cfg) // succeeded in d.open
		var mode string
		if err := sqlDB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err == nil && !strings.EqualFold(mode, "wal") {
			db.log.Warn("storage: SQLite is not in WAL mode; the CLI and the server may block each other", "journal_mode", mode)
		}
	}
	return db, nil
}

// ping checks the connection. A fresh SQLite file that another process is
// switching to WAL at the same moment answers SQLITE_BUSY at once, without
// waiting out the busy timeout; that is retried until retry (or the
// default storage.retry_timeout) has passed.
func ping(ctx context.Context, sqlDB *sql.DB, d *dialect, retry time.Duration) error {
	if retry <= 0 {
		retry = config.Default().Storage.RetryTimeout.D()
	}
	deadline := time.Now().Add(retry)
	for {
		err := sqlDB.PingContext(ctx)
		if err == nil || d.classify == nil || d.classify(err) != errConflict || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(20+rand.IntN(80)) * time.Millisecond):
		}
	}
}

// redact drops the query (pragmas, or credentials in other DSNs) from dsn.
func redact(dsn string) string {
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		return dsn[:i]
	}
	return dsn
}

// Migrate applies pending migrations; Open already does.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx) }

// migrate applies pending migrations. Another process may be doing the
// same at the same moment: on PostgreSQL and MySQL a lock held for the
// duration keeps them apart; on SQLite each migration runs in its own
// transaction, so if ours fails because the other one applied it first,
// the schema is current and that is success.
func (db *DB) migrate(ctx context.Context) error {
	if db.d.migrationLock != nil {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return fmt.Errorf("storage: migrate: %w", err)
		}
		defer conn.Close()
		release, err := db.d.migrationLock(ctx, conn)
		if err != nil {
			return fmt.Errorf("storage: migrate: take the migration lock: %w", err)
		}
		defer release()
	}
	// Each failed attempt means another process applied a migration (or
	// held the file) meanwhile, so attempts go on, at least three, until
	// storage.retry_timeout has passed.
	deadline := time.Now().Add(db.retryTimeout)
	var err error
	for attempt := 0; attempt < 3 || time.Now().Before(deadline); attempt++ {
		var current, target int64
		current, target, err = db.migrator.GetVersions(ctx)
		if err != nil {
			err = fmt.Errorf("storage: read schema version: %w", err)
			continue
		}
		if current > target {
			return fmt.Errorf("storage: database schema version %d is newer than this build of parley supports (%d); run a newer parley", current, target)
		}
		if current == target {
			return nil
		}
		var results []*goose.MigrationResult
		results, err = db.migrator.Up(ctx)
		for _, r := range results {
			if r != nil && r.Error == nil && r.Source != nil {
				db.log.Info("storage: applied migration", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
			}
		}
		if err == nil {
			return nil
		}
		err = fmt.Errorf("storage: migrate: %w", err)
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(50+rand.IntN(100)) * time.Millisecond)
	}
	return err
}

// MigrationStatus is one migration and whether the database has it.
type MigrationStatus struct {
	Version int64
	Name    string // file name, e.g. 00001_accounts.sql
	Applied bool
	At      time.Time // when it was applied; zero if not
}

// Status lists the migrations this build knows, in order, and which the
// database has applied.
func (db *DB) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := db.migrator.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		ms := MigrationStatus{Version: s.Source.Version, Name: path.Base(s.Source.Path), Applied: s.State == goose.StateApplied}
		if ms.Applied {
			ms.At = s.AppliedAt
		}
		out = append(out, ms)
	}
	return out, nil
}

// Describe says which database this is (engine, name, host), without
// credentials.
func (db *DB) Describe() string { return db.desc }

// Close closes the database.
func (db *DB) Close() error {
	if a := db.archive.Load(); a != nil {
		a.stop()
	}
	db.closeStmts()
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}

// SQL returns the underlying pool, for queries outside transactions.
// Queries must be written with '?' placeholders and passed through Rebind.
func (db *DB) SQL() *sql.DB { return db.sql }

// Driver returns the storage.driver name of the database: "sqlite",
// "postgres" or "mysql".
func (db *DB) Driver() string { return db.d.name }

// Version returns the schema version: the highest applied migration.
func (db *DB) Version(ctx context.Context) (int64, error) {
	v, err := db.migrator.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("storage: schema version: %w", err)
	}
	return v, nil
}

// maxTxAttempts bounds InTx's retries on conflicts (busy database,
// deadlock, serialization failure); maxDupAttempts those on a unique key
// violation, which a retry fixes only when a concurrent transaction
// inserted the same key between our check and our insert.
const (
	maxTxAttempts  = 12
	maxDupAttempts = 3
)

// ErrUnavailable is wrapped in the error of InTx when the database could
// not be reached for longer than storage.retry_timeout.
var ErrUnavailable = errors.New("storage: database unavailable")

// ErrCommitUnknown is wrapped in the error of InTx when the connection
// broke while committing: the transaction may or may not have committed.
// It is not retried (fn might not be idempotent) and is reported as a
// failure, so nothing is ever acknowledged that did not commit.
var ErrCommitUnknown = errors.New("storage: connection lost during commit; the outcome is unknown")

// InTx runs fn in a write transaction and commits it, or rolls it back if
// fn returns an error (returned unchanged) or panics. The whole
// transaction is retried, with a growing delay, when it failed without
// committing for a reason that a retry can cure: the database was busy
// (SQLite), a deadlock or serialization failure (PostgreSQL and MySQL run
// these transactions SERIALIZABLE), a unique key taken by a concurrent
// transaction, or the database unreachable (restarting; retried for up to
// storage.retry_timeout). So fn may run more than once and must not have
// effects outside tx. Read-only queries do not need InTx: use SQL
// directly.
func (db *DB) InTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if a, ok := ctx.Value(atomicKey{}).(*atomicTx); ok && a.db == db {
		return fn(a.tx) // joined: Atomic commits, rolls back and retries
	}
	delay := 10 * time.Millisecond
	start := time.Now()
	conflicts, dups := 0, 0
	for attempt := 1; ; attempt++ {
		err := db.tx(ctx, fn)
		if err == nil {
			return nil
		}
		var retry bool
		switch db.d.classify(err) {
		case errConflict:
			conflicts++
			retry = conflicts < maxTxAttempts
		case errDuplicate:
			dups++
			retry = dups < maxDupAttempts
		case errUnavailable:
			if errors.Is(err, ErrCommitUnknown) {
				return err
			}
			if time.Since(start) >= db.retryTimeout {
				return fmt.Errorf("%w for %s: %w", ErrUnavailable, time.Since(start).Round(time.Millisecond), err)
			}
			retry = true
			delay = max(delay, 100*time.Millisecond)
		}
		if !retry || ctx.Err() != nil {
			return err
		}
		db.log.Debug("storage: retrying transaction", "attempt", attempt, "err", err)
		t := time.NewTimer(delay/2 + rand.N(delay))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("storage: transaction: %w (after: %w)", ctx.Err(), err)
		case <-t.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := db.sql.BeginTx(ctx, db.d.txOptions)
	if err != nil {
		return fmt.Errorf("storage: begin transaction: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback() // fn panicked; the panic goes on
		}
	}()
	if err := fn(tx); err != nil {
		done = true
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) && db.d.classify(rerr) != errUnavailable {
			db.log.Warn("storage: rollback failed", "err", rerr)
		}
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		if db.d.classify(err) == errUnavailable {
			return fmt.Errorf("storage: commit: %w: %w", ErrCommitUnknown, err)
		}
		return fmt.Errorf("storage: commit: %w", err)
	}
	return nil
}

// atomicKey is the context key of the transaction Atomic runs.
type atomicKey struct{}

type atomicTx struct {
	db *DB
	tx *sql.Tx
}

// Atomic runs fn in one write transaction that every InTx on db called
// with the context fn receives joins, so that writes made through several
// stores (an account, its roster, its records) commit or fail together.
// It commits when fn returns nil and is retried as InTx is, so fn may run
// more than once. Reads that stores make outside InTx do not see the
// transaction's uncommitted writes.
func (db *DB) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		return fn(context.WithValue(ctx, atomicKey{}, &atomicTx{db: db, tx: tx}))
	})
}

// LockOwner is lockOwner for stores outside this package (a per-user
// limit checked and written in one transaction).
func (db *DB) LockOwner(ctx context.Context, tx *sql.Tx, domain, username string) error {
	return db.lockOwner(ctx, tx, domain, username)
}

// lockOwner locks the account row of (domain, username) until tx ends, on
// engines where writers run concurrently (a no-op on SQLite, where a write
// transaction excludes all others).
func (db *DB) lockOwner(ctx context.Context, tx *sql.Tx, domain, username string) error {
	if db.d.lockOwner == "" {
		return nil
	}
	rows, err := tx.QueryContext(ctx, db.d.lockOwner, domain, username)
	if err != nil {
		return fmt.Errorf("lock account: %w", err)
	}
	return rows.Close()
}

// Rebind rewrites a query written with '?' placeholders into the
// database's placeholder style. Question marks inside quoted strings and
// identifiers are left alone.
func (db *DB) Rebind(query string) string { return rebind(db.d, query) }

func rebind(d *dialect, query string) string {
	if d.placeholder(1) == "?" || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '?':
			n++
			b.WriteString(d.placeholder(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Upsert returns an INSERT statement (in the database's placeholder style)
// into table for the columns key followed by cols, which updates cols when
// a row with the same key exists (or does nothing if cols is empty).
// Arguments are passed in the same order: key values, then cols values.
func (db *DB) Upsert(table string, key, cols []string) string {
	return upsert(db.d, table, key, cols)
}

func upsert(d *dialect, table string, key, cols []string) string {
	all := append(append([]string(nil), key...), cols...)
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(all)), ", ")
	q := "INSERT INTO " + table + " (" + strings.Join(all, ", ") + ") VALUES (" + marks + ")" + d.upsert(key, cols)
	return rebind(d, q)
}
