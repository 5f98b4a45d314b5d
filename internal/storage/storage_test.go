package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	return cfg
}

func open(t *testing.T, cfg config.Config) *DB {
	t.Helper()
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesAndMigrates(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	db := open(t, cfg)

	fi, err := os.Stat(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", fi.Mode().Perm())
	}
	fi, err = os.Stat(filepath.Join(cfg.DataDir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode = %v, want 0600", fi.Mode().Perm())
	}
	if v, err := db.Version(ctx); err != nil || v != latestMigration(t) {
		t.Errorf("Version = %d, %v; want %d", v, err, latestMigration(t))
	}
	if db.Driver() != "sqlite" {
		t.Errorf("Driver = %q", db.Driver())
	}

	pragmas := map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "5000",
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
	}
	for p, want := range pragmas {
		var got string
		if err := db.SQL().QueryRowContext(ctx, "PRAGMA "+p).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p, err)
		}
		if !strings.EqualFold(got, want) {
			t.Errorf("PRAGMA %s = %q, want %q", p, got, want)
		}
	}
	for _, table := range []string{"accounts", "scram_credentials"} {
		var n int
		if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: n=%d err=%v", table, n, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening is a no-op migration.
	db2 := open(t, cfg)
	if v, err := db2.Version(ctx); err != nil || v != latestMigration(t) {
		t.Errorf("Version after reopen = %d, %v; want %d", v, err, latestMigration(t))
	}
}

func TestOpenExplicitPath(t *testing.T) {
	cfg := testConfig(t)
	cfg.Storage.DSN = filepath.Join(t.TempDir(), "sub", "x.db")
	open(t, cfg)
	if _, err := os.Stat(cfg.Storage.DSN); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir created although storage.dsn was set: %v", err)
	}
}

func TestOpenUnsupportedDriver(t *testing.T) {
	cfg := testConfig(t)
	cfg.Storage.Driver = "oracle"
	cfg.Storage.DSN = "x"
	if _, err := Open(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("driver oracle: err = %v", err)
	}
}

// TestOpenBadServerDSN: a malformed DSN, or a server that is not there,
// is a clear error that does not repeat the password.
func TestOpenBadServerDSN(t *testing.T) {
	tests := []struct{ driver, dsn, want string }{
		{"postgres", "postgres://u:s3cr3t@[::1", "cannot parse"},
		{"postgres", "postgres://u:s3cr3t@127.0.0.1:1/db?connect_timeout=2", "127.0.0.1:1"},
		{"mysql", "u:s3cr3t@tcp(127.0.0.1:1)", "missing the slash"},
		{"mysql", "u:s3cr3t@tcp(127.0.0.1:1)/db?timeout=2s", "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.driver+" "+tt.want, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Storage.Driver, cfg.Storage.DSN = tt.driver, tt.dsn
			_, err := Open(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open = %v, want an error mentioning %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	db := open(t, cfg)
	if _, err := db.SQL().ExecContext(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open with schema 99: %v", err)
	}
}

func TestForeignKeysCascade(t *testing.T) {
	ctx := context.Background()
	db := open(t, testConfig(t))
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO accounts (username, domain, created_at) VALUES ('a', 'd', 0)"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO scram_credentials (domain, username, hash, salt, iterations, stored_key, server_key) VALUES ('d', 'a', 'SHA-1', x'00', 1, x'00', x'00')")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// No account: the foreign key refuses the row.
	_, err = db.SQL().ExecContext(ctx, "INSERT INTO scram_credentials (domain, username, hash, salt, iterations, stored_key, server_key) VALUES ('d', 'nobody', 'SHA-1', x'00', 1, x'00', x'00')")
	if err == nil {
		t.Error("credentials without account accepted")
	}
	// Unknown hash: the check constraint refuses it.
	_, err = db.SQL().ExecContext(ctx, "INSERT INTO scram_credentials (domain, username, hash, salt, iterations, stored_key, server_key) VALUES ('d', 'a', 'MD5', x'00', 1, x'00', x'00')")
	if err == nil {
		t.Error("unknown hash accepted")
	}
	if _, err := db.SQL().ExecContext(ctx, "DELETE FROM accounts"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM scram_credentials").Scan(&n); err != nil || n != 0 {
		t.Errorf("credentials left after delete: %d, %v", n, err)
	}
}

func TestInTxRollback(t *testing.T) {
	ctx := context.Background()
	db := open(t, testConfig(t))
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO accounts (username, domain, created_at) VALUES ('a', 'd', 0)"); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("InTx = %v, want the callback's error unchanged", err)
	}
	func() {
		defer func() { recover() }()
		db.InTx(ctx, func(tx *sql.Tx) error {
			tx.ExecContext(ctx, "INSERT INTO accounts (username, domain, created_at) VALUES ('b', 'd', 0)")
			panic("oops")
		})
	}()
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after rollback: %d, %v", n, err)
	}
}

