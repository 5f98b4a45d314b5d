package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// Hash names a SCRAM hash function as it appears in mechanism names.
type Hash string

// The SCRAM hashes Parley supports.
const (
	SHA1   Hash = "SHA-1"
	SHA256 Hash = "SHA-256"
	SHA512 Hash = "SHA-512"
)

// Hashes lists the supported hashes, strongest first.
var Hashes = []Hash{SHA512, SHA256, SHA1}

// New returns the hash constructor for h.
func (h Hash) New() func() hash.Hash {
	switch h {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return nil
}

// Credentials is what the server stores for one account and one hash
// (RFC 5802 §3): never the password itself.
type Credentials struct {
	Hash       Hash
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// DeriveCredentials computes the SCRAM keys for password (already prepared
// with the OpaqueString profile by the caller, or raw: SCRAM's SASLprep is
// applied by Prepare).
func DeriveCredentials(h Hash, password string, salt []byte, iterations int) (Credentials, error) {
	newHash := h.New()
	if newHash == nil {
		return Credentials{}, fmt.Errorf("sasl: unknown hash %q", h)
	}
	salted, err := pbkdf2.Key(newHash, password, salt, iterations, newHash().Size())
	if err != nil {
		return Credentials{}, fmt.Errorf("sasl: derive %s keys: %w", h, err)
	}
	clientKey := hmacSum(newHash, salted, "Client Key")
	serverKey := hmacSum(newHash, salted, "Server Key")
	stored := newHash()
	stored.Write(clientKey)
	return Credentials{
		Hash: h, Salt: salt, Iterations: iterations,
		StoredKey: stored.Sum(nil), ServerKey: serverKey,
	}, nil
}

func hmacSum(newHash func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
