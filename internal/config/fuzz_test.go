package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load: it must return a Config or an
// error, never panic or hang, and a file that loads must validate without
// panicking. Seeds are in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("domains = [\"localhost\"]\n"))
	if example, err := os.ReadFile(filepath.Join("..", "..", "parley.example.toml")); err == nil {
		f.Add(example)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.toml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if err != nil {
			for _, p := range Problems(err) {
				_ = p.Error()
			}
			return
		}
		for _, p := range Problems(cfg.Validate()) {
			_ = p.Error()
		}
	})
}
