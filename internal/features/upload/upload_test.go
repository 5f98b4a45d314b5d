package upload_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestDisco: the service is listed in the server's items and announces
// the identity, the feature and max-file-size (XEP-0363 §3).
func TestDisco(t *testing.T) {
	srv := start(t, func(u *config.Upload) { u.MaxFileSize = 12345 })
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	items := alice.IQ(t, `<iq type='get' id='i' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
	if !strings.Contains(items.Inner, `jid="upload.localhost"`) {
		t.Fatalf("server items lack the upload service:\n%s", items.Inner)
	}
	info := alice.IQ(t, `<iq type='get' id='d' to='upload.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	for _, want := range []string{`category="store"`, `type="file"`, `var="urn:xmpp:http:upload:0"`,
		`<value xmlns="jabber:x:data">urn:xmpp:http:upload:0</value>`, `var="max-file-size"`, `>12345</value>`} {
		if !strings.Contains(info.Inner, want) {
			t.Errorf("disco#info lacks %s:\n%s", want, info.Inner)
		}
	}
}

// TestRoundTrip: a slot is granted, the PUT stores the file, the GET
// serves it with its type, disposition, CORS and ranges; the slot takes
// no second PUT and the GET URL (without signature) takes none.
func TestRoundTrip(t *testing.T) {
	srv := start(t, nil)
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	hc := httpClient(t, srv)
	body := make([]byte, 300<<10)
	rand.Read(body)
	name := "Grüße aus Köln.png"
	s := grant(t, alice, name, int64(len(body)), "image/png")
	if !strings.HasPrefix(s.Put, "https://localhost:") || !strings.HasPrefix(s.Put, s.Get+"?") {
		t.Fatalf("PUT %s GET %s", s.Put, s.Get)
	}
	if got := put(t, hc, s.Get, body, "image/png"); got != http.StatusForbidden {
		t.Fatalf("PUT to the GET URL: %d, want 403", got)
	}
	if resp, _ := do(t, hc, http.MethodGet, s.Get, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET before the PUT: %d", resp.StatusCode)
	}
	if got := put(t, hc, s.Put, body, "image/png"); got != http.StatusCreated {
		t.Fatalf("PUT: %d", got)
	}
	resp, got := do(t, hc, http.MethodGet, s.Get, nil, map[string]string{"Origin": "https://chat.example"})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d, %d bytes", resp.StatusCode, len(got))
	}
	for h, want := range map[string]string{
		"Content-Type":                "image/png",
		"Content-Disposition":         `inline; filename="Gr__e aus K_ln.png"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20aus%20K%C3%B6ln.png`,
		"Access-Control-Allow-Origin": "*",
		"X-Content-Type-Options":      "nosniff",
		"Accept-Ranges":               "bytes",
	} {
		if v := resp.Header.Get(h); v != want {
			t.Errorf("GET %s = %q, want %q", h, v, want)
		}
	}
	resp, part := do(t, hc, http.MethodGet, s.Get, nil, map[string]string{"Range": "bytes=10-19"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[10:20]) {
		t.Fatalf("range GET: %d %d bytes", resp.StatusCode, len(part))
	}
	resp, _ = do(t, hc, http.MethodOptions, s.Put, nil, map[string]string{
		"Origin": "https://chat.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"})
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		resp.Header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do(t, hc, http.MethodHead, s.Get, nil, nil)
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("HEAD: %d %d %v", resp.StatusCode, resp.ContentLength, resp.Header)
	}
	// The same file over the plain listener (sendfile through the metrics
	// wrapper).
	plain := "http://" + srv.Addr("http") + s.Get[strings.Index(s.Get, "/upload/"):]
	if resp, got := do(t, hc, http.MethodGet, plain, nil, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET over plain HTTP: %d, %d bytes", resp.StatusCode, len(got))
	}
	if got := put(t, hc, s.Put, body, "image/png"); got != http.StatusConflict {
		t.Fatalf("second PUT: %d, want 409", got)
	}
	// bob may fetch what alice shares (the GET URL is the capability).
	if resp, got := do(t, hc, http.MethodGet, s.Get, nil, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("second GET: %d", resp.StatusCode)
	}
}

