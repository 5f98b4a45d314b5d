// converse.js in headless Chromium (Debian's, driven by playwright-core).
//
// usage: node converse.mjs PAGE_URL PEER TOKEN
//
// Opens PAGE_URL (converse.html with jid, password and ws or bosh in the
// query), waits until converse.js is connected, sends "ping TOKEN" to PEER
// from a chat box and waits for "pong TOKEN" to arrive. Progress goes to
// stdout (CONNECTED, SENT, RECEIVED); the page's console to stderr. Exits 0
// once the reply arrived, 1 otherwise.
import { chromium } from "playwright-core";

const [pageURL, peer, token] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
let code = 1;
try {
  const page = await browser.newPage();
  page.on("console", (m) => process.stderr.write(`console ${m.type()}: ${m.text()}\n`));
  page.on("pageerror", (e) => process.stderr.write(`pageerror: ${e}\n`));
  // Only loopback: the page's other resources (fonts, avatars) would wait
  // for name resolution on a machine without network.
  await page.route((u) => u.hostname !== "localhost" && u.hostname !== "127.0.0.1", (route) => route.abort());
  await page.goto(pageURL);
  await page.waitForFunction(() => window.parley && window.parley.connected, null, { timeout: 30000 });
  console.log("CONNECTED");
  await page.evaluate(async ([peer, token]) => {
    const chat = await window.parley.api.chats.open(peer);
    await chat.sendMessage({ body: `ping ${token}` });
  }, [peer, token]);
  console.log("SENT");
  await page.waitForFunction((t) => window.parley.got.includes(`pong ${t}`), token, { timeout: 30000 });
  console.log("RECEIVED", `pong ${token}`);
  code = 0;
} catch (e) {
  console.log("FAILED:", e.message);
} finally {
  await browser.close();
}
process.exit(code);
