"""Interop check: slixmpp's XEP-0045 plugin joins a room, sends a
groupchat message once it has the subject (the end of the join), and waits
for a reply from another occupant.

usage: slixmpp_muc.py JID PASSWORD HOST PORT CAFILE ROOM NICK
Prints "JOINED <n> occupants" when in, "OK <body> from <from>" on the
reply and exits 0; exits 1 otherwise."""
import logging
import os
import ssl
import sys

import slixmpp

jid, password, host, port, cafile, room, nick = sys.argv[1:8]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0045")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("groupchat_subject", self.subject)
        self.add_event_handler("groupchat_message", self.message)
        self.add_event_handler("failed_auth", self.failed)

    async def start(self, _event):
        self.send_presence()
        self.plugin["xep_0045"].join_muc(room, nick)

    def subject(self, msg):
        if msg["from"].bare != room:
            return
        roster = self.plugin["xep_0045"].get_roster(room)
        print("JOINED", len(roster), "occupants", flush=True)
        self.send_message(mto=room, mbody="hello from slixmpp", mtype="groupchat")

    def message(self, msg):
        if msg["body"].startswith("reply"):
            print("OK", msg["body"], "from", msg["from"], flush=True)
            self.ok = True
            self.disconnect()

    def failed(self, _event):
        print("AUTH FAILED", flush=True)
        self.disconnect()


logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.WARNING)
c = Client()
c.ssl_context.load_verify_locations(cafile)
# slixmpp 1.8 prefers SCRAM-SHA-512-PLUS with tls-unique, which exists
# before TLS 1.3 only (see internal/c2s's interop test).
c.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2
c.connect(address=(host, int(port)), force_starttls=True)
c.loop.call_later(30, c.disconnect)  # process(timeout=) is broken in slixmpp 1.8 on Python 3.11
c.process(forever=False)
sys.exit(0 if c.ok else 1)
