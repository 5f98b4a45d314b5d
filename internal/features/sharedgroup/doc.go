// Package sharedgroup owns shared roster groups: groups an administrator
// defines (with `parley group`) whose members automatically see each other
// in their rosters, with subscription 'both' and the group's display name
// as the roster group, and exchange presence — what Openfire calls shared
// groups. Members are local accounts; deleting an account or a group drops
// its memberships.
//
// It stores the groups and answers "whom does this user share a group
// with" (ContactsOf). It does not build rosters or send presence: package
// roster merges the result into the user's roster (read at each login;
// changes made through the admin console or REST API are applied to the
// online members at once by roster.Module.RefreshShared, with roster
// pushes and presence; changes made with `parley group` from another
// process take effect at the members' next login) and package presence
// acts on it. No XEP defines shared
// groups; the items they contribute are ordinary RFC 6121 roster items.
package sharedgroup
