// SASL2 / Bind 2 / FAST interop: @xmpp/client (xmpp.js) with its default
// settings logs in twice with the same client object.
//
// usage: node fast.mjs JID PASSWORD HOST PORT
//
// The first login uses the password; xmpp.js (0.14) then asks for a FAST
// token (XEP-0484) in its SASL2 <authenticate/> by default, and binds with
// Bind 2 under its own user-agent id. The second login, after a clean
// stop, uses the token it received. Each address bound is printed as
// ONLINE1/ONLINE2 lines; every element sent goes to stderr as SEND: lines.
// The certificate is trusted through NODE_EXTRA_CA_CERTS (the one setting
// the matrix allows). Exits 0 after the second login, 1 otherwise.
import { client } from "@xmpp/client";

const [jid, password, host, port] = process.argv.slice(2);
const [username, domain] = jid.split("@");

const xmpp = client({ service: `xmpp://${host}:${port}`, domain, username, password });
xmpp.on("send", (el) => process.stderr.write(`SEND: ${el.toString()}\n`));
xmpp.on("error", (err) => console.log("ERROR", err.condition || "", err.message));

const timer = setTimeout(() => {
  console.log("FAILED: timeout");
  process.exit(1);
}, 45000);

let logins = 0;
xmpp.on("online", async (address) => {
  logins++;
  console.log(`ONLINE${logins}`, address.toString());
  if (logins === 1) {
    await xmpp.stop();
    await xmpp.start();
    return;
  }
  clearTimeout(timer);
  await xmpp.stop();
  process.exit(0);
});

xmpp.start().catch((err) => {
  console.log("FAILED:", err.condition || "", err.message);
  process.exit(1);
});
