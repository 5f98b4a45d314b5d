package presence_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/xmpptest"
)

// The nine states of RFC 6121 Appendix A.1, named as there.
const (
	sNone     = "None"
	sNonePO   = "None + Pending Out"
	sNonePI   = "None + Pending In"
	sNonePOPI = "None + Pending Out/In"
	sTo       = "To"
	sToPI     = "To + Pending In"
	sFrom     = "From"
	sFromPO   = "From + Pending Out"
	sBoth     = "Both"
)

var allStates = []string{sNone, sNonePO, sNonePI, sNonePOPI, sTo, sToPI, sFrom, sFromPO, sBoth}

// outboundTable is RFC 6121 Appendix A.2: the user's server processing a
// subscription stanza the user sends. next "" means "no state change".
// Where the RFC routes nothing for 'subscribed' in a state without a
// pending request, this server records a pre-approval (§3.4).
var outboundTable = []struct {
	typ, start string
	route      bool
	next       string
}{
	// A.2.1 subscribe
	{"subscribe", sNone, true, sNonePO},
	{"subscribe", sNonePO, true, ""},
	{"subscribe", sNonePI, true, sNonePOPI},
	{"subscribe", sNonePOPI, true, ""},
	{"subscribe", sTo, true, ""},
	{"subscribe", sToPI, true, ""},
	{"subscribe", sFrom, true, sFromPO},
	{"subscribe", sFromPO, true, ""},
	{"subscribe", sBoth, true, ""},
	// A.2.2 unsubscribe
	{"unsubscribe", sNone, true, ""},
	{"unsubscribe", sNonePO, true, sNone},
	{"unsubscribe", sNonePI, true, ""},
	{"unsubscribe", sNonePOPI, true, sNonePI},
	{"unsubscribe", sTo, true, sNone},
	{"unsubscribe", sToPI, true, sNonePI},
	{"unsubscribe", sFrom, true, ""},
	{"unsubscribe", sFromPO, true, sFrom},
	{"unsubscribe", sBoth, true, sFrom},
	// A.2.3 subscribed
	{"subscribed", sNone, false, sNone + " (pre-approved)"},
	{"subscribed", sNonePO, false, sNonePO + " (pre-approved)"},
	{"subscribed", sNonePI, true, sFrom},
	{"subscribed", sNonePOPI, true, sFromPO},
	{"subscribed", sTo, false, sTo + " (pre-approved)"},
	{"subscribed", sToPI, true, sBoth},
	{"subscribed", sFrom, false, ""},
	{"subscribed", sFromPO, false, ""},
	{"subscribed", sBoth, false, ""},
	// A.2.4 unsubscribed
	{"unsubscribed", sNone, false, ""},
	{"unsubscribed", sNonePO, false, ""},
	{"unsubscribed", sNonePI, true, sNone},
	{"unsubscribed", sNonePOPI, true, sNonePO},
	{"unsubscribed", sTo, false, ""},
	{"unsubscribed", sToPI, true, sTo},
	{"unsubscribed", sFrom, true, sNone},
	{"unsubscribed", sFromPO, true, sNonePO},
	{"unsubscribed", sBoth, true, sTo},
}

// inboundTable is RFC 6121 Appendix A.3: the contact's server processing a
// subscription stanza from the user. autoReply marks the rows where the
// server answers 'subscribed' for the contact (A.3.1 footnote, §3.1.3).
var inboundTable = []struct {
	typ, start string
	deliver    bool
	next       string
	autoReply  bool
}{
	// A.3.1 subscribe
	{"subscribe", sNone, true, sNonePI, false},
	{"subscribe", sNonePO, true, sNonePOPI, false},
	{"subscribe", sNonePI, false, "", false},
	{"subscribe", sNonePOPI, false, "", false},
	{"subscribe", sTo, true, sToPI, false},
	{"subscribe", sToPI, false, "", false},
	{"subscribe", sFrom, false, "", true},
	{"subscribe", sFromPO, false, "", true},
	{"subscribe", sBoth, false, "", true},
	// A.3.2 unsubscribe
	{"unsubscribe", sNone, false, "", false},
	{"unsubscribe", sNonePO, false, "", false},
	{"unsubscribe", sNonePI, true, sNone, false},
	{"unsubscribe", sNonePOPI, true, sNonePO, false},
	{"unsubscribe", sTo, false, "", false},
	{"unsubscribe", sToPI, true, sTo, false},
	{"unsubscribe", sFrom, true, sNone, false},
	{"unsubscribe", sFromPO, true, sNonePO, false},
	{"unsubscribe", sBoth, true, sTo, false},
	// A.3.3 subscribed
	{"subscribed", sNone, false, "", false},
	{"subscribed", sNonePO, true, sTo, false},
	{"subscribed", sNonePI, false, "", false},
	{"subscribed", sNonePOPI, true, sToPI, false},
	{"subscribed", sTo, false, "", false},
	{"subscribed", sToPI, false, "", false},
	{"subscribed", sFrom, false, "", false},
	{"subscribed", sFromPO, true, sBoth, false},
	{"subscribed", sBoth, false, "", false},
	// A.3.4 unsubscribed
	{"unsubscribed", sNone, false, "", false},
	{"unsubscribed", sNonePO, true, sNone, false},
	{"unsubscribed", sNonePI, false, "", false},
	{"unsubscribed", sNonePOPI, true, sNonePI, false},
	{"unsubscribed", sTo, true, sNone, false},
	{"unsubscribed", sToPI, true, sNonePI, false},
	{"unsubscribed", sFrom, false, "", false},
	{"unsubscribed", sFromPO, true, sFrom, false},
	{"unsubscribed", sBoth, true, sFrom, false},
}

