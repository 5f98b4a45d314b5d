package muc

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

func TestHistoryPick(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	h := (&historyCache{maxCount: 3, maxBytes: 1 << 20, maxTotal: 1 << 30}).newHistory()
	for i, b := range []string{"a", "bb", "ccc", "dddd"} { // "a" falls out of the ring
		m := stanza.New(stanza.NSClient, "message").Append(stanza.New(stanza.NSClient, "body").AppendText(b))
		h.add(m, t0.Add(time.Duration(i)*time.Minute), strconv.Itoa(i))
	}
	one := h.entries[len(h.entries)-1].chars
	bodies := func(es []entry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.el.ChildText("", "body"))
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		name string
		l    limits
		want string
	}{
		{"no limits: the whole ring", limits{maxChars: -1, maxStanzas: -1}, "bb,ccc,dddd"},
		{"maxstanzas", limits{maxChars: -1, maxStanzas: 2}, "ccc,dddd"},
		{"maxstanzas zero", limits{maxChars: -1, maxStanzas: 0}, ""},
		{"maxchars zero", limits{maxChars: 0, maxStanzas: -1}, ""},
		{"maxchars fits the newest only", limits{maxChars: one + 1, maxStanzas: -1}, "dddd"},
		{"since", limits{maxChars: -1, maxStanzas: -1, since: t0.Add(90 * time.Second)}, "ccc,dddd"},
		{"since after all", limits{maxChars: -1, maxStanzas: -1, since: t0.Add(time.Hour)}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := bodies(h.pick(tc.l)); got != tc.want {
				t.Errorf("pick = %q, want %q", got, tc.want)
			}
		})
	}
	if got := (&historyCache{}).newHistory(); len(got.pick(limits{maxChars: -1, maxStanzas: -1})) != 0 {
		t.Error("an empty history gave entries")
	}
}

