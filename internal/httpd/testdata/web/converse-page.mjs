// What the converse.js scripts share: headless Chromium (Debian's, driven
// by playwright-core) on a converse.html page that logs in.
//
// runConverse(pageURL, extraArgs, body) launches Chromium (with the extra
// command-line arguments), opens pageURL with the page's console, errors
// and failed requests going to stderr and every host but loopback blocked,
// waits until converse.js is connected (printing CONNECTED), then runs
// body(page). It exits 0 once body returned, 1 when anything failed
// (printing FAILED and the reason).
import { chromium } from "playwright-core";

export async function runConverse(pageURL, extraArgs, body) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", ...extraArgs],
  });
  let code = 1;
  try {
    const page = await browser.newPage();
    page.on("console", (m) => process.stderr.write(`console ${m.type()}: ${m.text()}\n`));
    page.on("pageerror", (e) => process.stderr.write(`pageerror: ${e}\n`));
    page.on("requestfailed", (r) => process.stderr.write(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}\n`));
    // Only loopback: the page's other resources (fonts, avatars) would wait
    // for name resolution on a machine without network.
    await page.route((u) => u.hostname !== "localhost" && u.hostname !== "127.0.0.1", (route) => route.abort());
    await page.goto(pageURL);
    await page.waitForFunction(() => window.parley && window.parley.connected, null, { timeout: 30000 });
    console.log("CONNECTED");
    await body(page);
    code = 0;
  } catch (e) {
    console.log("FAILED:", e.message);
  } finally {
    await browser.close();
  }
  process.exit(code);
}
