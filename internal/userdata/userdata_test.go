package userdata_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/account"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
	"github.com/parleyim/parley/internal/storage/storagetest"
	"github.com/parleyim/parley/internal/userdata"
)

// notes is a section whose records are <note xmlns='n'>name</note>.
func notes(db *storage.DB, limit int) *userdata.Records {
	return &userdata.Records{Feature: "notes", Store: db.Records("notes"), Limit: limit,
		Accept: []userdata.Name{{Space: "n", Local: "note"}, {Space: "n", Local: "old"}},
		Export: func(_ jid.JID, recs []storage.Record) []*stanza.Element {
			var out []*stanza.Element
			for _, r := range recs {
				out = append(out, stanza.New("n", "note").AppendText(r.Name))
			}
			return out
		},
		Import: func(_ jid.JID, els []*stanza.Element, note func(string)) []storage.Record {
			var recs []storage.Record
			for _, el := range els {
				if el.Text() == "" {
					note("empty note left out")
					continue
				}
				recs = append(recs, storage.Record{Name: el.Text()})
			}
			return recs
		},
	}
}

// A section exports nothing for a user without records, plans nothing
// when Import keeps nothing, round-trips what it keeps, passes its limit
// to the store and names its feature in errors.
func TestRecords(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, "sqlite")
	alice := jid.MustParse("alice@example.org")
	if err := account.NewStore(db, storagetest.Iterations).Create(ctx, alice, "pw"); err != nil {
		t.Fatal(err)
	}
	s := notes(db, 2)
	if els, err := s.ExportUser(ctx, alice); err != nil || els != nil {
		t.Fatalf("export of no records: %v, %v", els, err)
	}
	if !s.Accepts(stanza.New("n", "old")) || s.Accepts(stanza.New("n", "other")) || s.Accepts(stanza.New("m", "note")) {
		t.Error("Accepts does not follow Accept")
	}
	var noted []string
	note := func(why string) { noted = append(noted, why) }
	if w := s.PlanImport(alice, []*stanza.Element{stanza.New("n", "note")}, note); w != nil || len(noted) != 1 {
		t.Fatalf("nothing kept: write %v, notes %q", w != nil, noted)
	}
	note3 := []*stanza.Element{stanza.New("n", "note").AppendText("a"), stanza.New("n", "note").AppendText("b"), stanza.New("n", "note").AppendText("c")}
	if err := s.PlanImport(alice, note3, note)(ctx); !errors.Is(err, storage.ErrLimit) {
		t.Fatalf("three records past a limit of 2: %v", err)
	}
	if err := s.PlanImport(alice, note3[:2], note)(ctx); err != nil {
		t.Fatal(err)
	}
	els, err := s.ExportUser(ctx, alice)
	if err != nil || len(els) != 2 || els[0].Text() != "a" || els[1].Text() != "b" {
		t.Fatalf("export: %v, %v", els, err)
	}
	if _, err := s.ExportUser(ctx, jid.MustParse("example.org")); err == nil || !strings.HasPrefix(err.Error(), "notes: export example.org: ") {
		t.Errorf("export for a non-account: %v", err)
	}
}
