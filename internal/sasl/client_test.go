package sasl

// This file is a minimal SCRAM client written from RFC 5802 for the tests.
// It is deliberately independent of the server code (it uses only the
// standard library and precis, never the package's own helpers) and is used
// where mellium.im/sasl v0.3.2 cannot be: SCRAM-SHA-512(-PLUS), the
// tls-server-end-point binding, the 'y' flag, and deliberately broken
// messages.

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

type testClient struct {
	hashName string // "SHA-1", "SHA-256", "SHA-512"
	user     string
	password string
	authzid  string
	flag     string // "n", "y" or "p=<cb-name>"
	cbData   []byte // channel binding data for flag p
	nonce    string // client nonce

	// Tampering, for the failure tests.
	cbOverride    *string // replaces the c= value
	nonceOverride *string // replaces the r= value of client-final
	proofMutate   func([]byte)
	finalMutate   func(string) string

	header, bare string
	serverSig    []byte
}

func (c *testClient) newHash() func() hash.Hash {
	switch c.hashName {
	case "SHA-1":
		return sha1.New
	case "SHA-256":
		return sha256.New
	case "SHA-512":
		return sha512.New
	}
	panic("unknown hash " + c.hashName)
}

func escapeName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

func (c *testClient) first() []byte {
	if c.flag == "" {
		c.flag = "n"
	}
	if c.nonce == "" {
		c.nonce = "fyko+d2lbbFgONRv9qkxdawL"
	}
	c.header = c.flag + ","
	if c.authzid != "" {
		c.header += "a=" + escapeName(c.authzid)
	}
	c.header += ","
	c.bare = "n=" + escapeName(c.user) + ",r=" + c.nonce
	return []byte(c.header + c.bare)
}

func (c *testClient) final(serverFirst []byte) ([]byte, error) {
	sf := string(serverFirst)
	parts := strings.Split(sf, ",")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "r=") ||
		!strings.HasPrefix(parts[1], "s=") || !strings.HasPrefix(parts[2], "i=") {
		return nil, fmt.Errorf("bad server-first %q", sf)
	}
	nonce := parts[0][2:]
	if !strings.HasPrefix(nonce, c.nonce) || len(nonce) == len(c.nonce) {
		return nil, fmt.Errorf("server nonce %q does not extend %q", nonce, c.nonce)
	}
	salt, err := base64.StdEncoding.DecodeString(parts[1][2:])
	if err != nil {
		return nil, err
	}
	iters, err := strconv.Atoi(parts[2][2:])
	if err != nil || iters < 1 {
		return nil, fmt.Errorf("bad iteration count %q", parts[2])
	}
	pw, err := precis.OpaqueString.String(c.password)
	if err != nil {
		return nil, err
	}
	nh := c.newHash()
	salted, err := pbkdf2.Key(nh, pw, salt, iters, nh().Size())
	if err != nil {
		return nil, err
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

	cb := base64.StdEncoding.EncodeToString(append([]byte(c.header), c.cbData...))
	if c.cbOverride != nil {
		cb = *c.cbOverride
	}
	if c.nonceOverride != nil {
		nonce = *c.nonceOverride
	}
	withoutProof := "c=" + cb + ",r=" + nonce
	authMsg := c.bare + "," + sf + "," + withoutProof
	proof := mac(storedKey, authMsg)
	subtle.XORBytes(proof, proof, clientKey)
	if c.proofMutate != nil {
		c.proofMutate(proof)
	}
	c.serverSig = mac(mac(salted, "Server Key"), authMsg)
	msg := withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
	if c.finalMutate != nil {
		msg = c.finalMutate(msg)
	}
	return []byte(msg), nil
}

func (c *testClient) verify(serverFinal []byte) error {
	want := "v=" + base64.StdEncoding.EncodeToString(c.serverSig)
	if string(serverFinal) != want {
		return errors.New("server signature mismatch")
	}
	return nil
}
