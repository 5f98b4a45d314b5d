package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyim/parley/internal/features/upload"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/storage"
)

func uploadSlot(id string, owner jid.JID, size int64, now time.Time) upload.Slot {
	return upload.Slot{ID: id, Owner: owner, Filename: "Grüße.png", Size: size, ContentType: "image/png",
		Created: now, PutBefore: now.Add(time.Minute), Expires: now.Add(time.Hour)}
}

var uploadCases = []Case{
	{"upload/slots quota mark once usage", func(t *testing.T, e *Env) {
		s := upload.NewStore(e.DB)
		alice, bob := e.User(t, "alice"), e.User(t, "bob")
		now := time.Now().Truncate(time.Millisecond)
		id := func(c byte) string { return e.Domain + "-" + string(rune(c)) }
		if err := s.Create(e.Ctx, uploadSlot(id('a'), alice, 600, now), 1000); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(e.Ctx, uploadSlot(id('b'), alice, 401, now), 1000); !errors.Is(err, storage.ErrLimit) {
			t.Fatalf("past the quota: %v", err)
		}
		if err := s.Create(e.Ctx, uploadSlot(id('c'), alice, 400, now), 1000); err != nil {
			t.Fatalf("up to the quota: %v", err)
		}
		if err := s.Create(e.Ctx, uploadSlot(id('d'), bob, 1000, now), 1000); err != nil {
			t.Fatalf("bob's own quota: %v", err)
		}
		got, err := s.Get(e.Ctx, id('a'))
		want := uploadSlot(id('a'), alice, 600, now)
		if err != nil || got != want {
			t.Fatalf("Get = %+v, %v; want %+v", got, err, want)
		}
		if _, err := s.Get(e.Ctx, id('z')); !errors.Is(err, upload.ErrNoSlot) {
			t.Fatalf("missing slot: %v", err)
		}
		if ok, err := s.MarkUploaded(e.Ctx, id('a'), now); !ok || err != nil {
			t.Fatalf("first mark: %v %v", ok, err)
		}
		if ok, err := s.MarkUploaded(e.Ctx, id('a'), now); ok || err != nil {
			t.Fatalf("second mark: %v %v", ok, err)
		}
		if ok, err := s.MarkUploaded(e.Ctx, id('c'), now.Add(2*time.Minute)); ok || err != nil {
			t.Fatalf("mark after the deadline: %v %v", ok, err)
		}
		u, err := s.Usage(e.Ctx, alice)
		if err != nil || u.Files != 1 || u.Slots != 1 || u.Bytes != 1000 {
			t.Fatalf("Usage = %+v, %v", u, err)
		}
		all, err := s.AllUsage(e.Ctx)
		var mine []upload.Usage
		for _, x := range all {
			if x.Owner.Domain() == e.Domain {
				mine = append(mine, x)
			}
		}
		if err != nil || len(mine) != 2 || mine[0].Owner != alice || mine[1].Owner != bob || mine[1].Bytes != 1000 {
			t.Fatalf("AllUsage = %+v, %v", mine, err)
		}
	}},
	{"upload/expired slots and files", func(t *testing.T, e *Env) {
		s := upload.NewStore(e.DB)
		alice := e.User(t, "alice")
		now := time.Now().Truncate(time.Millisecond)
		id := func(c byte) string { return e.Domain + "-" + string(rune(c)) }
		for _, c := range []byte("fsl") {
			if err := s.Create(e.Ctx, uploadSlot(id(c), alice, 10, now), 0); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := s.MarkUploaded(e.Ctx, id('f'), now); !ok || err != nil {
			t.Fatal(ok, err)
		}
		// Two minutes on: the open slots are over, the file is not.
		exp, err := s.Expired(e.Ctx, now.Add(2*time.Minute), 100)
		if err != nil || len(exp) < 2 {
			t.Fatalf("Expired = %v, %v", exp, err)
		}
		seen := map[string]bool{}
		for _, sl := range exp {
			seen[sl.ID] = true
		}
		if !seen[id('s')] || !seen[id('l')] || seen[id('f')] {
			t.Fatalf("expired at +2m: %v", seen)
		}
		exp, err = s.Expired(e.Ctx, now.Add(2*time.Hour), 100)
		seen = map[string]bool{}
		for _, sl := range exp {
			seen[sl.ID] = true
		}
		if err != nil || !seen[id('f')] {
			t.Fatalf("expired at +2h: %v %v", seen, err)
		}
		if err := s.Delete(e.Ctx, id('f')); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(e.Ctx, id('f')); !errors.Is(err, upload.ErrNoSlot) {
			t.Fatalf("deleted slot: %v", err)
		}
	}},
}
