// The desktop shell around the UI: only one instance runs (a second launch hands over to
// the first and exits), and the window comes back at the size it was left at.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { App, withScreenshotOnFailure } from "../harness/app.mjs";
import { repo, waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

const application = path.resolve(repo, process.env.APP_BIN ?? "target/debug/steward");

let started;
let tmp;
let server;
let app;
let env;

before(async () => {
  // Its own config dir, where the window-state plugin keeps the window's size and place.
  started = await signedInApp("desktop-shell", { items: 10, env: (dir) => (env = { XDG_CONFIG_HOME: path.join(dir, "config") }) });
  ({ tmp, server, app } = started);
});

after(async () => {
  // The test starts the app again; the one it started last is `app`.
  await app?.stop();
  await started?.stop();
});

test("a second launch hands over to the running window and exits", withScreenshotOnFailure(() => app, "single-instance", async () => {
  const second = spawn(application, [], {
    env: { ...process.env, ...env, STEWARD_DATA_DIR: path.join(tmp, "app"), STEWARD_SERVER_URL: server.url },
    stdio: "ignore",
  });
  const code = await waitFor("the second instance to exit", () => (second.exitCode !== null ? { code: second.exitCode } : null), 20_000, 100)
    .catch((error) => {
      second.kill("SIGKILL");
      throw error;
    });
  assert.equal(code.code, 0, "the second launch exits cleanly");
  // The first one is untouched and still answers.
  assert.ok(await app.currentItemId(), "the running window still shows an item");
}));

test("the window comes back at the size it was left at", withScreenshotOnFailure(() => app, "window-state", async () => {
  await app.browser.setWindowRect(null, null, 1100, 720);
  await waitFor("the new size", async () => {
    const rect = await app.browser.getWindowRect();
    return rect.width === 1100 && rect.height === 720;
  }, 10_000, 100);
  // Closing the window saves its state; start the app again on the same config.
  await app.browser.closeWindow().catch(() => {});
  await app.stop();
  const saved = path.join(env.XDG_CONFIG_HOME, "dev.steward.desktop", ".window-state.json");
  await waitFor(`the window state in ${saved}`, () => fs.existsSync(saved), 10_000, 100);
  const state = JSON.parse(fs.readFileSync(saved, "utf8"));
  assert.equal(state.main?.width, 1100, JSON.stringify(state));
  assert.equal(state.main?.height, 720, JSON.stringify(state));

  app = await App.start({ serverUrl: server.url, dataDir: path.join(tmp, "app"), env });
  await waitFor("the restored window", async () => {
    const rect = await app.browser.getWindowRect();
    return rect.width === 1100 && rect.height === 720;
  }, 20_000, 200);
}));
