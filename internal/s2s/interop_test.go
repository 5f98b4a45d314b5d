package s2s_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mellium.im/sasl"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// Interop with real servers (Prosody, ejabberd) on loopback. Each serves
// its own domain on its own address, port 5269, found through /etc/hosts
// (the peers have no static routes: they look up SRV records, find none,
// and connect to the A record's port 5269):
var interopHosts = []string{
	"127.0.0.2 prosody.test conference.prosody.test",
	"127.0.0.3 ejabberd.test conference.ejabberd.test",
	"127.0.0.4 parley.test conference.parley.test",
}

const (
	parleyS2S = "127.0.0.4:5269"
	peerPass  = "interop-pw"
)

// requirePeer returns the path of a peer's binary, or skips the test (a
// failure when PARLEY_REQUIRE_INTEROP=1, as in CI).
func requirePeer(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("PARLEY_REQUIRE_INTEROP") == "1" {
			t.Fatalf("%s is not installed and PARLEY_REQUIRE_INTEROP=1 (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed (apt-get install %s); set PARLEY_REQUIRE_INTEROP=1 to make this a failure", name, name)
	}
	if testing.Short() {
		t.Skip("interop with real servers is skipped in -short mode")
	}
	ensureHosts(t)
	lockInterop(t)
	return path
}

// lockInterop serialises the interop tests of every test process on the
// machine (several checkouts may run them at once): they all need the
// same addresses. The lock is released when the test ends.
func lockInterop(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "parley-s2s-interop.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("interop lock: %v", err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		if time.Now().After(deadline) {
			f.Close()
			t.Fatal("another test process held the interop lock for 5 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() })
}

// ensureHosts adds the test domains to /etc/hosts (as root, or with
// sudo -n) if they are missing.
func ensureHosts(t testing.TB) {
	t.Helper()
	hosts, _ := os.ReadFile("/etc/hosts")
	var missing []string
	for _, l := range interopHosts {
		if !bytes.Contains(hosts, []byte(l)) {
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return
	}
	add := "\n# Parley s2s interop tests (internal/s2s)\n" + strings.Join(missing, "\n") + "\n"
	cmd := exec.Command("tee", "-a", "/etc/hosts")
	if os.Geteuid() != 0 {
		cmd = exec.Command("sudo", "-n", "tee", "-a", "/etc/hosts")
	}
	cmd.Stdin = strings.NewReader(add)
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := fmt.Sprintf("cannot add the test domains to /etc/hosts (%v: %s); add them by hand:\n%s", err, out, add)
		if os.Getenv("PARLEY_REQUIRE_INTEROP") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// interopParley starts Parley for parley.test on 127.0.0.4:5269 with a
// certificate of ca (covering conference.parley.test too) and ca trusted
// for peers; peers whose certificates do not verify use dialback.
func interopParley(t testing.TB, ca *testCA, routes map[string]string, more ...xmpptest.Option) *xmpptest.Server {
	t.Helper()
	cert, key := ca.issue(t, "parley.test", "conference.parley.test")
	more = append([]xmpptest.Option{withCert(ca, "parley.test", cert, key), func(c *config.Config) {
		c.S2S.RequireValidCertificates = false
		c.S2S.ConnectTimeout = config.Duration(15 * time.Second)
	}}, more...)
	s := xmpptest.Start(t, fedOpts("parley.test", parleyS2S, routes, more...))
	s.AddUser(t, "alice@parley.test", "pw")
	return s
}

// peerClient logs a user of a peer server in with mellium over STARTTLS,
// verifying the peer's certificate with ca, and sends initial presence.
func peerClient(t testing.TB, addr, user string, ca *testCA, domain string) *xmpptest.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	var c *xmpptest.Client
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err = xmpptest.DialAddr(t, addr, user, peerPass, xmpptest.DialOptions{
			TLS: &tls.Config{ServerName: domain, RootCAs: pool, MinVersion: tls.VersionTLS12}, Mechanisms: []sasl.Mechanism{sasl.Plain},
		})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the peer is still starting
	}
	if err != nil {
		t.Fatalf("log in %s at %s: %v", user, addr, err)
	}
	c.Send(t, `<presence/>`)
	return c
}

// mustBeFree fails when something already listens on addr (a system
// instance of the peer on all addresses would take our test's place).
func mustBeFree(t testing.TB, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Fatalf("something already listens on %s (a system prosody or ejabberd? stop it: service prosody stop; service ejabberd stop)", a)
		}
	}
}

