package jid

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"juliet@example.com", "Juliet@EXAMPLE.com/Balcony", "juliet@example.com/foo@bar/baz",
		`foo\20bar@example.com`, "π@example.com", "Σ@example.com", "king@example.com/♚",
		"[::1]", "[0:0::1]", "192.0.2.1", "xn--bcher-kva.example", "example。com。",
		"ＪＵＬＩＥＴ@ｅｘａｍｐｌｅ．ｃｏｍ", "@example.com", "user@/res", "user@example.com/",
		"a@b@c", "henry\u2163@example.com", "e\u0301@example.com/a\u00a0b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if j != (JID{}) {
				t.Fatalf("non-zero JID with error: %#v", j)
			}
			return
		}
		for _, p := range []string{j.local, j.domain, j.resource} {
			if len(p) > MaxPartLen {
				t.Fatalf("part of %d bytes", len(p))
			}
		}
		if j.domain == "" || strings.ContainsAny(j.domain, "@/") || strings.ContainsAny(j.local, localDisallowed) {
			t.Fatalf("bad parts %#v", j)
		}
		again, err := Parse(j.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok as %q, but that fails: %v", s, j.String(), err)
		}
		if again != j {
			t.Fatalf("not idempotent: %q -> %#v -> %#v", s, j, again)
		}
		if n, err := New(j.local, j.domain, j.resource); err != nil || n != j {
			t.Fatalf("New from parts: %#v, %v", n, err)
		}
		// The fast paths must agree with the full preparation.
		local, domain, resource, _ := split(s)
		for _, p := range []string{local, domain, resource} {
			checkFastSlow(t, p)
		}
	})
}
