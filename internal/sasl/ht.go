package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"unicode/utf8"
)

// The Hashed Token mechanisms (draft-schmaus-kitten-sasl-ht, used by
// XEP-0484 FAST) with SHA-256, one per channel binding: none, tls-unique,
// tls-server-end-point, tls-exporter.
const (
	HTSHA256None = "HT-SHA-256-NONE"
	HTSHA256Uniq = "HT-SHA-256-UNIQ"
	HTSHA256Endp = "HT-SHA-256-ENDP"
	HTSHA256Expr = "HT-SHA-256-EXPR"
)

// htMechanisms are the HT mechanisms, strongest binding first, with the
// channel binding type each uses ("" for none).
var htMechanisms = [...]struct{ name, cb string }{
	{HTSHA256Expr, TLSExporter},
	{HTSHA256Endp, TLSServerEndPoint},
	{HTSHA256Uniq, TLSUnique},
	{HTSHA256None, ""},
}

// htTokenBytes is the randomness in a token. Its encoding (86 characters)
// is longer than SHA-256's 64-byte HMAC block, so HMAC keys with
// SHA-256(token) (RFC 2104 §2): the server stores only that hash and
// still verifies and answers the exchange exactly (see HTKey).
const htTokenBytes = 64

// HTMechanisms lists the HT mechanisms usable on the connection in o,
// strongest channel binding first: only with TLS, and a binding variant
// only where ChannelBindingTypes offers its type.
func HTMechanisms(o Options) []string {
	if o.TLS == nil {
		return nil
	}
	var out []string
	for _, m := range htMechanisms {
		if m.cb == "" || supportsBinding(o, m.cb) {
			out = append(out, m.name)
		}
	}
	return out
}

// HTBinding returns the channel binding type of the HT mechanism mech, ""
// for none (HT-SHA-256-NONE) or an unknown mechanism.
func HTBinding(mech string) string {
	for _, m := range htMechanisms {
		if m.name == mech {
			return m.cb
		}
	}
	return ""
}

// IsHT reports whether mech names an HT mechanism this package knows.
func IsHT(mech string) bool {
	for _, m := range htMechanisms {
		if m.name == mech {
			return true
		}
	}
	return false
}

// NewHTToken draws a fresh token for the client and returns it with the
// key the server stores instead of it (HTKey(token)).
func NewHTToken() (token string, key []byte) {
	raw := make([]byte, htTokenBytes)
	rand.Read(raw)
	token = base64.RawURLEncoding.EncodeToString(raw)
	return token, HTKey(token)
}

// HTKey is what the server keeps of a token: SHA-256 of its bytes. For a
// token longer than the HMAC block (all that NewHTToken makes) HMAC
// itself uses this hash as the key (RFC 2104 §2), so it verifies and
// answers the exchange like the token; it does not reveal the token.
func HTKey(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// HTRequest is a parsed HT initial response:
//
//	initial-response = authcid NUL HMAC(token, "Initiator" || cb-data)
type HTRequest struct {
	Mechanism string
	Authcid   string // as the client sent it: a username or a bare JID
	proof     []byte
	cbData    []byte
}

// ParseHT parses the initial response of the HT mechanism mech on the
// connection in o and fetches its channel binding data. It fails with
// invalid-mechanism for an HT mechanism not usable here and with
// malformed-request for a message that does not parse.
func ParseHT(mech string, o Options, in []byte) (*HTRequest, error) {
	cb, ok := "", false
	for _, m := range htMechanisms {
		if m.name == mech {
			cb, ok = m.cb, true
		}
	}
	if !ok {
		return nil, fail(InvalidMechanism, "unsupported mechanism")
	}
	if o.TLS == nil {
		return nil, fail(EncryptionRequired, "token authentication requires TLS")
	}
	r := &HTRequest{Mechanism: mech}
	if cb != "" {
		if !supportsBinding(o, cb) {
			return nil, fail(InvalidMechanism, "channel binding "+cb+" is not available on this connection").because(ReasonNotOffered)
		}
		data, err := bindingData(o, cb)
		if err != nil {
			return nil, fail(NotAuthorized, "channel binding unavailable").because(ReasonBindingUnsupported)
		}
		r.cbData = data
	}
	authcid, proof, found := bytes.Cut(in, []byte{0})
	if !found || len(authcid) == 0 || len(proof) != sha256.Size || !utf8.Valid(authcid) {
		return nil, malformed("invalid HT message")
	}
	r.Authcid, r.proof = string(authcid), proof
	return r, nil
}

func (r *HTRequest) mac(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write(r.cbData)
	return m.Sum(nil)
}

// Verify reports, in constant time, whether the client proved the token
// whose stored key is key (HTKey).
func (r *HTRequest) Verify(key []byte) bool {
	return hmac.Equal(r.mac(key, "Initiator"), r.proof)
}

// ServerFinal is the server's proof for the <success/>'s additional data:
// HMAC(token, "Responder" || cb-data).
func (r *HTRequest) ServerFinal(key []byte) []byte {
	return r.mac(key, "Responder")
}

// Reasons of FAST token failures (Failure.Reason).
const (
	ReasonBadToken     = "bad-token"     // no valid token matched the proof: counts as a failed login
	ReasonTokenExpired = "token-expired" // the proof matched a token past its expiry
	ReasonTokenReplay  = "token-replay"  // the count was not above the last one seen for the token
	ReasonTokenMech    = "token-mechanism"
)
