package jid

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name string
		in   string
		want string // "" means malformed
	}{
		// RFC 7622 §3.5 examples and friends.
		{"bare", "juliet@example.com", "juliet@example.com"},
		{"full", "juliet@example.com/foo", "juliet@example.com/foo"},
		{"resource with space", "juliet@example.com/foo bar", "juliet@example.com/foo bar"},
		{"resource with @", "juliet@example.com/foo@bar", "juliet@example.com/foo@bar"},
		{"resource with /", "juliet@example.com/foo/bar/baz", "juliet@example.com/foo/bar/baz"},
		{"localpart with backslash escape text", `foo\20bar@example.com`, `foo\20bar@example.com`},
		{"ASCII fussball", "fussball@example.com", "fussball@example.com"},
		{"sharp s kept", "fußball@example.com", "fußball@example.com"},
		{"Greek pi", "π@example.com", "π@example.com"},
		{"capital sigma folded", "Σ@example.com", "σ@example.com"},
		{"small sigma", "σ@example.com", "σ@example.com"},
		{"final sigma kept", "ς@example.com", "ς@example.com"},
		{"word with sigmas", "ΣΑΣ@example.com", "σασ@example.com"},
		{"chess king resource", "king@example.com/♚", "king@example.com/♚"},
		{"domain only", "example.com", "example.com"},
		{"domain with resource", "example.com/foobar", "example.com/foobar"},
		{"resource looks like JID", "a.example.com/b@example.net", "a.example.com/b@example.net"},
		{"case folding", "Juliet@EXAMPLE.com", "juliet@example.com"},
		{"resource case kept", "juliet@example.com/Foo", "juliet@example.com/Foo"},
		{"IPv6 loopback", "[::1]", "[::1]"},
		{"IPv6 full", "juliet@[::1]/res", "juliet@[::1]/res"},
		{"IPv6 canonicalised", "[0:0:0:0:0:0:0:1]", "[::1]"},
		{"IPv6 lower-cased", "[2001:DB8::1]", "[2001:db8::1]"},
		{"IPv6 mapped IPv4", "[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]"},
		{"IPv4", "192.0.2.1", "192.0.2.1"},
		{"IPv4 full", "juliet@192.0.2.1/x", "juliet@192.0.2.1/x"},
		{"trailing dot stripped", "example.com.", "example.com"},
		{"trailing dot with parts", "juliet@example.com./r", "juliet@example.com/r"},
		{"A-label to U-label", "xn--bcher-kva.example", "bücher.example"},
		{"U-label upper case", "BÜCHER.example", "bücher.example"},
		{"fullwidth domain", "juliet@ｅｘａｍｐｌｅ．ｃｏｍ", "juliet@example.com"},
		{"fullwidth localpart", "ＪＵＬＩＥＴ@example.com", "juliet@example.com"},
		{"ideographic full stop", "example。com", "example.com"},
		{"ideographic final stop", "example.com。", "example.com"},
		{"non-ASCII space in resource", "juliet@example.com/a\u00a0b", "juliet@example.com/a b"},
		{"NFC localpart", "e\u0301@example.com", "é@example.com"},
		{"NFC resource", "juliet@example.com/e\u0301", "juliet@example.com/é"},
		{"single label", "a@b", "a@b"},
		{"localhost", "Alice@LOCALHOST", "alice@localhost"},
		{"printable ASCII localpart", "a!#$%()*+,;=?[]^_`{|}~@example.com", "a!#$%()*+,;=?[]^_`{|}~@example.com"},
		{"localpart 1023 bytes", long(1023) + "@example.com", long(1023) + "@example.com"},
		{"resource 1023 bytes", "example.com/" + long(1023), "example.com/" + long(1023)},
		{"domain 1023 bytes", strings.Repeat("a.", 511) + "a", strings.Repeat("a.", 511) + "a"},
		{"digits and hyphens", "a-1.b-2.example", "a-1.b-2.example"},

		{"empty", "", ""},
		{"empty localpart", "@example.com", ""},
		{"empty domain with resource", "user@/res", ""},
		{"empty resource", "user@example.com/", ""},
		{"empty resource on domain", "example.com/", ""},
		{"empty domain", "user@", ""},
		{"only resource", "/res", ""},
		{"only @", "@", ""},
		{"only /", "/", ""},
		{"double @", "juliet@@example.com", ""},
		{"two @", "a@b@example.com", ""},
		{"localpart 1024 bytes", long(1024) + "@example.com", ""},
		{"resource 1024 bytes", "example.com/" + long(1024), ""},
		{"domain 1024 bytes", strings.Repeat("a.", 511) + "ab", ""},
		{"huge localpart", long(100000) + "@example.com", ""},
		{"control char in localpart", "jul\x07iet@example.com", ""},
		{"NUL in resource", "juliet@example.com/foo\x00bar", ""},
		{"tab in resource", "juliet@example.com/foo\tbar", ""},
		{"DEL in resource", "juliet@example.com/foo\x7f", ""},
		{"space in localpart", "jul iet@example.com", ""},
		{"space in domain", "juliet@exa mple.com", ""},
		{"quote in localpart", `"juliet"@example.com`, ""},
		{"ampersand in localpart", "ju&liet@example.com", ""},
		{"apostrophe in localpart", "ju'liet@example.com", ""},
		{"colon in localpart", "ju:liet@example.com", ""},
		{"less-than in localpart", "ju<liet@example.com", ""},
		{"greater-than in localpart", "ju>liet@example.com", ""},
		{"fullwidth @ in localpart", "foo＠bar@example.com", ""},
		{"fullwidth solidus in domain", "juliet@example／com", ""},
		{"Roman numeral (compatibility)", "henry\u2163@example.com", ""},
		{"chess king localpart (symbol)", "♚@example.com", ""},
		{"IPv6 unterminated", "[::1", ""},
		{"IPv6 with port", "[::1]:5222", ""},
		{"IPv4 in brackets", "[192.0.2.1]", ""},
		{"IPv6 zone", "[fe80::1%eth0]", ""},
		{"IPv6 invalid", "[::g]", ""},
		{"empty brackets", "[]", ""},
		{"IPv6 without brackets", "::1", ""},
		{"IPv6 trailing dot", "[::1].", ""},
		{"empty label", "example..com", ""},
		{"leading dot", ".example.com", ""},
		{"two trailing dots", "example.com..", ""},
		{"only a dot", ".", ""},
		{"leading hyphen", "-example.com", ""},
		{"trailing hyphen", "example-.com", ""},
		{"hyphens at 3-4", "ex--ample.com", ""},
		{"underscore in domain", "exa_mple.com", ""},
		{"bad punycode", "xn--a.example", ""},
		{"invalid UTF-8 localpart", "\xff@example.com", ""},
		{"invalid UTF-8 resource", "juliet@example.com/\xff", ""},
		{"invalid UTF-8 domain", "juliet@\xffexample.com", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := Parse(c.in)
			if c.want == "" {
				if err == nil {
					t.Fatalf("Parse(%.80q) = %q, want error", c.in, j)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error %v does not wrap ErrMalformed", err)
				}
				if len(err.Error()) > 300 {
					t.Errorf("error message of %d bytes", len(err.Error()))
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%.80q): %v", c.in, err)
			}
			if got := j.String(); got != c.want {
				t.Fatalf("Parse(%.80q) = %.80q, want %.80q", c.in, got, c.want)
			}
			again, err := Parse(j.String())
			if err != nil || again != j {
				t.Fatalf("round trip: %v, %v", again, err)
			}
		})
	}
}

