package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"

	"golang.org/x/text/secure/precis"
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

// Size returns the output size of h in bytes, or 0 for an unknown hash.
func (h Hash) Size() int {
	switch h {
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	case SHA512:
		return sha512.Size
	}
	return 0
}

// Recommended parameters for new credentials. The server also uses them to
// invent plausible credentials for unknown users, so that the answers for an
// unknown user look like those for an existing one; account code should use
// them (or tell the server what it uses, see [Options.UnknownUserIterations]).
const (
	SaltLen           = 16
	DefaultIterations = 4096
)

// Credentials is what the server stores for one account and one hash
// (RFC 5802 §3): never the password itself.
type Credentials struct {
	Hash       Hash
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// PreparePassword applies the PRECIS OpaqueString profile (RFC 8265 §4.2) to
// password, as SCRAM clients do before hashing it (RFC 5802 §2.2 with
// SASLprep's successor) and as the server does for PLAIN. Account code must
// store keys derived from the prepared password: call PreparePassword before
// [DeriveCredentials], or use [NewCredentials]. It fails for passwords that
// are empty or contain disallowed code points (control characters, for
// example).
func PreparePassword(password string) (string, error) {
	p, err := precis.OpaqueString.String(password)
	if err != nil {
		return "", fmt.Errorf("sasl: prepare password: %w", err)
	}
	return p, nil
}

// NewCredentials prepares password with [PreparePassword], draws a fresh
// random salt of [SaltLen] bytes and derives the SCRAM keys for h. An
// iterations of 0 means [DefaultIterations].
func NewCredentials(h Hash, password string, iterations int) (Credentials, error) {
	p, err := PreparePassword(password)
	if err != nil {
		return Credentials{}, err
	}
	if iterations == 0 {
		iterations = DefaultIterations
	}
	salt := make([]byte, SaltLen)
	rand.Read(salt)
	return DeriveCredentials(h, p, salt, iterations)
}

// DeriveCredentials computes the SCRAM keys for password, which it uses as
// given. Callers must pass a password prepared with [PreparePassword] (the
// client prepares its password the same way before hashing it), otherwise
// passwords with non-ASCII spaces or in non-NFC form will not match.
func DeriveCredentials(h Hash, password string, salt []byte, iterations int) (Credentials, error) {
	newHash := h.New()
	if newHash == nil {
		return Credentials{}, fmt.Errorf("sasl: unknown hash %q", h)
	}
	salted, err := saltPassword(newHash, password, salt, iterations)
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

// saltPassword is Hi(password, salt, i) of RFC 5802 §2.2.
func saltPassword(newHash func() hash.Hash, password string, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(newHash, password, salt, iterations, newHash().Size())
}

func hmacSum(newHash func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
