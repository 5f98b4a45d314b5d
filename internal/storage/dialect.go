package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleyim/parley/internal/config"
)

// dialect is what differs between database engines: how to connect, the
// SQL spelling of placeholders and upserts, the transaction isolation, and
// which errors mean "try again". Each engine has an entry in dialects and
// a migrations/<name> directory with the same schema in its own SQL.
type dialect struct {
	// name is the storage.driver value and the migrations directory.
	name string
	// goose is the migration dialect.
	goose goose.Dialect
	// placeholder formats the n-th (1-based) bind parameter.
	placeholder func(n int) string
	// upsert is the clause appended to an INSERT to turn it into an
	// upsert on the key columns, updating cols.
	upsert func(key, cols []string) string
	// open connects to the database of cfg (without pinging it) and
	// returns a description for messages, free of credentials.
	open func(cfg config.Config) (db *sql.DB, desc string, err error)
	// classify says whether err, from a transaction, is worth retrying.
	classify func(err error) errClass
	// txOptions are the options of InTx's transactions: nil means the
	// driver's default.
	txOptions *sql.TxOptions
	// lockOwner, when not empty, is a query on (domain, username) that
	// locks the account's row until the transaction ends; it orders the
	// writers of one user's queue (see Queue.Push).
	lockOwner string
	// migrationLock, when set, takes a lock on conn that keeps other
	// processes from migrating at the same time, and returns its release.
	migrationLock func(ctx context.Context, conn *sql.Conn) (release func(), err error)
}

// errClass is what a failed transaction means for a retry.
type errClass int

const (
	errOther       errClass = iota // a real failure: return it
	errConflict                    // busy, deadlock, serialization failure: rolled back, retry
	errDuplicate                   // unique key violation: a concurrent insert won; retry a few times
	errUnavailable                 // the database cannot be reached or is restarting
)

// dialects maps storage.driver to its dialect.
var dialects = map[string]*dialect{
	"sqlite": {
		name:        "sqlite",
		goose:       goose.DialectSQLite3,
		placeholder: questionMark,
		upsert:      onConflictUpdate,
		open:        openSQLite,
		classify:    classifySQLite,
	},
	"postgres": postgresDialect,
	"mysql":    mysqlDialect,
}

// driverNames lists the supported storage.driver values, for messages.
const driverNames = "sqlite, postgres, mysql"

func questionMark(int) string { return "?" }

// dollar is PostgreSQL's placeholder style ($1, $2, ...).
func dollar(n int) string { return "$" + strconv.Itoa(n) }

// onConflictUpdate is the SQLite and PostgreSQL upsert.
func onConflictUpdate(key, cols []string) string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (")
	b.WriteString(strings.Join(key, ", "))
	b.WriteString(") DO ")
	if len(cols) == 0 {
		b.WriteString("NOTHING")
		return b.String()
	}
	b.WriteString("UPDATE SET ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}

// onDuplicateKeyUpdate is MySQL's upsert.
func onDuplicateKeyUpdate(key, cols []string) string {
	if len(cols) == 0 {
		cols = key[:1] // a no-op update: MySQL has no DO NOTHING
	}
	var b strings.Builder
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = VALUES(" + c + ")")
	}
	return b.String()
}

// busyTimeout is how long SQLite waits for a lock before returning
// SQLITE_BUSY. A variable so that tests can shorten it.
var busyTimeout = 5 * time.Second

func sqliteBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff { // primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

func classifySQLite(err error) errClass {
	if sqliteBusy(err) {
		return errConflict
	}
	return errOther
}

func openSQLite(cfg config.Config) (*sql.DB, string, error) {
	dsn, err := sqliteDSN(cfg)
	if err != nil {
		return nil, "", err
	}
	db, err := sql.Open("sqlite", dsn) // modernc.org/sqlite
	if err != nil {
		return nil, "", err
	}
	return db, redact(dsn), nil
}

// sqlitePath returns the database file of cfg: storage.dsn, or
// <DataDir>/parley.db when it is empty.
func sqlitePath(cfg config.Config) (string, error) {
	if cfg.Storage.DSN != "" {
		return cfg.Storage.DSN, nil
	}
	if cfg.DataDir == "" {
		return "", errors.New("data_dir is empty")
	}
	return filepath.Join(cfg.DataDir, "parley.db"), nil
}

// sqliteDSN creates DataDir (0700) and the database file (0600: it holds
// credentials) when missing, and returns the file name with the
// connection pragmas. storage.dsn, when set, is the database file path.
func sqliteDSN(cfg config.Config) (string, error) {
	path, err := sqlitePath(cfg)
	if err != nil {
		return "", err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create database dir: %w", err)
		}
	}
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("database path %q contains '?' or '#'", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("create database file: %w", err)
	}
	f.Close()
	q := []string{
		"_busy_timeout=" + strconv.FormatInt(busyTimeout.Milliseconds(), 10),
		"_journal_mode=WAL",
		"_foreign_keys=1",
		"_synchronous=NORMAL",
		// Write transactions take the write lock at BEGIN, where the busy
		// timeout applies, instead of failing when a read lock cannot be
		// upgraded because another process wrote in between.
		"_txlock=immediate",
	}
	return path + "?" + strings.Join(q, "&"), nil
}
