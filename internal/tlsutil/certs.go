package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/idna"

	"github.com/parleyim/parley/internal/config"
)

// Certs holds one certificate per served domain. It is safe for
// concurrent use; Reload replaces the certificates at once (handshakes
// from then on get the new ones, established connections keep theirs).
type Certs struct {
	domains []string // as given to Load; the first is the default
	src     source   // where they came from, for Reload
	cur     atomic.Pointer[certTable]
}

// certTable is one generation of certificates.
type certTable struct {
	byDomain map[string]*tls.Certificate // domain as given → certificate
	byName   map[string]*tls.Certificate // lower-case ASCII name (SNI form) → certificate
}

// source is what Load was given.
type source struct {
	dataDir string
	cfg     config.TLS
}

// Load returns the certificates for domains. For each domain it uses
// cfg.Certs[domain] if present, else cfg.CertFile/KeyFile if set, else the
// self-signed certificate <dataDir>/certs/<domain>.crt (key in .key, mode
// 0600), generating it when missing, unreadable, expired or not covering
// the domain. A configured certificate that does not cover its domain is an
// error.
func Load(dataDir string, domains []string, cfg config.TLS) (*Certs, error) {
	if len(domains) == 0 {
		return nil, errors.New("tlsutil: no domains")
	}
	c := &Certs{domains: append([]string(nil), domains...), src: source{dataDir, cfg}}
	t, err := load(dataDir, c.domains, cfg)
	if err != nil {
		return nil, err
	}
	c.cur.Store(t)
	return c, nil
}

// Reload reads the certificates again from where Load found them (the
// configured files, or the self-signed ones, regenerated when expired).
// On an error the certificates in use stay.
func (c *Certs) Reload() error {
	t, err := load(c.src.dataDir, c.domains, c.src.cfg)
	if err != nil {
		return err
	}
	c.cur.Store(t)
	return nil
}

// Files lists the certificate and key files in use, for watching.
func (c *Certs) Files() []string {
	var fs []string
	cfg := c.src.cfg
	for _, d := range c.domains {
		switch pair, ok := cfg.Certs[d]; {
		case ok:
			fs = append(fs, pair.Cert, pair.Key)
		case cfg.CertFile != "":
			fs = append(fs, cfg.CertFile, cfg.KeyFile)
		default:
			if name, err := hostName(d); err == nil {
				cf, kf := certPaths(c.src.dataDir, name)
				fs = append(fs, cf, kf)
			}
		}
	}
	return fs
}

func load(dataDir string, domains []string, cfg config.TLS) (*certTable, error) {
	c := &certTable{
		byDomain: make(map[string]*tls.Certificate, len(domains)),
		byName:   make(map[string]*tls.Certificate, len(domains)),
	}
	var shared *tls.Certificate // cert_file/key_file, loaded once
	for _, d := range domains {
		name, err := hostName(d)
		if err != nil {
			return nil, fmt.Errorf("tlsutil: domain %q: %w", d, err)
		}
		var cert *tls.Certificate
		switch pair, ok := cfg.Certs[d]; {
		case ok:
			if cert, err = loadPair(pair.Cert, pair.Key); err != nil {
				return nil, fmt.Errorf("tlsutil: tls.certs.%q: %w", d, err)
			}
			if err := VerifyMatches(cert.Leaf, d); err != nil {
				return nil, fmt.Errorf("tlsutil: tls.certs.%q: %s: %w", d, pair.Cert, err)
			}
		case cfg.CertFile != "" || cfg.KeyFile != "":
			if shared == nil {
				if shared, err = loadPair(cfg.CertFile, cfg.KeyFile); err != nil {
					return nil, fmt.Errorf("tlsutil: tls.cert_file: %w", err)
				}
			}
			cert = shared
			if err := VerifyMatches(cert.Leaf, d); err != nil {
				return nil, fmt.Errorf("tlsutil: tls.cert_file %s: %w; add a tls.certs entry for %s or use a certificate that covers it", cfg.CertFile, err, d)
			}
		default:
			if cert, err = selfSigned(dataDir, d, name); err != nil {
				return nil, fmt.Errorf("tlsutil: self-signed certificate for %s: %w", d, err)
			}
		}
		if now := time.Now(); now.After(cert.Leaf.NotAfter) {
			slog.Warn("tlsutil: certificate has expired", "domain", d, "not_after", cert.Leaf.NotAfter)
		}
		c.byDomain[d] = cert
		c.byName[name] = cert
	}
	return c, nil
}

