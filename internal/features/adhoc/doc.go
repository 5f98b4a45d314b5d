// Package adhoc is XEP-0050 Ad-Hoc Commands on the server JID, with the
// XEP-0133 Service Administration commands for the admins named in the
// configuration.
//
// It owns the command registry and the sessions of multi-stage commands:
// an execute without a sessionid starts a command (§4.1); a command with a
// form answers status="executing" with a sessionid and the form, and the
// submitted form completes it (§4.3, action complete, or execute, the
// default action); cancel ends a session (§4.4). Errors are those of §4.6:
// bad-request with <malformed-action/> for an unknown action, <bad-action/>
// for one not allowed at the stage, <bad-sessionid/> for a session that is
// not the requester's or does not exist, <bad-payload/> for a form of the
// wrong type; not-allowed with <session-expired/> after
// adhoc.session_timeout; forbidden for a command the requester may not
// run; item-not-found for an unknown node.
//
// Commands are listed by disco#items on the node
// http://jabber.org/protocol/commands of the server, filtered by who asks
// (§2.2), and each command node answers disco#info (§2.3). Other features
// add commands through Module.Add with the Command type of seam.go.
//
// Of XEP-0133 it implements add-user (§4.1), delete-user (§4.2),
// end-user-session (§4.5), change-user-password (§4.7),
// get-registered-users-num (§4.15), get-online-users-num (§4.17),
// get-registered-users-list (§4.19), get-online-users-list (§4.21) and
// announce (§4.23). It does not implement disable/re-enable user (the
// account store has no disabled state), user statistics, or the message of
// the day.
//
// It does not own accounts or sessions: it changes accounts through the
// Accounts interface and reaches sessions through module.Host and the
// Online function the server passes in.
package adhoc
