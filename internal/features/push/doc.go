// Package push implements the XMPP server's side of XEP-0357 Push
// Notifications: a client enables notifications with its app server's
// JID and node (§5, with an optional publish-options form such as a
// secret) and disables them (§6); when a message with a body reaches the
// user while no resource is available (the Offline hook: the session is
// gone) or is kept for a session in stream-management hibernation
// (XEP-0198: the connection dropped, the session waits to be resumed; the
// SessionHibernated hook and a delivery filter), the server publishes a
// notification to every registration (§7):
// an iq set with a pubsub <publish/> to the node, whose item carries the
// urn:xmpp:push:summary form (message-count since the user was last
// available, last-message-sender) and never the body, and the
// registration's publish-options. An error answer from the app server
// (other than a temporary one, type wait) disables that registration.
//
// Registrations are per account in the records store (kind "push"), so
// they survive restarts and go with the account (userdata.go: XEP-0227
// export and import as <enable/> elements). The app server that delivers
// to APNs and FCM is package pushapp (push.<domain>, when configured) or
// any other; this module only publishes to it.
package push
