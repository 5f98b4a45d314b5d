package storage

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		d    *dialect
		err  error
		want errClass
	}{
		{"pg serialization failure", postgresDialect, &pgconn.PgError{Code: "40001"}, errConflict},
		{"pg deadlock", postgresDialect, fmt.Errorf("roster: put: %w", &pgconn.PgError{Code: "40P01"}), errConflict},
		{"pg unique violation", postgresDialect, &pgconn.PgError{Code: "23505"}, errDuplicate},
		{"pg admin shutdown", postgresDialect, &pgconn.PgError{Code: "57P01"}, errUnavailable},
		{"pg starting up", postgresDialect, &pgconn.PgError{Code: "57P03"}, errUnavailable},
		{"pg connection failure", postgresDialect, &pgconn.PgError{Code: "08006"}, errUnavailable},
		{"pg check violation", postgresDialect, &pgconn.PgError{Code: "23514"}, errOther},
		{"pg refused", postgresDialect, refused, errUnavailable},
		{"pg EOF", postgresDialect, fmt.Errorf("read: %w", io.ErrUnexpectedEOF), errUnavailable},
		{"pg bad conn", postgresDialect, driver.ErrBadConn, errUnavailable},
		{"pg plain", postgresDialect, errors.New("no such table"), errOther},
		{"mysql deadlock", mysqlDialect, &mysql.MySQLError{Number: 1213}, errConflict},
		{"mysql duplicate", mysqlDialect, &mysql.MySQLError{Number: 1062}, errDuplicate},
		{"mysql shutdown", mysqlDialect, &mysql.MySQLError{Number: 1053}, errUnavailable},
		{"mysql data too long", mysqlDialect, &mysql.MySQLError{Number: 1406}, errOther},
		{"mysql invalid conn", mysqlDialect, mysql.ErrInvalidConn, errUnavailable},
		{"mysql refused", mysqlDialect, refused, errUnavailable},
		{"sqlite plain", dialects["sqlite"], errors.New("database is locked"), errOther},
	}
	for _, tt := range tests {
		if got := tt.d.classify(tt.err); got != tt.want {
			t.Errorf("%s: classify = %d, want %d", tt.name, got, tt.want)
		}
	}
}
