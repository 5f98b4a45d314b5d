package tlsutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
)

func TestGenerateAndReload(t *testing.T) {
	dir := t.TempDir()
	domains := []string{"localhost", "example.org"}
	c, err := Load(dir, domains, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range domains {
		cert := c.Certificate(d)
		if cert == nil {
			t.Fatalf("no certificate for %s", d)
		}
		leaf := cert.Leaf
		if err := VerifyMatches(leaf, d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
		if err := leaf.VerifyHostname("conference." + d); err != nil {
			t.Errorf("%s: wildcard missing: %v", d, err)
		}
		pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s: key is %T, want ECDSA P-256", d, leaf.PublicKey)
		}
		if life := leaf.NotAfter.Sub(time.Now()); life < 9*365*24*time.Hour || life > 11*365*24*time.Hour {
			t.Errorf("%s: valid for %v, want about 10 years", d, life)
		}
		fi, err := os.Stat(filepath.Join(dir, "certs", d+".key"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: key mode %v, want 0600", d, fi.Mode().Perm())
		}
		if _, err := os.Stat(filepath.Join(dir, "certs", d+".crt")); err != nil {
			t.Error(err)
		}
		if !bytes.Equal(c.LeafDER(d), cert.Certificate[0]) {
			t.Errorf("%s: LeafDER is not the leaf", d)
		}
	}
	if c.Certificate("other.org") != nil || c.LeafDER("other.org") != nil {
		t.Error("certificate for a domain that is not served")
	}
	if c.Certificate("EXAMPLE.ORG") != c.Certificate("example.org") {
		t.Error("Certificate is case-sensitive")
	}

	again, err := Load(dir, domains, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range domains {
		if !bytes.Equal(again.LeafDER(d), c.LeafDER(d)) {
			t.Errorf("%s: reload generated a new certificate", d)
		}
	}
}

func TestRegenerateExpired(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := certPaths(dir, "example.org")
	writePair(t, certFile, keyFile, "example.org", time.Now().Add(-11*365*24*time.Hour), 10*365*24*time.Hour)
	c, err := Load(dir, []string{"example.org"}, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	if leaf := c.Certificate("example.org").Leaf; time.Now().After(leaf.NotAfter) {
		t.Errorf("expired certificate kept: NotAfter %v", leaf.NotAfter)
	}
	// A stored certificate for another name is replaced too.
	writePair(t, certFile, keyFile, "wrong.org", time.Now(), time.Hour)
	c, err = Load(dir, []string{"example.org"}, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyMatches(c.Certificate("example.org").Leaf, "example.org"); err != nil {
		t.Error(err)
	}
	// Garbage is replaced.
	os.WriteFile(certFile, []byte("garbage"), 0o644)
	if _, err := Load(dir, []string{"example.org"}, config.TLS{}); err != nil {
		t.Fatal(err)
	}
}

func writePair(t *testing.T, certFile, keyFile, name string, now time.Time, validity time.Duration) {
	t.Helper()
	certPEM, keyPEM, err := generate(name, now, validity)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(certFile), 0o700)
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConfiguredCertificates(t *testing.T) {
	dir := t.TempDir()
	orgCert, orgKey := filepath.Join(dir, "org.crt"), filepath.Join(dir, "org.key")
	writePair(t, orgCert, orgKey, "example.org", time.Now(), time.Hour)
	netCert, netKey := filepath.Join(dir, "net.crt"), filepath.Join(dir, "net.key")
	writePair(t, netCert, netKey, "example.net", time.Now(), time.Hour)

	cfg := config.TLS{
		CertFile: netCert, KeyFile: netKey,
		Certs: map[string]config.CertPair{"example.org": {Cert: orgCert, Key: orgKey}},
	}
	c, err := Load(filepath.Join(dir, "data"), []string{"example.org", "example.net"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Certificate("example.org").Leaf.Subject.CommonName; got != "example.org" {
		t.Errorf("example.org served %q", got)
	}
	if got := c.Certificate("example.net").Leaf.Subject.CommonName; got != "example.net" {
		t.Errorf("example.net served %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "certs")); !os.IsNotExist(err) {
		t.Errorf("self-signed certificates generated although all domains are configured: %v", err)
	}
}

func TestConfiguredCertificateMismatch(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
	writePair(t, certFile, keyFile, "other.org", time.Now(), time.Hour)

	_, err := Load(dir, []string{"example.org"}, config.TLS{
		Certs: map[string]config.CertPair{"example.org": {Cert: certFile, Key: keyFile}},
	})
	if err == nil || !strings.Contains(err.Error(), "does not cover example.org") || !strings.Contains(err.Error(), "other.org") {
		t.Errorf("tls.certs mismatch: %v", err)
	}
	_, err = Load(dir, []string{"example.org"}, config.TLS{CertFile: certFile, KeyFile: keyFile})
	if err == nil || !strings.Contains(err.Error(), "does not cover example.org") {
		t.Errorf("cert_file mismatch: %v", err)
	}
	// A key that is not the certificate's.
	_, otherKey := filepath.Join(dir, "x.crt"), filepath.Join(dir, "x.key")
	writePair(t, filepath.Join(dir, "x.crt"), otherKey, "other.org", time.Now(), time.Hour)
	_, err = Load(dir, []string{"other.org"}, config.TLS{CertFile: certFile, KeyFile: otherKey})
	if err == nil {
		t.Error("mismatched key accepted")
	}
	// Missing file.
	_, err = Load(dir, []string{"other.org"}, config.TLS{CertFile: filepath.Join(dir, "nope.crt"), KeyFile: keyFile})
	if !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}

func TestVerifyMatches(t *testing.T) {
	certPEM, keyPEM, err := generate("example.org", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	for _, d := range []string{"example.org", "EXAMPLE.org", "muc.example.org", "example.org."} {
		if err := VerifyMatches(leaf, d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	for _, d := range []string{"example.net", "a.b.example.org", "org"} {
		if err := VerifyMatches(leaf, d); err == nil {
			t.Errorf("%s: matched", d)
		}
	}
	if err := VerifyMatches(nil, "example.org"); err == nil {
		t.Error("nil certificate matched")
	}
}

func TestIDNAndIPDomains(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(dir, []string{"bücher.example", "[::1]", "127.0.0.1"}, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Certificate("bücher.example").Leaf.DNSNames[0]; got != "xn--bcher-kva.example" {
		t.Errorf("IDN SAN = %q", got)
	}
	if c.forSNI("XN--BCHER-KVA.EXAMPLE") != c.Certificate("bücher.example") {
		t.Error("SNI in A-label form not matched")
	}
	if err := VerifyMatches(c.Certificate("[::1]").Leaf, "[::1]"); err != nil {
		t.Error(err)
	}
	if err := VerifyMatches(c.Certificate("127.0.0.1").Leaf, "127.0.0.1"); err != nil {
		t.Error(err)
	}
	if _, err := Load(dir, []string{"../evil"}, config.TLS{}); err == nil {
		t.Error("path-like domain accepted")
	}
}

func TestSNISelection(t *testing.T) {
	c, err := Load(t.TempDir(), []string{"localhost", "example.org", "example.net"}, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.TLSConfig()
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	tests := []struct{ sni, want string }{
		{"example.org", "example.org"},
		{"EXAMPLE.NET", "example.net"},
		{"example.net.", "example.net"},
		{"conference.example.org", "example.org"}, // covered by *.example.org
		{"a.b.example.org", "localhost"},          // not covered: default
		{"unknown.com", "localhost"},
		{"", "localhost"},
	}
	for _, tt := range tests {
		got, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: tt.sni})
		if err != nil {
			t.Fatal(err)
		}
		if got != c.Certificate(tt.want) {
			t.Errorf("SNI %q: got %v, want the certificate of %s", tt.sni, got.Leaf.DNSNames, tt.want)
		}
	}
}

// handshake runs a TLS handshake between a server using certs and a client
// with clientCfg, and returns the client's error.
func handshake(t *testing.T, c *Certs, clientCfg *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	sc, cc := net.Pipe()
	defer sc.Close()
	defer cc.Close()
	srv := tls.Server(sc, c.TLSConfig())
	done := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		if err != nil {
			sc.Close()
		}
		done <- err
	}()
	cl := tls.Client(cc, clientCfg)
	cl.SetDeadline(time.Now().Add(10 * time.Second))
	err := cl.Handshake()
	if err != nil {
		cc.Close()
	}
	<-done
	return cl.ConnectionState(), err
}

func TestHandshake(t *testing.T) {
	c, err := Load(t.TempDir(), []string{"localhost", "example.org"}, config.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Certificate("example.org").Leaf)

	st, err := handshake(t, c, &tls.Config{ServerName: "example.org", RootCAs: roots, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS 1.2 handshake: %v", err)
	}
	if st.Version != tls.VersionTLS12 || !bytes.Equal(st.PeerCertificates[0].Raw, c.LeafDER("example.org")) {
		t.Errorf("unexpected connection state: version %x", st.Version)
	}
	if _, err := handshake(t, c, &tls.Config{ServerName: "example.org", RootCAs: roots}); err != nil {
		t.Fatalf("TLS 1.3 handshake: %v", err)
	}

	_, err = handshake(t, c, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err == nil {
		t.Fatal("TLS 1.1 client accepted")
	}
	t.Logf("TLS 1.1 refused: %v", err)
}
