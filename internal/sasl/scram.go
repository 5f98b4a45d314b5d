package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// serverNonceLen is the number of random bytes in the server's nonce part.
const serverNonceLen = 24

// scramState is what a SCRAM negotiation keeps between the client-first and
// the client-final message.
type scramState struct {
	gs2Header       string // as sent, including the trailing ','
	cbFlag          string // "n", "y" or "p=<cb-name>"
	cbData          []byte // channel binding data, nil for flags n and y
	clientFirstBare string
	serverFirst     string
	nonce           string // client nonce + server nonce
	creds           Credentials
	unknown         bool // creds are invented: the account does not exist

	// rand, when set, replaces crypto/rand for the server nonce (tests).
	rand io.Reader
}

// clientFirst is a parsed client-first-message (RFC 5802 §7):
//
//	client-first-message = gs2-header client-first-message-bare
//	gs2-header = gs2-cbind-flag "," [ authzid ] ","
//	gs2-cbind-flag = ("p=" cb-name) / "n" / "y"
//	client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
type clientFirst struct {
	flag     byte   // 'n', 'y' or 'p'
	cbName   string // for 'p'
	authzid  string // decoded
	username string // decoded
	nonce    string
	header   string // gs2-header
	bare     string // client-first-message-bare
}

func malformed(text string) *Failure { return fail(MalformedRequest, text) }

func parseClientFirst(msg string) (cf clientFirst, f *Failure) {
	if !utf8.ValidString(msg) || strings.IndexByte(msg, 0) >= 0 {
		return cf, malformed("invalid UTF-8 or NUL in message")
	}
	rest := msg
	switch {
	case strings.HasPrefix(rest, "n,"), strings.HasPrefix(rest, "y,"):
		cf.flag = rest[0]
		rest = rest[2:]
	case strings.HasPrefix(rest, "p="):
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			return cf, malformed("truncated gs2-header")
		}
		cf.flag, cf.cbName = 'p', rest[2:i]
		if !validCBName(cf.cbName) {
			return cf, malformed("invalid channel binding name")
		}
		rest = rest[i+1:]
	default:
		return cf, malformed("invalid channel binding flag")
	}
	switch {
	case strings.HasPrefix(rest, "a="):
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			return cf, malformed("truncated gs2-header")
		}
		a, ok := decodeSaslname(rest[2:i])
		if !ok {
			return cf, malformed("invalid authzid")
		}
		cf.authzid = a
		rest = rest[i+1:]
	case strings.HasPrefix(rest, ","):
		rest = rest[1:]
	default:
		return cf, malformed("invalid gs2-header")
	}
	cf.header = msg[:len(msg)-len(rest)]
	cf.bare = rest

	attr, rest, _ := strings.Cut(rest, ",")
	if strings.HasPrefix(attr, "m=") {
		return cf, malformed("mandatory extension not supported")
	}
	v, ok := strings.CutPrefix(attr, "n=")
	if !ok {
		return cf, malformed("expected username")
	}
	if cf.username, ok = decodeSaslname(v); !ok {
		return cf, malformed("invalid username")
	}
	cf.nonce, f = parseNonce(rest)
	return cf, f
}

// parseNonce parses nonce ["," extensions], the end of both the
// client-first-message-bare and the client-final-message-without-proof.
func parseNonce(s string) (string, *Failure) {
	attr, rest, more := strings.Cut(s, ",")
	nonce, ok := strings.CutPrefix(attr, "r=")
	if !ok || !validNonce(nonce) {
		return "", malformed("invalid nonce")
	}
	if more {
		if f := checkExtensions(rest); f != nil {
			return "", f
		}
	}
	return nonce, nil
}

// checkExtensions validates extensions = attr-val *("," attr-val). Unknown
// extensions are ignored, but a reserved m= or a repeated standard attribute
// is an error.
func checkExtensions(s string) *Failure {
	for {
		attr, rest, more := strings.Cut(s, ",")
		if len(attr) < 3 || !isAlpha(attr[0]) || attr[1] != '=' {
			return malformed("invalid attribute")
		}
		if strings.IndexByte("mnrcpsiaev", attr[0]) >= 0 {
			return malformed("unexpected attribute " + attr[:1])
		}
		if !more {
			return nil
		}
		s = rest
	}
}

