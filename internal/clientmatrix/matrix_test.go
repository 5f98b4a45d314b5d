package clientmatrix

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parley-clientmatrix-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	parleyBin = os.Getenv("PARLEY_CLIENT_MATRIX_BIN") // another build, to compare
	if parleyBin == "" {
		parleyBin, err = buildParley(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	if err := writeMatrix(os.Getenv("PARLEY_CLIENT_MATRIX")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is what a client case is given: the server, the address it must
// use (the counting proxy), the account and the peer it talks to.
type env struct {
	srv               *parley
	host, port        string // the proxy in front of the server's STARTTLS listener
	account, password string
	peer              string // bare JID of the mellium peer
	token             string // makes this run's messages unique
	dir               string // the client's own directory (HOME for programs)
}

// driver is a client program (or library session) under test.
type driver interface {
	// login starts the client and returns once it is logged in with a
	// bound resource, or with an error saying how it failed.
	login(t *testing.T, e *env) error
	// act has the client add the peer to its roster (where it can) and
	// send "ping TOKEN" to the peer's bare JID.
	act(t *testing.T, e *env) error
	// received waits until the client shows or reports body.
	received(d time.Duration, body string) error
	// log is the client's own record of what it sent (holds its <auth/>s).
	log() string
	// output is what to show when the case fails.
	output() string
}

// clientCase is one row of the matrix.
type clientCase struct {
	name      string
	transport string
	scram     bool // the client implements SCRAM, so PLAIN is a failure
	roster    bool // the client offers a way to add a contact
	processes int  // connections a passing run opens (one per process)
	// replyBare: the peer answers the bare JID, not the sender, because
	// the sending process has gone (go-sendxmpp listens in another one).
	replyBare bool
	// binding is the channel binding the client must end up using, for
	// clients that can bind with a type TLS 1.3 has ("" for the others):
	// Parley keeps channel binding wherever the client can have it.
	binding string
	version func() string
	require func(t *testing.T)
	start   func(t *testing.T, e *env) driver
}

// row is one line of docs/clients.md.
type row struct {
	client, version, transport, mechanism, binding, attempts, conns, roster, result string
	problems                                                                        []string      // why the case failed, short
	logins                                                                          []authAttempt // as the server logged them
}

var (
	rowsMu sync.Mutex
	rows   []row
)

// TestClients runs every client of the matrix against its own server.
func TestClients(t *testing.T) {
	for _, cc := range clients {
		t.Run(cc.name, func(t *testing.T) { runCase(t, cc) })
	}
}

func runCase(t *testing.T, cc clientCase) {
	cc.require(t)
	srv := startParley(t)
	e := &env{srv: srv, account: "alice@localhost", password: "alice's pw", peer: "bob@localhost", token: token(), dir: t.TempDir()}
	srv.addUser(t, e.account, e.password)
	srv.addUser(t, e.peer, "bob's pw")
	peer, err := dialMellium(t, srv.c2s, e.peer, "bob's pw", srv.cafile(), nil)
	if err != nil {
		t.Fatalf("peer: %v\n%s", err, srv.interesting())
	}
	px := startProxy(t, srv.c2s)
	e.host, e.port, _ = net.SplitHostPort(px.addr())

	r := &row{client: cc.name, version: cc.version(), transport: cc.transport, roster: "not offered by the client"}
	if cc.roster {
		r.roster = "not reached"
	}
	stage := "login"
	d := cc.start(t, e)
	t.Cleanup(func() { finishRow(t, cc, r, d, srv, e.account) })
	fail := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		r.problems = append(r.problems, stage+": "+firstLine(msg))
		t.Fatalf("%s: %s\n--- client output:\n%s\n--- server log (SASL, streams, errors):\n%s",
			stage, msg, tail(d.output(), 60), srv.interesting())
	}
	if err := d.login(t, e); err != nil {
		fail("%s did not log in: %v", cc.name, err)
	}
	r.conns = fmt.Sprint(px.conns.Load())
	stage = "message from the client"
	if err := d.act(t, e); err != nil {
		fail("%v", err)
	}
	r.conns = fmt.Sprint(px.conns.Load()) // go-sendxmpp's sender connects in act
	m, err := expectChat(peer, 30*time.Second, "ping "+e.token)
	if err != nil {
		fail("the peer got nothing: %v", err)
	}
	from := m.Attr("from")
	if !strings.HasPrefix(from, e.account+"/") {
		fail("the message came from %q, want %s/<resource>", from, e.account)
	}
	stage = "message to the client"
	to := from
	if cc.replyBare {
		to = e.account
	}
	chat(t, peer, to, "pong "+e.token)
	if err := d.received(30*time.Second, "pong "+e.token); err != nil {
		fail("%v", err)
	}
	if cc.roster {
		// The checker below logs in to the same account: take the
		// client's logins from the server's log before it does.
		r.logins = srv.logins(e.account)
		stage = "roster"
		r.roster = checkRoster(t, e)
		if r.roster != "added" {
			fail("%s", r.roster)
		}
	}
}

// checkRoster logs in to the client's account from a mellium session and
// reads the roster the server stored: the client's roster add must be
// there, whatever the client itself displays.
func checkRoster(t *testing.T, e *env) string {
	c, err := dialMellium(t, e.srv.c2s, e.account, e.password, e.srv.cafile(), nil)
	if err != nil {
		return fmt.Sprintf("FAIL: checker: %v", err)
	}
	var roster string
	var found bool
	if poll(20*time.Second, func() bool {
		found, roster = rosterHas(t, c, e.peer)
		return found
	}) {
		return "added"
	}
	return fmt.Sprintf("FAIL: %s not on the stored roster: %s", e.peer, roster)
}

// finishRow fills in the SASL columns, applies the checks that do not
// stop the exchange (in on the first connection, SCRAM when the client
// knows it) and records the row. Mechanism and channel binding come from
// the server's log (its msg=authenticated lines), checked against the last
// <auth/> in the client's own log where the client logs it.
func finishRow(t *testing.T, cc clientCase, r *row, d driver, srv *parley, account string) {
	if t.Skipped() {
		return
	}
	attempts, err := authAttempts(d.log())
	if err != nil {
		t.Errorf("reading the client's <auth/>: %v", err)
	}
	var names []string
	for _, a := range attempts {
		names = append(names, a.String())
	}
	r.attempts = strings.Join(names, ", ")
	if r.attempts == "" {
		r.attempts = "(the client does not log what it sends)"
	}
	if r.logins == nil {
		r.logins = srv.logins(account)
	}
	var mechs []string
	for _, l := range r.logins {
		mechs = append(mechs, l.Mechanism)
	}
	r.mechanism = strings.Join(slices.Compact(mechs), ", ")
	switch {
	case len(r.logins) == 0 && r.conns != "":
		r.mechanism, r.binding = "unknown", "-"
		r.problems = append(r.problems, "no authenticated line in the server's log")
		t.Errorf("the client logged in but Parley's log has no msg=authenticated line for %s", account)
	case len(r.logins) == 0:
		r.mechanism, r.binding = "- (no login)", "-"
	case len(attempts) > 0 && r.logins[0].Flag == "" && r.logins[0].Mechanism != "PLAIN":
		// A build whose log does not name the binding: the client's says.
		r.binding = attempts[len(attempts)-1].bindingText()
	default:
		r.binding = r.logins[0].bindingText()
		if len(attempts) > 0 && attempts[len(attempts)-1].withoutSASL2() != r.logins[0] {
			t.Errorf("the client's last <auth/> was %s, the server logged a login with %s", attempts[len(attempts)-1], r.logins[0])
		}
	}
	if cc.binding != "" && len(r.logins) > 0 && r.binding != cc.binding {
		r.problems = append(r.problems, "channel binding "+r.binding+", not "+cc.binding)
		t.Errorf("%s can bind with %s but used %s", cc.name, cc.binding, r.binding)
	}
	for _, l := range r.logins {
		if cc.scram && r.conns != "" && !strings.HasPrefix(l.Mechanism, "SCRAM-") {
			r.problems = append(r.problems, "logged in with "+l.Mechanism+" although it knows SCRAM")
			t.Errorf("%s knows SCRAM but logged in with %s (attempts: %s)", cc.name, l.Mechanism, r.attempts)
		}
	}
	if r.conns == "" {
		r.conns = "-"
	} else if r.conns != fmt.Sprint(cc.processes) {
		r.problems = append(r.problems, "in only on connection "+r.conns)
		t.Errorf("%s needed %s connections to log in (it runs %d process(es)): not in on its first connection",
			cc.name, r.conns, cc.processes)
	}
	switch {
	case !t.Failed():
		r.result = "pass"
	case len(r.problems) == 0:
		r.result = "FAIL (see the test log)"
	default:
		r.result = "FAIL: " + strings.Join(r.problems, "; ")
	}
	t.Logf("matrix: %s | %s | %s | %s | %s | %s | conns %s | roster %s | %s",
		r.client, r.version, r.transport, r.mechanism, r.binding, r.attempts, r.conns, r.roster, r.result)
	rowsMu.Lock()
	rows = append(rows, *r)
	rowsMu.Unlock()
}

// writeMatrix writes the rows as a Markdown table when path is set.
func writeMatrix(path string) error {
	if path == "" {
		return nil
	}
	var b strings.Builder
	b.WriteString("| client | version | transport | mechanism used | channel binding used | SASL attempts | connections | roster add | result |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	rowsMu.Lock()
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.client, r.version, r.transport, r.mechanism, r.binding, r.attempts, r.conns, r.roster, r.result)
	}
	rowsMu.Unlock()
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("PARLEY_CLIENT_MATRIX: %w", err)
	}
	return nil
}

func token() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
