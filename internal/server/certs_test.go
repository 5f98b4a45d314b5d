package server_test

import (
	"context"
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
	"github.com/parleyim/parley/internal/server"
	"github.com/parleyim/parley/internal/xmpptest"
)

// writeCert writes a self-signed certificate for localhost with serial
// into certFile/keyFile (through a rename, as ACME clients do) and returns
// it.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	for path, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: kder}} {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// served returns the serial of the certificate a TLS handshake with addr
// gets.
func served(t *testing.T, addr string) int64 {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true}) // the serial is what is checked
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestCertificateReload: after the certificate files change, new
// handshakes on the direct TLS and HTTPS listeners and STARTTLS get the new
// certificate (on ReloadCertificates, as on SIGHUP, and by the file
// watcher), and a session established before goes on.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a := writeCert(t, certFile, keyFile, 1001)
	srv := xmpptest.Start(t, func(c *config.Config) { c.TLS.CertFile, c.TLS.KeyFile = certFile, keyFile })
	srv.AddUser(t, "alice@localhost", "pw")
	for _, l := range []string{"c2s-tls", "http-tls"} {
		if got := served(t, srv.Addr(l)); got != 1001 {
			t.Fatalf("%s serves serial %d before the reload", l, got)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(a)
	alice := srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{TLS: &tls.Config{ServerName: "localhost", RootCAs: pool}})

	b := writeCert(t, certFile, keyFile, 1002)
	if err := srv.ReloadCertificates(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"c2s-tls", "http-tls"} {
		if got := served(t, srv.Addr(l)); got != 1002 {
			t.Errorf("%s serves serial %d after the reload", l, got)
		}
	}
	pool2 := x509.NewCertPool()
	pool2.AddCert(b)
	srv.Dial(t, "alice@localhost", "pw", xmpptest.DialOptions{TLS: &tls.Config{ServerName: "localhost", RootCAs: pool2}}) // STARTTLS with the new one
	if r := alice.IQ(t, `<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); r.Attr("type") != "result" {
		t.Fatalf("the session from before the reload: %+v", r)
	}

	// The watcher notices a renewal by itself.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go server.WatchCertificates(srv.Server, ctx, 20*time.Millisecond, server.CertStamp(srv.Server))
	writeCert(t, certFile, keyFile, 1003)
	deadline := time.Now().Add(10 * time.Second)
	for served(t, srv.Addr("c2s-tls")) != 1003 {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not reload the changed certificate")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A broken file is refused; the certificate in use stays.
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	if err := srv.ReloadCertificates(); err == nil {
		t.Error("a broken key file was accepted")
	}
	if got := served(t, srv.Addr("http-tls")); got != 1003 {
		t.Errorf("serial %d after a failed reload", got)
	}
}
