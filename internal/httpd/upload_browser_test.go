package httpd_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestConverseUpload: converse.js in headless Chromium, on a page from
// another origin, shares a file through XEP-0363 (disco, slot, CORS
// preflight and PUT to the server's HTTPS listener, the URL sent in a
// message); the Go client receives the URL and GETs the same bytes.
func TestConverseUpload(t *testing.T) {
	e := newConverseEnv(t)
	srv, bob := e.srv, e.bob

	const token = "upl0ad"
	q := url.Values{"jid": {"alice@localhost/upload"}, "password": {"pw-alice"}, "ws": {localURL(srv, "ws", "http", "/xmpp-websocket")}}
	out, done := startBrowser(t, e.node, e.chromium, []string{"PARLEY_SPKI=" + spki(t, srv)},
		"converse-upload.mjs", e.pages.URL+"/?"+q.Encode(), "bob@localhost", token)
	getURL := regexp.MustCompile(`https://localhost:[0-9]+/upload/[0-9a-f]{32}/note%20` + token + `\.txt`)
	st := expectOrExit(t, bob, done, "the upload's URL", func(s xmpptest.Stanza) bool {
		return s.XMLName.Local == "message" && getURL.MatchString(s.Inner)
	})
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: srv.TLSConfig(t, "localhost")}}
	resp, err := hc.Get(getURL.FindString(st.Inner))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := strings.Repeat(token, 65536/len(token)+1)[:65536]
	if resp.StatusCode != http.StatusOK || string(body) != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET: %d, %d bytes, %s", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
	bob.Send(t, `<message to='`+st.Attr("from")+`' type='chat'><body>got `+token+`</body></message>`)
	if err := <-done; err != nil || !strings.Contains(out.String(), "RECEIVED got "+token) {
		t.Fatalf("converse-upload.mjs: %v", err)
	}
}

// spki is the base64 SHA-256 of the localhost certificate's public key,
// for Chromium's --ignore-certificate-errors-spki-list (trust that key
// only).
func spki(t *testing.T, srv *xmpptest.Server) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(srv.Config.DataDir, "certs", "localhost.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block in the certificate file")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}
