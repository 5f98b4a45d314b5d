package adhoc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
	"github.com/parleyim/parley/internal/storage"
)

// NS is the namespace of XEP-0050.
const NS = "http://jabber.org/protocol/commands"

// maxSessions bounds the open sessions of one requester (full JID).
const maxSessions = 16

// Config is what the module needs.
type Config struct {
	Host     module.Host
	DB       *storage.DB // the message of the day; nil: no MOTD commands
	Log      *slog.Logger
	Accounts Accounts
	// Online returns every bound session (for the online-user commands
	// and announcements).
	Online func() []module.Session
	// RosterSize returns the number of items in an account's roster as
	// its owner sees it (user-stats); nil leaves rostersize out.
	RosterSize func(ctx context.Context, user jid.JID) (int, error)
	// Addr returns the client's IP address of a session (user-stats);
	// nil, or "" for a session, leaves it out.
	Addr func(s module.Session) string
	// Admins are the bare JIDs that may run the admin commands.
	Admins []string
	// SessionTimeout is how long a session waits for its next stage.
	SessionTimeout time.Duration
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Accounts is what the administration commands change (account.Store).
type Accounts interface {
	Create(ctx context.Context, j jid.JID, password string) error
	SetPassword(ctx context.Context, j jid.JID, password string) error
	Delete(ctx context.Context, j jid.JID) error
	SetDisabled(ctx context.Context, j jid.JID, disabled bool) error
	Exists(ctx context.Context, j jid.JID) (bool, error)
	List(ctx context.Context, domain string) ([]jid.JID, error)
}

// Module serves ad-hoc commands on the server JID.
type Module struct {
	cfg    Config
	log    *slog.Logger
	admins map[jid.JID]bool

	motd *motd // nil without a database

	mu       sync.Mutex
	commands []Command // in the order added (listed so)
	sessions map[string]*session
}

// session is an open multi-stage command.
type session struct {
	node    string
	owner   jid.JID // the requester's full JID
	expires time.Time
}

// New returns the module with the XEP-0133 administration commands.
func New(c Config) *Module {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Minute
	}
	m := &Module{cfg: c, log: c.Log.With("component", "adhoc"), admins: map[jid.JID]bool{}, sessions: map[string]*session{}}
	for _, a := range c.Admins {
		if j, err := jid.Parse(a); err == nil {
			m.admins[j.Bare()] = true
		}
	}
	if c.DB != nil {
		m.motd = &motd{store: NewMOTDStore(c.DB), host: c.Host, cache: map[string]string{}}
	}
	m.addAdminCommands()
	m.addMOTDCommands()
	return m
}

// Add registers a command; a node added twice panics (a wiring bug).
func (m *Module) Add(c Command) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.ContainsFunc(m.commands, func(o Command) bool { return o.Node == c.Node }) {
		panic("adhoc: command " + c.Node + " added twice")
	}
	m.commands = append(m.commands, c)
}

var (
	_ module.Registrar = (*Module)(nil)
	_ Commands         = (*Module)(nil)
)

// Register declares the command handler, the feature and the disco nodes.
func (m *Module) Register(reg *module.Registry) {
	reg.Feature(NS)
	reg.IQ(module.Server, stanza.Set, NS, "command", m.handle)
	reg.ServerNodes(m.discoNode)
	if m.motd != nil {
		reg.Hook(module.Available, 0, m.motd.available)
	}
}

// IsAdmin reports whether j's bare JID is an admin.
func (m *Module) IsAdmin(j jid.JID) bool { return m.admins[j.Bare()] }

// allowed returns the commands from may see and run.
func (m *Module) allowed(from jid.JID) []Command {
	m.mu.Lock()
	defer m.mu.Unlock()
	admin := m.IsAdmin(from)
	var out []Command
	for _, c := range m.commands {
		if !c.AdminOnly || admin {
			out = append(out, c)
		}
	}
	return out
}

// command returns the command at node, or false.
func (m *Module) command(node string) (Command, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.commands {
		if c.Node == node {
			return c, true
		}
	}
	return Command{}, false
}

// discoNode lists the commands from may run and describes each
// command's node; a command from may not run is not there for it.
func (m *Module) discoNode(_ context.Context, from jid.JID, domain, node string) (module.DiscoNode, bool) {
	cmds := m.allowed(from)
	if node == NS {
		var n module.DiscoNode
		for _, c := range cmds {
			n.Items = append(n.Items, module.DiscoItem{JID: domain, Node: c.Node, Name: c.Name})
		}
		return n, true
	}
	for _, c := range cmds {
		if c.Node == node {
			return module.DiscoNode{
				Identities: []module.Identity{{Category: "automation", Type: "command-node", Name: c.Name}},
				Features:   []string{NS, NSData},
			}, true
		}
	}
	return module.DiscoNode{}, false
}

// commandError is a XEP-0050 error: a condition with the commands
// namespace's specific condition.
func commandError(cond, specific, text string) *stanza.Error {
	e := stanza.Errorf(stanza.DefaultType(cond), cond, "%s", text)
	if specific != "" {
		e.App = stanza.New(NS, specific)
	}
	return e
}

