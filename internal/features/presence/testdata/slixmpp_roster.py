"""Interop check: slixmpp (an independent client) fetches its roster,
becomes available, subscribes to a peer, approves the peer's request
(slixmpp's auto_authorize/auto_subscribe), and waits until its roster shows
the peer with subscription 'both' and it has the peer's presence. Then it
changes its status and disconnects.

usage: slixmpp_roster.py JID PASSWORD HOST PORT CAFILE PEER PEERSTATUS
slixmpp 1.8 only knows the tls-unique channel binding, which TLS 1.3 lacks,
so SCRAM-SHA-256 is forced and the binding data withheld (as in
internal/c2s/testdata/slixmpp_chat.py). Prints "OK ..." and exits 0 on
success, exits 1 otherwise."""
import logging
import os
import sys

import slixmpp

jid, password, host, port, cafile, peer, peer_status = sys.argv[1:8]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.peer_seen = False
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("presence_available", self.available)
        self.add_event_handler("roster_update", self.check)
        self.add_event_handler("failed_auth", lambda _e: self.disconnect())

    async def start(self, _event):
        await self.get_roster()
        print("roster items at login:", list(self.client_roster.keys()), flush=True)
        self.send_presence(pstatus="slix here")
        self.send_presence_subscription(pto=peer)

    def available(self, pres):
        if pres["from"].bare == peer and pres["status"] == peer_status:
            self.peer_seen = True
            self.check(None)

    def check(self, _event):
        if self.ok or not self.peer_seen or peer not in self.client_roster:
            return
        if self.client_roster[peer]["subscription"] != "both":
            return
        self.ok = True
        print("OK roster", peer, "both; presence", peer_status, flush=True)
        self.send_presence(pstatus="py done")
        self.loop.call_later(0.5, self.disconnect)


logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.WARNING)
c = Client()
c.ssl_context.load_verify_locations(cafile)
plugin = c["feature_mechanisms"]
plugin.use_mech = "SCRAM-SHA-256"
default_credentials = plugin.sasl_callback


def without_binding(required, optional):
    creds = default_credentials(required, optional)
    creds.pop("channel_binding", None)
    return creds


plugin.sasl_callback = without_binding
c.connect(address=(host, int(port)), force_starttls=True)
c.loop.call_later(30, c.disconnect)
c.process(forever=False)
sys.exit(0 if c.ok else 1)
