// Walking-skeleton end-to-end test: the real Steward app (built with
// `npm --prefix ui run tauri -- build --debug --no-bundle`), driven through tauri-driver
// and WebKitWebDriver, against a real Django server with seed data. Nothing is mocked.
//
// data-testid scheme used by the UI (ui/src/lib/components/*.svelte):
//   sign-in:   signin-server-url, signin-username, signin-password, signin-submit,
//              signin-error (with data-error-code = AppError.code), signin-reason
//   top bar:   env-badge (data-production="true" on production), sign-out
//   queues:    queue-list; each queue is data-testid="queue-item" with data-queue-id=<id>
//   items:     item-list; each row is data-testid="item-row" with data-item-id=<id>
//              (and data-pending=<action> while a local decision waits to sync)
//   detail:    item-title, item-content (the sandboxed iframe), item-author, item-reports,
//              decide-approve, decide-remove, decide-escalate, decide-ignore, decide-error
//   status:    status-bar, status-online (data-state = online|offline|syncing|unknown),
//              status-pending (data-count), status-conflicts, status-last-sync, sync-now
//
// Environment (all optional):
//   PYTHON        interpreter with the server's requirements  (default <repo>/.venv/bin/python)
//   APP_BIN       the built app                               (default <repo>/target/debug/steward)
//   TAURI_DRIVER  tauri-driver binary                         (default <repo>/.tools/bin/tauri-driver)
//   TAURI_DRIVER_PORT                                         (default 4444)
//   E2E_ADMIN_USER / E2E_ADMIN_PASSWORD  the seeded admin used to read the server's state
//                                        (default admin / e2e-pass)
// The app needs a display (Xvfb) and a Secret Service on the session bus; CI provides both.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const artifacts = path.join(repo, "e2e", "artifacts");
const python = process.env.PYTHON ?? path.join(repo, ".venv", "bin", "python");
const application = path.resolve(repo, process.env.APP_BIN ?? "target/debug/steward");
const tauriDriverBin = process.env.TAURI_DRIVER ?? path.join(repo, ".tools", "bin", "tauri-driver");
const driverPort = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
const adminUser = process.env.E2E_ADMIN_USER ?? "admin";
const adminPassword = process.env.E2E_ADMIN_PASSWORD ?? "e2e-pass";

const MODERATOR = "moderator";
const PASSWORD = "e2e-pass";

let tmp;
let serverUrl;
let server;
let driver;
let browser;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or the deadline passes. */
async function waitFor(what, probe, timeoutMs = 30_000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function serverEnv() {
  return {
    ...process.env,
    DATABASE_URL: `sqlite:///${path.join(tmp, "db.sqlite3")}`,
    DJANGO_SECRET_KEY: process.env.DJANGO_SECRET_KEY ?? "e2e-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    DJANGO_ALLOWED_HOSTS: process.env.DJANGO_ALLOWED_HOSTS ?? "127.0.0.1,localhost",
  };
}

function manage(...args) {
  execFileSync(python, [path.join("server", "manage.py"), ...args], {
    cwd: repo,
    env: serverEnv(),
    stdio: ["ignore", "inherit", "inherit"],
  });
}

async function startServer() {
  manage("migrate", "--noinput");
  manage("seed_demo", "--items", "40", "--password", PASSWORD);
  const port = await freePort();
  serverUrl = `http://127.0.0.1:${port}`;
  const log = fs.openSync(path.join(artifacts, "gunicorn.log"), "w");
  server = spawn(
    python,
    ["-m", "gunicorn", "--chdir", "server", "demo.wsgi:application",
      "--bind", `127.0.0.1:${port}`, "--workers", "2", "--no-control-socket"],
    { cwd: repo, env: serverEnv(), stdio: ["ignore", log, log] },
  );
  server.on("exit", (code, signal) => {
    if (code !== null && code !== 0) console.error(`gunicorn exited with ${code ?? signal}; see e2e/artifacts/gunicorn.log`);
  });
  // Any HTTP answer means Django is serving; without a token /queues answers 401.
  await waitFor("the Django server", async () => {
    if (server.exitCode !== null) throw new Error(`gunicorn exited with ${server.exitCode}`);
    const response = await fetch(`${serverUrl}/api/v1/queues`);
    return response.status < 500;
  });
}

async function startDriver() {
  for (const [what, file] of [["app binary (APP_BIN)", application], ["tauri-driver (TAURI_DRIVER)", tauriDriverBin]]) {
    if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}`);
  }
  // The capability cannot carry environment variables, and the app inherits
  // tauri-driver's environment: set them here, before the driver starts.
  process.env.STEWARD_DATA_DIR = fs.mkdtempSync(path.join(tmp, "app-"));
  process.env.STEWARD_SERVER_URL = serverUrl;
  driver = spawn(tauriDriverBin, ["--port", String(driverPort)], {
    env: process.env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  // tauri-driver logs a harmless "Connection refused" while WebKitWebDriver starts.
  await waitFor("tauri-driver", async () => (await fetch(`http://127.0.0.1:${driverPort}/status`)).ok, 20_000, 200);
  browser = await remote({
    hostname: "127.0.0.1",
    port: driverPort,
    logLevel: "warn",
    capabilities: {
      "tauri:options": { application },
      "wdio:enforceWebDriverClassic": true,
    },
  });
}

/** Talks to the server as the seeded admin, to check what the app really did. */
async function adminClient() {
  const response = await fetch(`${serverUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: adminUser, password: adminPassword }),
  });
  assert.equal(response.status, 200, `admin login failed: ${await response.clone().text()}`);
  const { access_token: token } = await response.json();
  return async (pathAndQuery) => {
    const reply = await fetch(`${serverUrl}/api/v1${pathAndQuery}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!reply.ok) throw new Error(`GET ${pathAndQuery} -> ${reply.status} ${await reply.text()}`);
    return reply.json();
  };
}

