"""Interop check: slixmpp (an independent client) logs in and sends
initial presence; the messages stored for it while it was offline must
arrive in order, each with an XEP-0203 delay stamp.

usage: slixmpp_offline.py JID PASSWORD HOST PORT CAFILE BODY...
Prints "OK" and exits 0 on success, exits 1 otherwise."""
import logging
import os
import sys

import slixmpp

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


logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.WARNING)
c = Client()
c.ssl_context.load_verify_locations(cafile)
c["feature_mechanisms"].use_mech = "PLAIN"  # slixmpp 1.8 knows only tls-unique, absent on TLS 1.3
c.connect(address=(host, int(port)), force_starttls=True)
c.loop.call_later(30, c.disconnect)
c.process(forever=False)
sys.exit(0 if c.ok else 1)
