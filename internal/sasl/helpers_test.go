package sasl

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// tlsEnv is both ends of a real, completed TLS handshake.
type tlsEnv struct {
	server, client tls.ConnectionState
	cert           []byte // DER of the server's certificate
}

// Certificate kinds for newTLSEnv.
const (
	certP256    = "p256-sha256"
	certP384    = "p384-sha384"
	certP521    = "p521-sha512"
	certEd25519 = "ed25519"
)

var tlsEnvs sync.Map // string -> tlsEnv

// newTLSEnv performs a TLS handshake of the given version over net.Pipe with
// a freshly generated self-signed certificate of the given kind. Results are
// cached per (version, kind) for the test binary.
func newTLSEnv(tb testing.TB, version uint16, kind string) tlsEnv {
	tb.Helper()
	key := fmt.Sprint(version, kind)
	if e, ok := tlsEnvs.Load(key); ok {
		return e.(tlsEnv)
	}
	cert, der := genCert(tb, kind)
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	srv := tls.Server(c1, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   version, MaxVersion: version,
	})
	cli := tls.Client(c2, &tls.Config{
		InsecureSkipVerify: true, // self-signed; the tests need the state only
		MinVersion:         version, MaxVersion: version,
	})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		tb.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		tb.Fatalf("server handshake: %v", err)
	}
	e := tlsEnv{server: srv.ConnectionState(), client: cli.ConnectionState(), cert: der}
	if e.server.Version != version {
		tb.Fatalf("negotiated %x, want %x", e.server.Version, version)
	}
	tlsEnvs.Store(key, e)
	return e
}

func genCert(tb testing.TB, kind string) (tls.Certificate, []byte) {
	tb.Helper()
	var priv crypto.Signer
	var alg x509.SignatureAlgorithm
	var err error
	switch kind {
	case certP256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		alg = x509.ECDSAWithSHA256
	case certP384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		alg = x509.ECDSAWithSHA384
	case certP521:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		alg = x509.ECDSAWithSHA512
	case certEd25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
		alg = x509.PureEd25519
	default:
		tb.Fatalf("unknown cert kind %q", kind)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(1),
		Subject:            pkix.Name{CommonName: "localhost"},
		DNSNames:           []string{"localhost"},
		NotBefore:          time.Now().Add(-time.Hour),
		NotAfter:           time.Now().Add(time.Hour),
		SignatureAlgorithm: alg,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, der
}

// testIterations is the iteration count of the fixture accounts.
const testIterations = 4096

type testAccount struct {
	password string
	hashes   []Hash // nil means all
}

// testAccounts are the fixture accounts of newLookup.
var testAccounts = map[string]testAccount{
	"juliet":     {password: "r0m30myr0m30"},
	"romeo":      {password: "pencil"},
	"a,b=c":      {password: "weird name"},
	"nurse":      {password: "pass\u00a0word"}, // non-ASCII space: prepared to "pass word"
	"sha1only":   {password: "old", hashes: []Hash{SHA1}},
	"sha512only": {password: "new", hashes: []Hash{SHA512}},
	"ünïcödé":    {password: "pässwörd"},
}

var (
	lookupOnce  sync.Once
	lookupCreds map[string]map[Hash]Credentials
)

// newLookup returns a Lookup over testAccounts.
func newLookup(tb testing.TB) Lookup {
	tb.Helper()
	lookupOnce.Do(func() {
		lookupCreds = map[string]map[Hash]Credentials{}
		for user, a := range testAccounts {
			hs := a.hashes
			if hs == nil {
				hs = Hashes
			}
			m := map[Hash]Credentials{}
			for _, h := range hs {
				p, err := PreparePassword(a.password)
				if err != nil {
					panic(err)
				}
				salt := []byte("salt-of-" + user + "-" + string(h))[:SaltLen]
				c, err := DeriveCredentials(h, p, salt, testIterations)
				if err != nil {
					panic(err)
				}
				m[h] = c
			}
			lookupCreds[user] = m
		}
	})
	return func(ctx context.Context, username string, h Hash) (Credentials, error) {
		if c, ok := lookupCreds[username][h]; ok {
			return c, nil
		}
		return Credentials{}, fmt.Errorf("lookup %q: %w", username, ErrUnknownUser)
	}
}

// failingLookup returns err for everyone.
func failingLookup(err error) Lookup {
	return func(context.Context, string, Hash) (Credentials, error) {
		return Credentials{}, err
	}
}

// fixedRand is an endless stream of one byte value, for deterministic nonces.
type fixedRand byte

func (f fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// asFailure asserts err is a *Failure and returns it.
func asFailure(tb testing.TB, err error) *Failure {
	tb.Helper()
	var f *Failure
	if !errors.As(err, &f) {
		tb.Fatalf("error %v (%T) is not a *Failure", err, err)
	}
	return f
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
func sha384Sum(b []byte) []byte { s := sha512.Sum384(b); return s[:] }
func sha512Sum(b []byte) []byte { s := sha512.Sum512(b); return s[:] }
