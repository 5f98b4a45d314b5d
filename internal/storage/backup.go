package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrBackupUnsupported is returned by Backup on engines whose own tools
// make backups (pg_dump, mysqldump/mariadb-dump; see docs/storage.md).
var ErrBackupUnsupported = errors.New("storage: online backup is built in for sqlite only; use pg_dump or mysqldump (docs/storage.md)")

// Backup writes a consistent copy of an SQLite database to path while the
// database stays in use (VACUUM INTO reads one snapshot; writers go on).
// The copy is written next to path, checked, made private (mode 0600: it
// holds credentials) and renamed into place, so path is either absent or a
// complete database. path must not exist.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.d.name != "sqlite" {
		return ErrBackupUnsupported
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("storage: backup: %s already exists", path)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".parley-backup-*")
	if err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // VACUUM INTO wants to create the file itself
	defer os.Remove(tmpName)
	if _, err := db.sql.ExecContext(ctx, "VACUUM INTO ?", tmpName); err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	if err := os.Chmod(tmpName, 0o600); err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	if err := checkSQLiteFile(ctx, tmpName); err != nil {
		return fmt.Errorf("storage: backup: the copy does not check out: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil { // fails if path appeared meanwhile
		return fmt.Errorf("storage: backup: %w", err)
	}
	return nil
}

// checkSQLiteFile runs SQLite's quick integrity check on the file.
func checkSQLiteFile(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		return err
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New(res)
	}
	return nil
}
