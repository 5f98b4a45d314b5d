package upload

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

func TestCheckFilename(t *testing.T) {
	for _, ok := range []string{"a.txt", "Grüße.png", "..a", "a..", "with space.pdf", strings.Repeat("x", 255)} {
		if err := checkFilename(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/b", `a\b`, "nul\x00", "nl\n", "\x7f", strings.Repeat("x", 256), "\xff"} {
		if err := checkFilename(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDisposition(t *testing.T) {
	for _, c := range []struct{ ct, name, want string }{
		{"image/png", "a b.png", `inline; filename="a b.png"; filename*=UTF-8''a%20b.png`},
		{"video/mp4", "v.mp4", `inline; filename="v.mp4"; filename*=UTF-8''v.mp4`},
		{"text/html", `x"y%.html`, `attachment; filename="x_y_.html"; filename*=UTF-8''x%22y%25.html`},
		{"application/pdf", "ü.pdf", `attachment; filename="_.pdf"; filename*=UTF-8''%C3%BC.pdf`},
	} {
		if got := disposition(c.ct, c.name); got != c.want {
			t.Errorf("disposition(%q, %q) = %s, want %s", c.ct, c.name, got, c.want)
		}
	}
}

func TestContentType(t *testing.T) {
	if ct, err := checkContentType("Text/Plain; Charset=UTF-8"); err != nil || ct != "text/plain; charset=UTF-8" {
		t.Errorf("canonical: %q %v", ct, err)
	}
	if !sameContentType("text/plain; charset=UTF-8", "text/plain;charset=UTF-8") || sameContentType("image/png", "image/jpeg") {
		t.Error("sameContentType")
	}
	for _, bad := range []string{"png", "a b", strings.Repeat("a", 250) + "/b/cdefg"} {
		if _, err := checkContentType(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := servedType(Slot{Filename: "x.unknownext"}); got != "application/octet-stream" {
		t.Errorf("servedType: %s", got)
	}
}

// remoteHost serves only example.org.
type remoteHost struct{ module.Host }

func (remoteHost) IsLocal(d string) bool { return d == "example.org" }

// TestRemoteSenderRefused: a JID of another server, or a domain, gets
// not-allowed before anything is stored (the store is never reached).
func TestRemoteSenderRefused(t *testing.T) {
	s := &Service{cfg: Config{Host: remoteHost{}, MaxFileSize: 100}}
	req := stanza.New(NS, "request").SetAttr("filename", "a").SetAttr("size", "1")
	iq := stanza.New(stanza.NSClient, "iq").SetAttr("type", "get").SetAttr("id", "x").Append(req)
	to := jid.MustParse("upload.example.org")
	for _, from := range []string{"eve@elsewhere.example/r", "example.org"} {
		err := s.Route(context.Background(), jid.MustParse(from), to, iq)
		if se, ok := err.(*stanza.Error); !ok || se.Condition != stanza.NotAllowed {
			t.Errorf("from %s: %v", from, err)
		}
	}
}

// TestSlotRate: a bucket of 3 refilled at 3 a minute.
func TestSlotRate(t *testing.T) {
	r := newSlotRate(3)
	u, v := jid.MustParse("a@example.org"), jid.MustParse("b@example.org")
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := r.allow(u, now); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	ok, retry := r.allow(u, now)
	if ok || retry.Before(now.Add(20*time.Second)) || retry.After(now.Add(21*time.Second)) {
		t.Fatalf("fourth: %v, retry %v after", ok, retry.Sub(now))
	}
	if ok, _ := r.allow(v, now); !ok {
		t.Fatal("another user refused")
	}
	if ok, _ := r.allow(u, now.Add(20*time.Second)); !ok {
		t.Fatal("refused after a token came back")
	}
	if ok, _ := (*slotRate)(nil).allow(u, now); !ok || !func() bool { ok, _ := newSlotRate(0).allow(u, now); return ok }() {
		t.Fatal("no limit refused")
	}
}
