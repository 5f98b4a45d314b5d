package mam_test

import (
	"slices"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// The module end to end on each database engine: chat archived for both
// parties, paged both ways, filtered; the prefs stored.
func TestEngines(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			cfg := storagetest.Config(t, driver)
			srv := start(t, func(c *config.Config) { c.Storage = cfg.Storage })
			alice, bob := online(t, srv, "alice"), online(t, srv, "bob")
			chat(t, alice, "bob@localhost", "m", 7)
			xmpptest.Settle(t, bob)
			all, fin := query(t, bob, "", rsm(`<max>3</max>`))
			if !slices.Equal(bodies(all), []string{"m0", "m1", "m2"}) || *fin.Fin.Set.Count != 7 || fin.Fin.Complete == "true" {
				t.Fatalf("first page %q, fin %+v", bodies(all), fin.Fin)
			}
			rs, fin := query(t, bob, "", rsm(`<max>3</max><before/>`))
			if !slices.Equal(bodies(rs), []string{"m4", "m5", "m6"}) {
				t.Errorf("last page %q", bodies(rs))
			}
			// A chat message between two accounts is one row in both
			// archives: bob's stanza-id of m4 pages alice's archive too.
			rs, fin = query(t, alice, "", form("with", "bob@localhost", "after-id", "")+rsm(`<max>10</max><after>`+fin.Fin.Set.First+`</after>`))
			if !slices.Equal(bodies(rs), []string{"m5", "m6"}) {
				t.Errorf("after bob's id of m4 in alice's archive: %q %s", bodies(rs), fin.condition())
			}
			rs, _ = query(t, alice, "", form("with", "bob@localhost"))
			if len(rs) != 7 {
				t.Errorf("alice's archive with bob: %q", bodies(rs))
			}
			if set := alice.IQ(t, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='never'/></iq>`); set.Attr("type") != "result" {
				t.Fatalf("prefs: %s", set.Inner)
			}
			chat(t, alice, "bob@localhost", "late", 1)
			if _, fin := query(t, alice, "", ""); *fin.Fin.Set.Count != 7 {
				t.Errorf("alice (never) has %d", *fin.Fin.Set.Count)
			}
		})
	}
}
