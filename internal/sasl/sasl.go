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
	// StrictChannelBinding refuses the SCRAM gs2 flag "y" (client supports
	// channel binding, believes the server does not) on every connection
	// that offers a channel binding type, as RFC 5802 §6 has it. Without
	// it, "y" is refused only where tls-unique is offered, the type RFC
	// 5802 has every binding client implement; elsewhere (TLS 1.3) a client
	// that binds only with tls-unique has no type it can use, so its "y" is
	// taken as "n". docs/security.md gives the reasoning.
	StrictChannelBinding bool
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
// condition does, see ErrNoCredentials). Reason says why, for the server's
// log and metrics only: it does tell unknown users from wrong passwords and
// must not be sent to the client.
type Failure struct {
	Condition, Text string
	Reason          string
}

// Reasons for a Failure (Failure.Reason); the values are stable, as they
// label metrics.
const (
	ReasonWrongPassword      = "wrong-password"
	ReasonUnknownUser        = "unknown-user"
	ReasonBindingMismatch    = "binding-mismatch"    // channel binding data differ: a relayed exchange, or a client bug
	ReasonDowngrade          = "downgrade"           // gs2 flag "y" where the client should have bound
	ReasonBindingUnsupported = "binding-unsupported" // p= names a type this connection does not offer
	ReasonUnknownMechanism   = "unknown-mechanism"
	ReasonNotOffered         = "mechanism-not-offered" // known, but not offered on this connection
	ReasonEncryptionRequired = "encryption-required"
	ReasonNoCredentials      = "no-credentials-for-hash"
	ReasonMalformed          = "malformed"
	ReasonStore              = "store-error"     // lookup failed or stored credentials unusable
	ReasonAccountRefused     = "account-refused" // the Lookup answered with its own *Failure

	// The caller's own failures (it owns the elements, see the package
	// documentation) use these, so that one set of reasons covers all.
	ReasonAborted           = "aborted"
	ReasonIncorrectEncoding = "incorrect-encoding"
	ReasonInvalidAuthzid    = "invalid-authzid"
	ReasonOutOfOrder        = "out-of-order" // <response/> with no exchange, <auth/> during one
)

// FailedLogin reports whether f counts as a failed login, that is, the
// client proved nothing or proved the wrong thing about a password or a
// FAST token: a wrong password, an unknown user, channel binding data that
// do not match, a token proof nothing matches or a replayed one.
// Other failures (a binding type or mechanism the client cannot use here, a
// malformed message) do not: the client may go on to the next mechanism.
func (f *Failure) FailedLogin() bool {
	switch f.Reason {
	case ReasonWrongPassword, ReasonUnknownUser, ReasonBindingMismatch, ReasonBadToken, ReasonTokenReplay:
		return true
	}
	return false
}

func (f *Failure) Error() string {
	if f.Text == "" {
		return "sasl: " + f.Condition
	}
	return "sasl: " + f.Condition + ": " + f.Text
}

// fail makes a Failure with the usual reason for cond; because changes it.
func fail(cond, text string) *Failure {
	r := ReasonMalformed
	switch cond {
	case NotAuthorized:
		r = ReasonWrongPassword
	case EncryptionRequired:
		r = ReasonEncryptionRequired
	case InvalidMechanism:
		r = ReasonUnknownMechanism
	case TemporaryAuthFailure:
		r = ReasonStore
	}
	return &Failure{Condition: cond, Text: text, Reason: r}
}

func (f *Failure) because(reason string) *Failure { f.Reason = reason; return f }

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
		return nil, fail(InvalidMechanism, mechanism+" is not offered by this server").because(ReasonNotOffered)
	}
	if plus {
		if o.TLS == nil {
			return nil, fail(EncryptionRequired, "channel binding requires TLS")
		}
		if len(ChannelBindingTypes(o)) == 0 {
			return nil, fail(InvalidMechanism, "no channel binding available on this connection").because(ReasonNotOffered)
		}
	}
	s.hash, s.plus = Hash(h), plus
	return s, nil
}

// Mechanism returns the name of the mechanism being negotiated.
func (s *Server) Mechanism() string { return s.mech }

// Username returns the authenticated username, the SASLname as the client
// sent it (decoded, not prepared). It is the authenticated one only after
// Step returned done; after a failure it is the name the client gave, if
// it got that far (for logs), or "".
func (s *Server) Username() string { return s.username }

// ChannelBinding returns the SCRAM gs2 channel binding flag the client
// sent, "n", "y" or "p=<type>" (for logs: which binding a client used), or
// "" for PLAIN and before the client-first message.
func (s *Server) ChannelBinding() string { return s.scram.cbFlag }

// Authzid returns the authorization identity the client sent, "" if none.
// The caller checks that it denotes the authenticated account.
func (s *Server) Authzid() string { return s.authzid }

// Step consumes the client's next message: the decoded payload of <auth/>
// (where nil means "no initial response", and a non-nil empty slice an
// empty one, "=" in RFC 6120 §6.4.2) or of <response/>. It
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
	if in == nil && s.state == stateStart {
		// No initial response: ask for it with an empty challenge
		// (RFC 6120 §6.4.2, RFC 4422 §5).
		s.state = stateAwaiting
		return []byte{}, false, nil
	}
	if len(in) == 0 {
		// Neither PLAIN (RFC 4616 §2) nor SCRAM (RFC 5802 §7) has an
		// empty client message.
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
		if f.Reason != "" {
			return f
		}
		c := *f // the Lookup's value may be shared: do not write to it
		c.Reason = ReasonAccountRefused
		return &c
	}
	return fail(TemporaryAuthFailure, "account lookup failed")
}
