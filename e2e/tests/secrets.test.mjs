// Secrets stay out of every file, log and other keychain item. A moderator with a long
// random password signs in through the UI, the app syncs, decides, refreshes its access
// token (the server issues 5-second ones), decides again and signs out; then the test
// looks for the password and every token in the cache directory (SQLite file, WAL, SHM,
// logs, profiles.json), the webview's own data in HOME, the app's temp directory and
// anything written under /tmp, /var/tmp and /dev/shm during the session, the app's
// captured stdout and stderr (STEWARD_LOG=debug), and every Secret Service item.
//
// The tokens are known from a recording proxy between the app and the server: the app is
// pointed at it, so every access and refresh token the server issued to this app, and
// every Authorization header the app sent, passes through it (the server keeps only
// hashes). The refresh token may live in the app's own keychain item while signed in
// (the test checks it does, which also proves the keychain dump works); after sign-out
// not even there.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { App, withScreenshotOnFailure } from "../harness/app.mjs";
import { dumpKeychain } from "../harness/keychain.mjs";
import { TestServer } from "../harness/server.mjs";
import { removeTemp, repo, sleep, tempDir, waitFor } from "../harness/util.mjs";

const SERVICE = JSON.parse(fs.readFileSync(path.join(repo, "tauri.conf.json"), "utf8")).identifier;
const username = `secrets-${randomBytes(4).toString("hex")}`;
const password = `Pw-${randomBytes(30).toString("base64url")}`;

let tmp;
let server;
let proxy;
let proxyUrl;
let app;
const startedAt = Date.now();
/** What passed through the proxy. */
const seen = { passwordsSent: new Set(), access: new Set(), refresh: new Set(), refreshes: 0, logins: 0 };
/**
 * The accident the file log's redaction exists for, staged: once armed, the proxy answers
 * one GET /queues with a 503 whose message carries a secret-shaped value. The engine
 * logs a failed sync round with that message; every log the app writes must redact it.
 */
const probe = { armed: false, served: 0, secret: `Probe-${randomBytes(24).toString("base64url")}` };
const findings = { scanned: { files: 0, bytes: 0 }, hits: [], keychain: {}, tempWrites: [], places: [] };

/** A pass-through proxy to the server that notes the secrets crossing it. */
function startProxy(target) {
  const upstreamPort = new URL(target).port;
  return http.createServer((request, response) => {
    const route = request.url.split("?")[0];
    if (probe.armed && request.method === "GET" && route.endsWith("/queues")) {
      probe.armed = false;
      probe.served += 1;
      response.writeHead(503, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ code: "unavailable", message: `upstream said password=${probe.secret} Authorization: Bearer ${probe.secret}`, fields: {} }));
      request.resume();
      return;
    }
    const auth = /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? "");
    if (auth) seen.access.add(auth[1]);
    const upstream = http.request(
      { host: "127.0.0.1", port: upstreamPort, method: request.method, path: request.url, headers: { ...request.headers, host: `127.0.0.1:${upstreamPort}` } },
      (answer) => {
        if (!/\/auth\/(login|refresh)$/.test(route)) {
          response.writeHead(answer.statusCode, answer.headers);
          answer.pipe(response);
          return;
        }
        const chunks = [];
        answer.on("data", (chunk) => chunks.push(chunk));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          try {
            const json = JSON.parse(body.toString("utf8"));
            if (json.access_token) seen.access.add(json.access_token);
            if (json.refresh_token) seen.refresh.add(json.refresh_token);
            if (answer.statusCode === 200) route.endsWith("login") ? seen.logins++ : seen.refreshes++;
          } catch {
            // Not JSON: an error page; nothing to note.
          }
          response.writeHead(answer.statusCode, answer.headers);
          response.end(body);
        });
      },
    );
    upstream.on("error", () => response.destroy());
    response.on("close", () => upstream.destroy());
    const sent = [];
    request.on("data", (chunk) => sent.push(chunk));
    request.on("end", () => {
      if (route.endsWith("/auth/login")) {
        const body = JSON.parse(Buffer.concat(sent).toString("utf8") || "{}");
        if (body.password) seen.passwordsSent.add(body.password);
      }
      if (route.endsWith("/auth/refresh") || route.endsWith("/auth/logout")) {
        const body = JSON.parse(Buffer.concat(sent).toString("utf8") || "{}");
        if (body.refresh_token) seen.refresh.add(body.refresh_token);
      }
    });
    request.pipe(upstream);
  });
}

