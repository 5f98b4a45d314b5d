package crashtest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/xmpptest"
)

// EnvIterations sets how many kills a run makes (default defaultIterations).
const EnvIterations = "PARLEY_CRASH_ITERATIONS"

const defaultIterations = 20

// window is how many messages the sender has unacknowledged at most.
const window = 64

var parleyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parley-crash-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	parleyBin = filepath.Join(dir, "parley")
	out, err := exec.Command("go", "build", "-o", parleyBin, "github.com/parleyim/parley/cmd/parley").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/parley: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is the data of one server that is killed and restarted.
type instance struct {
	t       *testing.T
	dataDir string
	config  string // TOML file
	cmd     *exec.Cmd
	exited  chan error
	addr    string
	log     *strings.Builder
}

var listenLine = regexp.MustCompile(`listening on (\S+)\s+\(clients, STARTTLS\)`)

func newInstance(t *testing.T, driver string) *instance {
	cfg := storagetest.Config(t, driver) // a fresh database; skips an engine without a test server
	in := &instance{t: t, dataDir: cfg.DataDir, config: filepath.Join(t.TempDir(), "parley.toml")}
	// Bob drains everything the runs stored at one login: the offline
	// queue, the output queue and the unacknowledged stanzas may hold
	// all of it at once.
	toml := fmt.Sprintf("data_dir = %q\n[storage]\ndriver = %q\ndsn = %q\n"+
		"[offline]\nmax_messages_per_user = 1000000\n[limits]\nmax_outbound_bytes = 1073741824\n[sm]\nmax_unacked = 1000000\n",
		cfg.DataDir, driver, cfg.Storage.DSN)
	if err := os.WriteFile(in.config, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice@localhost", "bob@localhost"} {
		if out, err := exec.Command(parleyBin, "--config", in.config, "user", "add", u, "--password", "pw").CombinedOutput(); err != nil {
			t.Fatalf("parley user add %s: %v\n%s", u, err, out)
		}
	}
	return in
}

// start runs `parley serve` and waits for its client listener.
func (in *instance) start() {
	t := in.t
	t.Helper()
	in.exited = make(chan error, 1)
	in.log = &strings.Builder{}
	in.cmd = exec.Command(parleyBin, "--config", in.config, "serve",
		"--c2s-addr", "127.0.0.1:0", "--c2s-tls-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--s2s-addr", "", "--http-addr", "", "--http-tls-addr", "", "--log-level", "warn")
	stdout, err := in.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	errs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var b strings.Builder
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		errs <- b.String()
	}()
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		log := <-errs
		in.exited <- fmt.Errorf("%w\n%s", in.cmd.Wait(), log)
	}()
	select {
	case in.addr = <-addr:
	case err := <-in.exited:
		t.Fatalf("parley serve exited before listening: %v", err)
	case <-time.After(60 * time.Second):
		in.kill()
		t.Fatal("parley serve printed no client address")
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (in *instance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.exited
}

// stop ends the server the way an operator does.
func (in *instance) stop() {
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(30 * time.Second):
		in.kill()
		in.t.Error("parley serve still running 30 s after SIGTERM")
	}
}

func (in *instance) tlsConfig() *tls.Config {
	pem, err := os.ReadFile(filepath.Join(in.dataDir, "certs", "localhost.crt"))
	if err != nil {
		in.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{ServerName: "localhost", RootCAs: pool, MinVersion: tls.VersionTLS12}
}

func iterations(t *testing.T) int {
	if v := os.Getenv(EnvIterations); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", EnvIterations, v)
		}
		return n
	}
	return defaultIterations
}

func TestCrashAckedMessagesSurvive(t *testing.T) {
	for _, driver := range storagetest.Drivers {
		t.Run(driver, func(t *testing.T) { crashRun(t, driver) })
	}
}

