"""Interop check: slixmpp (an independent client) fetches its roster,
becomes available, subscribes to a peer, approves the peer's request
(slixmpp's auto_authorize/auto_subscribe), and waits until its roster shows
the peer with subscription 'both' and it has the peer's presence. Then it
changes its status and disconnects.

usage: slixmpp_roster.py JID PASSWORD HOST PORT CAFILE PEER PEERSTATUS
slixmpp runs with its defaults (internal/xmpptest/python/parleyslix.py).
Prints "OK ..." and exits 0 on
success, exits 1 otherwise."""
import sys

import slixmpp

import parleyslix

jid, password, host, port, cafile, peer, peer_status = sys.argv[1:8]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.peer_seen = False
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("presence_available", self.available)
        self.add_event_handler("roster_update", self.check)

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


c = Client()
parleyslix.run(c, cafile, host, port)