// clientFinal is a parsed client-final-message (RFC 5802 §7):
//
//	client-final-message-without-proof = channel-binding "," nonce ["," extensions]
//	client-final-message = client-final-message-without-proof "," proof
type clientFinal struct {
	cbind        []byte // decoded c=
	nonce        string
	proof        []byte // decoded p=
	withoutProof string
}

func parseClientFinal(msg string, proofLen int) (cf clientFinal, f *Failure) {
	if !utf8.ValidString(msg) || strings.IndexByte(msg, 0) >= 0 {
		return cf, malformed("invalid UTF-8 or NUL in message")
	}
	i := strings.LastIndexByte(msg, ',')
	if i < 0 {
		return cf, malformed("missing proof")
	}
	cf.withoutProof = msg[:i]
	p, ok := strings.CutPrefix(msg[i+1:], "p=")
	if !ok {
		return cf, malformed("missing proof")
	}
	if cf.proof, ok = decodeBase64(p); !ok {
		return cf, malformed("invalid proof encoding")
	}
	if len(cf.proof) != proofLen {
		return cf, malformed("wrong proof length")
	}
	attr, rest, _ := strings.Cut(cf.withoutProof, ",")
	if strings.HasPrefix(attr, "m=") {
		return cf, malformed("mandatory extension not supported")
	}
	c, ok := strings.CutPrefix(attr, "c=")
	if !ok {
		return cf, malformed("expected channel binding")
	}
	if cf.cbind, ok = decodeBase64(c); !ok || len(cf.cbind) == 0 {
		return cf, malformed("invalid channel binding encoding")
	}
	cf.nonce, f = parseNonce(rest)
	return cf, f
}

