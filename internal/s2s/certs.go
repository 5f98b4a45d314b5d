package s2s

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/parleyim/parley/internal/tlsutil"
)

// trust decides whether a peer's certificate authenticates a domain
// (RFC 6120 §13.7.1.2, RFC 6125 §6: the chain verifies to a trusted root
// and a DNS-ID matches the domain).
type trust struct {
	roots *x509.CertPool
}

// newTrust builds the pool: the system's roots plus those in caFile.
func newTrust(caFile string) (*trust, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("s2s: ca_file: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("s2s: ca_file %s holds no PEM certificate", caFile)
		}
	}
	return &trust{roots: roots}, nil
}

// verify checks that chain (leaf first) is valid for domain. A server
// certificate is also what a server presents as a TLS client, so any
// extended key usage is accepted.
func (t *trust) verify(chain []*x509.Certificate, domain string) error {
	if len(chain) == 0 {
		return errors.New("the peer presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{
		Roots: t.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return fmt.Errorf("certificate chain: %w", err)
	}
	return tlsutil.VerifyMatches(chain[0], domain)
}

// certFor picks the certificate we present for local: its own, else that
// of the served domain it is a subdomain of (conference.example.org uses
// example.org's, which may cover it), else the first domain's.
func certFor(certs *tlsutil.Certs, local string) *tls.Certificate {
	if c := certs.Certificate(local); c != nil {
		return c
	}
	for _, d := range certs.Domains() {
		if strings.HasSuffix(local, "."+d) {
			return certs.Certificate(d)
		}
	}
	if ds := certs.Domains(); len(ds) > 0 {
		return certs.Certificate(ds[0])
	}
	return nil
}

// clientTLS is the configuration of an outbound stream from local to
// remote. The chain is checked by trust.verify afterwards (so that a peer
// whose certificate does not verify can still be reached for dialback
// when require_valid_certificates is off).
func clientTLS(certs *tlsutil.Certs, local, remote string) *tls.Config {
	return &tls.Config{
		ServerName:         remote,
		InsecureSkipVerify: true, // verified by trust.verify, per the settings
		MinVersion:         tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if c := certFor(certs, local); c != nil {
				return c, nil
			}
			return &tls.Certificate{}, nil
		},
	}
}

// serverTLS is the configuration of inbound streams: our certificates by
// SNI, and the peer's certificate requested (not required) for SASL
// EXTERNAL.
func serverTLS(certs *tlsutil.Certs) *tls.Config {
	cfg := certs.TLSConfig().Clone()
	cfg.ClientAuth = tls.RequestClientCert
	return cfg
}
