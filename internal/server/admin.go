package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/parleyim/parley/internal/admin"
	"github.com/parleyim/parley/internal/features/muc"
	"github.com/parleyim/parley/internal/features/pubsub"
	"github.com/parleyim/parley/internal/features/roster"
	"github.com/parleyim/parley/internal/features/sharedgroup"
	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// adminParts are the modules the admin surface reaches, kept by
// modules() for newConsole.
type adminParts struct {
	rosters *roster.Module
	shared  *sharedgroup.Store
	muc     *muc.Service
	console *admin.Console
}

// newConsole builds the admin surface over the server's parts.
func (s *Server) newConsole() *admin.Console {
	d := admin.Deps{
		Config: s.cfg, Log: s.log, DB: s.db, Accounts: s.accounts, Sessions: routerSessions{s},
		Health: s.health, Started: s.started,
	}
	if p := s.adm; p.shared != nil && p.rosters != nil {
		d.Groups = liveGroups{store: p.shared, rosters: p.rosters}
		d.Rosters = rosterView{p.rosters}
	}
	if s.adm.muc != nil {
		d.Rooms = mucRooms{s.adm.muc}
	}
	d.Keys = pepKeys{pubsub.NewStore(s.db)}
	if s.upload != nil {
		d.Uploads = uploadUsage{s.upload.Store()}
	}
	return admin.New(d)
}

// Console returns the admin surface (nil before New finished).
func (s *Server) Console() *admin.Console { return s.adm.console }

// routerSessions gives the admin surface the router's session table.
type routerSessions struct{ s *Server }

func (r routerSessions) All() []module.Session { return r.s.router.All() }
func (r routerSessions) Deliver(ctx context.Context, to jid.JID, el *stanza.Element) {
	r.s.router.Deliver(ctx, to, el)
}

// liveGroups changes shared groups and pushes the change to the online
// members of the groups concerned at once (roster pushes and presence).
type liveGroups struct {
	store   *sharedgroup.Store
	rosters *roster.Module
}

func groupErr(err error) error {
	switch {
	case errors.Is(err, sharedgroup.ErrNotFound):
		return fmt.Errorf("group: %w: %w", admin.ErrNotFound, err)
	case errors.Is(err, sharedgroup.ErrExists):
		return fmt.Errorf("group: %w: %w", admin.ErrExists, err)
	case errors.Is(err, sharedgroup.ErrInvalidName):
		return fmt.Errorf("%w: A group name must be 1 to %d characters without control characters.", admin.ErrInvalid, sharedgroup.MaxNameBytes)
	case errors.Is(err, sharedgroup.ErrNoAccount):
		return fmt.Errorf("%w: %s", admin.ErrInvalid, "Every member must be an existing account: "+err.Error())
	}
	return err
}

func (g liveGroups) Groups(ctx context.Context) ([]admin.Group, error) {
	gs, err := g.store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.Group, len(gs))
	for i, x := range gs {
		out[i] = admin.Group{Name: x.Name, Display: x.Display, Members: x.Members}
		if out[i].Members == nil {
			out[i].Members = []jid.JID{}
		}
	}
	return out, nil
}

// members returns the members of group name (none when it does not exist).
func (g liveGroups) members(ctx context.Context, name string) []jid.JID {
	gr, err := g.store.Get(ctx, name)
	if err != nil {
		return nil
	}
	return gr.Members
}

// refresh tells the roster that the shared contacts of users changed.
func (g liveGroups) refresh(ctx context.Context, users ...[]jid.JID) error {
	return g.rosters.RefreshShared(ctx, slices.Concat(users...))
}

func (g liveGroups) CreateGroup(ctx context.Context, name, display string) error {
	return groupErr(g.store.Create(ctx, name, display))
}

func (g liveGroups) DeleteGroup(ctx context.Context, name string) error {
	before := g.members(ctx, name)
	if err := g.store.Delete(ctx, name); err != nil {
		return groupErr(err)
	}
	return g.refresh(ctx, before)
}

func (g liveGroups) SetDisplay(ctx context.Context, name, display string) error {
	if err := g.store.SetDisplay(ctx, name, display); err != nil {
		return groupErr(err)
	}
	return g.refresh(ctx, g.members(ctx, name))
}

func (g liveGroups) AddMembers(ctx context.Context, name string, members []jid.JID) error {
	if err := g.store.AddMembers(ctx, name, members); err != nil {
		return groupErr(err)
	}
	return g.refresh(ctx, g.members(ctx, name))
}

