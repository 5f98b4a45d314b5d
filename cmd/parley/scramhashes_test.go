package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/sasl"
	"github.com/parleyim/parley/internal/storage"
)

// TestScramHashesCommands: `parley user add`, `user passwd` and `import`
// (passwords hashed on import) store keys for auth.scram_hashes only.
func TestScramHashesCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.toml")
	text := fmt.Sprintf("domains = [\"plain.example\", \"scram.example\", \"localhost\"]\ndata_dir = %q\n[auth]\nscram_hashes = [\"SHA-256\"]\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	hashes := func(user string) []sasl.Hash {
		t.Helper()
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		db, err := storage.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		cs, err := account.NewStore(db, 0).AllCredentials(context.Background(), jid.MustParse(user))
		if err != nil {
			t.Fatal(err)
		}
		var hs []sasl.Hash
		for _, c := range cs {
			hs = append(hs, c.Hash)
		}
		return hs
	}
	sha256 := []sasl.Hash{sasl.SHA256}
	cli(t, "", "--config", path, "user", "add", "alice@localhost", "--password", "one").ok(t)
	if hs := hashes("alice@localhost"); !slices.Equal(hs, sha256) {
		t.Errorf("user add stored %v", hs)
	}
	cli(t, "two", "--config", path, "user", "passwd", "alice@localhost").ok(t)
	if hs := hashes("alice@localhost"); !slices.Equal(hs, sha256) {
		t.Errorf("user passwd stored %v", hs)
	}
	cli(t, "", "--config", path, "import", ejabberdExport).ok(t)
	if hs := hashes("juliet@plain.example"); !slices.Equal(hs, sha256) {
		t.Errorf("import of a plain password stored %v", hs)
	}
}
