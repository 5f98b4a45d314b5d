"""Interop check: slixmpp (an independent client) logs in over STARTTLS,
sends a chat message to a peer and waits for the peer's reply.

usage: slixmpp_chat.py JID PASSWORD HOST PORT CAFILE PEER MECH TLSMAX
MECH forces a SASL mechanism ("" lets slixmpp choose); for a SCRAM
mechanism without -PLUS the channel binding data is withheld, so slixmpp
sends the 'n' flag instead of claiming binding support ('y'). TLSMAX is
"1.2" or "1.3". Prints "OK <reply body>" and exits 0 on success, exits 1
otherwise."""
import asyncio
import logging
import ssl
import os
import sys

import slixmpp

jid, password, host, port, cafile, peer, mech, tlsmax = sys.argv[1:9]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.message)
        self.add_event_handler("failed_auth", self.failed)

    async def start(self, _event):
        self.send_presence()
        self.send_message(mto=peer, mbody="hello from slixmpp", mtype="chat")

    def message(self, msg):
        if msg["type"] == "chat" and msg["body"].startswith("reply"):
            print("OK", msg["body"], "from", msg["from"], flush=True)
            self.ok = True
            self.disconnect()

    def failed(self, _event):
        print("AUTH FAILED", flush=True)
        self.disconnect()


logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.WARNING)
c = Client()
c.ssl_context.load_verify_locations(cafile)
if tlsmax == "1.2":
    c.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2
if mech:
    plugin = c["feature_mechanisms"]
    plugin.use_mech = mech
    if mech.startswith("SCRAM") and not mech.endswith("-PLUS"):
        default_credentials = plugin.sasl_callback

        def without_binding(required, optional):
            creds = default_credentials(required, optional)
            creds.pop("channel_binding", None)
            return creds

        plugin.sasl_callback = without_binding
c.connect(address=(host, int(port)), force_starttls=True)
c.loop.call_later(30, c.disconnect)  # process(timeout=) is broken in slixmpp 1.8 on Python 3.11
c.process(forever=False)
sys.exit(0 if c.ok else 1)
