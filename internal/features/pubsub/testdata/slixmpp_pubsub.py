"""Interop check: slixmpp's XEP-0060 plugin subscribes to a node on the
PubSub service, publishes an item to it, and waits for another
subscriber's item.

usage: slixmpp_pubsub.py JID PASSWORD HOST PORT CAFILE SERVICE NODE
Prints "SUBSCRIBED" and "PUBLISHED", then "OK <title>" when an item titled
"from mellium" arrives, and exits 0; exits 1 otherwise."""
import sys
import xml.etree.ElementTree as ET

import slixmpp

import parleyslix

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



c = Client()
parleyslix.run(c, cafile, host, port)
