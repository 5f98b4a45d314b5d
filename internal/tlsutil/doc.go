// Package tlsutil owns the server's TLS certificates: it loads the
// configured certificate of each served domain (tls.certs, or
// tls.cert_file/key_file), checks that it covers the domain, and otherwise
// keeps a self-signed ECDSA P-256 certificate per domain in
// <data_dir>/certs, generating it on first use and again once expired. It
// builds the server's *tls.Config (TLS 1.2 minimum, certificate chosen by
// SNI) and hands out the leaf certificate for SCRAM channel binding
// (tls-server-end-point, RFC 5929).
//
// Reload reads the certificates again and swaps them in at once (new
// handshakes get them; connections already open keep theirs); Files lists
// the files to watch. It does not watch them itself or handle signals
// (internal/server does, on SIGHUP and on a change), and it does not
// listen, negotiate STARTTLS or decide when TLS is required (c2s does).
package tlsutil