// setup is how each state is reached through the protocol: "out X" the
// user sends X, "in X" the contact's server sends X.
var setup = map[string][]string{
	sNone:     nil,
	sNonePO:   {"out subscribe"},
	sNonePI:   {"in subscribe"},
	sNonePOPI: {"out subscribe", "in subscribe"},
	sTo:       {"out subscribe", "in subscribed"},
	sToPI:     {"out subscribe", "in subscribed", "in subscribe"},
	sFrom:     {"in subscribe", "out subscribed"},
	sFromPO:   {"in subscribe", "out subscribed", "out subscribe"},
	sBoth:     {"in subscribe", "out subscribed", "out subscribe", "in subscribed"},
}

// visible is the part of a state a roster item shows: subscription, ask
// and approved (pending in is not on the item).
func visible(state string) string {
	s := strings.Replace(state, " + Pending Out/In", " + Pending Out", 1)
	return strings.Replace(s, " + Pending In", "", 1)
}

// capture is a router.Remote that records what the server sends to other
// domains.
type capture struct {
	mu  sync.Mutex
	got []*stanza.Element
}

func (c *capture) Route(_ context.Context, _ jid.JID, el *stanza.Element) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, el.Copy())
	return nil
}

func (c *capture) take() []*stanza.Element {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.got
	c.got = nil
	return out
}

// remoteRig is alice on this server with contacts on remote.example, whose
// server is played by the test: what alice's server sends there is
// captured, what "remote.example" sends is injected into the router as
// s2s will.
type remoteRig struct {
	t     *testing.T
	srv   *xmpptest.Server
	cap   *capture
	alice *xmpptest.Client
	st    *roster.Store
}

func newRemoteRig(t *testing.T) *remoteRig {
	srv := xmpptest.Start(t)
	cap := &capture{}
	// Installed before any account exists: the sessions' database access
	// (after AddUser's) orders this write before their reads.
	srv.Router().SetRemote(cap)
	srv.AddUser(t, "alice@localhost", pw)
	a := dial(t, srv, "alice@localhost")
	interested(t, a)
	available(t, a, "here")
	r := &remoteRig{t: t, srv: srv, cap: cap, alice: a, st: openStore(t, srv)}
	r.barrier()
	return r
}

// inject delivers a presence from the remote contact to alice.
func (r *remoteRig) inject(contact, typ string) {
	r.t.Helper()
	el := stanza.New(stanza.NSClient, stanza.KindPresence).
		SetAttr("type", typ).SetAttr("from", contact+"/res").SetAttr("to", "alice@localhost")
	if err := r.srv.Router().Route(context.Background(), jid.MustParse(contact+"/res"), el); err != nil {
		r.t.Fatalf("inject %s from %s: %v", typ, contact, err)
	}
}

// barrier waits until alice's server has answered everything sent so
// far, and returns what alice received meanwhile.
func (r *remoteRig) barrier() []xmpptest.Stanza {
	r.t.Helper()
	interested(r.t, r.alice)
	var out []xmpptest.Stanza
	for {
		select {
		case s := <-r.alice.In:
			out = append(out, s)
		default:
			return out
		}
	}
}

func (r *remoteRig) reach(contact, state string) {
	r.t.Helper()
	for _, step := range setup[state] {
		dir, typ, _ := strings.Cut(step, " ")
		if dir == "out" {
			send(r.t, r.alice, fmt.Sprintf(`<presence type='%s' to='%s'/>`, typ, contact))
		} else {
			r.inject(contact, typ)
		}
		r.barrier()
	}
	if got := r.state(contact); got != state {
		r.t.Fatalf("setup reached %q, want %q", got, state)
	}
	r.cap.take()
}