/** The byte patterns that would give a secret away: whole, its random part's ends, and common encodings. */
function needles() {
  const secrets = [
    ["password", password],
    ["redaction probe", probe.secret],
    ...[...seen.access].map((token) => ["access token", token]),
    ...[...seen.refresh].map((token) => ["refresh token", token]),
  ];
  const list = [];
  for (const [kind, secret] of secrets) {
    const random = secret.replace(/^[A-Za-z]+[-_]/, "");
    const forms = new Set([secret, random.slice(0, 16), random.slice(-16), encodeURIComponent(secret), Buffer.from(secret).toString("base64")]);
    for (const form of forms) {
      list.push({ kind, form, bytes: Buffer.from(form, "utf8") });
      list.push({ kind, form: `${form} (UTF-16)`, bytes: Buffer.from(form, "utf16le") });
    }
  }
  return list;
}

function scanBuffer(where, buffer, patterns) {
  findings.scanned.files += 1;
  findings.scanned.bytes += buffer.length;
  for (const { kind, form, bytes } of patterns) {
    if (buffer.indexOf(bytes) !== -1) findings.hits.push({ where, kind, form: form.slice(0, 6) + "…" });
  }
}

/** Every regular file under `dir` (at most `depth` levels, files under 64 MB), optionally only those changed since the session began. */
function filesUnder(dir, { depth = 8, since = 0, skip = [] } = {}) {
  const out = [];
  const walk = (current, level) => {
    let entries;
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (skip.some((prefix) => full.startsWith(prefix))) continue;
      if (entry.isDirectory() && level < depth) walk(full, level + 1);
      if (!entry.isFile()) continue;
      try {
        const stat = fs.statSync(full);
        if (stat.size < 64 * 1024 * 1024 && Math.max(stat.mtimeMs, stat.ctimeMs) >= since) out.push(full);
      } catch {
        // Gone since the listing.
      }
    }
  };
  walk(dir, 0);
  return out;
}

function scanFiles(label, files, patterns) {
  findings.places.push({ label, files: files.length });
  for (const file of files) {
    let buffer;
    try {
      buffer = fs.readFileSync(file);
    } catch {
      continue;
    }
    scanBuffer(`${label}: ${file}`, buffer, patterns);
  }
}

async function scanKeychain(label, { exceptOwn }) {
  const items = await dumpKeychain();
  const patterns = needles();
  // This app's item names this test's user ("<profile>:<user>@<server>"); items of
  // Steward's that other tests in the same keychain session left are other items here.
  const isOwn = (item) => item.attributes.service === SERVICE && JSON.stringify(item.attributes).includes(`:${username}@`);
  const own = items.filter(isOwn);
  const others = items.filter((item) => !isOwn(item));
  findings.keychain[label] = { items: items.length, own: own.length, others: others.length };
  assert.ok(others.length >= 1, "the dump shows the other application's item");
  for (const item of exceptOwn ? others : items) {
    scanBuffer(`keychain ${label}: ${JSON.stringify(item.attributes)}`, Buffer.concat([item.secret, Buffer.from(JSON.stringify(item.attributes))]), patterns);
  }
  return own;
}

const appDir = () => path.join(tmp, "app");
const appTmp = () => path.join(tmp, "app-tmp");
const output = () => path.join(tmp, "app-output.log");

