package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/storage/storagetest"
)

var ejabberdExport = filepath.Join("..", "..", "internal", "portable", "testdata", "ejabberd-23.01", "export.xml")

// portableConfig writes a configuration serving the ejabberd export's
// domains on a fresh database of driver.
func portableConfig(t *testing.T, driver string) string {
	t.Helper()
	cfg := storagetest.Config(t, driver)
	path := filepath.Join(t.TempDir(), "parley.toml")
	text := fmt.Sprintf("domains = [\"plain.example\", \"scram.example\"]\ndata_dir = %q\n[auth]\nscram_iterations = 4096\n[storage]\ndriver = %q\ndsn = %q\n",
		cfg.DataDir, driver, cfg.Storage.DSN)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportExportCommands moves the ejabberd export into an SQLite
// Parley, exports it, and imports that into each engine: the accounts
// arrive everywhere, re-imports are refused account by account, and the
// export is private.
func TestImportExportCommands(t *testing.T) {
	src := portableConfig(t, "sqlite")
	dry := cli(t, "", "--config", src, "import", "--dry-run", ejabberdExport).ok(t)
	if !strings.Contains(dry.stdout, "5 account(s) would import") {
		t.Errorf("dry run:\n%s", dry.stdout)
	}
	if out := cli(t, "", "--config", src, "user", "list").ok(t).stdout; out != "" {
		t.Errorf("dry run imported: %q", out)
	}
	res := cli(t, "", "--config", src, "import", ejabberdExport).ok(t)
	if !strings.Contains(res.stdout, "imported juliet@plain.example") || !strings.Contains(res.stdout, "5 account(s) imported, 0 skipped") {
		t.Errorf("import:\n%s", res.stdout)
	}
	again := cli(t, "", "--config", src, "import", ejabberdExport).fails(t, "5 account(s) skipped")
	if !strings.Contains(again.stdout, "skipped juliet@plain.example: the account exists already") {
		t.Errorf("second import:\n%s", again.stdout)
	}

	out := filepath.Join(t.TempDir(), "parley-export.xml")
	cli(t, "", "--config", src, "export", "--out", out).ok(t)
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v, %v", fi, err)
	}
	cli(t, "", "--config", src, "export", "--out", out).fails(t, "not overwriting")
	cli(t, "", "--config", src, "export").fails(t, "--out FILE is required")
	one := filepath.Join(t.TempDir(), "one.xml")
	cli(t, "", "--config", src, "export", "--out", one, "--domain", "SCRAM.example").ok(t)
	if b, _ := os.ReadFile(one); strings.Contains(string(b), "plain.example'") || !strings.Contains(string(b), "<host jid='scram.example'>") {
		t.Errorf("export of one domain:\n%s", b)
	}

	for _, driver := range storagetest.Drivers {
		t.Run("into "+driver, func(t *testing.T) {
			dst := portableConfig(t, driver)
			cli(t, "", "--config", dst, "import", out).ok(t)
			list := cli(t, "", "--config", dst, "user", "list").ok(t).stdout
			if want := "alice@scram.example\nbob@scram.example\njuliet@plain.example\nnurse@plain.example\nromeo@plain.example\n"; list != want {
				t.Errorf("user list = %q, want %q", list, want)
			}
		})
	}
	cli(t, "", "--config", src, "import").fails(t, "at least one FILE")
	cli(t, "", "--config", src, "import", filepath.Join(t.TempDir(), "missing.xml")).fails(t, "no such file")
}
