package pubsub_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
)

// TestTenThousandNodes: one user creates nodes until the per-user limit
// of 10,000 (pipelined over one connection; 1,000 under the race
// detector, PARLEY_PUBSUB_NODES_N sets another number); the next creation
// is answered with policy-violation and max-nodes-exceeded, and every node
// created before is still there. Skipped with -short.
func TestTenThousandNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 10,000 nodes")
	}
	limit := 10000
	if raceEnabled {
		limit = 1000
	}
	if s := os.Getenv("PARLEY_PUBSUB_NODES_N"); s != "" {
		limit, _ = strconv.Atoi(s)
	}
	e := newEnv(t, func(c *config.Config) { c.PubSub.MaxNodesPerUser = limit })
	e.user(t, "alice")
	r := e.srv.Raw(t)
	r.Login(e.srv.TLSConfig(t, "localhost"), "alice", "localhost", "pw", "r")
	var b strings.Builder
	for i := range limit + 1 {
		fmt.Fprintf(&b, `<iq type='set' id='n%d'><pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='urn:example:n%d'/></pubsub></iq>`, i, i)
		if b.Len() > 32<<10 || i == limit {
			r.Write(b.String())
			b.Reset()
		}
	}
	out := r.ReadUntil(fmt.Sprintf(`id="n%d"`, limit), 2*time.Minute)
	out += r.ReadUntil("</iq>", 10*time.Second)
	if n := strings.Count(out, `type="result"`); n != limit {
		t.Fatalf("%d of %d creations succeeded", n, limit)
	}
	last := out[strings.LastIndex(out, "<iq "):]
	if !strings.Contains(last, "policy-violation") || !strings.Contains(last, "max-nodes-exceeded") {
		t.Fatalf("creation past the limit: %s", last)
	}
	alice := e.dial(t, "alice")
	for _, i := range []int{0, limit / 2, limit - 1} {
		alice.iq(t, fmt.Sprintf(`<iq type='get' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='urn:example:n%d'/></pubsub></iq>`, i), "result")
	}
	alice.iq(t, fmt.Sprintf(`<iq type='get' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='urn:example:n%d'/></pubsub></iq>`, limit), "error", "item-not-found")
}
