package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the admin connection

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage"
)

// Environment variables that select the engine servers.
const (
	EnvPostgres = "PARLEY_TEST_POSTGRES_DSN"
	EnvMySQL    = "PARLEY_TEST_MYSQL_DSN"
	EnvRequire  = "PARLEY_REQUIRE_ENGINES"
)

// Drivers are the storage.driver values, in the order tests run them.
var Drivers = []string{"sqlite", "postgres", "mysql"}

// ServerDSN returns the admin DSN of driver's test server from the
// environment. When there is none, the test is skipped, or fails when
// PARLEY_REQUIRE_ENGINES=1.
func ServerDSN(t testing.TB, driver string) string {
	t.Helper()
	env := map[string]string{"postgres": EnvPostgres, "mysql": EnvMySQL}[driver]
	if env == "" {
		t.Fatalf("storagetest: no test server for driver %q", driver)
	}
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("storagetest: %s is not set but %s=1: start the servers with scripts/test-databases.sh", env, EnvRequire)
		}
		t.Skipf("storagetest: %s not set (run scripts/test-databases.sh start)", env)
	}
	return dsn
}

// Config returns a configuration whose storage is a fresh, empty database
// of driver: a new SQLite file in a temporary directory, or a new database
// on the test server, dropped when the test ends.
func Config(t testing.TB, driver string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Storage.Driver = driver
	cfg.Storage.RetryTimeout = config.Duration(20 * time.Second)
	switch driver {
	case "sqlite":
	case "postgres":
		cfg.Storage.DSN = createPostgres(t, ServerDSN(t, driver))
	case "mysql":
		cfg.Storage.DSN = createMySQL(t, ServerDSN(t, driver))
	default:
		t.Fatalf("storagetest: unknown driver %q", driver)
	}
	return cfg
}

// Open opens (and migrates) a fresh database of driver, closed when the
// test ends.
func Open(t testing.TB, driver string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), Config(t, driver))
	if err != nil {
		t.Fatalf("storagetest: open %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func dbName() string {
	var b [6]byte
	rand.Read(b[:])
	return "parley_test_" + hex.EncodeToString(b[:])
}

// createPostgres creates a database on the server of admin and returns
// the DSN of that database.
func createPostgres(t testing.TB, admin string) string {
	t.Helper()
	name := dbName()
	adminExec(t, "pgx", admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { adminExec(t, "pgx", admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return withPostgresDB(t, admin, name)
}

// withPostgresDB replaces the database of a postgres DSN (URL or
// key=value form).
func withPostgresDB(t testing.TB, dsn, name string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " dbname=" + name
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("storagetest: %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

func createMySQL(t testing.TB, admin string) string {
	t.Helper()
	mc, err := mysql.ParseDSN(admin)
	if err != nil {
		t.Fatalf("storagetest: %s: %v", EnvMySQL, err)
	}
	name := dbName()
	adminExec(t, "mysql", admin, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	t.Cleanup(func() { adminExec(t, "mysql", admin, "DROP DATABASE IF EXISTS "+name) })
	mc.DBName = name
	return mc.FormatDSN()
}

// adminExec runs one statement on a short-lived admin connection.
func adminExec(t testing.TB, driver, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("storagetest: %s: %v", driver, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("storagetest: %s: %v", stmt, err)
	}
}

// Describe names an engine's server version, for test logs.
func Describe(t testing.TB, db *storage.DB) string {
	t.Helper()
	q := map[string]string{"sqlite": "SELECT sqlite_version()", "postgres": "SHOW server_version", "mysql": "SELECT version()"}[db.Driver()]
	var v string
	if err := db.SQL().QueryRowContext(context.Background(), q).Scan(&v); err != nil {
		return fmt.Sprintf("%s (version unknown: %v)", db.Driver(), err)
	}
	return db.Driver() + " " + v
}