// TestInTxRetriesWhenBusy holds the write lock from one process-like DB
// longer than the busy timeout of another: the second sees SQLITE_BUSY,
// retries and succeeds once the lock is released.
func TestInTxRetriesWhenBusy(t *testing.T) {
	old := busyTimeout
	busyTimeout = 20 * time.Millisecond
	t.Cleanup(func() { busyTimeout = old })

	ctx := context.Background()
	cfg := testConfig(t)
	a := open(t, cfg)
	b := open(t, cfg)

	locked := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := a.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO accounts (username, domain, created_at) VALUES ('a', 'd', 0)"); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
		if err != nil {
			t.Errorf("holder: %v", err)
		}
	}()
	<-locked
	// Without retries, the second writer fails with SQLITE_BUSY.
	err := b.tx(ctx, func(tx *sql.Tx) error { return nil })
	if !sqliteBusy(err) {
		t.Fatalf("single attempt while locked: %v, want SQLITE_BUSY", err)
	}
	time.AfterFunc(150*time.Millisecond, func() { close(release) })

	calls := 0
	err = b.InTx(ctx, func(tx *sql.Tx) error {
		calls++
		_, err := tx.ExecContext(ctx, "INSERT INTO accounts (username, domain, created_at) VALUES ('b', 'd', 0)")
		return err
	})
	wg.Wait()
	if err != nil {
		t.Fatalf("InTx while busy: %v", err)
	}
	var n int
	if err := b.SQL().QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&n); err != nil || n != 2 {
		t.Errorf("rows = %d, %v; want 2", n, err)
	}
	t.Logf("callback ran %d times", calls)
}

func TestConcurrentOpenMigrates(t *testing.T) {
	cfg := testConfig(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(context.Background(), cfg)
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestIsBusy(t *testing.T) {
	if sqliteBusy(errors.New("database is locked")) {
		t.Error("plain error taken for busy")
	}
}

func TestRebindAndUpsert(t *testing.T) {
	sqliteD := dialects["sqlite"]
	pg := &dialect{placeholder: dollar, upsert: onConflictUpdate}
	my := &dialect{placeholder: questionMark, upsert: onDuplicateKeyUpdate}

	q := "SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?"
	if got := rebind(sqliteD, q); got != q {
		t.Errorf("sqlite rebind = %q", got)
	}
	if got, want := rebind(pg, q), "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2"; got != want {
		t.Errorf("postgres rebind = %q, want %q", got, want)
	}

	key, cols := []string{"k1", "k2"}, []string{"v"}
	tests := []struct {
		d    *dialect
		want string
	}{
		{sqliteD, "INSERT INTO t (k1, k2, v) VALUES (?, ?, ?) ON CONFLICT (k1, k2) DO UPDATE SET v = excluded.v"},
		{pg, "INSERT INTO t (k1, k2, v) VALUES ($1, $2, $3) ON CONFLICT (k1, k2) DO UPDATE SET v = excluded.v"},
		{my, "INSERT INTO t (k1, k2, v) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)"},
	}
	for _, tt := range tests {
		if got := upsert(tt.d, "t", key, cols); got != tt.want {
			t.Errorf("upsert = %q, want %q", got, tt.want)
		}
	}
	if got, want := upsert(sqliteD, "t", key, nil), "INSERT INTO t (k1, k2) VALUES (?, ?) ON CONFLICT (k1, k2) DO NOTHING"; got != want {
		t.Errorf("upsert nothing = %q, want %q", got, want)
	}

	// The SQLite upsert really works.
	ctx := context.Background()
	db := open(t, testConfig(t))
	stmt := db.Upsert("accounts", []string{"domain", "username"}, []string{"created_at"})
	for _, ts := range []int{1, 2} {
		if _, err := db.SQL().ExecContext(ctx, stmt, "d", "u", ts); err != nil {
			t.Fatal(err)
		}
	}
	var ts int
	if err := db.SQL().QueryRowContext(ctx, db.Rebind("SELECT created_at FROM accounts WHERE domain = ? AND username = ?"), "d", "u").Scan(&ts); err != nil || ts != 2 {
		t.Errorf("after upsert created_at = %d, %v", ts, err)
	}
}

// TestBackupWhileWriting copies the database while another goroutine
// writes to it: the copy is a consistent, private, openable database with
// the schema and a prefix of the writes.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	db := open(t, cfg)
	stop, started := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			if i == 10 {
				close(started)
			}
			select {
			case <-stop:
				return
			default:
			}
			db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO accounts (username, domain, created_at) VALUES (?, 'd', 0)", fmt.Sprint("u", i))
				return err
			})
		}
	}()
	<-started
	path := filepath.Join(t.TempDir(), "copy.db")
	err := db.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	if err := db.Backup(ctx, path); err == nil {
		t.Error("Backup overwrote an existing file")
	}
	c := testConfig(t)
	c.Storage.DSN = path
	restored := open(t, c)
	if v, err := restored.Version(ctx); err != nil || v != latestMigration(t) {
		t.Errorf("restored version = %d, %v", v, err)
	}
	var n int
	if err := restored.SQL().QueryRowContext(ctx, "SELECT count(*) FROM accounts").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("backup holds %d accounts, want at least the 10 committed before it", n)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".parley-backup-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestMigrationsForEveryEngine: each engine has the same migrations, file
// for file (the suite's schema check compares their tables when the
// servers are there). A migration added for sqlite alone fails here.
func TestMigrationsForEveryEngine(t *testing.T) {
	list := func(engine string) []string {
		entries, err := fs.ReadDir(migrations, "migrations/"+engine)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	want := list("sqlite")
	for _, engine := range []string{"postgres", "mysql"} {
		if got := list(engine); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("migrations/%s has %v, migrations/sqlite has %v: write each migration for every engine", engine, got, want)
		}
	}
}
