package pushapp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// request is one request a fake provider received.
type request struct {
	Proto  int // major HTTP version
	Method string
	Path   string
	Header http.Header
	Body   string
}

// answer is what the fake says to one request.
type answer struct {
	status int
	body   string
}

// fake is APNs, FCM and Google's token endpoint in one HTTP/2 TLS
// server: it records every request and answers from a script per path
// kind ("apns", "fcm", "token"), then 200.
type fake struct {
	srv *httptest.Server
	mu  sync.Mutex
	got map[string][]request
	// script holds the answers still to give, per kind.
	script map[string][]answer
}

func newFake(t *testing.T) *fake {
	f := &fake{got: map[string][]request{}, script: map[string][]answer{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = true
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func kindOf(path string) string {
	switch {
	case path == "/token":
		return "token"
	case strings.HasPrefix(path, "/3/device/"):
		return "apns"
	}
	return "fcm"
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	k := kindOf(r.URL.Path)
	f.mu.Lock()
	f.got[k] = append(f.got[k], request{Proto: r.ProtoMajor, Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: string(body)})
	a := answer{status: http.StatusOK}
	if k == "token" {
		a.body = `{"access_token":"access-1","expires_in":3599,"token_type":"Bearer"}`
	}
	if s := f.script[k]; len(s) > 0 {
		a, f.script[k] = s[0], s[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// then makes the next answers to kind these.
func (f *fake) then(kind string, as ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[kind] = append(f.script[kind], as...)
}

// requests returns a copy of the requests of kind.
func (f *fake) requests(kind string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.got[kind]...)
}

// caFile writes the fake's certificate as a PEM file.
func (f *fake) caFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, p, "CERTIFICATE", f.srv.Certificate().Raw)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// apnsKey writes a fresh .p8 key and returns its path and public key.
func apnsKey(t *testing.T) (string, *ecdsa.PublicKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "AuthKey_ABC123DEFG.p8")
	writePEM(t, p, "PRIVATE KEY", der)
	return p, &k.PublicKey
}

// rsaKey is generated once: RSA key generation is slow under -race.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// serviceAccount writes a service account JSON key whose token_uri is
// the fake's and returns its path and public key.
func serviceAccount(t *testing.T, tokenURI string) (string, *rsa.PublicKey) {
	t.Helper()
	k := rsaKey()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "parley-test", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "push@parley-test.iam.gserviceaccount.com", "token_uri": tokenURI,
	})
	p := filepath.Join(t.TempDir(), "service-account.json")
	if err := os.WriteFile(p, js, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, &k.PublicKey
}
