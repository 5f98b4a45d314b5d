package arch

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const modPrefix = "github.com/parleyim/parley/"

// tier of each internal package; a package may import only packages of
// its own tier or lower. Keep in step with docs/ARCHITECTURE.md.
var tiers = map[string]int{
	"internal/stanza": 0, "internal/stream": 0, "internal/xmlstream": 0, "internal/netpoll": 0, "internal/memtrim": 0, "internal/jid": 0, "internal/sasl": 0,
	"internal/config": 0, "internal/metrics": 0, "internal/limits": 0,
	"internal/module": 1, "internal/router": 1, "internal/storage": 1, "internal/tlsutil": 1,
	"internal/account": 2, "internal/c2s": 2, "internal/admin": 2, "internal/features/disco": 2,
	"internal/features/ping": 2, "internal/features/version": 2, "internal/features/entitytime": 2, "internal/features/lastactivity": 2,
	"internal/features/register": 2, "internal/features/carbons": 2, "internal/features/csi": 2,
	"internal/tools/loadtest": 2, "internal/features/offline": 2, "internal/features/blocking": 2, "internal/features/vcard": 2, "internal/features/private": 2,
	"internal/features/roster": 2, "internal/features/presence": 2, "internal/features/sharedgroup": 2, "internal/portable": 2,
	"internal/features/muc": 2,
	"internal/server":       3, "internal/xmpptest": 4, "internal/clientmatrix": 4, "internal/storage/storagetest": 4, "internal/arch": 4, "cmd/parley": 4,
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportTiers(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(p.ImportPath, modPrefix)
		tier, ok := tiers[name]
		if !ok {
			t.Errorf("package %s has no tier: add it to tiers and to docs/ARCHITECTURE.md", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, modPrefix) {
				continue
			}
			dep := strings.TrimPrefix(imp, modPrefix)
			if dt, ok := tiers[dep]; ok && dt > tier {
				t.Errorf("%s (tier %d) imports %s (tier %d)", name, tier, dep, dt)
			}
		}
	}
}
