package sharedgroup_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/features/sharedgroup"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	db, err := storage.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accts := account.NewStore(db, 4096)
	a, b, c := jid.MustParse("a@localhost"), jid.MustParse("b@localhost"), jid.MustParse("c@localhost")
	for _, j := range []jid.JID{a, b, c} {
		if err := accts.Create(ctx, j, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	s := sharedgroup.NewStore(db)
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"create", func() error { return s.Create(ctx, "staff", "Staff") }, nil},
		{"create twice", func() error { return s.Create(ctx, "staff", "") }, sharedgroup.ErrExists},
		{"empty name", func() error { return s.Create(ctx, " ", "") }, sharedgroup.ErrInvalidName},
		{"control characters", func() error { return s.Create(ctx, "a\nb", "") }, sharedgroup.ErrInvalidName},
		{"too long", func() error { return s.Create(ctx, strings.Repeat("x", 300), "") }, sharedgroup.ErrInvalidName},
		{"second group", func() error { return s.Create(ctx, "ops", "") }, nil},
		{"add", func() error { return s.AddMembers(ctx, "staff", []jid.JID{a, b}) }, nil},
		{"add again", func() error { return s.AddMembers(ctx, "staff", []jid.JID{a}) }, nil},
		{"add to ops", func() error { return s.AddMembers(ctx, "ops", []jid.JID{a, c}) }, nil},
		{"unknown account, all or none", func() error {
			return s.AddMembers(ctx, "ops", []jid.JID{b, jid.MustParse("nobody@localhost")})
		}, sharedgroup.ErrNoAccount},
		{"unknown group", func() error { return s.AddMembers(ctx, "nope", []jid.JID{a}) }, sharedgroup.ErrNotFound},
		{"full JID", func() error { return s.AddMembers(ctx, "ops", []jid.JID{jid.MustParse("a@localhost/r")}) }, sharedgroup.ErrInvalidJID},
	}
	for _, st := range steps {
		if err := st.do(); !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	contacts, err := s.ContactsOf(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 2 || strings.Join(contacts[b], ",") != "Staff" || strings.Join(contacts[c], ",") != "ops" {
		t.Fatalf("contacts of a: %v", contacts)
	}
	if contacts, _ := s.ContactsOf(ctx, b); len(contacts) != 1 || contacts[a] == nil {
		t.Fatalf("contacts of b: %v", contacts)
	}
	if n, err := s.RemoveMembers(ctx, "ops", []jid.JID{c, b}); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	if err := accts.Delete(ctx, b); err != nil {
		t.Fatal(err)
	}
	g, err := s.Get(ctx, "staff")
	if err != nil || len(g.Members) != 1 || g.Members[0] != a {
		t.Fatalf("staff after deleting b: %+v %v", g, err)
	}
	if err := s.Delete(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "staff"); !errors.Is(err, sharedgroup.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if all, _ := s.List(ctx); len(all) != 1 || all[0].Name != "ops" {
		t.Fatalf("list: %+v", all)
	}
}