// decodeSaslname decodes saslname = 1*(value-safe-char / "=2C" / "=3D").
// Any other use of '=' is an error (RFC 5802 §5.1), as is ','.
func decodeSaslname(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	if strings.IndexByte(s, ',') >= 0 {
		return "", false
	}
	if strings.IndexByte(s, '=') < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' {
			b.WriteByte(c)
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// validNonce reports whether s is printable = %x21-2B / %x2D-7E, at least
// one character.
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// validCBName reports whether s is cb-name = 1*(ALPHA / DIGIT / "." / "-").
func validCBName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && (c < '0' || c > '9') && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// decodeBase64 decodes canonical padded base64 only: Go's decoder skips CR
// and LF, which the SCRAM grammar does not allow, and Strict rejects
// non-zero padding bits, so each value has exactly one accepted encoding.
func decodeBase64(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return nil, false
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// scramFirst handles the client-first message and returns server-first.
func (s *Server) scramFirst(ctx context.Context, in []byte) ([]byte, error) {
	cf, f := parseClientFirst(string(in))
	if f != nil {
		return nil, f
	}
	st := &s.scram
	s.username, s.authzid = cf.username, cf.authzid
	switch cf.flag {
	case 'p':
		if !s.plus {
			return nil, malformed("channel binding requested with a non-PLUS mechanism")
		}
		if !supportsBinding(s.opts, cf.cbName) {
			return nil, fail(NotAuthorized, "channel binding type "+cf.cbName+" not supported on this connection").
				because(ReasonBindingUnsupported)
		}
		data, err := bindingData(s.opts, cf.cbName)
		if err != nil {
			return nil, fail(NotAuthorized, "channel binding unavailable").because(ReasonBindingUnsupported)
		}
		st.cbData = data
	case 'y':
		if s.plus {
			return nil, malformed("PLUS mechanism without channel binding")
		}
		if downgraded(s.opts) {
			return nil, fail(NotAuthorized, "channel binding downgrade detected").because(ReasonDowngrade)
		}
	case 'n':
		if s.plus {
			return nil, malformed("PLUS mechanism without channel binding")
		}
	}
	st.gs2Header, st.clientFirstBare = cf.header, cf.bare
	st.cbFlag = string(cf.flag)
	if cf.flag == 'p' {
		st.cbFlag = "p=" + cf.cbName
	}

	creds, err := s.lookupHash(ctx, cf.username, s.hash)
	switch {
	case errors.Is(err, ErrUnknownUser):
		creds, st.unknown = fakeCredentials(s.hash, cf.username, s.opts.UnknownUserIterations), true
	case errors.Is(err, ErrNoCredentials):
		return nil, fail(InvalidMechanism, "this account has no "+s.mech+" credentials; use another mechanism").
			because(ReasonNoCredentials)
	case err != nil:
		return nil, lookupFailure(err)
	}
	if !validCredentials(creds, s.hash) {
		return nil, fail(TemporaryAuthFailure, "stored credentials unusable")
	}
	st.creds = creds

	r := st.rand
	if r == nil {
		r = rand.Reader
	}
	raw := make([]byte, serverNonceLen)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fail(TemporaryAuthFailure, "no randomness")
	}
	st.nonce = cf.nonce + base64.StdEncoding.EncodeToString(raw)

	salt := base64.StdEncoding.EncodeToString(creds.Salt)
	b := make([]byte, 0, len(st.nonce)+len(salt)+20)
	b = append(b, "r="...)
	b = append(b, st.nonce...)
	b = append(b, ",s="...)
	b = append(b, salt...)
	b = append(b, ",i="...)
	b = strconv.AppendInt(b, int64(creds.Iterations), 10)
	st.serverFirst = string(b)
	return b, nil
}

func validCredentials(c Credentials, h Hash) bool {
	return (c.Hash == h || c.Hash == "") && len(c.Salt) > 0 && c.Iterations > 0 &&
		len(c.StoredKey) == h.Size() && len(c.ServerKey) == h.Size()
}

// downgraded reports whether a gs2 flag "y" (the client can bind but
// believes the server cannot) shows that someone removed the -PLUS
// mechanisms we offered (RFC 5802 §6). That holds where we offer tls-unique,
// which RFC 5802 has every binding client implement. Where we offer only
// newer types (tls-exporter, RFC 9266) or the optional tls-server-end-point,
// a client may know none of them and say "y" in good faith (on TLS 1.3 it
// cannot use tls-unique at all); StrictChannelBinding refuses it anyway.
func downgraded(o Options) bool {
	types := ChannelBindingTypes(o)
	if o.StrictChannelBinding {
		return len(types) > 0
	}
	return slices.Contains(types, TLSUnique)
}

// scramFinal checks the client-final message and returns server-final.
func (s *Server) scramFinal(in []byte) ([]byte, error) {
	st := &s.scram
	newHash := s.hash.New()
	cf, f := parseClientFinal(string(in), s.hash.Size())
	if f != nil {
		return nil, f
	}
	// c= must be exactly base64(gs2-header + cbind-data).
	wantCB := make([]byte, 0, len(st.gs2Header)+len(st.cbData))
	wantCB = append(append(wantCB, st.gs2Header...), st.cbData...)
	cbOK := subtle.ConstantTimeCompare(cf.cbind, wantCB) == 1
	nonceOK := cf.nonce == st.nonce

	// AuthMessage = client-first-message-bare "," server-first-message ","
	//               client-final-message-without-proof
	authMsg := make([]byte, 0, len(st.clientFirstBare)+len(st.serverFirst)+len(cf.withoutProof)+2)
	authMsg = append(authMsg, st.clientFirstBare...)
	authMsg = append(authMsg, ',')
	authMsg = append(authMsg, st.serverFirst...)
	authMsg = append(authMsg, ',')
	authMsg = append(authMsg, cf.withoutProof...)

	// ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), and
	// H(ClientKey) must be StoredKey.
	mac := hmac.New(newHash, st.creds.StoredKey)
	mac.Write(authMsg)
	clientKey := mac.Sum(nil)
	subtle.XORBytes(clientKey, clientKey, cf.proof)
	h := newHash()
	h.Write(clientKey)
	proofOK := subtle.ConstantTimeCompare(h.Sum(nil), st.creds.StoredKey) == 1

	switch {
	case !cbOK:
		return nil, fail(NotAuthorized, "channel binding mismatch").because(ReasonBindingMismatch)
	case !nonceOK:
		return nil, fail(NotAuthorized, "nonce mismatch").because(ReasonMalformed)
	case st.unknown:
		return nil, fail(NotAuthorized, "authentication failed").because(ReasonUnknownUser)
	case !proofOK:
		return nil, fail(NotAuthorized, "authentication failed")
	}
	mac = hmac.New(newHash, st.creds.ServerKey)
	mac.Write(authMsg)
	sig := mac.Sum(nil)
	out := make([]byte, 2+base64.StdEncoding.EncodedLen(len(sig)))
	copy(out, "v=")
	base64.StdEncoding.Encode(out[2:], sig)
	return out, nil
}
