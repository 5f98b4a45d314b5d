package version

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Defaults of the client query (Module.AskClients).
const (
	// DefaultAskTimeout is how long an unanswered query is remembered.
	DefaultAskTimeout = 30 * time.Second
	// DefaultMaxPending bounds the queries awaiting an answer at once;
	// beyond it, sessions that become available are not asked.
	DefaultMaxPending = 4096
)

// askPrefix starts the id of every client query, so that answers to it
// are told from other iq results addressed to the server.
const askPrefix = "parley-ver-"

// asker asks each client session once, when it sends its initial
// presence, which software it runs (XEP-0092 §2, the server as the
// requesting entity) and records the answer on the session
// (module.ClientSoftware), unless the client already named itself in its
// XEP-0388 <user-agent/>. The query never blocks the session: it is
// queued like any other stanza, and the answer is matched by its id when
// it comes; an answer that does not come within the timeout is forgotten.
//
// One timer serves every pending query (a timer per query cost each idle
// session about 200 bytes for the timeout): since the timeout is the same
// for all, the queries expire in the order they were sent, and sweep
// forgets those whose time has come, then sets the timer for the next.
type asker struct {
	timeout time.Duration
	max     int
	mu      sync.Mutex
	pending map[string]pendingQuery // iq id → the session asked
	expiry  []expiry                // queries by the time they expire from head on; may name answered ones
	head    int
	timer   *time.Timer // runs sweep; armed while expiry is not empty
}

// expiry is when the query id is forgotten.
type expiry struct {
	at time.Time
	id string
}

// pendingQuery is the session asked; its full JID, which the answer
// must come from, is conn.JID() (fixed once bound).
type pendingQuery struct {
	conn module.Conn
}

func newAsker(timeout time.Duration, max int) *asker {
	if timeout <= 0 {
		timeout = DefaultAskTimeout
	}
	if max <= 0 {
		max = DefaultMaxPending
	}
	return &asker{timeout: timeout, max: max, pending: map[string]pendingQuery{}}
}

// remember records the query id sent to c; false when too many are
// pending.
func (a *asker) remember(id string, c module.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pending) >= a.max {
		return false
	}
	a.pending[id] = pendingQuery{conn: c}
	a.expiry = append(a.expiry, expiry{at: time.Now().Add(a.timeout), id: id})
	if len(a.expiry)-a.head == 1 {
		a.arm(a.timeout)
	}
	return true
}

// arm sets the timer to sweep after d; a.mu is held.
func (a *asker) arm(d time.Duration) {
	if a.timer == nil {
		a.timer = time.AfterFunc(d, a.sweep)
		return
	}
	a.timer.Reset(d)
}

// sweep forgets the queries whose time has come and sets the timer for
// the next one.
func (a *asker) sweep() {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	for a.head < len(a.expiry) && !a.expiry[a.head].at.After(now) {
		delete(a.pending, a.expiry[a.head].id)
		a.expiry[a.head] = expiry{}
		a.head++
	}
	if a.head == len(a.expiry) {
		a.expiry, a.head = nil, 0 // give back the backing array of a burst
		return
	}
	if a.head > len(a.expiry)/2 {
		n := copy(a.expiry, a.expiry[a.head:])
		clear(a.expiry[n:])
		a.expiry, a.head = a.expiry[:n], 0
	}
	// The next sweep waits a little past the next expiry, so that it takes
	// the queries due in that slack too: a burst of queries costs a few
	// sweeps, not one each.
	a.arm(a.expiry[a.head].at.Sub(now) + a.timeout/sweepsPerTimeout)
}

// sweepsPerTimeout: an unanswered query is forgotten at most
// timeout/sweepsPerTimeout after its timeout.
const sweepsPerTimeout = 16

// available is the Available hook: it sends the query.
func (a *asker) available(_ context.Context, ev *module.Event) (bool, error) {
	cs, ok := ev.Conn.(module.ClientSoftware)
	if !ok || cs.ClientSoftware() != "" {
		return false, nil
	}
	full := ev.Conn.JID()
	id := askPrefix + rand.Text()
	if !a.remember(id, ev.Conn) {
		return false, nil
	}
	iq := stanza.New(stanza.NSClient, stanza.KindIQ).SetAttr("type", stanza.Get).SetAttr("id", id).
		SetAttr("from", full.Domain()).SetAttr("to", full.String())
	iq.Append(stanza.New(NS, "query"))
	if err := ev.Conn.Deliver(iq); err != nil {
		a.take(id, full)
	}
	return false, nil
}

// take removes and returns the query id if it was sent to full.
func (a *asker) take(id string, full jid.JID) (pendingQuery, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q, ok := a.pending[id]
	if !ok || q.conn.JID() != full {
		return pendingQuery{}, false
	}
	delete(a.pending, id)
	return q, true
}

// inboundIQ is the InboundIQ hook: it takes the answers to the queries
// (a result, or an error from a client that does not tell) and consumes
// them.
func (a *asker) inboundIQ(_ context.Context, ev *module.Event) (bool, error) {
	el := ev.Stanza
	typ, id := el.Attr("type"), el.Attr("id")
	if (typ != stanza.Result && typ != stanza.TypeError) || !strings.HasPrefix(id, askPrefix) {
		return false, nil
	}
	if !ev.To.IsZero() && ev.To.String() != ev.From.Domain() {
		return false, nil
	}
	q, ok := a.take(id, ev.From)
	if !ok {
		return false, nil
	}
	if typ == stanza.Result {
		if d := describe(el.Child(NS, "query")); d != "" {
			q.conn.(module.ClientSoftware).SetClientSoftware(d)
		}
	}
	return true, nil
}

// describe says "name version (os)" of a XEP-0092 answer, "" without a
// name.
func describe(q *stanza.Element) string {
	if q == nil {
		return ""
	}
	name := strings.TrimSpace(q.ChildText(NS, "name"))
	if name == "" {
		return ""
	}
	if v := strings.TrimSpace(q.ChildText(NS, "version")); v != "" {
		name += " " + v
	}
	if os := strings.TrimSpace(q.ChildText(NS, "os")); os != "" {
		name += " (" + os + ")"
	}
	return name
}
