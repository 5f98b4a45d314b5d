package sasl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
)

// fakeKey is the per-process secret from which the credentials of unknown
// users are derived. Deriving them (rather than drawing them at random per
// attempt) gives the same salt to every attempt for the same name, as a real
// account would, so a client cannot tell the two apart by asking twice.
var fakeKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
})

// fakeCredentials invents credentials for an account that does not exist.
// Nobody knows a password for them, and the caller fails the proof anyway.
func fakeCredentials(h Hash, username string, iterations int) Credentials {
	if iterations <= 0 {
		iterations = DefaultIterations
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, fakeKey())
		m.Write([]byte(label))
		m.Write([]byte{0})
		m.Write([]byte(h))
		m.Write([]byte{0})
		m.Write([]byte(username))
		return m.Sum(nil)
	}
	newHash := h.New()
	expand := func(label string) []byte {
		// HMAC with the hash's own size so key lengths match real ones.
		m := hmac.New(newHash, derive(label))
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return Credentials{
		Hash:       h,
		Salt:       derive("salt")[:SaltLen],
		Iterations: iterations,
		StoredKey:  expand("stored"),
		ServerKey:  expand("server"),
	}
}
