package sasl

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync/atomic"
)

// exporterLabel and exporterLen are fixed by RFC 9266 §2.
const (
	exporterLabel = "EXPORTER-Channel-Binding"
	exporterLen   = 32
)

// bindingData returns the channel binding data of type typ for the
// connection in o. typ must be one of ChannelBindingTypes(o).
func bindingData(o Options, typ string) ([]byte, error) {
	switch typ {
	case TLSExporter:
		if o.TLS == nil || o.TLS.Version < tls.VersionTLS13 {
			return nil, errors.New("tls-exporter requires TLS 1.3")
		}
		return exportKeyingMaterial(o.TLS)
	case TLSUnique:
		if o.TLS == nil || o.TLS.Version >= tls.VersionTLS13 || len(o.TLS.TLSUnique) == 0 {
			return nil, errors.New("tls-unique is undefined on this connection")
		}
		return bytes.Clone(o.TLS.TLSUnique), nil
	case TLSServerEndPoint:
		h, ok := endPointHash(o.ServerCert)
		if !ok {
			return nil, errors.New("tls-server-end-point undefined for this certificate")
		}
		switch h {
		case crypto.SHA256:
			sum := sha256.Sum256(o.ServerCert)
			return sum[:], nil
		case crypto.SHA384:
			sum := sha512.Sum384(o.ServerCert)
			return sum[:], nil
		default:
			sum := sha512.Sum512(o.ServerCert)
			return sum[:], nil
		}
	}
	return nil, errors.New("unsupported channel binding type")
}

// exportKeyingMaterial guards against a ConnectionState that was not made by
// crypto/tls (its exporter function is then nil and calling it panics).
func exportKeyingMaterial(cs *tls.ConnectionState) (b []byte, err error) {
	defer func() {
		if recover() != nil {
			b, err = nil, errors.New("keying material exporter unavailable")
		}
	}()
	b, err = cs.ExportKeyingMaterial(exporterLabel, nil, exporterLen)
	if err == nil && len(b) != exporterLen {
		err = errors.New("short keying material")
	}
	return b, err
}

// endPointHash picks the hash for tls-server-end-point (RFC 5929 §4.1): the
// hash of the certificate's signature algorithm, except that MD5 and SHA-1
// are replaced by SHA-256. Algorithms that use no hash or several (Ed25519)
// have no defined binding.
func endPointHash(der []byte) (crypto.Hash, bool) {
	if e := lastCert.Load(); e != nil && bytes.Equal(e.der, der) {
		return e.hash, e.ok
	}
	e := &certHash{der: bytes.Clone(der)}
	if cert, err := x509.ParseCertificate(der); err == nil {
		switch cert.SignatureAlgorithm {
		case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
			x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
			e.hash, e.ok = crypto.SHA256, true
		case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
			e.hash, e.ok = crypto.SHA384, true
		case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
			e.hash, e.ok = crypto.SHA512, true
		}
	}
	lastCert.Store(e)
	return e.hash, e.ok
}

// certHash caches the result of endPointHash for the last certificate seen:
// a server presents the same certificate to every client, and parsing it on
// each connection would be wasted work.
type certHash struct {
	der  []byte
	hash crypto.Hash
	ok   bool
}

var lastCert atomic.Pointer[certHash]
