// Package adhoc is XEP-0050 Ad-Hoc Commands on the server JID, with the
// XEP-0133 Service Administration commands for the admins named in the
// configuration.
//
// It owns the command registry and the sessions of multi-stage commands:
// an execute without a sessionid starts a command; a command with a form
// answers status="executing" with a sessionid and the form, and the
// submitted form completes it (action complete, or execute, the default
// action); cancel ends a session. Errors are the XEP's own conditions:
// bad-request with <malformed-action/> for an unknown action, <bad-action/>
// for one not allowed at the stage, <bad-sessionid/> for a session that is
// not the requester's or does not exist, <bad-payload/> for a form of the
// wrong type; not-allowed with <session-expired/> after
// adhoc.session_timeout; forbidden for a command the requester may not
// run; item-not-found for an unknown node.
//
// Commands are listed by disco#items on the node
// http://jabber.org/protocol/commands of the server, filtered by who asks,
// and each command node answers disco#info (identity automation/
// command-node). Other features
// add commands through Module.Add with the Command type of seam.go.
//
// Of XEP-0133 it implements add-user (§4.1), delete-user (§4.2),
// disable-user (§4.3: the account's sessions end and its logins fail with
// account-disabled, which package c2s checks), reenable-user (§4.4),
// end-user-session (§4.5), change-user-password (§4.7), user-stats
// (§4.10: roster size, online resources and their IP addresses, through
// the RosterSize and Addr functions the server passes in; no message
// count, which nothing keeps),
// get-registered-users-num (§4.13), get-online-users-num (§4.15),
// get-registered-users-list (§4.18), get-online-users-list (§4.20),
// announce (§4.23) and set, edit and delete the message of the day
// (§4.24-§4.26: stored per domain, sent as a headline to each session at
// its initial presence).
//
// It does not own accounts or sessions: it changes accounts through the
// Accounts interface and reaches sessions through module.Host and the
// Online function the server passes in.
package adhoc