func (g liveGroups) RemoveMembers(ctx context.Context, name string, members []jid.JID) (int, error) {
	before := g.members(ctx, name)
	n, err := g.store.RemoveMembers(ctx, name, members)
	if err != nil {
		return 0, groupErr(err)
	}
	return n, g.refresh(ctx, before)
}

// rosterView shows rosters as their owners see them.
type rosterView struct{ m *roster.Module }

func (r rosterView) Roster(ctx context.Context, user jid.JID) ([]admin.RosterItem, error) {
	v, err := r.m.View(ctx, user)
	if err != nil {
		return nil, err
	}
	var out []admin.RosterItem
	for _, it := range v.Items() {
		out = append(out, admin.RosterItem{JID: it.JID, Name: it.Name, Subscription: it.State.Sub.String(), Groups: it.Groups, Shared: it.Shared})
	}
	return out, nil
}

// mucRooms is the group chat service's admin seam.
type mucRooms struct{ s *muc.Service }

func mucErr(err error) error {
	switch {
	case errors.Is(err, muc.ErrNoRoom):
		return fmt.Errorf("room: %w: %w", admin.ErrNotFound, err)
	case errors.Is(err, muc.ErrRoomExists):
		return fmt.Errorf("room: %w: %w", admin.ErrExists, err)
	case errors.Is(err, muc.ErrNotService):
		return fmt.Errorf("%w: That is not a room address on a group chat service of this server.", admin.ErrInvalid)
	}
	return err
}

func (m mucRooms) Services() []string {
	d := m.s.Domains()
	slices.Sort(d)
	return d
}

func (m mucRooms) Rooms(ctx context.Context) ([]admin.Room, error) {
	rs, err := m.s.AdminRooms(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.Room, len(rs))
	for i, r := range rs {
		st := r.Settings
		out[i] = admin.Room{JID: r.JID, Occupants: r.Occupants, Subject: r.Subject, Settings: admin.RoomSettings{
			Name: st.Name, Description: st.Description, Persistent: st.Persistent, Public: st.Public,
			MembersOnly: st.MembersOnly, Moderated: st.Moderated, MaxUsers: st.MaxUsers,
		}}
	}
	return out, nil
}

func settings(s admin.RoomSettings) muc.AdminSettings {
	return muc.AdminSettings{Name: s.Name, Description: s.Description, Persistent: s.Persistent, Public: s.Public,
		MembersOnly: s.MembersOnly, Moderated: s.Moderated, MaxUsers: s.MaxUsers}
}

func (m mucRooms) CreateRoom(ctx context.Context, room, owner jid.JID, s admin.RoomSettings) error {
	return mucErr(m.s.AdminCreate(ctx, room, owner, settings(s)))
}

func (m mucRooms) ConfigureRoom(ctx context.Context, room jid.JID, s admin.RoomSettings) error {
	return mucErr(m.s.AdminConfigure(ctx, room, settings(s)))
}

func (m mucRooms) DestroyRoom(ctx context.Context, room jid.JID, reason string) error {
	return mucErr(m.s.AdminDestroy(ctx, room, reason))
}

// warnExposedAdmin logs when the admin listener is not on a loopback
// address: the console and the API are then reachable from the network.
func (s *Server) warnExposedAdmin() {
	host, _, err := net.SplitHostPort(s.cfg.Admin.Addr)
	if err != nil || s.cfg.Admin.Addr == "" {
		return
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return
	}
	s.log.Warn("the admin listener (console, REST API, metrics) is not on loopback; restrict who can reach it", "addr", s.cfg.Admin.Addr)
}

// pepKeys reads a user's PEP nodes (XEP-0163) from the pubsub store.
type pepKeys struct{ store *pubsub.Store }

// omemoNodes are the node name prefixes of OMEMO device lists and bundles
// (XEP-0384: urn:xmpp:omemo:2, and the eu.siacs.conversations.axolotl
// namespace of its 0.3 version that most clients still publish).
var omemoNodes = []string{"urn:xmpp:omemo:", "eu.siacs.conversations.axolotl."}

func (k pepKeys) HasPEP(ctx context.Context, user jid.JID) (pep, omemo bool, err error) {
	nodes, err := k.store.Nodes(ctx, user.Bare().String())
	if err != nil {
		return false, false, err
	}
	for _, n := range nodes {
		for _, p := range omemoNodes {
			if strings.HasPrefix(n.Node, p) {
				omemo = true
			}
		}
	}
	return len(nodes) > 0, omemo, nil
}
