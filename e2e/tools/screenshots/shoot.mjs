// SCREENSHOT HELPER, not a test and not run by `npm test`: renders the UI in Debian's
// Chromium against fake-ipc.js (a stand-in for Tauri's IPC with sample data) and writes
// PNGs at 1280x800 in light and dark. Used to produce docs/screenshots/.
//
//   npm --prefix /tmp/shots install playwright-core        # kept out of the repo's deps
//   npm --prefix ui run dev &                              # serves http://localhost:5173
//   PLAYWRIGHT_CORE=/tmp/shots/node_modules/playwright-core/index.mjs \
//     node e2e/tools/screenshots/shoot.mjs /tmp/shots/out
import path from "node:path";
import { fileURLToPath } from "node:url";
const { chromium } = await import(process.env.PLAYWRIGHT_CORE ?? "playwright-core");
const here = path.dirname(fileURLToPath(import.meta.url));
import fs from "node:fs";
const out = process.argv[2] || "/tmp/shots/out";
fs.mkdirSync(out, { recursive: true });
const browser = await chromium.launchPersistentContext(fs.mkdtempSync("/tmp/steward-shots-profile-"), {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const fake = fs.readFileSync(path.join(here, "fake-ipc.js"), "utf8");
async function page(scheme, scenario) {
  const p = await browser.newPage();
  await p.emulateMedia({ colorScheme: scheme });
  p.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log(`[${scenario}/${scheme}] ${m.type()}: ${m.text()}`); });
  p.on("pageerror", (e) => console.log(`[${scenario}/${scheme}] pageerror: ${e.message}`));
  await p.addInitScript(fake);
  await p.goto(`http://localhost:5173/?scenario=${scenario}`);
  return p;
}
const settle = (p) => p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
for (const scheme of ["light", "dark"]) {
  const p = await page(scheme, "signin");
  await p.getByTestId("signin-username").fill("moderator");
  await p.getByTestId("signin-password").fill("wrong");
  await p.getByTestId("signin-submit").click();
  await p.getByTestId("signin-error").waitFor();
  await settle(p);
  await p.screenshot({ path: `${out}/signin-${scheme}.png` });
  await p.getByTestId("signin-password").fill("e2e-pass");
  await p.getByTestId("signin-submit").click();
  await p.getByTestId("item-title").waitFor();
  await p.close();
  for (const scenario of ["main", "production"]) {
    const m = await page(scheme, scenario);
    await m.getByTestId("item-title").waitFor();
    await settle(m);
    await m.screenshot({ path: `${out}/${scenario}-${scheme}.png` });
    if (scenario === "main") {
      const first = await m.getByTestId("item-title").textContent();
      await m.keyboard.press("a");
      await m.waitForFunction((t) => document.querySelector('[data-testid="item-title"]')?.textContent !== t, first);
      await m.keyboard.press("j");
      await settle(m);
      await m.waitForTimeout(200);
      await m.screenshot({ path: `${out}/after-decide-${scheme}.png` });
      const frame = await m.locator('[data-testid="item-content"]').evaluate((f) => ({ sandbox: f.getAttribute("sandbox"), srcdocStart: f.getAttribute("srcdoc").slice(0, 120) }));
      console.log(JSON.stringify(frame));
    } else {
      await m.keyboard.press("r");
      await settle(m);
      await m.screenshot({ path: `${out}/prod-confirm-${scheme}.png` });
    }
    await m.close();
  }
}
await browser.close();
console.log("ok");
