// Package xmpptest is the test harness: it starts a real Parley server on
// loopback with random ports and a temporary data directory, creates
// accounts, and connects independent clients (mellium.im/xmpp) or raw
// sockets to it. Only tests import it.
package xmpptest
