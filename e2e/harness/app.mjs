// The built Steward app under tauri-driver (WebKitWebDriver), one session per test file.
//
// data-testid scheme used by the UI (ui/src/lib/shell, ui/src/lib/triage):
//   sign-in:   signin-server-url, signin-username, signin-password, signin-submit, signin-error
//   top bar:   env-badge (data-production), profile-menu, theme-toggle, open-palette, open-help
//   queues:    queue-list, queue-item (data-queue-id), queue-open-count
//   items:     item-list (the virtual scroller), item-row (data-item-id, data-index,
//              aria-current="true" on the one shown, data-checked when selected),
//              item-list-total (data-count), bulk-bar (data-count)
//   item:      item-title (data-item-id), item-content (the sandboxed iframe), show-images,
//              images-error, item-claim (data-mine), item-author, author-strikes,
//              author-history, item-reports, reason-list, reason-<code>, decision-note,
//              decide-approve|remove|escalate|ignore, decide-error, claimed-elsewhere
//   dialogs:   confirm-dialog (confirm-title, confirm-ok, confirm-cancel, confirm-production),
//              command-palette (palette-input, palette-command), shortcut-help,
//              conflicts-panel (conflict with data-item-id, conflict-mine, conflict-server,
//              conflict-decide-<action>, conflict-drop)
//   status:    status-online (data-state), status-pending (data-count), status-conflicts
//              (data-count), status-bootstrap, sync-now; toast (data-kind), toast-undo
//
// Environment (all optional): APP_BIN, TAURI_DRIVER, TAURI_DRIVER_PORT and
// TAURI_DRIVER_NATIVE_PORT (free ports by default).
import fs from "node:fs";
import path from "node:path";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { remote } from "webdriverio";
import { artifacts, freePort, repo, waitFor } from "./util.mjs";
import { MODERATOR, PASSWORD } from "./server.mjs";

const application = path.resolve(repo, process.env.APP_BIN ?? "target/debug/steward");
const tauriDriverBin = process.env.TAURI_DRIVER ?? path.join(repo, ".tools", "bin", "tauri-driver");

// A second Steward on the same session bus hands over to the first and exits
// (tauri-plugin-single-instance); WebKitWebDriver then waits for its browser forever.
// So no test may leave an app behind, and none may start while one runs.
const identifier = JSON.parse(fs.readFileSync(path.join(repo, "tauri.conf.json"), "utf8")).identifier;
export const SINGLE_INSTANCE_NAME = `${identifier}.SingleInstance`;

/** The pid of the Steward that owns this session bus's single-instance name, or null. */
export async function runningInstance() {
  try {
    const { stdout } = await promisify(execFile)("dbus-send", [
      "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
      "org.freedesktop.DBus.GetConnectionUnixProcessID", `string:${SINGLE_INSTANCE_NAME}`,
    ]);
    return Number(/uint32 (\d+)/.exec(stdout)?.[1] ?? NaN);
  } catch (error) {
    if (/NameHasNoOwner/.test(String(error.stderr ?? error.message))) return null;
    throw error;
  }
}

// tauri-driver runs in a process group of its own, with WebKitWebDriver and the app it
// launches: a SIGTERM to tauri-driver alone leaves the app running.
const groups = new Set();
function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if (error.code !== "ESRCH") throw error;
  }
}
// A test process that dies between start and stop still takes its apps with it: on exit,
// and on the signals that end it (Ctrl+C reaches our process group, not the driver's).
process.on("exit", () => groups.forEach((pgid) => killGroup(pgid, "SIGKILL")));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    groups.forEach((pgid) => killGroup(pgid, "SIGKILL"));
    process.kill(process.pid, signal);
  });
}

/** Ends a driver's whole process group and waits until no Steward holds the bus name. */
async function endDriver(driver) {
  killGroup(driver.pid, "SIGTERM");
  const gone = () => waitFor("the app to leave the session bus", async () => (await runningInstance()) === null, 10_000, 100);
  await gone().catch(async () => {
    killGroup(driver.pid, "SIGKILL");
    await gone();
  });
  groups.delete(driver.pid);
}

export class App {
  constructor(browser, driver) {
    this.browser = browser;
    this.driver = driver;
  }

