"""Interop check: slixmpp (an independent client) logs in and sends
initial presence; the messages stored for it while it was offline must
arrive in order, each with an XEP-0203 delay stamp.

usage: slixmpp_offline.py JID PASSWORD HOST PORT CAFILE BODY...
Prints "OK" and exits 0 on success, exits 1 otherwise."""
import sys

import slixmpp

import parleyslix

jid, password, host, port, cafile = sys.argv[1:6]
want = sys.argv[6:]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.got = []
        self.ok = False
        self.register_plugin("xep_0203")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)

    async def start(self, _event):
        self.send_presence()

    def message(self, msg):
        stamp = msg["delay"]["stamp"]
        if not stamp:
            print("NO DELAY on", msg["body"], flush=True)
            self.disconnect()
            return
        self.got.append(msg["body"])
        if len(self.got) == len(want):
            self.ok = self.got == want
            print("OK" if self.ok else "ORDER " + repr(self.got), flush=True)
            self.disconnect()


c = Client()
parleyslix.run(c, cafile, host, port)