before(async () => {
  tmp = tempDir("secrets");
  fs.mkdirSync(appTmp());
  server = new TestServer({ tmp, name: "secrets", items: 20, env: { STEWARD_ACCESS_TOKEN_TTL: "5" } });
  await server.setUp();
  server.shell(
    [
      "from django.contrib.auth import get_user_model",
      "from django.contrib.auth.models import Group",
      `user = get_user_model().objects.create_user(${JSON.stringify(username)}, password=${JSON.stringify(password)}, is_staff=True)`,
      "user.groups.add(Group.objects.get(name='moderator'))",
    ].join("\n"),
  );
  // Another application's item, so the dump of other services has something to show.
  const decoy = execFile("secret-tool", ["store", "--label=decoy", "service", "other.example", "username", "someone"]);
  decoy.stdin.end(`decoy-${randomBytes(8).toString("hex")}`);
  await new Promise((resolve, reject) => decoy.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`secret-tool store exited with ${code}`)))));
  proxy = startProxy(server.url);
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
  // TMPDIR of its own: whatever the app puts in "the temp directory" is seen here; a
  // fixed name in it would be a fixed path in everyone's /tmp.
  app = await App.start({ serverUrl: proxyUrl, dataDir: appDir(), output: output(), env: { STEWARD_LOG: "debug", TMPDIR: appTmp() } });
});

after(async () => {
  await app?.stop();
  await server?.stop();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve()));
  proxy?.closeAllConnections?.();
  if (findings.hits.length === 0) removeTemp(tmp);
  else console.log(`# kept ${tmp} for the hits above`);
});

const onSignInScreen = () => app.browser.execute(() => document.querySelector('[data-testid="signin-submit"]') !== null);