const byTestId = (id) => browser.$(`[data-testid="${id}"]`);

async function screenshot(name) {
  // A screenshot right after a DOM change can be stale: let two frames paint first.
  await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  await browser.saveScreenshot(path.join(artifacts, `${name}.png`));
}

before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "steward-e2e-"));
  await startServer();
  await startDriver();
});

after(async () => {
  if (browser) await browser.deleteSession().catch(() => {});
  if (driver) driver.kill();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await waitFor("gunicorn to stop", () => server.exitCode !== null || server.signalCode !== null, 10_000, 100).catch(() =>
      server.kill("SIGKILL"),
    );
  }
  if (tmp && !process.env.E2E_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
});

test("moderator signs in, approves the first item, and the server records one approval", async () => {
  try {
    await signInAndApprove();
  } catch (error) {
    // Keep what the window showed when it went wrong, for whoever reads the CI log.
    await screenshot("failure").catch(() => {});
    throw error;
  }
});

async function signInAndApprove() {
  // Sign-in screen, first with a wrong password: the error is shown and the form stays usable.
  const serverField = await byTestId("signin-server-url");
  await serverField.waitForDisplayed({ timeout: 30_000 });
  await serverField.setValue(serverUrl);
  await (await byTestId("signin-username")).setValue(MODERATOR);
  await (await byTestId("signin-password")).setValue("definitely-not-the-password");
  await (await byTestId("signin-submit")).click();

  const signinError = await byTestId("signin-error");
  await signinError.waitForDisplayed({ timeout: 30_000, timeoutMsg: "no sign-in error after a wrong password" });
  assert.match(await signinError.getText(), /wrong username or password/i);
  await screenshot("signin-error");

  await (await byTestId("signin-password")).setValue(PASSWORD);
  await (await byTestId("signin-submit")).click();

  // Main screen: pick the first queue (the UI sorts them by priority), then its first item.
  const firstQueue = await browser.$('[data-testid="queue-list"] [data-testid="queue-item"]');
  await firstQueue.waitForDisplayed({ timeout: 60_000, timeoutMsg: "no queue appeared after signing in" });
  await firstQueue.click();

  const firstRow = await browser.$('[data-testid="item-list"] [data-testid="item-row"]');
  await firstRow.waitForDisplayed({ timeout: 60_000, timeoutMsg: "the first queue shows no items" });
  const itemId = Number(await firstRow.getAttribute("data-item-id"));
  assert.ok(Number.isInteger(itemId) && itemId > 0, `bad data-item-id on the first row: ${itemId}`);
  // Address the row by id from here on: rows may re-order while the first sync lands.
  const row = await browser.$(`[data-testid="item-row"][data-item-id="${itemId}"]`);
  // textContent, not getText: WebKitWebDriver reports no visible text for spans inside a button.
  const rowTitle = (
    await browser.execute(
      (id) => document.querySelector(`[data-testid="item-row"][data-item-id="${id}"] .title`)?.textContent ?? "",
      itemId,
    )
  ).trim();
  assert.ok(rowTitle, `item ${itemId} has no title in the list`);
  await row.click();

  // Wait until the detail pane shows this very item before deciding on it.
  let seen = "nothing";
  await browser.waitUntil(
    async () => {
      const title = await byTestId("item-title");
      const shown = (await title.isExisting()) ? (await title.getText()).trim() : "<no title>";
      const current = await browser.$(`[data-testid="item-row"][data-item-id="${itemId}"]`).getAttribute("aria-current");
      seen = `title ${JSON.stringify(shown)}, row aria-current ${current}`;
      return shown === rowTitle && current === "true";
    },
    { timeout: 15_000, timeoutMsg: `item ${itemId} (${JSON.stringify(rowTitle)}) never opened in the detail pane` },
  ).catch((error) => {
    throw new Error(`${error.message}; last seen ${seen}`);
  });
  const approve = await byTestId("decide-approve");
  await approve.waitForEnabled({ timeout: 15_000 });
  await approve.click();

  // The UI moves on at once; the engine pushes the decision in the background.
  await browser.waitUntil(
    async () => {
      const row = await browser.$(`[data-testid="item-row"][data-item-id="${itemId}"]`);
      if (!(await row.isExisting())) return true;
      return (await row.getAttribute("aria-current")) !== "true";
    },
    { timeout: 15_000, timeoutMsg: "the UI did not move past the approved item" },
  );

  // The server is the judge: the item is approved, with exactly one audit event.
  const get = await adminClient();
  const item = await waitFor(`item ${itemId} approved on the server`, async () => {
    const current = await get(`/items/${itemId}`);
    return current.state === "approved" ? current : null;
  }, 60_000, 500);
  assert.equal(item.state, "approved");

  const audit = await get(`/audit?action=item.decide&target_type=item&target_id=${itemId}`);
  assert.equal(audit.results.length, 1, `expected one item.decide event, got ${JSON.stringify(audit.results)}`);
  assert.equal(audit.results[0].data.action, "approve");
  assert.equal(audit.results[0].target_id, String(itemId));

  await screenshot("after-approve");
}
