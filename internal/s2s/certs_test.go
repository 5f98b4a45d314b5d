package s2s_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/xmpptest"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	File string // the CA certificate, PEM
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Parley test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{dir: t.TempDir(), cert: cert, key: key}
	ca.File = filepath.Join(ca.dir, "ca.pem")
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// pool is a certificate pool of the CA alone.
func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue writes a server certificate for names (DNS-IDs, RFC 6125) and
// returns the certificate and key files.
func (ca *testCA) issue(t testing.TB, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(ca.dir, names[0]+".crt")
	keyFile = filepath.Join(ca.dir, names[0]+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	return certFile, keyFile
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// withCert makes a server present cert/key for domain and trust ca for
// peers, requiring valid certificates.
func withCert(ca *testCA, domain, cert, key string) xmpptest.Option {
	return func(c *config.Config) {
		c.TLS.Certs = map[string]config.CertPair{domain: {Cert: cert, Key: key}}
		c.S2S.CAFile = ca.File
		c.S2S.RequireValidCertificates = true
	}
}

// onlineCA logs user in, verifying the server's certificate with ca.
func onlineCA(t testing.TB, s *xmpptest.Server, ca *testCA, user, domain string) *xmpptest.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	c := s.Dial(t, user, "pw", xmpptest.DialOptions{TLS: &tls.Config{ServerName: domain, RootCAs: pool, MinVersion: tls.VersionTLS12}})
	c.Send(t, `<presence/>`)
	return c
}

// TestSASLExternal: with certificates from a CA both servers trust,
// streams authenticate with SASL EXTERNAL (RFC 6120 §6.3.4) both ways,
// and chat crosses them.
func TestSASLExternal(t *testing.T) {
	ca := newTestCA(t)
	addrA, addrB := freeAddr(t), freeAddr(t)
	routes := map[string]string{"a.test": addrA, "b.test": addrB}
	certA, keyA := ca.issue(t, "a.test", "*.a.test")
	certB, keyB := ca.issue(t, "b.test", "*.b.test")
	a := xmpptest.Start(t, fedOpts("a.test", addrA, routes, withCert(ca, "a.test", certA, keyA)))
	b := xmpptest.Start(t, fedOpts("b.test", addrB, routes, withCert(ca, "b.test", certB, keyB)))
	a.AddUser(t, "alice@a.test", "pw")
	b.AddUser(t, "bob@b.test", "pw")
	alice := onlineCA(t, a, ca, "alice@a.test", "a.test")
	bob := onlineCA(t, b, ca, "bob@b.test", "b.test")
	alice.Send(t, `<message to='bob@b.test' type='chat'><body>signed</body></message>`)
	bob.Expect(t, wait, "alice's message", isMessage(alice.JID.String(), "signed"))
	bob.Send(t, `<message to='alice@a.test' type='chat'><body>sealed</body></message>`)
	alice.Expect(t, wait, "bob's message", isMessage(bob.JID.String(), "sealed"))
	checkAuth(t, a, "sasl-external")
	checkAuth(t, b, "sasl-external")
}

// TestCertificateForAnotherDomain: a peer whose certificate names another
// domain cannot authenticate as b.test where valid certificates are
// required, neither by SASL EXTERNAL nor by dialback: bob's message is
// bounced to him and never reaches alice.
func TestCertificateForAnotherDomain(t *testing.T) {
	ca := newTestCA(t)
	addrA, addrB := freeAddr(t), freeAddr(t)
	routes := map[string]string{"a.test": addrA, "b.test": addrB}
	certA, keyA := ca.issue(t, "a.test")
	// b.test's certificate names other domains (and b.test's clients
	// are served the self-signed one it generates).
	certB, keyB := ca.issue(t, "other.test", "b.test.evil")
	a := xmpptest.Start(t, fedOpts("a.test", addrA, routes, withCert(ca, "a.test", certA, keyA)))
	b := xmpptest.Start(t, fedOpts("b.test", addrB, routes, func(c *config.Config) {
		c.TLS.Certs = map[string]config.CertPair{"other.test": {Cert: certB, Key: keyB}}
		c.Domains = append(c.Domains, "other.test")
		c.S2S.CAFile = ca.File
	}))
	a.AddUser(t, "alice@a.test", "pw")
	b.AddUser(t, "bob@b.test", "pw")
	alice := onlineCA(t, a, ca, "alice@a.test", "a.test")
	selfSigned, err := os.ReadFile(filepath.Join(b.Config.DataDir, "certs", "b.test.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(selfSigned)
	bob := b.Dial(t, "bob@b.test", "pw", xmpptest.DialOptions{TLS: &tls.Config{ServerName: "b.test", RootCAs: pool}})
	bob.Send(t, `<message to='alice@a.test' type='chat' id='x1'><body>trust me</body></message>`)
	bob.Expect(t, wait, "the bounce", isErrorFrom("alice@a.test", "remote-server-not-found"))
	alice.ExpectNone(t, 200*time.Millisecond, "bob's message", isMessage("bob@b.test", "trust me"))
}
