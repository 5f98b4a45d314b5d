package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"testing"
)

// BenchmarkSCRAMSHA256 measures the server's cost of one full SCRAM-SHA-256
// exchange against credentials stored with 4096 iterations. The server never
// runs PBKDF2 for SCRAM (it keeps StoredKey and ServerKey), so the iteration
// count does not show here; the client's PBKDF2 is computed once outside the
// loop, as a client caching its SaltedPassword would.
func BenchmarkSCRAMSHA256(b *testing.B) {
	ctx := context.Background()
	o := Options{Lookup: newLookup(b)}
	first := []byte("n,,n=juliet,r=fyko+d2lbbFgONRv9qkxdawL")
	creds := lookupCreds["juliet"][SHA256]
	if creds.Iterations != 4096 {
		b.Fatalf("fixture has %d iterations", creds.Iterations)
	}
	salted, err := pbkdf2.Key(sha256.New, "r0m30myr0m30", creds.Salt, creds.Iterations, sha256.Size)
	if err != nil {
		b.Fatal(err)
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	final := func(serverFirst []byte) []byte {
		nonce := string(serverFirst[2:]) // r=...,s=...
		for i := 0; i < len(nonce); i++ {
			if nonce[i] == ',' {
				nonce = nonce[:i]
				break
			}
		}
		wp := "c=biws,r=" + nonce
		proof := mac(storedKey[:], string(first[3:])+","+string(serverFirst)+","+wp)
		subtle.XORBytes(proof, proof, clientKey)
		return []byte(wp + ",p=" + base64.StdEncoding.EncodeToString(proof))
	}

	// server-only: a fixed server nonce makes the client-final message
	// constant, so the loop contains nothing but server work (minus reading
	// crypto/rand).
	b.Run("server-only", func(b *testing.B) {
		s, _ := NewServer(ScramSHA256, o)
		s.scram.rand = fixedRand(3)
		sf, _, err := s.Step(ctx, first)
		if err != nil {
			b.Fatal(err)
		}
		fin := final(sf)
		b.ReportAllocs()
		for b.Loop() {
			s, err := NewServer(ScramSHA256, o)
			if err != nil {
				b.Fatal(err)
			}
			s.scram.rand = fixedRand(3)
			if _, _, err := s.Step(ctx, first); err != nil {
				b.Fatal(err)
			}
			if _, done, err := s.Step(ctx, fin); !done || err != nil {
				b.Fatal(done, err)
			}
		}
	})
	// with-client-proof: real random nonces; the loop also contains the
	// client's proof (two HMACs from its cached keys).
	b.Run("with-client-proof", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := NewServer(ScramSHA256, o)
			if err != nil {
				b.Fatal(err)
			}
			sf, _, err := s.Step(ctx, first)
			if err != nil {
				b.Fatal(err)
			}
			if _, done, err := s.Step(ctx, final(sf)); !done || err != nil {
				b.Fatal(done, err)
			}
		}
	})
}

// BenchmarkPLAIN measures PLAIN against SHA-256 credentials with 4096
// iterations: the server runs PBKDF2 on every attempt.
func BenchmarkPLAIN(b *testing.B) {
	ctx := context.Background()
	o := Options{Lookup: newLookup(b), AllowInsecurePlain: true}
	msg := []byte("\x00juliet\x00r0m30myr0m30")
	b.ReportAllocs()
	for b.Loop() {
		s, _ := NewServer(Plain, o)
		if _, done, err := s.Step(ctx, msg); !done || err != nil {
			b.Fatal(done, err)
		}
	}
}
