// Package scramtest is a minimal SCRAM client (RFC 5802, RFC 7677, with
// channel binding per RFC 5929/9266) written for tests, independent of the
// server in internal/sasl: it uses only the standard library and precis,
// never the server's helpers, so a test that runs both checks one against
// the other. The sasl package's own tests and the c2s SASL2 tests use it
// where mellium.im/sasl cannot: SCRAM-SHA-512(-PLUS), tls-server-end-point,
// the 'y' flag, SASL2, and deliberately broken messages.
package scramtest

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/text/secure/precis"
)

// Client is the client side of one SCRAM exchange.
type Client struct {
	Hash     string // "SHA-1", "SHA-256", "SHA-512"
	User     string
	Password string
	Authzid  string
	Flag     string // "n" (default), "y" or "p=<cb-name>"
	CBData   []byte // channel binding data for flag p
	Nonce    string // client nonce; a fixed one when empty

	// Salted, when set, remembers SaltedPassword (RFC 5802 §3) across
	// clients, so repeated logins (benchmarks) spare the client PBKDF2.
	Salted map[string][]byte

	// Tampering, for failure tests.
	CBOverride    *string // replaces the c= value
	NonceOverride *string // replaces the r= value of client-final
	ProofMutate   func([]byte)
	FinalMutate   func(string) string

	header, bare string
	serverSig    []byte
}

func (c *Client) newHash() func() hash.Hash {
	switch c.Hash {
	case "SHA-1":
		return sha1.New
	case "SHA-256":
		return sha256.New
	case "SHA-512":
		return sha512.New
	}
	panic("scramtest: unknown hash " + c.Hash)
}

func escapeName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// First returns the client-first-message.
func (c *Client) First() []byte {
	if c.Flag == "" {
		c.Flag = "n"
	}
	if c.Nonce == "" {
		c.Nonce = "fyko+d2lbbFgONRv9qkxdawL"
	}
	c.header = c.Flag + ","
	if c.Authzid != "" {
		c.header += "a=" + escapeName(c.Authzid)
	}
	c.header += ","
	c.bare = "n=" + escapeName(c.User) + ",r=" + c.Nonce
	return []byte(c.header + c.bare)
}

// Final answers the server-first-message with the client-final-message.
func (c *Client) Final(serverFirst []byte) ([]byte, error) {
	sf := string(serverFirst)
	parts := strings.Split(sf, ",")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "r=") ||
		!strings.HasPrefix(parts[1], "s=") || !strings.HasPrefix(parts[2], "i=") {
		return nil, fmt.Errorf("bad server-first %q", sf)
	}
	nonce := parts[0][2:]
	if !strings.HasPrefix(nonce, c.Nonce) || len(nonce) == len(c.Nonce) {
		return nil, fmt.Errorf("server nonce %q does not extend %q", nonce, c.Nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(parts[1][2:])
	if err != nil {
		return nil, err
	}
	iters, err := strconv.Atoi(parts[2][2:])
	if err != nil || iters < 1 {
		return nil, fmt.Errorf("bad iteration count %q", parts[2])
	}
	pw, err := precis.OpaqueString.String(c.Password)
	if err != nil {
		return nil, err
	}
	nh := c.newHash()
	key := c.Hash + "\x00" + pw + "\x00" + string(salt) + "\x00" + strconv.Itoa(iters)
	salted, ok := c.Salted[key]
	if !ok {
		if salted, err = pbkdf2.Key(nh, pw, salt, iters, nh().Size()); err != nil {
			return nil, err
		}
		if c.Salted != nil {
			c.Salted[key] = salted
		}
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(nh, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	h := nh()
	h.Write(clientKey)
	storedKey := h.Sum(nil)

	cb := base64.StdEncoding.EncodeToString(append([]byte(c.header), c.CBData...))
	if c.CBOverride != nil {
		cb = *c.CBOverride
	}
	if c.NonceOverride != nil {
		nonce = *c.NonceOverride
	}
	withoutProof := "c=" + cb + ",r=" + nonce
	authMsg := c.bare + "," + sf + "," + withoutProof
	proof := mac(storedKey, authMsg)
	subtle.XORBytes(proof, proof, clientKey)
	if c.ProofMutate != nil {
		c.ProofMutate(proof)
	}
	c.serverSig = mac(mac(salted, "Server Key"), authMsg)
	msg := withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
	if c.FinalMutate != nil {
		msg = c.FinalMutate(msg)
	}
	return []byte(msg), nil
}

// Verify checks the server-final-message (mutual authentication).
func (c *Client) Verify(serverFinal []byte) error {
	want := "v=" + base64.StdEncoding.EncodeToString(c.serverSig)
	if string(serverFinal) != want {
		return errors.New("server signature mismatch")
	}
	return nil
}