func TestEquality(t *testing.T) {
	eq := [][2]string{
		{"Alice@LOCALHOST", "alice@localhost"},
		{"alice@localhost.", "alice@localhost"},
		{"ALICE@Example.COM/phone", "alice@example.com/phone"},
		{"[0::1]", "[::1]"},
		{"Σ@example.com", "σ@example.com"},
		{"xn--bcher-kva.example", "bücher.example"},
	}
	for _, p := range eq {
		a, b := MustParse(p[0]), MustParse(p[1])
		if a != b || !a.Equal(b) || a.Compare(b) != 0 {
			t.Errorf("%q and %q differ: %#v %#v", p[0], p[1], a, b)
		}
	}
	ne := [][2]string{
		{"alice@localhost/Phone", "alice@localhost/phone"},
		{"alice@localhost", "alice@localhost/phone"},
		{"alice@localhost", "localhost"},
		{"σ@example.com", "ς@example.com"},
		{"a@b/c", "a@b/c "},
	}
	for _, p := range ne {
		a, b := MustParse(p[0]), MustParse(p[1])
		if a == b || a.Equal(b) || a.Compare(b) == 0 || a.Compare(b) != -b.Compare(a) {
			t.Errorf("%q and %q compare equal", p[0], p[1])
		}
	}
}

func TestCompare(t *testing.T) {
	sorted := []string{"a.example", "b@a.example", "b@a.example/x", "b@a.example/y", "c@a.example", "b.example", "a@b.example"}
	for i := range sorted {
		for k := range sorted {
			a, b := MustParse(sorted[i]), MustParse(sorted[k])
			want := 0
			if i < k {
				want = -1
			} else if i > k {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", sorted[i], sorted[k], got, want)
			}
		}
	}
}