// handle answers a <command/>.
func (m *Module) handle(ctx context.Context, iq stanza.IQ) (*stanza.Element, error) {
	p := iq.Payload
	node, action, sid := p.Attr("node"), p.Attr("action"), p.Attr("sessionid")
	switch action {
	case "", "execute", "next", "prev", "complete", "cancel":
	default:
		return nil, commandError(stanza.BadRequest, "malformed-action", "unknown action "+quote(action))
	}
	cmd, ok := m.command(node)
	if !ok {
		return nil, commandError(stanza.ItemNotFound, "", "no command "+quote(node))
	}
	if cmd.AdminOnly && !m.IsAdmin(iq.From) {
		return nil, commandError(stanza.Forbidden, "", "only the server's admins may run "+quote(node))
	}
	if sid == "" {
		return m.start(ctx, iq, cmd, action)
	}
	return m.resume(ctx, iq, cmd, action, sid)
}

func quote(s string) string { return "\"" + s + "\"" }

// start begins a command: it runs at once without a form, or opens a
// session and returns the form.
func (m *Module) start(ctx context.Context, iq stanza.IQ, cmd Command, action string) (*stanza.Element, error) {
	if action != "" && action != "execute" {
		return nil, commandError(stanza.BadRequest, "bad-sessionid", "action "+quote(action)+" needs a sessionid; start with execute")
	}
	if cmd.Form == nil {
		return m.finish(ctx, iq, cmd, "", map[string][]string{})
	}
	sid, err := m.open(cmd.Node, iq.From)
	if err != nil {
		return nil, err
	}
	res := m.reply(cmd.Node, sid, "executing")
	res.Append(stanza.New(NS, "actions").SetAttr("execute", "complete").Append(stanza.New(NS, "complete")))
	return res.Append(cmd.Form(ctx, iq.From)), nil
}

// resume continues a session: cancel, or the submitted form.
func (m *Module) resume(ctx context.Context, iq stanza.IQ, cmd Command, action, sid string) (*stanza.Element, error) {
	if err := m.check(sid, cmd.Node, iq.From); err != nil {
		return nil, err
	}
	x := iq.Payload.Child(NSData, "x")
	if action == "cancel" || (x != nil && x.Attr("type") == "cancel") {
		m.close(sid)
		return m.reply(cmd.Node, sid, "canceled"), nil
	}
	switch action {
	case "next", "prev":
		return nil, commandError(stanza.BadRequest, "bad-action", "this command has one stage: complete or cancel it")
	}
	if x == nil || x.Attr("type") != "submit" {
		return nil, commandError(stanza.BadRequest, "bad-payload", "submit the command's form (type submit)")
	}
	return m.finish(ctx, iq, cmd, sid, fields(x))
}

// finish runs the command; a successful run ends the session.
func (m *Module) finish(ctx context.Context, iq stanza.IQ, cmd Command, sid string, f map[string][]string) (*stanza.Element, error) {
	r, err := cmd.Submit(ctx, iq.From, iq.To.Domain(), f)
	if err != nil {
		return nil, err
	}
	if sid != "" {
		m.close(sid)
	} else {
		sid = newID()
	}
	m.log.Info("ad-hoc command run", "node", cmd.Node, "by", iq.From)
	res := m.reply(cmd.Node, sid, "completed")
	if r.Note != "" {
		t := r.NoteType
		if t == "" {
			t = "info"
		}
		res.Append(stanza.New(NS, "note").SetAttr("type", t).AppendText(r.Note))
	}
	if r.Form != nil {
		res.Append(r.Form)
	}
	return res, nil
}

func (m *Module) reply(node, sid, status string) *stanza.Element {
	return stanza.New(NS, "command").SetAttr("node", node).SetAttr("sessionid", sid).SetAttr("status", status)
}

// open starts a session for owner, forgetting expired ones.
func (m *Module) open(node string, owner jid.JID) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	mine := 0
	for id, s := range m.sessions {
		switch {
		case now.After(s.expires):
			delete(m.sessions, id)
		case s.owner == owner:
			mine++
		}
	}
	if mine >= maxSessions {
		return "", commandError(stanza.ResourceConstraint, "", "too many open command sessions; complete or cancel one")
	}
	id := newID()
	m.sessions[id] = &session{node: node, owner: owner, expires: now.Add(m.cfg.SessionTimeout)}
	return id, nil
}

// check verifies that sid is owner's open session of node.
func (m *Module) check(sid, node string, owner jid.JID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[sid]
	switch {
	case s == nil || s.owner != owner || s.node != node:
		return commandError(stanza.BadRequest, "bad-sessionid", "no such command session")
	case m.cfg.Now().After(s.expires):
		delete(m.sessions, sid)
		return commandError(stanza.NotAllowed, "session-expired", "the command session expired; start again")
	}
	return nil
}

func (m *Module) close(sid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, sid)
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b[:]), "=")
}