  /**
   * Starts tauri-driver and the app with its own data directory, pointed at `serverUrl`.
   * `application`: another build than APP_BIN's (bench/ui-latency compares builds).
   * `output`: a file that gets the driver's and the app's stdout and stderr (the app
   * inherits them through WebKitWebDriver); by default stderr goes to the test's.
   */
  static async start({ serverUrl, dataDir, env = {}, application: binary = application, output = null }) {
    for (const [what, file] of [["app binary (APP_BIN)", binary], ["tauri-driver (TAURI_DRIVER)", tauriDriverBin]]) {
      if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}`);
    }
    fs.mkdirSync(dataDir, { recursive: true });
    await waitFor("no other Steward on this session bus", async () => (await runningInstance()) === null, 15_000, 200).catch(async () => {
      throw new Error(`a Steward (pid ${await runningInstance()}) already runs on this session bus: a new one would hand over to it and exit`);
    });
    // The capability cannot carry environment variables, and the app inherits
    // tauri-driver's environment: set them for the driver.
    // Free ports unless told otherwise, so two suites on one machine do not meet in one driver.
    const driverPort = Number(process.env.TAURI_DRIVER_PORT ?? (await freePort()));
    const nativePort = Number(process.env.TAURI_DRIVER_NATIVE_PORT ?? (await freePort()));
    const driver = spawn(tauriDriverBin, ["--port", String(driverPort), "--native-port", String(nativePort)], {
      env: { ...process.env, STEWARD_DATA_DIR: dataDir, STEWARD_SERVER_URL: serverUrl, ...env },
      stdio: output ? ["ignore", fs.openSync(output, "a"), fs.openSync(output, "a")] : ["ignore", "ignore", "inherit"],
      detached: true,
    });
    groups.add(driver.pid);
    try {
      // tauri-driver logs a harmless "Connection refused" while WebKitWebDriver starts.
      await waitFor("tauri-driver", async () => (await fetch(`http://127.0.0.1:${driverPort}/status`)).ok, 20_000, 200);
      const browser = await remote({
        hostname: "127.0.0.1",
        port: driverPort,
        logLevel: "warn",
        // Once: a session that did not come in a minute will not come (wdio retries 3 times by default).
        connectionRetryTimeout: 60_000,
        connectionRetryCount: 0,
        capabilities: { "tauri:options": { application: binary }, "wdio:enforceWebDriverClassic": true },
      });
      return new App(browser, driver);
    } catch (error) {
      await endDriver(driver);
      throw error;
    }
  }

  async stop() {
    if (this.browser) {
      const deleted = this.browser.deleteSession().catch(() => {});
      await Promise.race([deleted, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      this.browser = null;
    }
    if (this.driver) {
      await endDriver(this.driver);
      this.driver = null;
    }
  }

  $(testId) {
    return this.browser.$(`[data-testid="${testId}"]`);
  }

  /** textContent of the first match (getText is empty for spans inside buttons in WebKitWebDriver). */
  async text(selector) {
    return (await this.browser.execute((s) => document.querySelector(s)?.textContent ?? null, selector))?.trim() ?? null;
  }

  async attr(selector, name) {
    return this.browser.execute((s, n) => document.querySelector(s)?.getAttribute(n) ?? null, selector, name);
  }

  /** The id of the item on screen, or null. */
  async currentItemId() {
    const id = await this.attr('[data-testid="item-title"]', "data-item-id");
    return id === null ? null : Number(id);
  }

  async count(testId) {
    return Number((await this.attr(`[data-testid="${testId}"]`, "data-count")) ?? NaN);
  }

  /** Sends keys to the focused element (the page body while nothing else has focus). */
  async keys(...keys) {
    await this.browser.keys(keys);
  }

  /** Presses one key and waits until the item on screen is another one. */
  async pressAndWaitForNext(key, timeout = 10_000) {
    const before = await this.currentItemId();
    await this.keys(key);
    await waitFor(`the next item after pressing ${key} on ${before}`, async () => {
      const now = await this.currentItemId();
      return now !== null && now !== before ? now : null;
    }, timeout, 25);
    return this.currentItemId();
  }

  async signIn({ serverUrl, username = MODERATOR, password = PASSWORD, firstItemTimeout = 60_000 }) {
    const serverField = await this.$("signin-server-url");
    await serverField.waitForDisplayed({ timeout: 30_000 });
    await serverField.setValue(serverUrl);
    await (await this.$("signin-username")).setValue(username);
    await (await this.$("signin-password")).setValue(password);
    await (await this.$("signin-submit")).click();
    await waitFor("the first item on screen after signing in", () => this.currentItemId(), firstItemTimeout, 100);
    // Leave the keyboard to the triage screen, not to a field of the removed form.
    await this.browser.execute(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));
  }

  async waitForSynced(timeout = 60_000) {
    await waitFor("pending actions to reach the server", async () => (await this.count("status-pending")) === 0, timeout, 200);
  }

  async screenshot(name) {
    // A screenshot right after a DOM change can be stale: let two frames paint first.
    await this.browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
    // WebKitWebDriver's screenshot waits for the page's next rendering update; on a page
    // with nothing changing that can be the next clock tick (15 s here). A nearly
    // transparent pixel that changes every frame keeps updates coming while it is taken.
    await this.browser.execute(() => {
      const dot = document.createElement("div");
      dot.dataset.e2ePaint = "";
      dot.style.cssText = "position:fixed;left:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
      document.body.appendChild(dot);
      let on = false;
      const step = () => {
        if (!dot.isConnected) return;
        on = !on;
        dot.style.background = on ? "rgba(0,0,0,0.02)" : "rgba(0,0,0,0.03)";
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
    const file = path.join(artifacts, `${name}.png`);
    try {
      await this.browser.saveScreenshot(file);
    } finally {
      await this.browser.execute(() => document.querySelectorAll("[data-e2e-paint]").forEach((dot) => dot.remove())).catch(() => {});
    }
    return file;
  }

  /** Clicks the theme toggle (light -> dark -> system) until the app shows `themeName`. */
  async setTheme(themeName) {
    for (let i = 0; i < 4; i++) {
      const shown = await this.browser.execute(() => document.documentElement.dataset.theme);
      const preference = await this.browser.execute(() => localStorage.getItem("steward.theme"));
      if (shown === themeName && preference === themeName) return;
      await (await this.$("theme-toggle")).click();
    }
    throw new Error(`could not switch to the ${themeName} theme`);
  }
}

/** Wraps a test body: on failure keeps a screenshot named after the test. */
export function withScreenshotOnFailure(getApp, name, body) {
  return async (t) => {
    try {
      await body(t);
    } catch (error) {
      await getApp()?.screenshot(`failure-${name}`).catch(() => {});
      throw error;
    }
  };
}
