package mam

import (
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

func TestMarkPrivate(t *testing.T) {
	m := &Module{cfg: Config{Groupchat: func(d string) bool { return d == "conference.localhost" }}}
	for _, c := range []struct {
		to, typ, extra string
		want           int
	}{
		{"room@conference.localhost/nick", "chat", "", 1},
		{"room@conference.localhost/nick", "chat", "<x xmlns='" + NSMUCUser + "'/>", 1}, // already marked: not twice
		{"room@conference.localhost", "chat", "", 0},                                    // the room itself
		{"room@conference.localhost/nick", "groupchat", "", 0},
		{"bob@localhost/phone", "chat", "", 0}, // not a room
	} {
		var dec storage.ElementDecoder
		els, err := dec.Decode([]byte("<message xmlns='jabber:client' type='" + c.typ + "' to='" + c.to + "'><body>x</body>" + c.extra + "</message>"))
		if err != nil {
			t.Fatal(err)
		}
		el := els[0]
		m.markPrivate(el, jid.MustParse(c.to))
		if n := strings.Count(string(el.AppendXML(nil, stanza.NSClient)), NSMUCUser); n != c.want {
			t.Errorf("%s %s%s: %d muc#user elements, want %d", c.typ, c.to, c.extra, n, c.want)
		}
	}
	(&Module{}).markPrivate(stanza.New(stanza.NSClient, "message"), jid.MustParse("room@conference.localhost/n")) // no Groupchat: no panic
}
