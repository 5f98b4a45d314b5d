package storage_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// dbServer is a database server of one test alone, started and stopped
// with scripts/test-databases.sh (the shared test servers cannot be
// restarted under the other packages' tests).
type dbServer struct {
	t           *testing.T
	script, dir string
	prefix      string // "pg" or "my"
}

func startServer(t *testing.T, driver string) (*dbServer, string) {
	storagetest.ServerDSN(t, driver) // skip, or fail under PARLEY_REQUIRE_ENGINES, like the suite
	script := os.Getenv("PARLEY_TEST_DB_SCRIPT")
	if script == "" {
		script, _ = filepath.Abs(filepath.Join("..", "..", "scripts", "test-databases.sh"))
	}
	dir, err := os.MkdirTemp("", "parley-restart-")
	if err != nil {
		t.Fatal(err)
	}
	c := &dbServer{t: t, script: script, dir: dir, prefix: map[string]string{"postgres": "pg", "mysql": "my"}[driver]}
	t.Cleanup(func() { c.run("stop"); os.RemoveAll(dir) })
	return c, strings.TrimSpace(c.run("start"))
}

func (c *dbServer) run(cmd string) string {
	c.t.Helper()
	out, err := exec.Command(c.script, c.prefix+"-"+cmd, c.dir).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		c.t.Fatalf("%s %s: %v\n%s", c.script, cmd, err, stderr)
	}
	return string(out)
}

// iqType sends raw (an iq with an id) and returns the type of the
// response; it waits up to a minute, longer than any retry.
func iqType(c *xmpptest.Client, raw string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := c.S.SendIQ(ctx, xml.NewDecoder(strings.NewReader(raw)))
	if err != nil {
		return "", err
	}
	defer resp.Close()
	tok, err := resp.Token()
	if err != nil {
		return "", err
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return "", fmt.Errorf("response starts with %T", tok)
	}
	for _, a := range start.Attr {
		if a.Name.Local == "type" {
			return a.Value, nil
		}
	}
	return "", fmt.Errorf("response without type")
}

func privateSet(id, ns, value string) string {
	return fmt.Sprintf("<iq type='set' id='%s'><query xmlns='jabber:iq:private'><x xmlns='%s'>%s</x></query></iq>", id, ns, value)
}

func privateHas(t *testing.T, c *xmpptest.Client, ns, value string) bool {
	t.Helper()
	st := c.IQ(t, fmt.Sprintf("<iq type='get' id='get-%s'><query xmlns='jabber:iq:private'><x xmlns='%s'/></query></iq>", ns, ns))
	if st.Attr("type") != "result" {
		t.Fatalf("private get %s: %s", ns, st.Inner)
	}
	return strings.Contains(st.Inner, value)
}

func isMessage(body string) func(xmpptest.Stanza) bool {
	return func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && strings.Contains(s.Inner, body)
	}
}

// TestPostgresRestart stops PostgreSQL under a running server with
// clients connected and starts it again: connected users keep chatting,
// logins fail cleanly (temporary-auth-failure) while it is down, a write
// that cannot commit is answered with an error and is not there later, a
// write acknowledged before or across the restart is there, and the
// server serves logins again by itself.
func TestPostgresRestart(t *testing.T) { testRestart(t, "postgres") }

// TestMySQLRestart is TestPostgresRestart with MariaDB.
func TestMySQLRestart(t *testing.T) { testRestart(t, "mysql") }

