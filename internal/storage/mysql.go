package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"

	"github.com/parleyim/parley/internal/config"
)

// mysqlDialect is MySQL 8 and MariaDB 10.11 (InnoDB) through
// go-sql-driver/mysql. As on PostgreSQL, write transactions are
// SERIALIZABLE; InnoDB reports conflicts as deadlocks, which InTx retries.
var mysqlDialect = &dialect{
	name:          "mysql",
	goose:         goose.DialectMySQL,
	placeholder:   questionMark,
	upsert:        onDuplicateKeyUpdate,
	open:          openMySQL,
	classify:      classifyMySQL,
	txOptions:     &sql.TxOptions{Isolation: sql.LevelSerializable},
	lockOwner:     "SELECT 1 FROM accounts WHERE domain = ? AND username = ? FOR UPDATE",
	migrationLock: mysqlMigrationLock,
}

// openMySQL parses storage.dsn (go-sql-driver's DSN format,
// user:password@tcp(host:port)/dbname or user@unix(/path)/dbname) and adds
// the options Parley relies on: strict SQL mode (an over-long value is an
// error, never truncated), UTF-8, affected rows counting matched rows as
// SQLite and PostgreSQL do, time values as time.Time, refusing read-only
// servers, a dial timeout.
func openMySQL(cfg config.Config) (*sql.DB, string, error) {
	mc, err := mysql.ParseDSN(cfg.Storage.DSN)
	if err != nil {
		return nil, "", fmt.Errorf("storage.dsn: %w", err)
	}
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	if _, ok := mc.Params["sql_mode"]; !ok {
		mc.Params["sql_mode"] = "'TRADITIONAL,NO_AUTO_VALUE_ON_ZERO'"
	}
	if mc.Collation == "" || mc.Collation == "utf8mb4_general_ci" {
		mc.Collation = "utf8mb4_bin"
	}
	mc.ClientFoundRows = true
	mc.ParseTime = true // goose's version table has a TIMESTAMP column
	mc.RejectReadOnly = true
	if mc.Timeout == 0 {
		mc.Timeout = connectTimeout
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, "", fmt.Errorf("storage.dsn: %w", err)
	}
	return sql.OpenDB(conn), fmt.Sprintf("mysql database %q on %s(%s)", mc.DBName, mc.Net, mc.Addr), nil
}

func classifyMySQL(err error) errClass {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1213, 1205: // deadlock, lock wait timeout
			return errConflict
		case 1062: // duplicate entry
			return errDuplicate
		case 1053, 1927, 1040, 1043, 2002, 2003, 2006, 2013: // shutdown, connection killed, too many connections, ...
			return errUnavailable
		}
		return errOther
	}
	if errors.Is(err, mysql.ErrInvalidConn) || connectionError(err) {
		return errUnavailable
	}
	return errOther
}

func mysqlMigrationLock(ctx context.Context, conn *sql.Conn) (func(), error) {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('parley.migrate', 60)").Scan(&got); err != nil {
		return nil, err
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, errors.New("another process holds the migration lock")
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK('parley.migrate')")
	}, nil
}