func TestAccessors(t *testing.T) {
	j := MustParse("Juliet@Example.com/Balcony")
	if j.Local() != "juliet" || j.Domain() != "example.com" || j.Resource() != "Balcony" {
		t.Errorf("parts %q %q %q", j.Local(), j.Domain(), j.Resource())
	}
	if j.IsBare() || j.IsZero() || j.IsDomain() {
		t.Error("predicates of a full JID")
	}
	if b := j.Bare(); b.String() != "juliet@example.com" || !b.IsBare() {
		t.Errorf("Bare = %v", b)
	}
	if d := j.DomainJID(); d.String() != "example.com" || !d.IsDomain() {
		t.Errorf("DomainJID = %v", d)
	}
	if w, err := j.WithResource("Orchard"); err != nil || w.String() != "juliet@example.com/Orchard" {
		t.Errorf("WithResource = %v, %v", w, err)
	}
	if w, err := j.WithResource(""); err != nil || w != j.Bare() {
		t.Errorf("WithResource(\"\") = %v, %v", w, err)
	}
	if _, err := j.WithResource("a\x00b"); !errors.Is(err, ErrMalformed) {
		t.Errorf("WithResource(NUL) = %v", err)
	}
	var zero JID
	if !zero.IsZero() || zero.String() != "" || zero.IsDomain() {
		t.Error("zero JID")
	}
	if n, err := New("Juliet", "EXAMPLE.com", "r"); err != nil || n != MustParse("juliet@example.com/r") {
		t.Errorf("New = %v, %v", n, err)
	}
	for _, parts := range [][3]string{{"a@b", "example.com", ""}, {"a", "exa/mple.com", ""}, {"a", "", ""}, {"a", "example.com@x", ""}} {
		if _, err := New(parts[0], parts[1], parts[2]); !errors.Is(err, ErrMalformed) {
			t.Errorf("New(%q) = %v", parts, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic")
		}
	}()
	MustParse("@")
}

// checkFastSlow asserts that wherever a fast path accepts s, the full
// preparation gives the same result.
func checkFastSlow(t *testing.T, s string) {
	t.Helper()
	if out, ok := fastLocal(s); ok {
		if slow, err := slowLocal(s); err != nil || slow != out {
			t.Fatalf("localpart %q: fast %q, slow %q, %v", s, out, slow, err)
		}
	}
	if fastResource(s) {
		if slow, err := slowResource(s); err != nil || slow != s {
			t.Fatalf("resourcepart %q: fast %q, slow %q, %v", s, s, slow, err)
		}
	}
	d, stripped := s, false
	if strings.HasSuffix(d, ".") {
		d, stripped = d[:len(d)-1], true
	}
	if out, ok := fastDomain(d); ok {
		if slow, err := slowDomain(d, stripped); err != nil || slow != out {
			t.Fatalf("domainpart %q: fast %q, slow %q, %v", s, out, slow, err)
		}
	}
}

func TestFastPathMatchesSlowPathExhaustive(t *testing.T) {
	// Every ASCII string of length 1 and 2, plus 3 over a smaller alphabet.
	for a := 0; a < 128; a++ {
		checkFastSlow(t, string(rune(a)))
		for b := 0; b < 128; b++ {
			checkFastSlow(t, string([]byte{byte(a), byte(b)}))
		}
	}
	const alpha = "aZ0-._@/ !:xn"
	for _, a := range []byte(alpha) {
		for _, b := range []byte(alpha) {
			for _, c := range []byte(alpha) {
				for _, d := range []byte(alpha) {
					checkFastSlow(t, string([]byte{a, b, c, d}))
				}
			}
		}
	}
}

func TestFastPathMatchesSlowPathRandom(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 20000
	}
	r := rand.New(rand.NewPCG(1, 2))
	// Weighted towards the fast-path alphabet, with the characters that
	// matter at its edges.
	alphabets := []string{
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.",
		"abcXYZ09-.-.",
		"abc-.x-n-",
		"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ abcXYZ",
	}
	fast, total := 0, 0
	for i := 0; i < n; i++ {
		alpha := alphabets[r.IntN(len(alphabets))]
		b := make([]byte, 1+r.IntN(24))
		for k := range b {
			if r.IntN(50) == 0 {
				b[k] = byte(r.IntN(128))
			} else {
				b[k] = alpha[r.IntN(len(alpha))]
			}
		}
		s := string(b)
		total++
		if _, ok := fastDomain(strings.TrimSuffix(s, ".")); ok {
			fast++
		}
		checkFastSlow(t, s)
		// The whole-address result must not depend on the paths taken.
		if j, err := Parse(s); err == nil {
			if again, err := Parse(j.String()); err != nil || again != j {
				t.Fatalf("%q: round trip %v, %v", s, again, err)
			}
		}
	}
	if fast < total/10 {
		t.Fatalf("only %d of %d inputs took the fast domain path", fast, total)
	}
}

func TestParseNoAllocs(t *testing.T) {
	for _, s := range []string{"bob@localhost/phone", "localhost", "bob@example.com", "[::1]", "example.com.", "192.0.2.1/x y"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = Parse(s) }); n != 0 {
			t.Errorf("Parse(%q): %v allocs", s, n)
		}
	}
}
