"""Interop check: slixmpp's XEP-0363 plugin (Debian's slixmpp 1.8, its
defaults) is given the upload service found through disco (see discover),
with max-file-size, and its upload_file requests a slot and PUTs FILE with aiohttp; then the GET URL is fetched
and must give back the same bytes with the file's content type. aiohttp
trusts only CAFILE (SSL_CERT_FILE, set by the Go test).

usage: slixmpp_upload.py JID PASSWORD HOST PORT CAFILE FILE
Prints "URL <get url>" and "OK" and exits 0 on success, 1 otherwise."""
import asyncio
import mimetypes
import os
import sys

import aiohttp

import parleyslix

jid, password, host, port, cafile, path = sys.argv[1:7]


class Client(parleyslix.Checker):
    def __init__(self):
        super().__init__(jid, password, ("xep_0030", "xep_0363"))

    async def discover(self):
        """What find_upload_service does: its get_info_from_domain passes
        coroutines to asyncio.wait, which Debian's Python 3.11 refuses, so
        the same disco walk is done here and its result handed to the
        plugin the way upload_file stores it."""
        disco, up = self["xep_0030"], self["xep_0363"]
        items = await disco.get_items(jid=self.boundjid.domain, timeout=30)
        for item in items["disco_items"]["items"]:
            info = await disco.get_info(jid=item[0], timeout=30)
            ids = info["disco_info"]["identities"]
            if not any(i[0] == "store" and i[1] == "file" for i in ids):
                continue
            if "urn:xmpp:http:upload:0" not in info["disco_info"]["features"]:
                continue
            up.upload_service = info["from"]
            for form in info["disco_info"].iterables:
                values = form["values"]
                if values["FORM_TYPE"] == ["urn:xmpp:http:upload:0"]:
                    up.max_file_size = int(values["max-file-size"])
            return
        raise Exception("no upload service in disco#items")

    async def check(self):
        up = self["xep_0363"]
        await self.discover()
        url = await up.upload_file(path, timeout=30)
        print("URL", url, flush=True)
        if up.max_file_size != int(os.environ["WANT_MAX"]):
            print("MAX", up.max_file_size, flush=True)
            return
        with open(path, "rb") as f:
            want = f.read()
        async with aiohttp.ClientSession() as s:
            async with s.get(url) as r:
                got = await r.read()
                ctype = r.headers.get("Content-Type")
        if r.status != 200 or got != want:
            print("GET", r.status, len(got), flush=True)
            return
        if ctype != mimetypes.guess_type(path)[0]:
            print("TYPE", ctype, flush=True)
            return
        self.ok = True
        print("OK", flush=True)


c = Client()
parleyslix.run(c, cafile, host, port, seconds=45)
