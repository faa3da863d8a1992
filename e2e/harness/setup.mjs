// What every test file starts from: a seeded real server and the built app, signed in.
import path from "node:path";
import { adminClient } from "./admin.mjs";
import { App } from "./app.mjs";
import { ADMIN, ADMIN_PASSWORD, MODERATOR, PASSWORD, TestServer } from "./server.mjs";
import { removeTemp, tempDir } from "./util.mjs";

/**
 * Starts a server seeded with `items` items (and `seed`, more seed_demo arguments), lets
 * `prepare(server)` change it, starts the app with its own data directory (and `env`, or
 * `env(tmp)` for variables that name a place in the test's directory),
 * signs in as `username` (the seeded admin with `asAdmin`) unless `signIn` is false, and
 * waits for the first sync to drain when `synced`. `workers` runs the product's job
 * workers (db_worker, Celery and its Redis) beside the web server. `admin` adds an HTTP client signed in as the seeded admin. `stop()` ends
 * the app and the server and removes their files, also after a failed start.
 *
 * @returns {Promise<{tmp: string, server: TestServer, app: App, admin: object | null, stop: () => Promise<void>}>}
 */
export async function signedInApp(name, options = {}) {
  const {
    items = 40,
    seed = [],
    prepare,
    asAdmin = false,
    username = asAdmin ? ADMIN : MODERATOR,
    password = asAdmin ? ADMIN_PASSWORD : PASSWORD,
    env = {},
    signIn = true,
    synced = false,
    admin: withAdmin = false,
    workers = false,
  } = options;
  const tmp = tempDir(name);
  const server = new TestServer({ tmp, name, items, seed });
  const started = { tmp, server, app: null, admin: null };
  started.stop = async () => {
    await started.app?.stop();
    await server.stop();
    await server.stopWorkers();
    removeTemp(tmp);
  };
  try {
    await server.setUp({ workers });
    await prepare?.(server);
    if (withAdmin) started.admin = await adminClient(server.url);
    const appEnv = typeof env === "function" ? env(tmp) : env;
    started.app = await App.start({ serverUrl: server.url, dataDir: path.join(tmp, "app"), env: appEnv });
    if (signIn) await started.app.signIn({ serverUrl: server.url, username, password });
    if (synced) await started.app.waitForSynced();
    return started;
  } catch (error) {
    await started.stop().catch(() => {});
    throw error;
  }
}
