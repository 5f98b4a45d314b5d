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
	"strings"
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
	migrator *goose.Provider
}

// Open opens the database that cfg.Storage selects and applies any pending
// migrations. For sqlite that is <DataDir>/parley.db (or storage.dsn),
// creating DataDir with mode 0700 and the file with mode 0600 if missing.
// Several processes may open the same database at once.
func Open(ctx context.Context, cfg config.Config) (*DB, error) {
	d, ok := dialects[cfg.Storage.Driver]
	if !ok {
		return nil, fmt.Errorf("storage: driver %q is not supported (supported: sqlite)", cfg.Storage.Driver)
	}
	dsn, err := d.dsn(cfg)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", d.name, err)
	}
	sqlDB, err := sql.Open(d.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", d.name, err)
	}
	if n := cfg.Storage.MaxOpenConns; n > 0 {
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: open %s %s: %w", d.name, redact(dsn), err)
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
	db := &DB{sql: sqlDB, d: d, migrator: p}
	if err := db.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if d.name == "sqlite" {
		var mode string
		if err := sqlDB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err == nil && !strings.EqualFold(mode, "wal") {
			slog.Warn("storage: SQLite is not in WAL mode; the CLI and the server may block each other", "journal_mode", mode)
		}
	}
	return db, nil
}

// redact drops the query (pragmas, or credentials in other DSNs) from dsn.
func redact(dsn string) string {
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		return dsn[:i]
	}
	return dsn
}

// migrate applies pending migrations. Another process may be doing the
// same at the same moment: each migration runs in its own transaction, so
// if ours fails because the other one applied it first, the schema is
// current and that is success.
func (db *DB) migrate(ctx context.Context) error {
	const attempts = 3
	var err error
	for range attempts {
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
				slog.Info("storage: applied migration", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
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

// Close closes the database.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}

// SQL returns the underlying pool, for queries outside transactions.
// Queries must be written with '?' placeholders and passed through Rebind.
func (db *DB) SQL() *sql.DB { return db.sql }

// Driver returns the storage.driver name of the database ("sqlite").
func (db *DB) Driver() string { return db.d.name }

// Version returns the schema version: the highest applied migration.
func (db *DB) Version(ctx context.Context) (int64, error) {
	v, err := db.migrator.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("storage: schema version: %w", err)
	}
	return v, nil
}

// maxTxAttempts bounds InTx's retries on a busy database.
const maxTxAttempts = 8

// InTx runs fn in a write transaction and commits it, or rolls it back if
// fn returns an error (returned unchanged) or panics. If the database is
// busy (locked by another process beyond the busy timeout), the whole
// transaction is retried with a growing delay, so fn may run more than
// once and must not have effects outside tx. Read-only queries do not need
// InTx: use SQL directly.
func (db *DB) InTx(ctx context.Context, fn func(*sql.Tx) error) error {
	delay := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := db.tx(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !db.d.isBusy(err) {
			return err
		}
		slog.Debug("storage: database busy, retrying transaction", "attempt", attempt, "err", err)
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
	tx, err := db.sql.BeginTx(ctx, nil)
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
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			slog.Warn("storage: rollback failed", "err", rerr)
		}
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	return nil
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
