package offline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// pacedSession is a fakeSession with a window of unacknowledged stanzas
// (module.Paced): ack empties it and runs the waiting WhenRoom function.
type pacedSession struct {
	fakeSession
	mu      sync.Mutex
	window  int
	unacked int
	onRoom  func()
	waits   int
}

func (s *pacedSession) Deliver(el *stanza.Element) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.window >= 0 && s.unacked >= s.window {
		return fmt.Errorf("window of %d exceeded: the session would end", s.window)
	}
	s.unacked++
	return s.fakeSession.Deliver(el)
}

func (s *pacedSession) Room() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.window - s.unacked
}

func (s *pacedSession) WhenRoom(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRoom = f
	s.waits++
}

// ack acknowledges everything and runs the waiting function (here, not on
// a goroutine, so that the test needs no synchronisation).
func (s *pacedSession) ack() bool {
	s.mu.Lock()
	f := s.onRoom
	s.unacked, s.onRoom = 0, nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return f != nil
}

func TestFlushPacedByAcks(t *testing.T) {
	f := newFixture(t, 0)
	f.m.cfg.MaxBurstBytes = 200 // a paced session is bounded by its window, not by the burst
	for i := range 20 {
		f.store(t, i)
	}
	s := &pacedSession{fakeSession: fakeSession{full: jid.MustParse("bob@localhost/a"), got: []string{}}, window: 3}
	if err := f.m.Flush(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if len(s.got) != 3 {
		t.Fatalf("first flush delivered %d, want the window of 3", len(s.got))
	}
	for rounds := 0; s.ack(); rounds++ {
		if rounds > 20 {
			t.Fatal("the paced flush does not end")
		}
	}
	if len(s.got) != 20 {
		t.Fatalf("delivered %d of 20", len(s.got))
	}
	for i, b := range s.got {
		if !strings.HasPrefix(b, fmt.Sprintf("message %d,", i)) {
			t.Fatalf("message %d is %q: out of order or doubled", i, b)
		}
	}
	if s.waits != 6 { // after each of the 6 full windows; the last 2 end the queue
		t.Errorf("waited for acks %d times, want 6", s.waits)
	}
	items, err := f.m.queue.Peek(context.Background(), f.owner, 10)
	if err != nil || len(items) != 0 {
		t.Fatalf("left stored: %d (%v)", len(items), err)
	}
}

// TestFlushPacedUnpacedSession: a session that does not pace (Room -1) is
// bounded by MaxBurstBytes as before.
func TestFlushPacedUnpacedSession(t *testing.T) {
	f := newFixture(t, 0)
	f.m.cfg.MaxBurstBytes = 1000
	for i := range 20 {
		f.store(t, i)
	}
	s := &pacedSession{fakeSession: fakeSession{full: jid.MustParse("bob@localhost/a"), got: []string{}}, window: -1} // Room() == -1
	if err := f.m.Flush(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if n := len(s.got); n == 0 || n >= 20 || s.waits != 0 {
		t.Fatalf("delivered %d of 20 in one burst with %d waits; want the burst bound and no wait", n, s.waits)
	}
}
