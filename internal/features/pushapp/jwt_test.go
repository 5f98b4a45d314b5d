package pushapp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/config"
)

func ecKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestES256(t *testing.T) {
	k := ecKey(t, elliptic.P256())
	tok, err := SignES256(k, map[string]string{"alg": "ES256", "kid": "K"}, map[string]any{"iss": "T", "iat": 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != "eyJhbGciOiJFUzI1NiIsImtpZCI6IksifQ" || parts[1] != "eyJpYXQiOjE3MDAwMDAwMDAsImlzcyI6IlQifQ" {
		t.Fatalf("token %s", tok)
	}
	if sig, _ := b64.DecodeString(parts[2]); len(sig) != 64 {
		t.Errorf("signature of %d bytes, want R||S of 64", len(sig))
	}
	h, c, err := VerifyES256(tok, &k.PublicKey)
	if err != nil || h["kid"] != "K" || c["iss"] != "T" || c["iat"] != float64(1700000000) {
		t.Fatalf("verify: %v %v %v", h, c, err)
	}
	if _, _, err := VerifyES256(tok, &ecKey(t, elliptic.P256()).PublicKey); err == nil {
		t.Error("verified with another key")
	}
	forged := parts[0] + "." + b64.EncodeToString([]byte(`{"iat":1700000000,"iss":"X"}`)) + "." + parts[2]
	if _, _, err := VerifyES256(forged, &k.PublicKey); err == nil {
		t.Error("verified changed claims")
	}
	for _, bad := range []string{"", "abc", "a.b", parts[0] + ".!!." + parts[2]} {
		if _, _, err := VerifyES256(bad, &k.PublicKey); err == nil {
			t.Errorf("verified %q", bad)
		}
	}
	if _, err := SignES256(ecKey(t, elliptic.P384()), map[string]string{}, map[string]any{}); err == nil {
		t.Error("signed ES256 with a P-384 key")
	}
}

func TestRS256(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := SignRS256(k, map[string]string{"alg": "RS256", "typ": "JWT"}, map[string]any{"aud": "u"})
	if err != nil {
		t.Fatal(err)
	}
	if _, c, err := VerifyRS256(tok, &k.PublicKey); err != nil || c["aud"] != "u" {
		t.Fatalf("verify: %v %v", c, err)
	}
	if _, _, err := VerifyRS256(tok[:len(tok)-4]+"AAAA", &k.PublicKey); err == nil {
		t.Error("verified a changed signature")
	}
}

func TestParseKeys(t *testing.T) {
	if _, err := ParseAPNsKey([]byte("not a key")); err == nil {
		t.Error("parsed garbage as an APNs key")
	}
	if _, _, err := ParseServiceAccount([]byte(`{"project_id":"p"}`)); err == nil {
		t.Error("accepted a service account without a key")
	}
	if _, _, err := ParseServiceAccount([]byte(`{`)); err == nil {
		t.Error("accepted broken JSON")
	}
}

// clock is a settable time source.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

// TestAPNsTokenLifetime: the provider token is reused for
// APNsTokenLifetime, then signed anew; a token APNs called expired is
// replaced at once, but only if it is still the current one.
func TestAPNsTokenLifetime(t *testing.T) {
	var c clock
	c.t.Store(time.Unix(1700000000, 0).UnixNano())
	a := &apns{cfg: config.APNs{KeyID: "K", TeamID: "T"}, key: ecKey(t, elliptic.P256()), now: c.now}
	t1, _ := a.bearer("")
	c.advance(APNsTokenLifetime - time.Second)
	if t2, _ := a.bearer(""); t2 != t1 {
		t.Error("token renewed before its lifetime")
	}
	c.advance(2 * time.Second)
	t3, _ := a.bearer("")
	if t3 == t1 {
		t.Error("token not renewed after its lifetime")
	}
	if _, claims, _ := VerifyES256(t3, &a.key.PublicKey); claims["iat"] != float64(1700000000+APNsTokenLifetime/time.Second+1) {
		t.Errorf("renewed token's iat: %v", claims["iat"])
	}
	t4, _ := a.bearer(t3)
	if t4 == t3 {
		t.Error("an expired token was not replaced")
	}
	if t5, _ := a.bearer(t3); t5 != t4 {
		t.Error("a stale report replaced a fresh token")
	}
}

// TestFCMAccessTokenCache: the access token is reused until a minute
// before expires_in, then obtained anew.
func TestFCMAccessTokenCache(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
		io.WriteString(w, `{"access_token":"a`+string(rune('0'+n.Load()))+`","expires_in":3600}`)
	}))
	defer srv.Close()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	var c clock
	f := &fcm{sa: ServiceAccount{ClientEmail: "e"}, key: k, tokenURI: srv.URL, client: srv.Client(), now: c.now}
	ctx := context.Background()
	a1, err := f.accessToken(ctx, "")
	if err != nil || a1 != "a1" {
		t.Fatalf("first token: %q, %v", a1, err)
	}
	c.advance(58 * time.Minute)
	if a, _ := f.accessToken(ctx, ""); a != "a1" {
		t.Errorf("token renewed early: %q", a)
	}
	c.advance(2 * time.Minute)
	if a, _ := f.accessToken(ctx, ""); a != "a2" {
		t.Errorf("token not renewed: %q", a)
	}
	if a, _ := f.accessToken(ctx, "a2"); a != "a3" {
		t.Errorf("refused token not replaced: %q", a)
	}
}

func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   outcome
		reason string
	}{
		{200, ``, delivered, ""},
		{410, `{"reason":"Unregistered"}`, dead, "Unregistered"},
		{400, `{"reason":"BadDeviceToken"}`, dead, "BadDeviceToken"},
		{400, `{"reason":"DeviceTokenNotForTopic"}`, dead, "DeviceTokenNotForTopic"},
		{400, `{"reason":"BadTopic"}`, failed, "BadTopic"},
		{403, `{"reason":"InvalidProviderToken"}`, failed, "InvalidProviderToken"},
		{429, `{"reason":"TooManyRequests"}`, transient, "TooManyRequests"},
		{503, `not json`, transient, "Service Unavailable"},
	} {
		if got, reason := apnsOutcome(tc.status, []byte(tc.body)); got != tc.want || reason != tc.reason {
			t.Errorf("apns %d %s: %s %q, want %s %q", tc.status, tc.body, got, reason, tc.want, tc.reason)
		}
	}
	for _, tc := range []struct {
		status int
		body   string
		want   outcome
	}{
		{200, `{"name":"projects/p/messages/1"}`, delivered},
		{404, `{"error":{"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}}`, dead},
		{400, `{"error":{"status":"INVALID_ARGUMENT","details":[{"errorCode":"INVALID_ARGUMENT"}]}}`, dead},
		{403, `{"error":{"status":"PERMISSION_DENIED","details":[{"errorCode":"SENDER_ID_MISMATCH"}]}}`, failed},
		{429, `{"error":{"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}`, transient},
		{500, ``, transient},
	} {
		if got, _ := fcmOutcome(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("fcm %d %s: %s, want %s", tc.status, tc.body, got, tc.want)
		}
	}
}