func testRestart(t *testing.T, driver string) {
	cluster, dsn := startServer(t, driver)
	srv := xmpptest.Start(t, func(c *config.Config) {
		c.Storage.Driver, c.Storage.DSN = driver, dsn
		c.Storage.RetryTimeout = config.Duration(3 * time.Second)
	})
	srv.AddUser(t, "alice@localhost", "pw")
	srv.AddUser(t, "bob@localhost", "pw")
	srv.AddUser(t, "carol@localhost", "pw")
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})

	// Acknowledged before the outage: a private XML fragment, and a
	// message stored for carol, who is offline.
	if typ, err := iqType(alice, privateSet("p1", "urn:test:before", "kept")); err != nil || typ != "result" {
		t.Fatalf("private set before the outage: %q, %v", typ, err)
	}
	alice.Send(t, "<message to='carol@localhost' type='chat' id='m1'><body>stored before</body></message>")
	db, err := storage.Open(context.Background(), srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, 10*time.Second, "the offline message to be stored", func() bool {
		n, err := db.Queue("offline").Len(context.Background(), jid.MustParse("carol@localhost"))
		return err == nil && n == 1
	})
	db.Close()

	cluster.run("stop")

	t.Run("down: connected users keep chatting", func(t *testing.T) {
		alice.Send(t, fmt.Sprintf("<message to='%s' type='chat' id='m2'><body>during the outage</body></message>", bob.JID))
		bob.Expect(t, 10*time.Second, "alice's message", isMessage("during the outage"))
	})
	t.Run("down: login fails cleanly", func(t *testing.T) {
		// SCRAM (mellium) and PLAIN (raw, to read the condition): both
		// get a SASL failure at once, not a hang or a closed socket.
		if _, err := srv.DialErr(t, "bob@localhost", "pw", xmpptest.DialOptions{}); err == nil {
			t.Error("SCRAM login succeeded with the database down")
		} else {
			t.Logf("SCRAM login refused: %v", err)
		}
		r := srv.Raw(t)
		r.Open("localhost")
		r.StartTLS(srv.TLSConfig(t, "localhost"), "localhost")
		if out := r.Plain("", "bob", "pw"); !strings.Contains(out, "<temporary-auth-failure/>") {
			t.Errorf("PLAIN login with the database down: %s, want temporary-auth-failure", out)
		}
	})
	t.Run("down: a write that cannot commit is an error", func(t *testing.T) {
		typ, err := iqType(alice, privateSet("p2", "urn:test:down", "never"))
		if err != nil || typ != "error" {
			t.Fatalf("private set with the database down: %q, %v; want an error reply", typ, err)
		}
	})

	// A write in flight while the database comes back: retried, and its
	// reply tells the truth either way.
	inflight := make(chan string, 1)
	go func() {
		typ, err := iqType(bob, privateSet("p3", "urn:test:across", "maybe"))
		if err != nil {
			typ = "failed: " + err.Error()
		}
		inflight <- typ
	}()
	cluster.run("start")

	t.Run("up: service resumes by itself", func(t *testing.T) {
		var carol *xmpptest.Client
		xmpptest.Eventually(t, 30*time.Second, "a login to succeed again", func() bool {
			c, err := srv.DialErr(t, "carol@localhost", "pw", xmpptest.DialOptions{})
			if err != nil {
				return false
			}
			carol = c
			return true
		})
		carol.Send(t, "<presence/>")
		carol.Expect(t, 10*time.Second, "the message stored before the outage", isMessage("stored before"))
	})
	t.Run("up: nothing acknowledged is lost", func(t *testing.T) {
		if !privateHas(t, alice, "urn:test:before", "kept") {
			t.Error("the write acknowledged before the outage is gone")
		}
		if privateHas(t, alice, "urn:test:down", "never") {
			t.Error("a write answered with an error was stored")
		}
		typ := <-inflight
		stored := privateHas(t, bob, "urn:test:across", "maybe")
		t.Logf("write across the restart: %s, stored: %v", typ, stored)
		switch {
		case typ == "result" && !stored:
			t.Error("a write acknowledged across the restart is gone")
		case typ != "result" && stored:
			t.Error("a write answered with an error was stored")
		}
		if typ, err := iqType(alice, privateSet("p4", "urn:test:after", "new")); err != nil || typ != "result" {
			t.Errorf("private set after the restart: %q, %v", typ, err)
		}
	})
}
