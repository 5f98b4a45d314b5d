package clientmatrix

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var onlineLine = regexp.MustCompile(`ONLINE([12]) (\S+)`)

// TestXmppJSSASL2FAST: @xmpp/client 0.14 with its defaults logs in to a
// `parley serve` with SASL2 (XEP-0388), binds with Bind 2 (XEP-0386) and
// asks for a FAST token (XEP-0484); after a clean stop the same client
// object logs in again with that token (HT-SHA-256-NONE) and gets the same
// resource back (Bind 2 derives it from its user-agent id). Both logins
// enable stream management inside Bind 2.
func TestXmppJSSASL2FAST(t *testing.T) {
	requireXmppJS(t)
	srv := startParley(t)
	const account, password = "alice@localhost", "alice's pw"
	srv.addUser(t, account, password)
	host, port, _ := net.SplitHostPort(srv.c2s)
	cmd := exec.Command("node", filepath.Join(xmppjsDir, "fast.mjs"), account, password, host, port)
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+srv.cafile())
	p := startProcess(t, cmd)
	if err := p.waitOutput(60*time.Second, "ONLINE2 "); err != nil {
		t.Fatalf("xmpp.js did not log in twice: %v\n--- client:\n%s\n--- server:\n%s", err, tail(p.output(), 60), srv.interesting())
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("xmpp.js exited with %v", p.err)
		}
	case <-time.After(30 * time.Second):
		t.Error("xmpp.js did not exit after its second login")
	}

	addrs := map[string]string{}
	for _, m := range onlineLine.FindAllStringSubmatch(p.stdout.String(), -1) {
		addrs[m[1]] = m[2]
	}
	if a := addrs["1"]; !strings.HasPrefix(a, account+"/") || addrs["2"] != a {
		t.Errorf("bound %q, then %q: want one full JID of %s twice", addrs["1"], addrs["2"], account)
	}

	sent := p.stderr.String()
	attempts, err := authAttempts(sent)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range attempts {
		names = append(names, a.String())
	}
	if len(attempts) != 2 || !attempts[0].SASL2 || !strings.HasPrefix(attempts[0].Mechanism, "SCRAM-") ||
		attempts[1].String() != "SASL2 HT-SHA-256-NONE" {
		t.Errorf("authentications sent: %v; want a SASL2 SCRAM login, then SASL2 HT-SHA-256-NONE", names)
	}
	// Stream management (XEP-0198) is enabled inside Bind 2, as xmpp.js
	// does when the server offers it there.
	for _, want := range []string{`<bind xmlns="urn:xmpp:bind:0"`, `<request-token xmlns="urn:xmpp:fast:0" mechanism="HT-SHA-256-NONE"`, `<fast xmlns="urn:xmpp:fast:0"`, `<enable xmlns="urn:xmpp:sm:3"`} {
		if !strings.Contains(sent, want) {
			t.Errorf("xmpp.js never sent %s", want)
		}
	}
	var mechs []string
	for _, l := range srv.logins(account) {
		mechs = append(mechs, l.Mechanism)
	}
	if !slices.Contains(mechs, "HT-SHA-256-NONE") {
		t.Errorf("the server logged logins with %v; no token login", mechs)
	}
	t.Logf("xmpp.js: %s, bound %s", strings.Join(names, ", "), addrs["1"])
}