// waitListening polls until addr accepts connections.
func waitListening(t testing.TB, addr string, p *peerProc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) || p.exited() {
			t.Fatalf("%s does not listen on %s: %v\n%s", p.name, addr, err, p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// peerProc is a peer server process run for one test.
type peerProc struct {
	name string
	cmd  *exec.Cmd
	out  xmpptest.SyncBuffer
	done chan struct{}
}

func startPeer(t testing.TB, name string, cmd *exec.Cmd) *peerProc {
	t.Helper()
	p := &peerProc{name: name, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	return p
}

func (p *peerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *peerProc) output() string { return p.out.String() }

// stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (p *peerProc) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// interopScenario is what every peer must do with Parley: alice on
// parley.test and carol on the peer subscribe to each other, see each
// other's presence, chat both ways, and each joins a room on the other's
// group chat service.
func interopScenario(t *testing.T, alice, carol *xmpptest.Client, peer string) {
	carolJID := "carol@" + peer
	t.Run("subscriptions", func(t *testing.T) { subscribeBothWays(t, alice, carol, peer) })
	t.Run("chat", func(t *testing.T) {
		alice.Send(t, `<message to='`+carolJID+`' type='chat'><body>hello from parley</body></message>`)
		carol.Expect(t, wait, "alice's message", isMessage(alice.JID.String(), "hello from parley"))
		carol.Send(t, `<message to='alice@parley.test' type='chat'><body>hello from `+peer+`</body></message>`)
		alice.Expect(t, wait, "carol's message", isMessage(carolJID+"/", "hello from "+peer))
	})
	t.Run("parley user in a peer room", func(t *testing.T) {
		room := "lounge@conference." + peer
		joinRoom(t, carol, room, "carol", true)
		joinRoom(t, alice, room, "alice", false)
		carol.Expect(t, wait, "alice joining", isPresence(room+"/alice", ""))
		carol.Send(t, `<message to='`+room+`' type='groupchat'><body>hi from the host</body></message>`)
		alice.Expect(t, wait, "the host's groupchat", isMessage(room+"/carol", "hi from the host"))
		alice.Send(t, `<message to='`+room+`' type='groupchat'><body>hi from parley</body></message>`)
		carol.Expect(t, wait, "alice's groupchat", isMessage(room+"/alice", "hi from parley"))
	})
	t.Run("peer user in a parley room", func(t *testing.T) {
		room := "hall-" + strings.Split(peer, ".")[0] + "@conference.parley.test"
		createRoom(t, alice, room, "alice")
		joinRoom(t, carol, room, "carol", false)
		alice.Expect(t, wait, "carol joining", isPresence(room+"/carol", ""))
		alice.Send(t, `<message to='`+room+`' type='groupchat'><body>welcome to parley</body></message>`)
		carol.Expect(t, wait, "alice's groupchat", isMessage(room+"/alice", "welcome to parley"))
		carol.Send(t, `<message to='`+room+`' type='groupchat'><body>glad to be here</body></message>`)
		alice.Expect(t, wait, "carol's groupchat", isMessage(room+"/carol", "glad to be here"))
	})
}

// checkAuth fails unless every stream of s authenticated with method.
func checkAuth(t *testing.T, s *xmpptest.Server, method string) {
	t.Helper()
	for _, i := range s.S2S().Streams() {
		if i.Auth != method {
			t.Errorf("%s stream %s↔%s authenticated by %q, want %s", i.Direction, i.Local, i.Remote, i.Auth, method)
		}
	}
}

// joinRoom enters room as nick and waits for the own presence (status
// 110); an owner creating it submits the instant-room form if the
// service asks for it (status 201).
func joinRoom(t *testing.T, c *xmpptest.Client, room, nick string, create bool) {
	t.Helper()
	c.Send(t, `<presence to='`+room+`/`+nick+`'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
	self := c.Expect(t, wait, "own presence in "+room, func(s xmpptest.Stanza) bool {
		return isPresence(room+"/"+nick, "")(s) && strings.Contains(s.Inner, `code="110"`)
	})
	if create && strings.Contains(self.Inner, `code="201"`) {
		res := c.IQ(t, `<iq type='set' id='inst' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`)
		if res.Attr("type") != "result" {
			t.Fatalf("instant room: %s", res.Inner)
		}
	}
}

// subscribeBothWays makes alice@parley.test and carol on peer subscribe
// to each other and waits until each sees the other's presence.
func subscribeBothWays(t *testing.T, alice, carol *xmpptest.Client, peer string) {
	t.Helper()
	carolJID := "carol@" + peer
	alice.Send(t, `<presence to='`+carolJID+`' type='subscribe'/>`)
	carol.Expect(t, wait, "alice's subscription request", isPresence("alice@parley.test", "subscribe"))
	carol.Send(t, `<presence to='alice@parley.test' type='subscribed'/>`)
	alice.Expect(t, wait, "carol's approval", isPresence(carolJID, "subscribed"))
	alice.Expect(t, wait, "carol's presence", isPresence(carolJID+"/", ""))
	carol.Send(t, `<presence to='alice@parley.test' type='subscribe'/>`)
	alice.Expect(t, wait, "carol's subscription request", isPresence(carolJID, "subscribe"))
	alice.Send(t, `<presence to='`+carolJID+`' type='subscribed'/>`)
	carol.Expect(t, wait, "alice's presence", isPresence(alice.JID.String(), ""))
}
