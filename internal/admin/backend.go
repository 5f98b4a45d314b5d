package admin

import (
	"context"
	"errors"

	"github.com/parleyim/parley/internal/jid"
	"github.com/parleyim/parley/internal/module"
	"github.com/parleyim/parley/internal/stanza"
)

// Sessions is the server's table of bound sessions (*router.Router).
type Sessions interface {
	// All returns every bound session.
	All() []module.Session
	// Deliver routes a server-generated stanza.
	Deliver(ctx context.Context, to jid.JID, el *stanza.Element)
}

// Group is a shared roster group.
type Group struct {
	Name    string
	Display string
	Members []jid.JID
}

// SharedGroups manages shared roster groups; changes reach the online
// members at once (roster pushes and presence).
type SharedGroups interface {
	Groups(ctx context.Context) ([]Group, error)
	CreateGroup(ctx context.Context, name, display string) error
	DeleteGroup(ctx context.Context, name string) error
	// SetDisplay renames the roster group members see.
	SetDisplay(ctx context.Context, name, display string) error
	AddMembers(ctx context.Context, name string, members []jid.JID) error
	RemoveMembers(ctx context.Context, name string, members []jid.JID) (int, error)
}

// Errors a SharedGroups or Rooms implementation wraps, so that the
// console and the API can say what went wrong.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
)

// RosterItem is one entry of a user's roster as the user sees it.
type RosterItem struct {
	JID          jid.JID
	Name         string
	Subscription string
	Groups       []string
	Shared       bool // contributed by a shared group
}

// Rosters reads rosters (shared groups included).
type Rosters interface {
	Roster(ctx context.Context, user jid.JID) ([]RosterItem, error)
}

// RoomSettings are the basics of a room's configuration an administrator
// sets (XEP-0045 §10.2 muc#roomconfig fields).
type RoomSettings struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Persistent  bool   `json:"persistent"`
	Public      bool   `json:"public"`
	MembersOnly bool   `json:"members_only"`
	Moderated   bool   `json:"moderated"`
	MaxUsers    int    `json:"max_users"`
}

// Room is a group chat room.
type Room struct {
	JID       jid.JID
	Settings  RoomSettings
	Occupants int
	Subject   string
}

// Rooms manages group chat rooms (package muc's admin seam).
type Rooms interface {
	// Services are the group chat service domains.
	Services() []string
	Rooms(ctx context.Context) ([]Room, error)
	// CreateRoom creates an unlocked room owned by owner.
	CreateRoom(ctx context.Context, room, owner jid.JID, s RoomSettings) error
	ConfigureRoom(ctx context.Context, room jid.JID, s RoomSettings) error
	// DestroyRoom ends the room (its occupants are told, XEP-0045 §10.9).
	DestroyRoom(ctx context.Context, room jid.JID, reason string) error
}

// Keys says what a user has published for end-to-end encryption.
type Keys interface {
	// HasPEP reports whether the user has PEP nodes, and whether among
	// them OMEMO device lists or bundles (XEP-0384).
	HasPEP(ctx context.Context, user jid.JID) (pep, omemo bool, err error)
}

// UploadUsage is what one account keeps in the file upload service.
type UploadUsage struct {
	User  jid.JID
	Files int64 // uploaded files not expired
	Slots int64 // slots handed out and not used yet
	Bytes int64 // bytes of both
}

// Uploads reports the file upload service's usage (package upload's
// store).
type Uploads interface {
	// Usage is every account that keeps something, sorted by address.
	Usage(ctx context.Context) ([]UploadUsage, error)
}
