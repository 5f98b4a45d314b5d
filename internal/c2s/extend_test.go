package c2s_test

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/xmpptest"
)

// TestUnknownNonzaEndsStream: a top-level element that is neither a stanza
// nor a nonza some module registered ends the stream, before and after
// binding; a pre-auth iq no module takes is refused as before.
func TestUnknownNonzaEndsStream(t *testing.T) {
	srv := xmpptest.Start(t)
	srv.AddUser(t, "alice@localhost", "pw")
	cfg := srv.TLSConfig(t, "localhost")
	cases := []struct {
		name, send, want string
		bound            bool
	}{
		{"unknown nonza after bind", "<frobnicate xmlns='urn:example:nonza'/>", "unsupported-stanza-type", true},
		{"known name in another namespace", "<active xmlns='urn:example:not-csi'/>", "unsupported-stanza-type", true},
		{"stanza name in a foreign namespace", "<message xmlns='urn:example:x'/>", "unsupported-stanza-type", true},
		{"iq before auth without a module", "<iq type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>", "not-authorized", false},
		{"iq result before auth", "<iq type='result' id='x'/>", "not-authorized", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := srv.Raw(t)
			if tc.bound {
				r.Login(cfg, "alice", "localhost", "pw", "res")
			} else {
				r.Open("localhost")
				r.StartTLS(cfg, "localhost")
			}
			r.Write(tc.send)
			out, closed := r.ReadToEOF(wait)
			if !closed || !strings.Contains(out, "<"+tc.want) {
				t.Fatalf("closed=%v, got %q, want stream error %s", closed, out, tc.want)
			}
		})
	}
}