// TestAttachment: a type that is not an image, audio or video is served
// as an attachment; a slot without a content type takes any.
func TestAttachment(t *testing.T) {
	srv := start(t, nil)
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	hc := httpClient(t, srv)
	body := []byte("<script>alert(1)</script>")
	s := grant(t, alice, "page.html", int64(len(body)), "")
	if got := put(t, hc, s.Put, body, "text/html"); got != http.StatusCreated {
		t.Fatalf("PUT: %d", got)
	}
	resp, _ := do(t, hc, http.MethodGet, s.Get, nil, nil)
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET headers: %v", resp.Header)
	}
}

// TestRefusals: slot requests the XEP says to refuse, and bad PUTs.
func TestRefusals(t *testing.T) {
	srv := start(t, func(u *config.Upload) { u.MaxFileSize = 1000; u.QuotaPerUser = 2500 })
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	hc := httpClient(t, srv)

	st := request(t, alice, "big.bin", 1001, "")
	if !errorCond(st, "not-acceptable") || !strings.Contains(st.Inner, `<file-too-large xmlns="urn:xmpp:http:upload:0"`) ||
		!strings.Contains(st.Inner, `<max-file-size xmlns="urn:xmpp:http:upload:0">1000</max-file-size></file-too-large>`) {
		t.Errorf("oversize: %s", st.Inner)
	}
	for _, name := range []string{"../../etc/passwd", "..", "a/b", `a\b`, "", "tab\there"} {
		if st := request(t, alice, name, 10, ""); !errorCond(st, "bad-request") {
			t.Errorf("filename %q: %s", name, st.Inner)
		}
	}
	for _, size := range []int64{0, -5} {
		if st := request(t, alice, "x", size, ""); !errorCond(st, "bad-request") {
			t.Errorf("size %d: %s", size, st.Inner)
		}
	}
	if st := request(t, alice, "x", 5, "not a type"); !errorCond(st, "bad-request") {
		t.Errorf("bad content type: %s", st.Inner)
	}

	s := grant(t, alice, "a.txt", 1000, "text/plain")
	if got := put(t, hc, s.Put, make([]byte, 999), "text/plain"); got != http.StatusBadRequest {
		t.Errorf("short Content-Length: %d", got)
	}
	if got := put(t, hc, s.Put, make([]byte, 1001), "text/plain"); got != http.StatusBadRequest {
		t.Errorf("long Content-Length: %d", got)
	}
	if got := put(t, hc, s.Put, make([]byte, 1000), "image/png"); got != http.StatusUnsupportedMediaType {
		t.Errorf("other Content-Type: %d", got)
	}
	bad := s.Put[:len(s.Put)-4] + "0000"
	if bad == s.Put {
		bad = s.Put[:len(s.Put)-4] + "1111"
	}
	if got := put(t, hc, bad, make([]byte, 1000), "text/plain"); got != http.StatusForbidden {
		t.Errorf("bad signature: %d", got)
	}
	// Another slot's signature does not open this one.
	other := grant(t, bob, "a.txt", 1000, "text/plain")
	_, sig, _ := strings.Cut(other.Put, "?")
	if got := put(t, hc, s.Get+"?"+sig, make([]byte, 1000), "text/plain"); got != http.StatusForbidden {
		t.Errorf("bob's signature on alice's slot: %d", got)
	}
	// The filename in the URL must be the slot's.
	if got := put(t, hc, strings.Replace(s.Put, "/a.txt?", "/b.txt?", 1), make([]byte, 1000), "text/plain"); got != http.StatusNotFound {
		t.Errorf("other filename: %d", got)
	}
	if got := put(t, hc, s.Put, make([]byte, 1000), "text/plain"); got != http.StatusCreated {
		t.Fatalf("the right PUT after the refused ones: %d", got)
	}
	// Quota 2500: 1000 uploaded + 1000 open + 600 is too much for alice;
	// bob's usage is his own.
	grant(t, alice, "b.txt", 1000, "")
	if st := request(t, alice, "c.txt", 600, ""); !errorCond(st, "resource-constraint") {
		t.Errorf("quota: %s", st.Inner)
	}
	grant(t, alice, "c.txt", 500, "")
	grant(t, bob, "c.txt", 1000, "")
	// Paths that do not name a slot.
	base := s.Get[:strings.Index(s.Get, "/upload/")]
	for _, p := range []string{"/upload/../../etc/passwd", "/upload/%2e%2e/%2e%2e/etc/passwd", "/upload/" + strings.Repeat("0", 32) + "/a.txt", "/upload/x"} {
		if resp, _ := do(t, hc, http.MethodGet, base+p, nil, nil); resp.StatusCode == http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	resp, metrics := do(t, hc, http.MethodGet, "http://"+srv.Addr("admin")+"/metrics", nil, nil)
	for _, want := range []string{`parley_upload_slots_total{outcome="too_large"}`, `parley_upload_slots_total{outcome="quota"}`,
		`parley_upload_http_total{class="4xx",method="PUT"}`, `parley_upload_bytes_total{direction="in"}`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Nothing but files named by slot id in the directory.
	entries, err := os.ReadDir(filepath.Join(srv.Config.DataDir, "uploads", "files"))
	if err != nil || len(entries) != 1 || len(entries[0].Name()) != 32 {
		t.Errorf("upload directory: %v %v", entries, err)
	}
}

// TestExpiredSlot: a PUT after the slot's deadline is refused.
func TestExpiredSlot(t *testing.T) {
	srv := start(t, func(u *config.Upload) { u.SlotTimeout = config.Duration(time.Second) })
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	s := grant(t, alice, "late.txt", 4, "")
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline.Add(100 * time.Millisecond)) {
		time.Sleep(50 * time.Millisecond) // waiting for the deadline itself
	}
	if got := put(t, httpClient(t, srv), s.Put, []byte("late"), ""); got != http.StatusGone && got != http.StatusNotFound {
		t.Fatalf("PUT after the deadline: %d, want 410 (or 404 once swept)", got)
	}
}

// TestExpiry: a file past upload.expire_after is deleted from disk and
// its GET answers 404.
func TestExpiry(t *testing.T) {
	srv := start(t, func(u *config.Upload) { u.ExpireAfter = config.Duration(10 * time.Second) })
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	hc := httpClient(t, srv)
	s := grant(t, alice, "short.txt", 5, "")
	if got := put(t, hc, s.Put, []byte("hello"), ""); got != http.StatusCreated {
		t.Fatalf("PUT: %d", got)
	}
	dir := filepath.Join(srv.Config.DataDir, "uploads", "files")
	deadline := time.Now().Add(60 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("file not deleted: %v", entries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp, _ := do(t, hc, http.MethodGet, s.Get, nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET after expiry: %d", resp.StatusCode)
	}
}

// TestConcurrentPUT: while one PUT of a slot is in progress a second is
// refused (409) and does not disturb it; the first completes.
func TestConcurrentPUT(t *testing.T) {
	srv := start(t, nil)
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	hc := httpClient(t, srv)
	body := bytes.Repeat([]byte("0123456789"), 10000)
	s := grant(t, alice, "race.bin", int64(len(body)), "")
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPut, s.Put, pr)
		req.ContentLength = int64(len(body))
		resp, err := hc.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if _, err := pw.Write(body[:5000]); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(srv.Config.DataDir, "uploads", "files")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, "*.part")); len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first PUT's part file never appeared")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := put(t, hc, s.Put, bytes.Repeat([]byte("x"), len(body)), ""); got != http.StatusConflict {
		t.Fatalf("second PUT during the first: %d, want 409", got)
	}
	if _, err := pw.Write(body[5000:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("first PUT: %d", code)
	}
	if resp, got := do(t, hc, http.MethodGet, s.Get, nil, nil); resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d, the first PUT's bytes: %v", resp.StatusCode, bytes.Equal(got, body))
	}
}

// TestRate: past upload.slots_per_minute a request gets
// resource-constraint with a <retry stamp/> in the future; another
// user's requests are not counted against it.
func TestRate(t *testing.T) {
	srv := start(t, func(u *config.Upload) { u.SlotsPerMinute = 2 })
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{})
	bob := srv.Dial(t, "bob@localhost", "pw", xmpptest.DialOptions{})
	before := time.Now()
	grant(t, alice, "1.txt", 1, "")
	grant(t, alice, "2.txt", 1, "")
	st := request(t, alice, "3.txt", 1, "")
	stamp := between(between(st.Inner, `<retry xmlns="urn:xmpp:http:upload:0"`, `>`), `stamp="`, `"`)
	at, err := time.Parse(time.RFC3339, stamp)
	if !errorCond(st, "resource-constraint") || !strings.Contains(st.Inner, `type="wait"`) || err != nil || !at.After(before) {
		t.Fatalf("third request in a minute: %v\n%s", err, st.Inner)
	}
	grant(t, bob, "1.txt", 1, "")
}