// crashRun kills the server iterations times while alice sends messages
// to bob: in even iterations bob is offline (the messages go to offline
// storage), in odd ones he is online with stream management and receives
// them live. Then it checks, after a last restart, that every message the
// server acknowledged to alice is in bob's archive exactly once (XEP-0313)
// and reaches him: live before the kill, from offline storage at his next
// login, or (sent while he was online and cut off by the kill in his
// output queue) from the archive; and none reaches him twice.
func crashRun(t *testing.T, driver string) {
	in := newInstance(t, driver)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 10))
	acked := map[string]bool{}
	online := map[string]bool{} // sent while bob was online: the archive is how he finds them if the kill cut them off
	live := map[string]int{}    // what bob received while online
	sent := 0
	for it := range iterations(t) {
		in.start()
		var bob *xmpptest.SMClient
		if it%2 == 1 {
			bob = xmpptest.SMLoginAt(t, in.addr, in.tlsConfig(), "bob", "localhost", "pw", "desk")
			bob.Enable(false, 0)
		}
		alice := xmpptest.SMLoginAt(t, in.addr, in.tlsConfig(), "alice", "localhost", "pw", "phone")
		if st := alice.Enable(false, 0); st.XMLName.Local != "enabled" {
			t.Fatalf("enable: %s", st.Inner)
		}
		to := "bob@localhost"
		if bob != nil {
			to = "bob@localhost/desk"
		}
		bodiesSent := sendUntilKilled(t, in, alice, rng, it, to)
		h := int(alice.Acked())
		if h > len(bodiesSent) {
			t.Fatalf("iteration %d: server acknowledged %d of %d messages", it, h, len(bodiesSent))
		}
		for _, b := range bodiesSent[:h] {
			acked[b] = true
			online[b] = bob != nil
		}
		sent += len(bodiesSent)
		if bob != nil {
			for {
				st, err := bob.Next(10 * time.Second)
				if err != nil {
					break // the stream ended with the kill
				}
				for _, b := range bodiesOf(st) {
					live[b]++
				}
			}
		}
	}
	in.start()
	defer in.stop()

	// Bob's next login gets what offline storage holds.
	bob := xmpptest.SMLoginAt(t, in.addr, in.tlsConfig(), "bob", "localhost", "pw", "phone")
	bob.Enable(false, 0)
	bob.Send("<presence/>")
	offline := map[string]int{}
	keep := func(st xmpptest.Stanza) {
		for _, b := range bodiesOf(st) {
			offline[b]++
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for missingFrom(acked, online, live, offline) > 0 && time.Now().Before(deadline) {
		st, err := bob.Next(time.Until(deadline))
		if err != nil {
			break
		}
		keep(st)
	}
	bob.RequestAck(30*time.Second, keep) // anything still on its way arrived before the <a/>
	archived := queryArchive(t, in)

	lost, dup, notArchived, dupArchived := 0, 0, 0, 0
	for b := range acked {
		if live[b]+offline[b] == 0 && !(online[b] && archived[b] > 0) {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged message %s never reached bob", b)
			}
		}
		if archived[b] != 1 {
			notArchived++
			if notArchived <= 10 {
				t.Errorf("acknowledged message %s is in bob's archive %d times, want once", b, archived[b])
			}
		}
	}
	for b := range sent2set(live, offline) {
		if n := live[b] + offline[b]; n > 1 {
			dup++
			if dup <= 10 {
				t.Errorf("message %s reached bob %d times (%d live, %d offline)", b, n, live[b], offline[b])
			}
		}
	}
	for b, n := range archived {
		if n > 1 {
			dupArchived++
			if dupArchived <= 10 {
				t.Errorf("message %s is in bob's archive %d times", b, n)
			}
		}
	}
	t.Logf("%s: %d kills, %d messages sent, %d acknowledged; bob received %d live and %d from offline storage; %d archived (%d acknowledged lost, %d duplicated, %d not archived once, %d archived twice)",
		driver, iterations(t), sent, len(acked), len(live), len(offline), len(archived), lost, dup, notArchived, dupArchived)
	if len(acked) == 0 {
		t.Error("no message was ever acknowledged: the test tested nothing")
	}
}