test("a full session leaves the password and the tokens nowhere", withScreenshotOnFailure(() => app, "secrets", async () => {
  // Sign in through the UI, sync, act.
  await app.signIn({ serverUrl: proxyUrl, username, password });
  assert.deepEqual([...seen.passwordsSent], [password], "the app sent the password through the proxy");
  await app.waitForSynced();
  // Asked of the database: an HTTP client's access token would expire every 5 s too.
  // (The shell may print a line of its own first: the count is the last line.)
  const decisionsOn = (id) => Number(server.shell(`from steward.models import Decision; print(Decision.objects.filter(item_id=${id}).count())`).split("\n").at(-1));
  const decide = async (key) => {
    const id = await app.currentItemId();
    await app.keys(key);
    await waitFor(`the decision on ${id} on the server`, () => decisionsOn(id) === 1, 60_000, 500);
  };
  await decide("a");

  // Refresh: the access token lives 5 s; make the app use it again after that.
  await sleep(6_000);
  await (await app.$("sync-now")).click();
  await waitFor("a token refresh", () => seen.refreshes >= 1, 60_000, 200);
  await decide("a");
  assert.ok(seen.access.size >= 2 && seen.refresh.size >= 2, `tokens seen: ${seen.access.size} access, ${seen.refresh.size} refresh`);

  // A failed sync round whose error message carries a secret: logged, and redacted.
  probe.armed = true;
  await (await app.$("sync-now")).click();
  await waitFor("the probe served", () => probe.served === 1, 30_000, 100);
  await waitFor("the failed round in the app's output", () => fs.readFileSync(output(), "utf8").includes("sync round failed"), 15_000, 200);

  // While signed in: the own keychain item holds the newest refresh token, nothing else does.
  const own = await scanKeychain("signed in", { exceptOwn: true });
  assert.equal(own.length, 1, "one keychain item of Steward's while signed in");
  assert.ok(seen.refresh.has(own[0].secret.toString("utf8")), "Steward's keychain item holds a refresh token the server issued");
  assert.ok(!seen.access.has(own[0].secret.toString("utf8")), "the keychain holds an access token");
  // The cache while the app runs: the WAL holds the latest writes now, not after a checkpoint.
  scanFiles("data dir (running)", filesUnder(appDir()), needles());

  // Sign out.
  await (await app.$("sign-out")).click();
  await waitFor("the sign-in screen", onSignInScreen, 30_000, 200);
  const ownAfter = await scanKeychain("signed out", { exceptOwn: false });
  assert.equal(ownAfter.length, 0, "Steward's keychain item is gone after sign-out");
  await app.stop();
  app = null;

  // Everything the session could have written, with every secret the proxy saw.
  const patterns = needles();
  scanFiles("data dir", filesUnder(appDir()), patterns);
  scanFiles("app temp dir", filesUnder(appTmp()), patterns);
  scanFiles("app stdout and stderr", [output()], patterns);
  const home = os.homedir();
  const homeIsSession = home.startsWith(os.tmpdir());
  const homeFiles = homeIsSession
    ? filesUnder(home, { skip: [tmp] })
    : [path.join(home, ".local", "share", SERVICE), path.join(home, ".cache", SERVICE), path.join(home, ".local", "share", "keyrings")].flatMap((dir) => filesUnder(dir));
  scanFiles(homeIsSession ? "HOME (the session's)" : "HOME (webview data, keyrings)", homeFiles, patterns);
  for (const dir of ["/tmp", "/var/tmp", "/dev/shm"]) {
    scanFiles(`${dir}, changed during the session`, filesUnder(dir, { since: startedAt, skip: [tmp] }), patterns);
  }

  // What the app wrote to its temp directory, and what appeared under /tmp with Steward's
  // name on it (the harness's own steward-e2e-* and steward-session.* directories aside).
  findings.tempWrites = filesUnder(appTmp()).map((file) => path.relative(appTmp(), file));
  // (Names with a random part, as mktemp makes them, are not predictable: other test runs
  // on this machine make those.)
  const shared = fs.readdirSync("/tmp").filter((name) => /steward|tauri|tray-icon/i.test(name) && !/^steward-(e2e-|session\.)/.test(name) && !/[.-][A-Za-z0-9]{6,}$/.test(name))
    .filter((name) => Math.max(fs.statSync(path.join("/tmp", name)).mtimeMs, fs.statSync(path.join("/tmp", name)).ctimeMs) >= startedAt);

  // The scans looked at something real: the log file and the captured stderr have lines.
  const logs = filesUnder(appDir()).filter((file) => /steward.*\.log/.test(path.basename(file)));
  const probeInFile = logs.some((file) => /sync round failed.*password=<redacted>/.test(fs.readFileSync(file, "utf8")));
  const captured = fs.readFileSync(output(), "utf8");
  const report = {
    test: "e2e/tests/secrets.test.mjs",
    date: new Date().toISOString(),
    secrets: { password: 1, accessTokens: seen.access.size, refreshTokens: seen.refresh.size, refreshes: seen.refreshes, logins: seen.logins },
    scanned: findings.scanned,
    places: findings.places,
    keychain: findings.keychain,
    logLines: logs.reduce((sum, file) => sum + fs.readFileSync(file, "utf8").split("\n").length - 1, 0),
    capturedOutputLines: captured.split("\n").length - 1,
    redactionProbe: {
      served: probe.served,
      redactedInFileLog: probeInFile,
      redactedInCapturedOutput: /sync round failed.*password=<redacted>/.test(captured),
      inCapturedOutput: captured.includes(probe.secret),
    },
    appTempWrites: findings.tempWrites,
    sharedTmpEntries: shared,
    hits: findings.hits,
  };
  const file = path.join(repo, "bench", "results", `secrets-${new Date().toISOString().slice(0, 10)}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
  console.log(`# secrets: ${JSON.stringify({ ...report, places: undefined, hits: report.hits.length })}`);
  for (const hit of findings.hits) console.log(`# HIT ${hit.kind} (${hit.form}) in ${hit.where}`);

  assert.ok(report.logLines > 0, "the app's log file is empty: the scan proves nothing");
  assert.match(captured, /steward_(engine|app|client|store)/, "the captured output has no line of the app's: the scan proves nothing");
  assert.ok(probeInFile, "the file log has no redacted line for the probe: the probe proves nothing");
  assert.match(captured, /sync round failed.*password=<redacted>/, "stderr has no redacted line for the probe");
  assert.deepEqual(findings.hits, [], "a secret was found");
  // Nothing in the temp directory: the tray's image goes to the data directory (without
  // XDG_RUNTIME_DIR the tray crate would otherwise use a fixed name in the shared /tmp).
  const KNOWN_TEMP_WRITES = [];
  assert.deepEqual(findings.tempWrites, KNOWN_TEMP_WRITES, "the app wrote into the temp directory (a fixed name there is a fixed path in a shared /tmp)");
  assert.deepEqual(shared, [], "new entries with Steward's name in /tmp");
}));
