"""Interop check: slixmpp's XEP-0313 plugin (Debian's slixmpp 1.8), with
its defaults, pages through the user's archive (RSM, 20 per page), asks
for the search form and the archive metadata, and filters by 'with'.
The archive must hold BODY... in that order, all exchanged with PEER.

usage: slixmpp_mam.py JID PASSWORD HOST PORT CAFILE PEER BODY...
Prints "OK" and exits 0 on success, exits 1 otherwise."""
import asyncio
import sys

import slixmpp

import parleyslix

jid, password, host, port, cafile, peer = sys.argv[1:7]
want = sys.argv[7:]


class Client(parleyslix.Checker):
    def __init__(self):
        super().__init__(jid, password, ("xep_0059", "xep_0313", "xep_0297", "xep_0203", "xep_0004"))

    async def check(self):
        mam = self.plugin["xep_0313"]
        got = []
        async for msg in mam.iterate(rsm={"max": 20}):
            fwd = msg["mam_result"]["forwarded"]
            if not fwd["delay"]["stamp"]:
                print("NO DELAY", flush=True)
                return
            got.append(fwd["stanza"]["body"])
        if got != want:
            print("ARCHIVE", repr(got), flush=True)
            return
        back = []
        async for msg in mam.iterate(rsm={"max": 20}, reverse=True):
            back.append(msg["mam_result"]["forwarded"]["stanza"]["body"])
        if back != list(reversed(want)):
            print("REVERSE", repr(back), flush=True)
            return
        form = await mam.get_fields()
        fields = set(form.get_fields().keys())
        if not {"with", "start", "end"} <= fields:
            print("FORM", fields, flush=True)
            return
        md = await mam.get_archive_metadata()
        if not md["mam_metadata"]["start"]["id"] or not md["mam_metadata"]["end"]["id"]:
            print("METADATA", md, flush=True)
            return
        res = await mam.retrieve(with_jid=slixmpp.JID(peer), rsm={"max": 5})
        page = [m["mam_result"]["forwarded"]["stanza"]["body"] for m in res["mam"]["results"]]
        if page != want[:5] or res["mam_fin"]["complete"]:
            print("WITH", repr(page), res["mam_fin"]["complete"], flush=True)
            return
        self.ok = True
        print("OK", flush=True)


c = Client()
parleyslix.run(c, cafile, host, port, seconds=45)
