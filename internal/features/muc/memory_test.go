package muc

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyim/parley/internal/config"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/router"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// TestHistoryBounded: many persistent rooms full of history stay within
// the per-room and total budgets (counted by HistoryBytes, never by time);
// when the total is reached, the caches of rooms nobody is in are evicted
// before those of occupied rooms; a room whose last occupant left keeps no
// more than its share, and a destroyed room gives its bytes back.
func TestHistoryBounded(t *testing.T) {
	const rooms, perRoom, total = 60, 4 << 10, 40 << 10
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	r := router.New(log, reg, []string{"localhost"})
	s := New(Config{Host: r, Log: log, Domains: []string{"localhost"}, HistorySize: 1000, MaxOccupants: 10,
		HistoryBytes: perRoom, HistoryTotalBytes: total})
	s.Register(reg)
	ctx := context.Background()
	body := strings.Repeat("x", 300)
	roomJID := func(i int) jid.JID { return jid.MustParse("r" + strconv.Itoa(i) + "@conference.localhost") }
	users := make([]jid.JID, rooms)
	for i := range rooms {
		fs := &fakeSession{jid: jid.MustParse("u" + strconv.Itoa(i) + "@localhost/r")}
		r.Bind(fs)
		users[i] = fs.jid
		to := jid.MustParse(roomJID(i).String() + "/n")
		if err := s.Route(ctx, fs.jid, to, stanza.New(stanza.NSClient, "presence")); err != nil {
			t.Fatal(err)
		}
		s.room(roomJID(i)).cfg.Persistent = true // kept when empty, with no database
	}
	send := func(i int) {
		m := stanza.New(stanza.NSClient, "message").SetAttr("type", "groupchat").
			Append(stanza.New(stanza.NSClient, "body").AppendText(body))
		if err := s.Route(ctx, users[i], roomJID(i), m); err != nil {
			t.Fatal(err)
		}
		if got := s.HistoryBytes(); got > total {
			t.Fatalf("history holds %d bytes, over the total of %d", got, total)
		}
		if h := s.room(roomJID(i)).hist; h.bytes > perRoom {
			t.Fatalf("room %d holds %d bytes, over its %d", i, h.bytes, perRoom)
		}
	}
	// The first half fill up and empty; the second half fill up occupied.
	for i := range rooms / 2 {
		for range 20 {
			send(i)
		}
		if err := s.Route(ctx, users[i], jid.MustParse(roomJID(i).String()+"/n"),
			stanza.New(stanza.NSClient, "presence").SetAttr("type", "unavailable")); err != nil {
			t.Fatal(err)
		}
	}
	for i := rooms / 2; i < rooms; i++ {
		for range 20 {
			send(i)
		}
	}
	emptyBytes, busyBytes := 0, 0
	for i := range rooms {
		h := s.room(roomJID(i)).hist
		if i < rooms/2 {
			emptyBytes += h.bytes
		} else {
			busyBytes += h.bytes
		}
	}
	if emptyBytes != 0 {
		t.Errorf("empty rooms still hold %d bytes while occupied rooms were evicted for space", emptyBytes)
	}
	if int64(emptyBytes+busyBytes) != s.HistoryBytes() {
		t.Errorf("rooms hold %d bytes, HistoryBytes says %d", emptyBytes+busyBytes, s.HistoryBytes())
	}
	if busyBytes < total/2 {
		t.Errorf("occupied rooms keep only %d bytes of a %d budget", busyBytes, total)
	}
	// Destroying every occupied room gives all bytes back.
	for i := rooms / 2; i < rooms; i++ {
		rm := s.room(roomJID(i))
		rm.mu.Lock()
		rm.destroy(ctx, nil)
		rm.unlock(ctx, nil)
	}
	if got := s.HistoryBytes(); got != 0 {
		t.Errorf("after destroying the rooms history holds %d bytes", got)
	}
}

// TestEmptyArchivedRoomHoldsNoHistory: an archived room whose last
// occupant leaves gives its cache back at once; the next occupant's
// history is read back from the archive into the cache.
func TestEmptyArchivedRoomHoldsNoHistory(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	ctx := context.Background()
	db, err := storage.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := module.NewRegistry()
	r := router.New(log, reg, []string{"localhost"})
	s := New(Config{Host: r, Log: log, Domains: []string{"localhost"}, HistorySize: 5, MaxOccupants: 10, Archive: db.Archive()})
	s.Register(reg)
	a := &fakeSession{jid: jid.MustParse("a@localhost/r")}
	b := &fakeSession{jid: jid.MustParse("b@localhost/r")}
	r.Bind(a)
	r.Bind(b)
	roomJID := jid.MustParse("kept@conference.localhost")
	nick := func(n string) jid.JID { return jid.MustParse(roomJID.String() + "/" + n) }
	route := func(from, to jid.JID, el *stanza.Element) {
		t.Helper()
		if err := s.Route(ctx, from, to, el); err != nil {
			t.Fatal(err)
		}
	}
	route(a.jid, nick("A"), stanza.New(stanza.NSClient, "presence"))
	rm := s.room(roomJID)
	rm.mu.Lock()
	rm.cfg.Persistent = true
	rm.persistent.Store(true)
	rm.mu.Unlock()
	for i := range 8 {
		route(a.jid, roomJID, stanza.New(stanza.NSClient, "message").SetAttr("type", "groupchat").
			Append(stanza.New(stanza.NSClient, "body").AppendText("m"+strconv.Itoa(i))))
	}
	if s.HistoryBytes() == 0 || rm.hist.len() != 5 {
		t.Fatalf("occupied room holds %d bytes, %d messages", s.HistoryBytes(), rm.hist.len())
	}
	route(a.jid, nick("A"), stanza.New(stanza.NSClient, "presence").SetAttr("type", "unavailable"))
	if got := s.HistoryBytes(); got != 0 {
		t.Fatalf("empty archived room holds %d bytes of history", got)
	}
	b.n = 0
	route(b.jid, nick("B"), stanza.New(stanza.NSClient, "presence"))
	if rm.hist.len() != 5 || s.HistoryBytes() == 0 {
		t.Fatalf("after a join the cache holds %d messages", rm.hist.len())
	}
	// b got its own presence, 5 messages of history and the subject.
	if b.n != 7 || !strings.Contains(string(b.buf), "<subject") {
		t.Errorf("b got %d stanzas, last %s", b.n, b.buf)
	}
	last := rm.hist.entries[len(rm.hist.entries)-1]
	if !strings.Contains(string(last.el.AppendXML(nil, stanza.NSClient)), "m7") {
		t.Errorf("the newest cached message is not m7")
	}
}
