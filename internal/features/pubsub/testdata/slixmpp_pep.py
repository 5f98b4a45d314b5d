"""Interop check: slixmpp's XEP-0163 and XEP-0172 plugins (with XEP-0115
caps, which the server verifies by asking for disco#info) publish the
user's nickname and wait for a contact's nickname notification.

usage: slixmpp_pep.py JID PASSWORD HOST PORT CAFILE PEER MYNICK WANTNICK
Prints "PUBLISHED" once the publish is acknowledged and "OK <nick> from
<peer>" when the peer's nickname arrives, then exits 0; exits 1 otherwise."""
import sys

import slixmpp

import parleyslix

jid, password, host, port, cafile, peer, mynick, wantnick = sys.argv[1:9]


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        for p in ("xep_0030", "xep_0115", "xep_0060", "xep_0163", "xep_0172"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("user_nick_publish", self.nick)

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        await self.plugin["xep_0172"].publish_nick(mynick)
        print("PUBLISHED", flush=True)

    def nick(self, msg):
        got = msg["pubsub_event"]["items"]["item"]["nick"]["nick"]
        if msg["from"].bare == peer and got == wantnick:
            print("OK", got, "from", peer, flush=True)
            self.ok = True
            self.disconnect()



c = Client()
parleyslix.run(c, cafile, host, port)