// hostName returns the name a certificate must match for domain: the
// lower-case ASCII (A-label) form, or the address of an IP literal.
func hostName(domain string) (string, error) {
	d := strings.TrimSuffix(domain, ".")
	if d == "" {
		return "", errors.New("empty domain")
	}
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		addr, err := netip.ParseAddr(d[1 : len(d)-1])
		if err != nil {
			return "", fmt.Errorf("bad IP literal: %w", err)
		}
		return addr.String(), nil
	}
	if addr, err := netip.ParseAddr(d); err == nil {
		return addr.String(), nil
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", err
	}
	a = strings.ToLower(a)
	if strings.ContainsAny(a, `/\`) || strings.Contains(a, "..") {
		return "", errors.New("not a host name")
	}
	return a, nil
}

// VerifyMatches reports whether cert is valid for domain (a DNS name in
// any case or in Unicode form, or an IP literal): nil if it is, an error
// saying which names the certificate does cover otherwise. It checks names
// only, not validity dates or the chain.
func VerifyMatches(cert *x509.Certificate, domain string) error {
	if cert == nil {
		return errors.New("no certificate")
	}
	name, err := hostName(domain)
	if err != nil {
		return fmt.Errorf("domain %q: %w", domain, err)
	}
	if err := cert.VerifyHostname(name); err != nil {
		covered := append([]string(nil), cert.DNSNames...)
		for _, ip := range cert.IPAddresses {
			covered = append(covered, ip.String())
		}
		return fmt.Errorf("certificate does not cover %s (it covers: %s)", domain, strings.Join(covered, ", "))
	}
	return nil
}

// loadPair reads a PEM certificate chain and private key.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("both a certificate and a key file are needed")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%s: %w", certFile, err)
		}
	}
	return &cert, nil
}

// TLSConfig returns a new server configuration: TLS 1.2 or later, the
// certificate chosen by SNI (case-insensitive; a subdomain of a served
// domain gets that domain's certificate if it covers the name; no or an
// unknown SNI gets the first domain's certificate).
func (c *Certs) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.getCertificate,
	}
}

func (c *Certs) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.forSNI(hello.ServerName), nil
}

func (c *Certs) forSNI(sni string) *tls.Certificate {
	t := c.cur.Load()
	name := strings.ToLower(strings.TrimSuffix(sni, "."))
	if name != "" {
		if cert, ok := t.byName[name]; ok {
			return cert
		}
		if _, parent, ok := strings.Cut(name, "."); ok {
			if cert, ok := t.byName[parent]; ok && cert.Leaf.VerifyHostname(name) == nil {
				return cert
			}
		}
	}
	return t.byDomain[c.domains[0]]
}

// Certificate returns the certificate served for domain, or nil if domain
// is not one of the domains given to Load.
func (c *Certs) Certificate(domain string) *tls.Certificate {
	t := c.cur.Load()
	if cert, ok := t.byDomain[domain]; ok {
		return cert
	}
	name, err := hostName(domain)
	if err != nil {
		return nil
	}
	return t.byName[name]
}

// LeafDER returns the DER encoding of the leaf certificate served for
// domain (for SCRAM's tls-server-end-point channel binding), or nil if
// domain is not served.
func (c *Certs) LeafDER(domain string) []byte {
	cert := c.Certificate(domain)
	if cert == nil || len(cert.Certificate) == 0 {
		return nil
	}
	return cert.Certificate[0]
}

// Domains returns the domains the certificates were loaded for.
func (c *Certs) Domains() []string { return append([]string(nil), c.domains...) }

// certPaths returns where the self-signed certificate of domain lives.
func certPaths(dataDir, name string) (certFile, keyFile string) {
	base := strings.NewReplacer(":", "_", "[", "", "]", "").Replace(name)
	dir := filepath.Join(dataDir, "certs")
	return filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
}
