package sasl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Lookup returns the stored SCRAM credentials of username (the SASLname
// already decoded, not prepared) for hash h. It returns ErrUnknownUser
// (wrapped is fine) when no such account exists, and ErrNoCredentials when
// the account exists but has no credentials for h (it was created while
// fewer hashes were configured, or imported). Any other error makes the
// negotiation fail with temporary-auth-failure, except a *Failure, which is
// passed on as it is (for account-disabled, say; note that such an answer
// tells the client that the account exists).
type Lookup func(ctx context.Context, username string, h Hash) (Credentials, error)

// ErrUnknownUser is what a Lookup returns for an account that does not exist.
var ErrUnknownUser = errors.New("sasl: unknown user")

// ErrNoCredentials is what a Lookup returns for an account that exists but
// has no credentials for the hash asked for. SCRAM then fails at once with
// invalid-mechanism (so that the client can choose another offered
// mechanism; this tells it that the account exists), and PLAIN tries the
// account's other hashes.
var ErrNoCredentials = errors.New("sasl: no credentials for this hash")

// Options describe the connection a negotiation runs on and how to find
// accounts.
type Options struct {
	Lookup Lookup
	// TLS is the state of the server side of the connection; nil when the
	// stream is not encrypted.
	TLS *tls.ConnectionState
	// ServerCert is the DER of the certificate the server presented, for
	// tls-server-end-point; nil if none.
	ServerCert []byte
	// AllowInsecurePlain allows PLAIN without TLS (only for
	// --insecure-plaintext).
	AllowInsecurePlain bool
	// UnknownUserIterations is the iteration count announced for accounts
	// that do not exist, so that they look like accounts that do; it should
	// be the count the account store uses. 0 means DefaultIterations.
	UnknownUserIterations int
	// Hashes are the SCRAM hashes offered (with their -PLUS variants); nil
	// offers all of Hashes. It should be the hashes the account store
	// derives keys for. PLAIN verifies against any stored hash.
	Hashes []Hash
}

// offers reports whether o offers SCRAM with h.
func (o Options) offers(h Hash) bool {
	return o.Hashes == nil || slices.Contains(o.Hashes, h)
}

// ParseHashes turns hash names ("SHA-1", "SHA-256", "SHA-512") into Hashes,
// strongest first, without duplicates. It fails on an unknown name.
func ParseHashes(names []string) ([]Hash, error) {
	out := make([]Hash, 0, len(names))
	for _, n := range names {
		if Hash(n).Size() == 0 {
			return nil, fmt.Errorf("sasl: unknown SCRAM hash %q (known: SHA-1, SHA-256, SHA-512)", n)
		}
	}
	for _, h := range Hashes {
		if slices.Contains(names, string(h)) {
			out = append(out, h)
		}
	}
	return out, nil
}

// MaxMessageSize is the largest client message Step accepts, in bytes after
// base64 decoding. Larger ones fail with malformed-request.
const MaxMessageSize = 8 << 10

// The SASL failure conditions of RFC 6120 §6.5.
const (
	Aborted              = "aborted"
	AccountDisabled      = "account-disabled"
	CredentialsExpired   = "credentials-expired"
	EncryptionRequired   = "encryption-required"
	IncorrectEncoding    = "incorrect-encoding"
	InvalidAuthzid       = "invalid-authzid"
	InvalidMechanism     = "invalid-mechanism"
	MalformedRequest     = "malformed-request"
	MechanismTooWeak     = "mechanism-too-weak"
	NotAuthorized        = "not-authorized"
	TemporaryAuthFailure = "temporary-auth-failure"
)

// Failure is a SASL failure; Condition is one of the RFC 6120 §6.5
// conditions above. Text is a human-readable explanation that may be sent to
// the client: it never tells whether an account exists (beyond what the
// condition does, see ErrNoCredentials).
type Failure struct {
	Condition, Text string
	// Binding is set when the failure is about the channel binding the
	// client asked for, not about its credentials: callers should not count
	// it as a failed login (clients fall back to another mechanism).
	Binding bool
}

func (f *Failure) Error() string {
	if f.Text == "" {
		return "sasl: " + f.Condition
	}
	return "sasl: " + f.Condition + ": " + f.Text
}

func fail(cond, text string) *Failure { return &Failure{Condition: cond, Text: text} }

// Channel binding type names (RFC 5929, RFC 9266).
const (
	TLSExporter       = "tls-exporter"
	TLSServerEndPoint = "tls-server-end-point"
	TLSUnique         = "tls-unique"
)

// Mechanism names.
const (
	Plain           = "PLAIN"
	ScramSHA1       = "SCRAM-SHA-1"
	ScramSHA256     = "SCRAM-SHA-256"
	ScramSHA512     = "SCRAM-SHA-512"
	ScramSHA1Plus   = "SCRAM-SHA-1-PLUS"
	ScramSHA256Plus = "SCRAM-SHA-256-PLUS"
	ScramSHA512Plus = "SCRAM-SHA-512-PLUS"
)

// Mechanisms lists what to offer on a connection, strongest first:
// SCRAM-SHA-512-PLUS, SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (only with TLS
// and a usable channel binding), SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1,
// PLAIN (only with TLS unless AllowInsecurePlain); SCRAM only with the
// hashes in o.Hashes.
func Mechanisms(o Options) []string {
	m := make([]string, 0, 7)
	if len(ChannelBindingTypes(o)) > 0 {
		for _, h := range Hashes {
			if o.offers(h) {
				m = append(m, "SCRAM-"+string(h)+"-PLUS")
			}
		}
	}
	for _, h := range Hashes {
		if o.offers(h) {
			m = append(m, "SCRAM-"+string(h))
		}
	}
	if o.TLS != nil || o.AllowInsecurePlain {
		m = append(m, Plain)
	}
	return m
}

// ChannelBindingTypes lists the channel binding types usable on this
// connection, for XEP-0440: tls-exporter on TLS 1.3 (RFC 9266), and
// tls-server-end-point when ServerCert is set and names a signature hash for
// which RFC 5929 §4.1 defines the binding (not for Ed25519 certificates).
func ChannelBindingTypes(o Options) []string {
	if o.TLS == nil || !o.TLS.HandshakeComplete {
		return nil
	}
	var t []string
	if o.TLS.Version >= tls.VersionTLS13 {
		t = append(t, TLSExporter)
	}
	if len(o.ServerCert) > 0 {
		if _, ok := endPointHash(o.ServerCert); ok {
			t = append(t, TLSServerEndPoint)
		}
	}
	// tls-unique (RFC 5929 §3) exists only before TLS 1.3, and crypto/tls
	// leaves it empty for resumptions without extended master secret.
	if o.TLS.Version < tls.VersionTLS13 && len(o.TLS.TLSUnique) > 0 {
		t = append(t, TLSUnique)
	}
	return t
}

func supportsBinding(o Options, typ string) bool {
	for _, t := range ChannelBindingTypes(o) {
		if t == typ {
			return true
		}
	}
	return false
}

// Server runs one SASL negotiation with one mechanism.
type Server struct {
	opts  Options
	mech  string
	hash  Hash // SCRAM only
	plus  bool
	plain bool

	state    int
	username string
	authzid  string

	scram scramState
}

const (
	stateStart    = iota // nothing received yet
	stateAwaiting        // no initial response: empty challenge sent
	stateFinal           // SCRAM: server-first sent, waiting for client-final
	stateDone            // success or failure
)

// NewServer starts a negotiation with mechanism. It fails with
// invalid-mechanism for mechanisms that are unknown or not offered on this
// connection, and with encryption-required for those that need TLS when
// there is none.
func NewServer(mechanism string, o Options) (*Server, error) {
	s := &Server{opts: o, mech: mechanism}
	if mechanism == Plain {
		if o.TLS == nil && !o.AllowInsecurePlain {
			return nil, fail(EncryptionRequired, "PLAIN requires TLS")
		}
		s.plain = true
		return s, nil
	}
	name, plus := strings.CutSuffix(mechanism, "-PLUS")
	h, ok := strings.CutPrefix(name, "SCRAM-")
	if !ok || Hash(h).Size() == 0 {
		return nil, fail(InvalidMechanism, "unsupported mechanism")
	}
	if !o.offers(Hash(h)) {
		return nil, fail(InvalidMechanism, mechanism+" is not offered by this server")
	}
	if plus {
		if o.TLS == nil {
			return nil, fail(EncryptionRequired, "channel binding requires TLS")
		}
		if len(ChannelBindingTypes(o)) == 0 {
			return nil, fail(InvalidMechanism, "no channel binding available on this connection")
		}
	}
	s.hash, s.plus = Hash(h), plus
	return s, nil
}

// Mechanism returns the name of the mechanism being negotiated.
func (s *Server) Mechanism() string { return s.mech }

// Username returns the authenticated username, the SASLname as the client
// sent it (decoded, not prepared). It is valid after Step returned done.
func (s *Server) Username() string { return s.username }

// Authzid returns the authorization identity the client sent, "" if none.
// The caller checks that it denotes the authenticated account.
func (s *Server) Authzid() string { return s.authzid }

// Step consumes the client's next message: the decoded payload of <auth/>
// (where nil or empty means "no initial response") or of <response/>. It
// returns the server's next challenge, or, with done set, the additional data
// for <success/> (the SCRAM server-final message "v=..."; nil for PLAIN). On
// failure it returns a *Failure, and the negotiation is over.
func (s *Server) Step(ctx context.Context, in []byte) (out []byte, done bool, err error) {
	if s.state == stateDone {
		return nil, false, fail(MalformedRequest, "negotiation already finished")
	}
	if len(in) > MaxMessageSize {
		s.state = stateDone
		return nil, false, fail(MalformedRequest, "message too large")
	}
	if len(in) == 0 {
		if s.state == stateStart {
			// No initial response: ask for it with an empty challenge
			// (RFC 6120 §6.4.2).
			s.state = stateAwaiting
			return []byte{}, false, nil
		}
		s.state = stateDone
		return nil, false, fail(MalformedRequest, "empty response")
	}
	if s.plain {
		s.state = stateDone
		if err := s.plainStep(ctx, in); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
	switch s.state {
	case stateStart, stateAwaiting:
		out, err = s.scramFirst(ctx, in)
		if err != nil {
			s.state = stateDone
			return nil, false, err
		}
		s.state = stateFinal
		return out, false, nil
	default: // stateFinal
		s.state = stateDone
		out, err = s.scramFinal(in)
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	}
}

// lookupFailure maps an error from Lookup that is not ErrUnknownUser.
func lookupFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return fail(TemporaryAuthFailure, "account lookup failed")
}
