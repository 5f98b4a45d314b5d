package upload_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// TestInteropSlixmpp: slixmpp's XEP-0363 plugin (Debian's slixmpp 1.8 with
// aiohttp, its defaults; the disco walk is done by the script because the
// plugin's own fails on Python 3.11) requests a slot, uploads a file over
// HTTPS trusting only the server's self-signed certificate, and fetches
// it back; the Go side then checks the stored file over HTTP too.
func TestInteropSlixmpp(t *testing.T) {
	xmpptest.RequirePython(t, "slixmpp", "python3-slixmpp")
	xmpptest.RequirePython(t, "aiohttp", "python3-aiohttp")
	srv := start(t, func(u *config.Upload) { u.MaxFileSize = 5 << 20 })
	srv.AddUser(t, "py@localhost", "py pw")
	body := make([]byte, 1<<20+17)
	rand.Read(body)
	file := filepath.Join(t.TempDir(), "photo 1.jpg")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cafile := filepath.Join(srv.Config.DataDir, "certs", "localhost.crt")
	host, port, _ := strings.Cut(srv.Addr("c2s"), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := xmpptest.PythonCommand(ctx, "testdata/slixmpp_upload.py", "py@localhost/slix", "py pw", host, port, cafile, file)
	cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+cafile, "WANT_MAX=5242880")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nOK") {
		t.Fatalf("slixmpp: %v\n%s", err, out)
	}
	_, rest, _ := strings.Cut(string(out), "URL ")
	url, _, _ := strings.Cut(rest, "\n")
	resp, got := do(t, httpClient(t, srv), http.MethodGet, url, nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) || resp.Header.Get("Content-Type") != "image/jpeg" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `inline; filename="photo 1.jpg"`) {
		t.Fatalf("GET %s: %d %d bytes %v", url, resp.StatusCode, len(got), resp.Header)
	}
}
