package storagetest

import (
	"testing"

	"github.com/parleyim/parley/internal/features/muc"
	"github.com/parleyim/parley/internal/jid"
)

var mucCases = []Case{
	{"muc/save load replace delete", func(t *testing.T, e *Env) {
		s := muc.NewStore(e.DB)
		svc := "conference." + e.Domain
		roomA, roomB := jid.MustParse("Tea@"+svc), jid.MustParse("b@"+svc)
		owner, member := e.JID(t, "o@D"), jid.MustParse("m@elsewhere.example")
		cfg := muc.RoomConfig{Name: "Tëa", Persistent: true, MembersOnly: true, Whois: "anyone", MaxUsers: 20, AllowPM: "none",
			PasswordProtected: true, Password: "pw"}
		a := muc.StoredRoom{Room: roomA, Config: cfg, Subject: "Sübject", SubjectBy: "Nick",
			Affiliations:  map[jid.JID]muc.Affiliation{owner: muc.AffOwner, member: muc.AffMember, jid.MustParse("spam.example"): muc.AffOutcast},
			Reasons:       map[jid.JID]string{member: "friend"},
			Registrations: map[jid.JID]string{member: "Mëmber", owner: "O"}, Secret: []byte{0, 1, 2, 0xff, 0xfe}}
		if err := s.Save(e.Ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(e.Ctx, muc.StoredRoom{Room: roomB, Config: muc.RoomConfig{Persistent: true, Whois: "moderators", MaxUsers: 5},
			Affiliations: map[jid.JID]muc.Affiliation{owner: muc.AffOwner}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(e.Ctx, svc)
		if err != nil || len(got) != 2 {
			t.Fatalf("Load = %d rooms, %v", len(got), err)
		}
		g := got[1] // sorted by name: "b", "tea"
		if g.Room != roomA || g.Config != cfg || g.Subject != "Sübject" || g.SubjectBy != "Nick" ||
			len(g.Affiliations) != 3 || g.Affiliations[member] != muc.AffMember ||
			g.Affiliations[jid.MustParse("spam.example")] != muc.AffOutcast || g.Reasons[member] != "friend" ||
			len(g.Registrations) != 2 || g.Registrations[member] != "Mëmber" || string(g.Secret) != string(a.Secret) {
			t.Errorf("loaded %+v", g)
		}
		if got[0].Secret != nil || len(got[0].Registrations) != 0 {
			t.Errorf("a room stored without secret or registrations: %+v", got[0])
		}
		// Saving again replaces the affiliations.
		a.Affiliations = map[jid.JID]muc.Affiliation{owner: muc.AffOwner}
		a.Registrations = map[jid.JID]string{owner: "O2"}
		a.Subject = ""
		if err := s.Save(e.Ctx, a); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Load(e.Ctx, svc)
		if len(got) != 2 || len(got[1].Affiliations) != 1 || got[1].Subject != "" ||
			len(got[1].Registrations) != 1 || got[1].Registrations[owner] != "O2" || string(got[1].Secret) != string(a.Secret) {
			t.Errorf("after replace: %+v", got)
		}
		if err := s.Delete(e.Ctx, roomA); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Load(e.Ctx, svc)
		if len(got) != 1 || got[0].Room != roomB {
			t.Errorf("after delete: %+v", got)
		}
		if other, err := s.Load(e.Ctx, "conference.other.example"); err != nil || len(other) != 0 {
			t.Errorf("another service sees %d rooms, %v", len(other), err)
		}
	}},
}
