package c2s

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

func TestBindTag(t *testing.T) {
	for tag, ok := range map[string]bool{
		"":                      true,
		"Conversations":         true,
		"Gajim 1.9 ünïcode":     true,
		"a/b":                   false,
		"tab\there":             false,
		"nul\x00":               false,
		strings.Repeat("x", 64): true,
		strings.Repeat("x", 65): false,
		"\xff\xfe":              false,
	} {
		b := stanza.New(NSBind2, "bind")
		if tag != "" {
			b.Append(stanza.New(NSBind2, "tag").AppendText(tag))
		}
		if _, err := bindTag(b); (err == nil) != ok {
			t.Errorf("bindTag(%q) = %v, want ok=%v", tag, err, ok)
		}
	}
}

func TestBind2Resource(t *testing.T) {
	s := &Session{user: jid.MustParse("alice@localhost")}
	a1, a2 := s.bind2Resource("app", "agent-1"), s.bind2Resource("app", "agent-1")
	if a1 != a2 || !strings.HasPrefix(a1, "app.") || len(a1) != len("app.")+12 {
		t.Errorf("resources %q, %q: want the same app.<12 hex>", a1, a2)
	}
	if b := s.bind2Resource("app", "agent-2"); b == a1 {
		t.Error("two agents got one resource")
	}
	other := &Session{user: jid.MustParse("bob@localhost")}
	if other.bind2Resource("app", "agent-1") == a1 {
		t.Error("two accounts' devices with one agent id got one resource (the id would link them)")
	}
	if s.bind2Resource("", "agent-1") != strings.TrimPrefix(a1, "app.") {
		t.Error("without a tag the resource is not the bare identifier")
	}
	if r1, r2 := s.bind2Resource("app", ""), s.bind2Resource("app", ""); r1 == r2 {
		t.Error("without an agent id the resource is not random")
	}
}

func TestParseCount(t *testing.T) {
	if n, err := parseCount("", false); n != -1 || err != nil {
		t.Errorf("absent: %d, %v", n, err)
	}
	for v, want := range map[string]int64{"0": 0, "123": 123, "9223372036854775807": 1<<63 - 1} {
		if n, err := parseCount(v, true); n != want || err != nil {
			t.Errorf("parseCount(%q) = %d, %v", v, n, err)
		}
	}
	for _, v := range []string{"", "-1", "1.5", "x", "9223372036854775808", " 1"} {
		if _, err := parseCount(v, true); err == nil {
			t.Errorf("parseCount(%q) accepted", v)
		}
	}
}

func TestPrintable(t *testing.T) {
	if got := printable("ok\n\x1b[31mred\x7f\xff"); got != "ok??[31mred??" {
		t.Errorf("printable = %q", got)
	}
}

func TestDecodeSASL2(t *testing.T) {
	for in, want := range map[string]string{"": "", "=": "", " AGE= \n": "\x00a", "AGFsaWNl": "\x00alice"} {
		got, err := decodeSASL2(in)
		if err != nil || string(got) != want {
			t.Errorf("decodeSASL2(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"AG=E", "!!", "AGE"} {
		if _, err := decodeSASL2(in); err == nil {
			t.Errorf("decodeSASL2(%q) accepted", in)
		}
	}
}
