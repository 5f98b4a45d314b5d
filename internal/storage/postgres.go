package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/parleyim/parley/internal/config"
)

// postgresDialect is PostgreSQL through pgx. Write transactions are
// SERIALIZABLE, so that the stores, written for SQLite's one-writer-at-a-
// time transactions, keep their meaning; conflicts come back as
// serialization failures, which InTx retries.
var postgresDialect = &dialect{
	name:          "postgres",
	goose:         goose.DialectPostgres,
	placeholder:   dollar,
	upsert:        onConflictUpdate,
	open:          openPostgres,
	classify:      classifyPostgres,
	txOptions:     &sql.TxOptions{Isolation: sql.LevelSerializable},
	lockOwner:     "SELECT 1 FROM accounts WHERE domain = $1 AND username = $2 FOR NO KEY UPDATE",
	migrationLock: postgresMigrationLock,
}

// connectTimeout bounds connecting to a database server when the DSN does
// not say.
const connectTimeout = 5 * time.Second

// openPostgres parses storage.dsn (a URL or key=value string, as libpq
// and pgx accept) and adds what Parley needs: an application name and a
// connect timeout unless the DSN sets them.
func openPostgres(cfg config.Config) (*sql.DB, string, error) {
	pc, err := pgx.ParseConfig(cfg.Storage.DSN)
	if err != nil {
		return nil, "", fmt.Errorf("storage.dsn: %w", redactPgError(err))
	}
	if _, ok := pc.RuntimeParams["application_name"]; !ok {
		pc.RuntimeParams["application_name"] = "parley"
	}
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = connectTimeout
	}
	desc := fmt.Sprintf("postgres database %q on %s", pc.Database, pc.Host)
	if !strings.HasPrefix(pc.Host, "/") {
		desc = fmt.Sprintf("%s:%d", desc, pc.Port)
	}
	return stdlib.OpenDB(*pc), desc, nil
}

// redactPgError drops the DSN that pgx quotes in parse errors: it may hold
// a password.
func redactPgError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse the connection string (a postgres:// URL or key=value pairs)")
	}
	return err
}

func classifyPostgres(err error) errClass {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock
			return errConflict
		case pe.Code == "23505": // unique violation
			return errDuplicate
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutdown, crash, starting up
			pe.Code == "53300": // too many connections
			return errUnavailable
		}
		return errOther
	}
	if connectionError(err) {
		return errUnavailable
	}
	return errOther
}

// connectionError reports errors of the connection itself, not of the SQL:
// refused or reset connections, a server that hung up.
func connectionError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed),
		errors.As(err, &ce), errors.As(err, &oe):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return pgconn.SafeToRetry(err)
}

// migrationLockKey is the advisory lock migrations hold (any constant).
const migrationLockKey = 0x7061726c6579 // "parley"

func postgresMigrationLock(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return nil, err
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLockKey)
	}, nil
}

// customPlan, as the first argument of a query through pgx, has it sent
// unprepared (an unnamed statement with its arguments), so that PostgreSQL
// plans it for those arguments instead of reusing a generic plan.
const customPlan = pgx.QueryExecModeExec
