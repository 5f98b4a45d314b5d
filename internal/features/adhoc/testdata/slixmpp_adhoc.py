"""Interop check: slixmpp's XEP-0050 plugin (with XEP-0004 forms) lists the
server's commands and runs XEP-0133 add-user through its form.

usage: slixmpp_adhoc.py JID PASSWORD HOST PORT CAFILE SERVER NEWJID NEWPASSWORD REPORTTO
Prints "COMMANDS <n>" and "COMPLETED <note>", tells REPORTTO "added
NEWJID" by a chat message, and exits 0; exits 1 otherwise."""
import sys

import slixmpp

import parleyslix

jid, password, host, port, cafile, server, newjid, newpw, report = sys.argv[1:10]
ADD_USER = "http://jabber.org/protocol/admin#add-user"


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        self.ok = False
        for p in ("xep_0030", "xep_0004", "xep_0050"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)

    async def start(self, _event):
        self.send_presence()
        items = await self.plugin["xep_0050"].get_commands(jid=server)
        nodes = [i[1] for i in items["disco_items"]["items"]]
        print("COMMANDS", len(nodes), flush=True)
        if ADD_USER not in nodes:
            print("NO ADD-USER in", nodes, flush=True)
            self.disconnect()
            return
        session = {"next": self.form, "error": self.error}
        self.plugin["xep_0050"].start_command(server, ADD_USER, session)

    def form(self, iq, session):
        if iq["command"]["status"] == "completed":
            note = iq["command"]["notes"]
            print("COMPLETED", note, flush=True)
            self.ok = True
            self.send_message(mto=report, mbody="added " + newjid, mtype="chat")
            self.loop.call_later(1, self.disconnect)
            return
        form = iq["command"]["form"]
        answer = self.plugin["xep_0004"].make_form(ftype="submit")
        fields = form["fields"]
        pairs = fields.items() if hasattr(fields, "items") else [(f["var"], f) for f in fields]
        for var, field in pairs:
            value = {"accountjid": newjid, "password": newpw, "password-verify": newpw}.get(var)
            if var == "FORM_TYPE":
                value = field["value"]
            if value is not None:
                answer.add_field(var=var, value=value)
        session["payload"] = answer
        session["next"] = self.form
        self.plugin["xep_0050"].complete_command(session)

    def error(self, iq, session):
        print("ERROR", iq["error"]["condition"], iq["error"]["text"], flush=True)
        self.disconnect()



c = Client()
parleyslix.run(c, cafile, host, port)
