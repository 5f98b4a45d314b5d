package mam_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/features/mam"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
)

// Export and import carry the archive with its ids and times, and the
// preferences; a second import adds nothing.
func TestUserDataRoundTrip(t *testing.T) {
	ctx := context.Background()
	src, dst := storagetest.Open(t, "sqlite"), storagetest.Open(t, "sqlite")
	alice, bob := jid.MustParse("alice@example.org"), jid.MustParse("bob@example.org/phone")
	for _, db := range []*storage.DB{src, dst} {
		if err := account.NewStore(db, storagetest.Iterations).Create(ctx, alice, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, body := range []string{"one", "two", "three"} {
		msg := stanza.New(stanza.NSClient, "message").SetAttr("to", "alice@example.org").Append(stanza.New(stanza.NSClient, "body").AppendText(body))
		ids, err := src.Archive().Append(ctx, storage.ArchiveEntry{Owner: alice, With: bob, Data: storage.EncodeElements(msg)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ids[0])
	}
	prefs := `<prefs xmlns="urn:xmpp:mam:2" default="roster"><always></always><never><jid>x@example.org</jid></never></prefs>`
	if err := src.Records("mam-prefs").Put(ctx, alice, []storage.Record{{Data: []byte(prefs)}}, 0); err != nil {
		t.Fatal(err)
	}
	els, err := mam.NewUserData(src).ExportUser(ctx, alice)
	if err != nil || len(els) != 2 {
		t.Fatalf("export = %v, %v", els, err)
	}
	u := mam.NewUserData(dst)
	for _, el := range els {
		if !u.Accepts(el) {
			t.Fatalf("does not accept its own %s", el)
		}
	}
	var notes []string
	write := u.PlanImport(alice, append(els, bad()...), func(s string) { notes = append(notes, s) })
	for range 2 {
		if err := dst.Atomic(ctx, func(ctx context.Context) error { return write(ctx) }); err != nil {
			t.Fatal(err)
		}
	}
	p, err := dst.Archive().Query(ctx, alice, storage.ArchiveQuery{Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range p.Messages {
		got = append(got, m.ID)
		if m.With != bob {
			t.Errorf("with = %s", m.With)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("imported ids %q, want %q", got, want)
	}
	if rec, found, _ := dst.Records("mam-prefs").Get(ctx, alice, ""); !found || len(rec.Data) == 0 {
		t.Error("preferences not imported")
	}
	if len(notes) != 1 {
		t.Errorf("notes = %q", notes)
	}
}

func bad() []*stanza.Element {
	return []*stanza.Element{stanza.New(mam.NSExport, "archive").Append(stanza.New(mam.NSExport, "item").SetAttr("id", "x"))}
}
