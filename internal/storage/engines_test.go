package storage_test

import (
	"testing"

	"github.com/parleyim/parley/internal/storage/storagetest"
)

// The shared storage suite on each engine. PostgreSQL and MySQL run when
// scripts/test-databases.sh has started them (see storagetest).

func TestEngineSQLite(t *testing.T)   { storagetest.Run(t, "sqlite") }
func TestEnginePostgres(t *testing.T) { storagetest.Run(t, "postgres") }
func TestEngineMySQL(t *testing.T)    { storagetest.Run(t, "mysql") }
