"""Interop check: slixmpp's XEP-0060 plugin subscribes to a node on the
PubSub service, publishes an item to it, and waits for another
subscriber's item.

usage: slixmpp_pubsub.py JID PASSWORD HOST PORT CAFILE SERVICE NODE
Prints "SUBSCRIBED" and "PUBLISHED", then "OK <title>" when an item titled
"from mellium" arrives, and exits 0; exits 1 otherwise."""
import logging
import os
import ssl
import sys
import xml.etree.ElementTree as ET

import slixmpp

jid, password, host, port, cafile, service, node = sys.argv[1:8]
ATOM = "http://www.w3.org/2005/Atom"


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0060")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("pubsub_publish", self.item)
        self.add_event_handler("failed_auth", self.failed)

    async def start(self, _event):
        self.send_presence()
        await self.plugin["xep_0060"].subscribe(service, node)
        print("SUBSCRIBED", flush=True)
        entry = ET.Element("{%s}entry" % ATOM)
        ET.SubElement(entry, "{%s}title" % ATOM).text = "from slixmpp"
        await self.plugin["xep_0060"].publish(service, node, id="slix", payload=entry)
        print("PUBLISHED", flush=True)

    def item(self, msg):
        payload = msg["pubsub_event"]["items"]["item"]["payload"]
        title = payload.find("{%s}title" % ATOM) if payload is not None else None
        if title is not None and title.text == "from mellium":
            print("OK", title.text, flush=True)
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
c.loop.call_later(30, c.disconnect)
c.process(forever=False)
sys.exit(0 if c.ok else 1)
