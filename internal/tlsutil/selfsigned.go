package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// selfSignedValidity is how long a generated certificate is valid.
const selfSignedValidity = 10 * 365 * 24 * time.Hour

// selfSigned loads the generated certificate for domain from dataDir, or
// generates and stores a new one when there is none or the one there is
// unusable (unreadable, expired, or not covering domain).
func selfSigned(dataDir, domain, name string) (*tls.Certificate, error) {
	certFile, keyFile := certPaths(dataDir, name)
	cert, err := loadPair(certFile, keyFile)
	switch {
	case err == nil && time.Now().After(cert.Leaf.NotAfter):
		slog.Info("tlsutil: self-signed certificate expired; generating a new one", "domain", domain, "file", certFile)
	case err == nil && VerifyMatches(cert.Leaf, domain) != nil:
		slog.Warn("tlsutil: self-signed certificate does not cover its domain; generating a new one", "domain", domain, "file", certFile)
	case err == nil:
		return cert, nil
	case os.IsNotExist(err):
		slog.Info("tlsutil: generating self-signed certificate", "domain", domain, "file", certFile)
	default:
		slog.Warn("tlsutil: cannot use stored self-signed certificate; generating a new one", "domain", domain, "file", certFile, "err", err)
	}
	certPEM, keyPEM, err := generate(name, time.Now(), selfSignedValidity)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return nil, err
	}
	// Key first: a certificate never sits next to a key that is not its own
	// for long, and a crash leaves at worst a pair that fails to load and is
	// regenerated.
	if err := writeAtomic(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeAtomic(certFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	return loadPair(certFile, keyFile)
}

// generate makes a self-signed ECDSA P-256 certificate for name (and
// *.name) valid from now-1h for validity, returned as PEM.
func generate(name string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Parley self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name, "*." + name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, so that readers see the old or the new content, never half.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
