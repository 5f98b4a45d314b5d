// converse.js in headless Chromium (Debian's, driven by playwright-core).
//
// usage: node converse.mjs PAGE_URL PEER TOKEN
//
// Opens PAGE_URL (converse.html with jid, password and ws or bosh in the
// query), waits until converse.js is connected, sends "ping TOKEN" to PEER
// from a chat box and waits for "pong TOKEN" to arrive. Progress goes to
// stdout (CONNECTED, SENT, RECEIVED); the page's console to stderr. Exits 0
// once the reply arrived, 1 otherwise.
import { runConverse } from "./converse-page.mjs";

const [pageURL, peer, token] = process.argv.slice(2);
await runConverse(pageURL, [], async (page) => {
  await page.evaluate(async ([peer, token]) => {
    const chat = await window.parley.api.chats.open(peer);
    await chat.sendMessage({ body: `ping ${token}` });
  }, [peer, token]);
  console.log("SENT");
  await page.waitForFunction((t) => window.parley.got.includes(`pong ${t}`), token, { timeout: 30000 });
  console.log("RECEIVED", `pong ${token}`);
});
