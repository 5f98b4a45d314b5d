package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/storage/storagetest"
)

// dbConfigFile writes a configuration file selecting a fresh database of
// driver and returns its path.
func dbConfigFile(t *testing.T, driver string) string {
	t.Helper()
	cfg := storagetest.Config(t, driver)
	path := filepath.Join(t.TempDir(), "parley.toml")
	text := fmt.Sprintf("data_dir = %q\n[storage]\ndriver = %q\ndsn = %q\n", cfg.DataDir, driver, cfg.Storage.DSN)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDBCommands(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			conf := dbConfigFile(t, driver)
			st := cli(t, "", "--config", conf, "db", "status").ok(t)
			if !strings.Contains(st.stdout, "schema at version 0") || !strings.Contains(st.stdout, "pending") {
				t.Errorf("status of an empty database:\n%s", st.stdout)
			}
			cli(t, "", "--config", conf, "db", "migrate").ok(t)
			st = cli(t, "", "--config", conf, "db", "status").ok(t)
			if !strings.Contains(st.stdout, "up to date") || strings.Contains(st.stdout, "pending") {
				t.Errorf("status after migrate:\n%s", st.stdout)
			}
			cli(t, "", "--config", conf, "user", "add", "alice@localhost", "--password", "pw").ok(t)
			backup := filepath.Join(t.TempDir(), "backup.db")
			if driver != "sqlite" {
				cli(t, "", "--config", conf, "db", "backup", backup).fails(t, "pg_dump or mysqldump")
				return
			}
			cli(t, "", "--config", conf, "db", "backup", backup).ok(t)
			cli(t, "", "--config", conf, "db", "backup", backup).fails(t, "already exists")
			// The copy is a working database with the account in it.
			restored := filepath.Join(t.TempDir(), "restored.toml")
			os.WriteFile(restored, fmt.Appendf(nil, "[storage]\ndsn = %q\n", backup), 0o600)
			if out := cli(t, "", "--config", restored, "user", "list").ok(t).stdout; !strings.Contains(out, "alice@localhost") {
				t.Errorf("user list of the backup: %q", out)
			}
		})
	}
	cli(t, "", "db", "migrate", "extra").fails(t, "takes no arguments")
	cli(t, "", "db", "backup").fails(t, "takes 1 argument")
}