// sendUntilKilled has alice send messages to 'to' with at most window
// unacknowledged until the server is killed at a random moment; it returns
// the bodies in the order sent.
func sendUntilKilled(t *testing.T, in *instance, alice *xmpptest.SMClient, rng *rand.Rand, it int, to string) []string {
	var bodiesSent []string
	stop := make(chan struct{})
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		for i := 0; ; {
			select {
			case <-stop:
				return
			case <-alice.Done():
				return
			default:
			}
			if i-int(alice.Acked()) >= window {
				time.Sleep(time.Millisecond) // like a client, keep at most window messages unacknowledged
				continue
			}
			b := fmt.Sprintf("i%d-m%d", it, i)
			bodiesSent = append(bodiesSent, b)
			alice.Send(`<message to='` + to + `' type='chat' id='` + b + `'><body>` + b + `</body></message>`)
			if i%8 == 7 {
				alice.Write("<r xmlns='urn:xmpp:sm:3'/>")
			}
			i++
		}
	}()
	time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // the random point of the kill
	in.kill()
	select {
	case <-alice.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("alice's stream did not end after the kill")
	}
	close(stop)
	<-senderDone
	return bodiesSent
}

var bodyRE = regexp.MustCompile(`<body[^>]*>([^<]*)</body>`)

// bodiesOf returns the message bodies in st (one for a message, the
// forwarded one for an archive result).
func bodiesOf(st xmpptest.Stanza) []string {
	if st.XMLName.Local != "message" {
		return nil
	}
	var out []string
	for _, m := range bodyRE.FindAllStringSubmatch(st.Inner, -1) {
		out = append(out, m[1])
	}
	return out
}

// missingFrom counts the messages of want sent while bob was offline that
// neither a nor b holds.
func missingFrom(want, online map[string]bool, a, b map[string]int) int {
	n := 0
	for k := range want {
		if !online[k] && a[k]+b[k] == 0 {
			n++
		}
	}
	return n
}

func sent2set(a, b map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

var (
	lastRE     = regexp.MustCompile(`<last[^>]*>([^<]*)</last>`)
	completeRE = regexp.MustCompile(`complete="true"`)
)

// queryArchive pages through bob's whole archive (XEP-0313 with XEP-0059
// paging) and counts the bodies in it.
func queryArchive(t *testing.T, in *instance) map[string]int {
	c := xmpptest.SMLoginAt(t, in.addr, in.tlsConfig(), "bob", "localhost", "pw", "archive")
	out := map[string]int{}
	after := ""
	for page := 0; ; page++ {
		id := fmt.Sprintf("q%d", page)
		set := "<max>250</max>"
		if after != "" {
			set += "<after>" + after + "</after>"
		}
		c.Write(`<iq type='set' id='` + id + `'><query xmlns='urn:xmpp:mam:2' queryid='` + id + `'><set xmlns='http://jabber.org/protocol/rsm'>` + set + `</set></query></iq>`)
		var fin xmpptest.Stanza
		c.Expect(30*time.Second, "the archive page "+id, func(st xmpptest.Stanza) bool {
			if st.XMLName.Local == "iq" && st.Attr("id") == id {
				fin = st
				return true
			}
			if strings.Contains(st.Inner, `queryid="`+id+`"`) {
				for _, b := range bodiesOf(st) {
					out[b]++
				}
			}
			return false
		})
		if fin.Attr("type") != "result" {
			t.Fatalf("archive query: %s", fin.Inner)
		}
		if completeRE.MatchString(fin.Inner) {
			return out
		}
		m := lastRE.FindStringSubmatch(fin.Inner)
		if m == nil {
			t.Fatalf("archive page without <last/> and not complete: %s", fin.Inner)
		}
		after = m[1]
	}
}
