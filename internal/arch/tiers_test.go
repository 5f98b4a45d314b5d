package arch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

const modPrefix = "github.com/parleyim/parley/"

// featurePrefix is where feature modules live; every package under it is
// a feature of tier featureTier.
const (
	featurePrefix = "internal/features/"
	featureTier   = 2
)

// tier of each internal package outside internal/features; a package may
// import only packages of its own tier or lower. Keep in step with
// docs/ARCHITECTURE.md.
var tiers = map[string]int{
	"internal/stanza": 0, "internal/stream": 0, "internal/xmlstream": 0, "internal/netpoll": 0, "internal/sockio": 0, "internal/memtrim": 0, "internal/jid": 0, "internal/sasl": 0,
	"internal/config": 0, "internal/metrics": 0, "internal/limits": 0,
	"internal/module": 1, "internal/router": 1, "internal/storage": 1, "internal/tlsutil": 1, "internal/userdata": 1,
	"internal/account": 2, "internal/c2s": 2, "internal/admin": 2, "internal/httpd": 2, "internal/portable": 2, "internal/tools/loadtest": 2,
	"internal/s2s":    2,
	"internal/server": 3, "internal/xmpptest": 4, "internal/clientmatrix": 4, "internal/crashtest": 4, "internal/storage/storagetest": 4, "internal/sasl/scramtest": 4, "internal/arch": 4, "cmd/parley": 4, "bench/relayfloor": 4,
}

// tierOf returns the tier of an internal package (ok false: none given).
func tierOf(name string) (int, bool) {
	if strings.HasPrefix(name, featurePrefix) {
		return featureTier, true
	}
	t, ok := tiers[name]
	return t, ok
}

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

// internalName is an import path relative to the module ("" when the path
// is not the module's).
func internalName(path string) string {
	if !strings.HasPrefix(path, modPrefix) {
		return ""
	}
	return strings.TrimPrefix(path, modPrefix)
}

// goList runs go list over the module once per test binary (test files are
// not included in Imports or GoFiles).
var goList = sync.OnceValues(func() ([]pkg, error) {
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
})

// listPackages returns the module's packages.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	pkgs, err := goList()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestImportTiers(t *testing.T) {
	for _, p := range listPackages(t) {
		name := internalName(p.ImportPath)
		tier, ok := tierOf(name)
		if !ok {
			t.Errorf("package %s has no tier: add it to tiers and to docs/ARCHITECTURE.md", name)
			continue
		}
		for _, imp := range p.Imports {
			dep := internalName(imp)
			if dep == "" {
				continue
			}
			if dt, ok := tierOf(dep); ok && dt > tier {
				t.Errorf("%s (tier %d) imports %s (tier %d)", name, tier, dep, dt)
			}
		}
	}
}
