package muc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/stanza"
)

// This file is the group chat service's seam for the admin surface
// (package admin, through internal/server): list, create, configure and
// destroy rooms without being an occupant. It touches rooms only through
// the same code paths as the XEP-0045 owner use cases (§10.1, §10.2,
// §10.9).

// Errors of the admin seam.
var (
	ErrRoomExists = errors.New("muc: room already exists")
	ErrNoRoom     = errors.New("muc: no such room")
	ErrNotService = errors.New("muc: not a group chat service of this server")
)

// AdminSettings are the basics of a room's configuration an administrator
// sets; MaxUsers 0 means the service's maximum.
type AdminSettings struct {
	Name, Description                          string
	Persistent, Public, MembersOnly, Moderated bool
	MaxUsers                                   int
}

// AdminRoom describes a room for administrators.
type AdminRoom struct {
	JID       jid.JID
	Settings  AdminSettings
	Occupants int
	Subject   string
}

func (a AdminSettings) apply(c RoomConfig, maxUsers int) RoomConfig {
	c.Name, c.Description = a.Name, a.Description
	c.Persistent, c.Public, c.MembersOnly, c.Moderated = a.Persistent, a.Public, a.MembersOnly, a.Moderated
	c.MaxUsers = maxUsers
	if a.MaxUsers > 0 && a.MaxUsers < maxUsers {
		c.MaxUsers = a.MaxUsers
	}
	return c
}

// AdminRooms lists every room, sorted by address.
func (s *Service) AdminRooms(ctx context.Context) ([]AdminRoom, error) {
	if err := s.ensureLoaded(ctx); err != nil {
		return nil, fmt.Errorf("muc: list rooms: %w", err)
	}
	var out []AdminRoom
	for _, r := range s.allRooms() {
		r.mu.Lock()
		if !r.gone {
			c := r.cfg
			out = append(out, AdminRoom{JID: r.jid, Occupants: len(r.list), Subject: r.subject, Settings: AdminSettings{
				Name: c.Name, Description: c.Description, Persistent: c.Persistent, Public: c.Public,
				MembersOnly: c.MembersOnly, Moderated: c.Moderated, MaxUsers: c.MaxUsers,
			}})
		}
		r.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b AdminRoom) int { return a.JID.Compare(b.JID) })
	return out, nil
}

// AdminCreate creates room, unlocked (no configuration step), owned by
// owner. A temporary room without occupants lasts until its first
// occupant leaves.
func (s *Service) AdminCreate(ctx context.Context, room, owner jid.JID, set AdminSettings) error {
	if _, ok := s.domains[room.Domain()]; !ok || room.Local() == "" || !room.IsBare() {
		return fmt.Errorf("muc: create %s: %w", room, ErrNotService)
	}
	if err := s.ensureLoaded(ctx); err != nil {
		return fmt.Errorf("muc: create %s: %w", room, err)
	}
	r := s.newRoom(room)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg = set.apply(r.cfg, s.cfg.MaxOccupants)
	r.affs[owner.Bare()] = AffOwner
	if s.addRoom(r) != r {
		return fmt.Errorf("muc: create %s: %w", room, ErrRoomExists)
	}
	r.save(ctx)
	return nil
}

// adminLock returns the room locked, or ErrNoRoom.
func (s *Service) adminLock(ctx context.Context, room jid.JID) (*room, error) {
	if err := s.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	for {
		r := s.room(room)
		if r == nil {
			return nil, ErrNoRoom
		}
		r.mu.Lock()
		if !r.gone {
			return r, nil
		}
		r.mu.Unlock()
	}
}

// AdminConfigure changes a room's basic settings as an owner's submitted
// form would (§10.2): occupants are told (status 104), a room made
// members-only loses its non-members (322), and the stored copy follows
// persistence.
func (s *Service) AdminConfigure(ctx context.Context, room jid.JID, set AdminSettings) error {
	r, err := s.adminLock(ctx, room)
	if err != nil {
		return fmt.Errorf("muc: configure %s: %w", room, err)
	}
	defer r.mu.Unlock()
	old := r.cfg
	r.cfg, r.locked = set.apply(old, s.cfg.MaxOccupants), false
	switch {
	case r.cfg.Persistent:
		r.save(ctx)
	case old.Persistent:
		r.forget(ctx)
	}
	r.notify(ctx, 104)
	if r.cfg.MembersOnly && !old.MembersOnly {
		for _, o := range append([]*occupant(nil), r.list...) {
			if r.affiliation(o.real) < AffMember {
				r.leave(ctx, o, []int{322})
			}
		}
	}
	return nil
}

// AdminDestroy destroys a room (§10.9): occupants get unavailable
// presence with <destroy/> and reason.
func (s *Service) AdminDestroy(ctx context.Context, room jid.JID, reason string) error {
	r, err := s.adminLock(ctx, room)
	if err != nil {
		return fmt.Errorf("muc: destroy %s: %w", room, err)
	}
	defer r.mu.Unlock()
	d := stanza.New(NSOwner, "destroy")
	if reason != "" {
		d.Append(stanza.New(NSOwner, "reason").AppendText(reason))
	}
	r.destroy(ctx, d)
	return nil
}