func (r *remoteRig) state(contact string) string {
	r.t.Helper()
	return stateOf(r.t, r.st, "alice@localhost", contact).String()
}

func pushesFor(got []xmpptest.Stanza, contact string) []xmpptest.Stanza {
	var out []xmpptest.Stanza
	for _, s := range got {
		if isPush(contact)(s) {
			out = append(out, s)
		}
	}
	return out
}

func presencesFrom(got []xmpptest.Stanza, from, typ string) int {
	n := 0
	for _, s := range got {
		if isPresence(from, typ)(s) {
			n++
		}
	}
	return n
}

func captured(els []*stanza.Element, typ, from, to string) int {
	n := 0
	for _, el := range els {
		if el.Local == "presence" && el.Attr("type") == typ && el.Attr("from") == from && el.Attr("to") == to {
			n++
		}
	}
	return n
}

// TestAppendixA2Outbound runs every row of RFC 6121 Appendix A.2.
func TestAppendixA2Outbound(t *testing.T) {
	r := newRemoteRig(t)
	for i, row := range outboundTable {
		t.Run(fmt.Sprintf("%s in %s", row.typ, row.start), func(t *testing.T) {
			r.t = t
			contact := fmt.Sprintf("c%d@remote.example", i)
			r.reach(contact, row.start)
			want := row.next
			if want == "" {
				want = row.start
			}
			send(t, r.alice, fmt.Sprintf(`<presence type='%s' to='%s'/>`, row.typ, contact))
			got := r.barrier()
			if s := r.state(contact); s != want {
				t.Errorf("state %q, want %q", s, want)
			}
			routed := captured(r.cap.take(), row.typ, "alice@localhost", contact)
			if (routed == 1) != row.route || routed > 1 {
				t.Errorf("routed %d times, want route=%v", routed, row.route)
			}
			pushes := pushesFor(got, contact)
			if wantPush := visible(want) != visible(row.start); (len(pushes) == 1) != wantPush || len(pushes) > 1 {
				t.Errorf("%d pushes, want push=%v", len(pushes), wantPush)
			}
			if len(pushes) == 1 {
				checkPushed(t, pushes[0], visible(want))
			}
		})
	}
}

// TestAppendixA3Inbound runs every row of RFC 6121 Appendix A.3.
func TestAppendixA3Inbound(t *testing.T) {
	r := newRemoteRig(t)
	for i, row := range inboundTable {
		t.Run(fmt.Sprintf("%s in %s", row.typ, row.start), func(t *testing.T) {
			r.t = t
			contact := fmt.Sprintf("c%d@remote.example", i)
			r.reach(contact, row.start)
			want := row.next
			if want == "" {
				want = row.start
			}
			r.inject(contact, row.typ)
			got := r.barrier()
			if s := r.state(contact); s != want {
				t.Errorf("state %q, want %q", s, want)
			}
			if n := presencesFrom(got, contact, row.typ); (n == 1) != row.deliver || n > 1 {
				t.Errorf("delivered %d times, want deliver=%v", n, row.deliver)
			}
			replies := captured(r.cap.take(), "subscribed", "alice@localhost", contact)
			if (replies == 1) != row.autoReply || replies > 1 {
				t.Errorf("%d auto-replies, want %v", replies, row.autoReply)
			}
			pushes := pushesFor(got, contact)
			if wantPush := visible(want) != visible(row.start); (len(pushes) == 1) != wantPush || len(pushes) > 1 {
				t.Errorf("%d pushes, want push=%v", len(pushes), wantPush)
			}
			if len(pushes) == 1 {
				checkPushed(t, pushes[0], visible(want))
			}
		})
	}
}

// checkPushed checks a push shows the visible state.
func checkPushed(t *testing.T, push xmpptest.Stanza, state string) {
	t.Helper()
	sub := strings.ToLower(strings.Fields(state)[0])
	if !strings.Contains(push.Inner, `subscription="`+sub+`"`) {
		t.Errorf("push lacks subscription %q: %s", sub, push.Inner)
	}
	if ask := strings.Contains(state, "Pending Out"); ask != strings.Contains(push.Inner, `ask="subscribe"`) {
		t.Errorf("push ask=%v wrong for %q: %s", !ask, state, push.Inner)
	}
	if appr := strings.Contains(state, "pre-approved"); appr != strings.Contains(push.Inner, `approved="true"`) {
		t.Errorf("push approved wrong for %q: %s", state, push.Inner)
	}
}
