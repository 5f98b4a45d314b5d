// Package clientmatrix holds the client-compatibility test (issue 9): real
// XMPP clients, each with its default settings, log in to a Parley started
// from the built binary (`go build ./cmd/parley`, then `parley serve` with a
// temporary data directory and random loopback ports, accounts made with
// `parley user add`), add a contact to the roster and exchange one message
// each way with a mellium.im/xmpp peer.
//
// The clients are Debian 12's python3-slixmpp, poezio, python3-aioxmpp,
// Profanity (libstrophe) and go-sendxmpp, npm's @xmpp/client (in
// testdata/xmppjs, installed by .ci/run with npm ci) and mellium.im/xmpp.
// The terminal programs (Profanity, poezio) are driven through tmux as a
// user would type. The only setting a client gets beyond its account and
// the server's address is trust in the server's self-signed certificate.
//
// Each run records the SASL mechanism and channel binding the client used
// (from Parley's login log line, checked against the <auth/> elements in
// the client's own log) and the number of TCP connections it needed
// (through a counting proxy), and fails when a client cannot log in on its
// first connection, uses PLAIN although it knows SCRAM, logs in without a
// channel binding it can use, or does not get a message across in either
// direction. The
// matrix is in docs/clients.md; PARLEY_CLIENT_MATRIX=FILE writes the rows
// of a run there as Markdown, and PARLEY_CLIENT_MATRIX_BIN=PATH runs the
// matrix against that parley binary instead of building one. A missing client skips its case, or fails it
// when PARLEY_REQUIRE_INTEROP is set (as .ci/run does).
//
// The package has no code outside its tests.
package clientmatrix
