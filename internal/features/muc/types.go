package muc

import "github.com/parleyim/parley/internal/stanza"

// Namespaces of XEP-0045 and the XEPs a room uses.
const (
	NS          = "http://jabber.org/protocol/muc"
	NSUser      = "http://jabber.org/protocol/muc#user"
	NSAdmin     = "http://jabber.org/protocol/muc#admin"
	NSOwner     = "http://jabber.org/protocol/muc#owner"
	NSRoomConf  = "http://jabber.org/protocol/muc#roomconfig"
	NSRoomInfo  = "http://jabber.org/protocol/muc#roominfo"
	nsData      = "jabber:x:data"
	nsDiscoInfo = "http://jabber.org/protocol/disco#info"
	nsDiscoItem = "http://jabber.org/protocol/disco#items"
	nsDelay     = "urn:xmpp:delay"
	nsStanzaID  = "urn:xmpp:sid:0"
	nsOccupant  = "urn:xmpp:occupant-id:0"
)

// Role is an occupant's role in the room (XEP-0045 §5.1).
type Role int

// Roles, least privileged first.
const (
	RoleNone Role = iota
	RoleVisitor
	RoleParticipant
	RoleModerator
)

var roleNames = [...]string{"none", "visitor", "participant", "moderator"}

func (r Role) String() string { return roleNames[r] }

func parseRole(s string) (Role, bool) {
	for i, n := range roleNames {
		if n == s {
			return Role(i), true
		}
	}
	return RoleNone, false
}

// Affiliation is a user's long-lived standing with the room (§5.2).
type Affiliation int

// Affiliations, least privileged first (outcast is banned).
const (
	AffOutcast Affiliation = iota - 1
	AffNone
	AffMember
	AffAdmin
	AffOwner
)

var affNames = map[Affiliation]string{AffOutcast: "outcast", AffNone: "none", AffMember: "member", AffAdmin: "admin", AffOwner: "owner"}

func (a Affiliation) String() string { return affNames[a] }

// ParseAffiliation reads an affiliation name.
func ParseAffiliation(s string) (Affiliation, bool) {
	for a, n := range affNames {
		if n == s {
			return a, true
		}
	}
	return AffNone, false
}

// errorf is a stanza error of the given condition, with its default type.
func errorf(cond, format string, args ...any) *stanza.Error {
	return stanza.Errorf(stanza.DefaultType(cond), cond, format, args...)
}
