"""Interop check: slixmpp's XEP-0045 plugin joins a room, sends a
groupchat message once it has the subject (the end of the join), and waits
for a reply from another occupant.

usage: slixmpp_muc.py JID PASSWORD HOST PORT CAFILE ROOM NICK
Prints "JOINED <n> occupants" when in, "OK <body> from <from>" on the
reply and exits 0; exits 1 otherwise."""
import sys

import slixmpp

import parleyslix

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



c = Client()
parleyslix.run(c, cafile, host, port)