func TestParseLimits(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	x := func(attrs ...string) *stanza.Element {
		h := stanza.New(NS, "history")
		for i := 0; i+1 < len(attrs); i += 2 {
			h.SetAttr(attrs[i], attrs[i+1])
		}
		return stanza.New(NS, "x").Append(h)
	}
	cases := []struct {
		name string
		x    *stanza.Element
		want limits
	}{
		{"no x", nil, limits{maxChars: -1, maxStanzas: -1}},
		{"all", x("maxchars", "100", "maxstanzas", "5", "seconds", "60"), limits{100, 5, now.Add(-time.Minute)}},
		{"garbage ignored", x("maxchars", "lots", "maxstanzas", "-3", "since", "yesterday"), limits{maxChars: -1, maxStanzas: -1}},
		{"the later of seconds and since", x("seconds", "3600", "since", "2026-01-01T11:30:00Z"), limits{-1, -1, now.Add(-30 * time.Minute)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseLimits(tc.x, now); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestApplyConfig(t *testing.T) {
	form := func(kv ...string) *stanza.Element {
		x := stanza.New(nsData, "x").SetAttr("type", "submit")
		for i := 0; i+1 < len(kv); i += 2 {
			x.Append(stanza.New(nsData, "field").SetAttr("var", kv[i]).Append(stanza.New(nsData, "value").AppendText(kv[i+1])))
		}
		return x
	}
	base := defaultConfig(100)
	cases := []struct {
		name    string
		x       *stanza.Element
		errCond string
		check   func(RoomConfig) bool
	}{
		{"empty submit keeps all", form(), "", func(c RoomConfig) bool { return c == base }},
		{"booleans both spellings", form(fPersistent, "true", fPublic, "0"), "", func(c RoomConfig) bool { return c.Persistent && !c.Public }},
		{"bad boolean", form(fModerated, "yes"), stanza.BadRequest, nil},
		{"wrong FORM_TYPE", form("FORM_TYPE", "urn:other"), stanza.BadRequest, nil},
		{"password without secret", form(fPassword, "1"), stanza.NotAcceptable, nil},
		{"password with secret", form(fPassword, "1", fSecret, "x"), "", func(c RoomConfig) bool { return c.PasswordProtected && c.Password == "x" }},
		{"whois", form(fWhois, "everyone"), stanza.NotAcceptable, nil},
		{"allowpm", form(fAllowPM, "nobody"), stanza.NotAcceptable, nil},
		{"maxusers zero", form(fMaxUsers, "0"), stanza.NotAcceptable, nil},
		{"maxusers past the service's", form(fMaxUsers, "101"), stanza.NotAcceptable, nil},
		{"maxusers", form(fMaxUsers, "100"), "", func(c RoomConfig) bool { return c.MaxUsers == 100 }},
		{"unknown fields ignored", form("muc#roomconfig_enablelogging", "1"), "", func(c RoomConfig) bool { return c == base }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := applyConfig(base, tc.x, 100)
			if tc.errCond != "" {
				if se, ok := err.(*stanza.Error); !ok || se.Condition != tc.errCond {
					t.Fatalf("err = %v, want %s", err, tc.errCond)
				}
				return
			}
			if err != nil || !tc.check(got) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

func TestAffiliationRules(t *testing.T) {
	cases := []struct {
		actor, cur, next Affiliation
		errCond          string
	}{
		{AffMember, AffNone, AffMember, stanza.Forbidden},
		{AffAdmin, AffNone, AffOutcast, ""},
		{AffAdmin, AffMember, AffNone, ""},
		{AffAdmin, AffAdmin, AffNone, stanza.NotAllowed},
		{AffAdmin, AffNone, AffAdmin, stanza.NotAllowed},
		{AffAdmin, AffOwner, AffOutcast, stanza.NotAllowed},
		{AffOwner, AffAdmin, AffOwner, ""},
	}
	for _, tc := range cases {
		err := mayChangeAffiliation(tc.actor, tc.cur, tc.next)
		got := ""
		if se, ok := err.(*stanza.Error); ok {
			got = se.Condition
		}
		if got != tc.errCond {
			t.Errorf("%s changing %s to %s: %q, want %q", tc.actor, tc.cur, tc.next, got, tc.errCond)
		}
	}
}

// TestOddStanzas: whatever arrives, the service answers with a stanza
// error or ignores it, and never panics.
func TestOddStanzas(t *testing.T) {
	s, from, roomJID, sessions := benchRoom(t, 2)
	el := func(raw string) *stanza.Element {
		p := strings.SplitN(raw, " ", 2)
		e := stanza.New(stanza.NSClient, p[0])
		for _, kv := range strings.Fields(p[1]) {
			k, v, _ := strings.Cut(kv, "=")
			e.SetAttr(k, v)
		}
		return e
	}
	svc := jid.MustParse("conference.localhost")
	occupant := jid.MustParse(roomJID.String() + "/n1")
	missing := jid.MustParse("nope@conference.localhost")
	cases := []struct {
		name    string
		to      jid.JID
		el      *stanza.Element
		errCond string
	}{
		{"message to the service", svc, el("message type=chat"), ""},
		{"iq get without payload", svc, el("iq type=get id=1"), stanza.BadRequest},
		{"iq set to the service", svc, el("iq type=set id=1").Append(stanza.New(nsDiscoInfo, "query")), stanza.ServiceUnavailable},
		{"iq result to the service", svc, el("iq type=result id=1"), ""},
		{"unknown iq to a room", roomJID, el("iq type=get id=1").Append(stanza.New("urn:x", "y")), stanza.ServiceUnavailable},
		{"iq to a missing room", missing, el("iq type=get id=1").Append(stanza.New(nsDiscoInfo, "query")), stanza.ItemNotFound},
		{"result to a missing occupant's room", jid.MustParse("nope@conference.localhost/x"), el("iq type=result id=1"), ""},
		{"chat to the bare room", roomJID, el("message type=chat"), stanza.BadRequest},
		{"error message to the room", roomJID, el("message type=error"), ""},
		{"groupchat to an occupant", occupant, el("message type=groupchat"), stanza.BadRequest},
		{"private message to a missing nick", jid.MustParse(roomJID.String() + "/ghost"), el("message type=chat"), stanza.ItemNotFound},
		{"probe to an occupant", occupant, el("presence type=probe"), ""},
		{"subscribe to the room", roomJID, el("presence type=subscribe"), ""},
		{"unavailable from a non-occupant", jid.MustParse("nope@conference.localhost/x"), el("presence type=unavailable"), ""},
		{"admin set without items", roomJID, el("iq type=set id=1").Append(stanza.New(NSAdmin, "query")), stanza.BadRequest},
		{"admin item with a bad role", roomJID, el("iq type=set id=1").Append(stanza.New(NSAdmin, "query").Append(stanza.New(NSAdmin, "item").SetAttr("nick", "n1").SetAttr("role", "king"))), stanza.BadRequest},
		{"admin item with a bad jid", roomJID, el("iq type=set id=1").Append(stanza.New(NSAdmin, "query").Append(stanza.New(NSAdmin, "item").SetAttr("jid", "a@@b").SetAttr("affiliation", "member"))), stanza.JIDMalformed},
		{"owner set without form", roomJID, el("iq type=set id=1").Append(stanza.New(NSOwner, "query")), stanza.BadRequest},
		{"invite without to", roomJID, el("message id=1").Append(stanza.New(NSUser, "x").Append(stanza.New(NSUser, "invite"))), stanza.JIDMalformed},
		{"decline without to", roomJID, el("message id=1").Append(stanza.New(NSUser, "x").Append(stanza.New(NSUser, "decline"))), stanza.JIDMalformed},
		{"register set without a form", roomJID, el("iq type=set id=1").Append(stanza.New(nsIQRegister, "query")), stanza.BadRequest},
		{"register with an empty nick", roomJID, el("iq type=set id=1").Append(stanza.New(nsIQRegister, "query").Append(
			stanza.New(nsData, "x").SetAttr("type", "submit").Append(
				stanza.New(nsData, "field").SetAttr("var", "FORM_TYPE").Append(stanza.New(nsData, "value").AppendText(NSRegister)),
				stanza.New(nsData, "field").SetAttr("var", fRoomNick).Append(stanza.New(nsData, "value"))))), stanza.NotAcceptable},
		{"voice request for a role other than participant", roomJID, el("message id=1").Append(stanza.New(nsData, "x").SetAttr("type", "submit").Append(
			stanza.New(nsData, "field").SetAttr("var", "FORM_TYPE").Append(stanza.New(nsData, "value").AppendText(NSRequest)),
			stanza.New(nsData, "field").SetAttr("var", "muc#role").Append(stanza.New(nsData, "value").AppendText("moderator")))), stanza.BadRequest},
		{"voice approval naming an unknown nick", roomJID, el("message id=1").Append(stanza.New(nsData, "x").SetAttr("type", "submit").Append(
			stanza.New(nsData, "field").SetAttr("var", "FORM_TYPE").Append(stanza.New(nsData, "value").AppendText(NSRequest)),
			stanza.New(nsData, "field").SetAttr("var", "muc#roomnick").Append(stanza.New(nsData, "value").AppendText("ghost")),
			stanza.New(nsData, "field").SetAttr("var", "muc#request_allow").Append(stanza.New(nsData, "value").AppendText("1")))), stanza.ItemNotFound},
		{"voice approval with a bad boolean", roomJID, el("message id=1").Append(stanza.New(nsData, "x").SetAttr("type", "submit").Append(
			stanza.New(nsData, "field").SetAttr("var", "FORM_TYPE").Append(stanza.New(nsData, "value").AppendText(NSRequest)),
			stanza.New(nsData, "field").SetAttr("var", "muc#request_allow").Append(stanza.New(nsData, "value").AppendText("perhaps")))), stanza.BadRequest},
		{"archive query to an unarchived room", roomJID, el("iq type=set id=1").Append(stanza.New(NSMAM, "query")), stanza.ServiceUnavailable},
		{"ping to another occupant is forwarded", jid.MustParse(roomJID.String() + "/n1"), el("iq type=get id=1").Append(stanza.New(nsPing, "ping")), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Route(context.Background(), from, tc.to, tc.el)
			got := ""
			if se, ok := err.(*stanza.Error); ok {
				got = se.Condition
			} else if err != nil {
				t.Fatalf("non-stanza error %v", err)
			}
			if got != tc.errCond {
				t.Errorf("error %q, want %q", got, tc.errCond)
			}
		})
	}
	if sessions[0].n == 0 {
		t.Error("the owner got nothing at all")
	}
}
