package storage

import (
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

// dialect is what differs between database engines. Adding PostgreSQL or
// MySQL means adding an entry to dialects (with its database/sql driver
// imported) and a migrations/<name> directory.
type dialect struct {
	// name is the storage.driver value.
	name string
	// driver is the database/sql driver name.
	driver string
	// goose is the migration dialect.
	goose goose.Dialect
	// placeholder formats the n-th (1-based) bind parameter.
	placeholder func(n int) string
	// upsert is the clause appended to an INSERT to turn it into an
	// upsert on the key columns, updating cols.
	upsert func(key, cols []string) string
	// isBusy reports whether err means "locked by someone else, try
	// again".
	isBusy func(err error) bool
	// dsn prepares the environment (directories, files) and returns the
	// data source name for cfg.
	dsn func(cfg config.Config) (string, error)
}

// dialects maps storage.driver to its dialect. postgres and mysql are
// accepted by config.Validate but not implemented yet.
var dialects = map[string]*dialect{
	"sqlite": {
		name:        "sqlite",
		driver:      "sqlite", // modernc.org/sqlite
		goose:       goose.DialectSQLite3,
		placeholder: questionMark,
		upsert:      onConflictUpdate,
		isBusy:      sqliteBusy,
		dsn:         sqliteDSN,
	},
}

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

// sqliteDSN creates DataDir (0700) and the database file (0600: it holds
// credentials) when missing, and returns the file name with the
// connection pragmas. storage.dsn, when set, is the database file path.
func sqliteDSN(cfg config.Config) (string, error) {
	path := cfg.Storage.DSN
	if path == "" {
		if cfg.DataDir == "" {
			return "", errors.New("data_dir is empty")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return "", fmt.Errorf("create data dir: %w", err)
		}
		path = filepath.Join(cfg.DataDir, "parley.db")
	} else if dir := filepath.Dir(path); dir != "" {
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
