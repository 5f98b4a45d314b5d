package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"slices"
	"testing"
)

// htClient computes an HT initial response as draft-schmaus-kitten-sasl-ht
// describes it, keyed with the token itself (not the server's stored key).
func htClient(authcid, token string, cb []byte) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("Initiator"))
	m.Write(cb)
	return append([]byte(authcid+"\x00"), m.Sum(nil)...)
}

func TestHTStoredKeyVerifiesTokenProof(t *testing.T) {
	env := newTLSEnv(t, 0x0304, certP256)
	o := Options{TLS: &env.server, ServerCert: env.cert}
	token, key := NewHTToken()
	if len(token) <= sha256.BlockSize {
		t.Fatalf("token of %d bytes is not longer than the HMAC block", len(token))
	}
	if bytes.Contains(key, []byte(token)) || len(key) != sha256.Size {
		t.Fatal("stored key must be a hash, not the token")
	}
	for _, tc := range []struct {
		mech string
		cb   []byte
	}{
		{HTSHA256None, nil},
		{HTSHA256Expr, mustBinding(t, Options{TLS: &env.client}, TLSExporter)},
		{HTSHA256Endp, sha256Sum(env.cert)},
	} {
		r, err := ParseHT(tc.mech, o, htClient("juliet", token, tc.cb))
		if err != nil {
			t.Fatalf("%s: %v", tc.mech, err)
		}
		if !r.Verify(key) {
			t.Errorf("%s: the proof made with the token does not verify with its stored key", tc.mech)
		}
		_, otherKey := NewHTToken()
		if r.Verify(otherKey) {
			t.Errorf("%s: verified with another token's key", tc.mech)
		}
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte("Responder"))
		m.Write(tc.cb)
		if !bytes.Equal(r.ServerFinal(key), m.Sum(nil)) {
			t.Errorf("%s: server final differs from HMAC(token, Responder||cb)", tc.mech)
		}
	}
}

func mustBinding(t *testing.T, o Options, typ string) []byte {
	t.Helper()
	b, err := bindingData(o, typ)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHTChannelBindingMismatch(t *testing.T) {
	env := newTLSEnv(t, 0x0304, certP256)
	token, key := NewHTToken()
	// A proof made over other binding data (a relay's own connection) fails.
	r, err := ParseHT(HTSHA256Expr, Options{TLS: &env.server}, htClient("juliet", token, make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Verify(key) {
		t.Fatal("a proof over other binding data verified")
	}
}

func TestHTMechanismsAndParseErrors(t *testing.T) {
	tls13 := newTLSEnv(t, 0x0304, certP256)
	tls12 := newTLSEnv(t, 0x0303, certP256)
	ed := newTLSEnv(t, 0x0304, certEd25519)
	for _, tc := range []struct {
		o    Options
		want []string
	}{
		{Options{}, nil},
		{Options{TLS: &tls13.server, ServerCert: tls13.cert}, []string{HTSHA256Expr, HTSHA256Endp, HTSHA256None}},
		{Options{TLS: &tls12.server, ServerCert: tls12.cert}, []string{HTSHA256Endp, HTSHA256Uniq, HTSHA256None}},
		{Options{TLS: &ed.server, ServerCert: ed.cert}, []string{HTSHA256Expr, HTSHA256None}},
	} {
		if got := HTMechanisms(tc.o); !slices.Equal(got, tc.want) {
			t.Errorf("HTMechanisms = %v, want %v", got, tc.want)
		}
	}
	o := Options{TLS: &tls13.server}
	for _, tc := range []struct {
		mech, cond string
		in         []byte
	}{
		{"HT-MD5-NONE", InvalidMechanism, htClient("a", "t", nil)},
		{HTSHA256Uniq, InvalidMechanism, htClient("a", "t", nil)}, // no tls-unique on TLS 1.3
		{HTSHA256None, MalformedRequest, []byte("no-nul")},
		{HTSHA256None, MalformedRequest, []byte("\x00" + string(make([]byte, 32)))},
		{HTSHA256None, MalformedRequest, []byte("a\x00short")},
		{HTSHA256None, MalformedRequest, append([]byte("\xff\x00"), make([]byte, 32)...)},
	} {
		_, err := ParseHT(tc.mech, o, tc.in)
		if f := asFailure(t, err); f.Condition != tc.cond {
			t.Errorf("ParseHT(%s, %q) condition %s, want %s", tc.mech, tc.in, f.Condition, tc.cond)
		}
	}
	if _, err := ParseHT(HTSHA256None, Options{}, htClient("a", "t", nil)); asFailure(t, err).Condition != EncryptionRequired {
		t.Errorf("without TLS: %v", err)
	}
}
