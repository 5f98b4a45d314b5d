// PEP interop check (used by internal/features/pubsub): @xmpp/client
// advertises XEP-0115 caps with the nickname node's +notify, answers the
// server's disco#info query, publishes the user's nickname (XEP-0172) and
// waits for a contact's nickname notification.
//
// usage: node pep.mjs JID PASSWORD HOST PORT PEER MYNICK WANTNICK
//
// Prints PUBLISHED once the publish is acknowledged and "OK <nick> from
// <peer>" when the peer's nickname arrives; exits 0 then, 1 on a timeout.
// The self-signed certificate is trusted through NODE_EXTRA_CA_CERTS.
import { createHash } from "node:crypto";
import { client, xml } from "@xmpp/client";

const [jid, password, host, port, peer, mynick, wantnick] = process.argv.slice(2);
const [username, domain] = jid.split("@");
const NICK = "http://jabber.org/protocol/nick";
const INFO = "http://jabber.org/protocol/disco#info";
const NODE = "https://parley.test/xmppjs";
const features = [INFO, "http://jabber.org/protocol/caps", `${NICK}+notify`].sort();
// XEP-0115 §5.1 verification string, hashed with SHA-1.
const ver = createHash("sha1")
  .update(`client/pc//xmpp.js<${features.map((f) => f + "<").join("")}`)
  .digest("base64");

const xmpp = client({ service: `xmpp://${host}:${port}`, domain, username, password });
xmpp.on("error", (err) => console.log("ERROR", err.condition || "", err.message));
const timer = setTimeout(() => {
  console.log("FAILED: timeout");
  process.exit(1);
}, 45000);

xmpp.iqCallee.get(INFO, "query", (ctx) =>
  xml(
    "query",
    { xmlns: INFO, node: ctx.element.attrs.node },
    xml("identity", { category: "client", type: "pc", name: "xmpp.js" }),
    ...features.map((f) => xml("feature", { var: f })),
  ),
);

xmpp.on("stanza", async (st) => {
  if (!st.is("message") || st.attrs.from !== peer) return;
  const items = st.getChild("event", "http://jabber.org/protocol/pubsub#event")?.getChild("items");
  const nick = items?.attrs.node === NICK ? items.getChild("item")?.getChildText("nick", NICK) : undefined;
  if (nick === wantnick) {
    console.log("OK", nick, "from", peer);
    clearTimeout(timer);
    await xmpp.stop();
    process.exit(0);
  }
});

xmpp.on("online", async () => {
  await xmpp.send(xml("presence", {}, xml("c", { xmlns: "http://jabber.org/protocol/caps", hash: "sha-1", node: NODE, ver })));
  await xmpp.iqCaller.request(
    xml("iq", { type: "set" },
      xml("pubsub", { xmlns: "http://jabber.org/protocol/pubsub" },
        xml("publish", { node: NICK }, xml("item", { id: "current" }, xml("nick", { xmlns: NICK }, mynick))))),
  );
  console.log("PUBLISHED");
});

xmpp.start().catch((err) => {
  console.log("FAILED:", err.condition || "", err.message);
  process.exit(1);
});
