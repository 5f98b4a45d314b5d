package pushapp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/storage"
)

// BenchmarkES256 is the cost of signing one APNs provider token (done
// once per APNsTokenLifetime, not per notification).
func BenchmarkES256(b *testing.B) {
	k := ecKeyB(b)
	for b.Loop() {
		if _, err := SignES256(k, map[string]string{"alg": "ES256", "kid": "K"}, map[string]any{"iss": "T", "iat": 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPNsSend is one notification to a local HTTP/2 fake APNs over
// one reused TLS connection, from 8 goroutines (the default workers).
func BenchmarkAPNsSend(b *testing.B) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	def := config.DefaultPush().AppServer.APNs
	def.URL, def.KeyID, def.TeamID = srv.URL, "K", "T"
	a := &apns{cfg: def, key: ecKeyB(b), client: srv.Client(), now: time.Now}
	d := storage.PushDevice{Provider: "apns", Token: "a1b2c3", Topic: "org.example.chat"}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if out, reason := a.send(context.Background(), d, Summary{MessageCount: "1"}); out != delivered {
				b.Fatal(out, reason)
			}
		}
	})
}

func ecKeyB(b *testing.B) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return k
}
