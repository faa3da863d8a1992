// Tauri hardening stays proven: the app's CSP, capabilities, plugins and built frontend
// are compared with what is allowed today, written out below. Narrowing passes; any
// widening (a new plugin, a permission, a window, a remote origin, 'unsafe-inline' or
// 'unsafe-eval' for scripts, a looser frame or connect source) fails and names itself,
// so loosening the app is a visible diff of this file. No build or app is needed except
// for the built frontend (ui/dist) and, when present, the capabilities the last build
// resolved (src-tauri/gen/schemas).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { repo } from "../harness/util.mjs";

// ---- Today's allowed surface -------------------------------------------------------

/** Each CSP directive and the sources it may hold (a subset is fine). */
const ALLOWED_CSP = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  // Svelte sets inline styles; scripts stay 'self' only.
  "style-src": ["'self'", "'unsafe-inline'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  // Tauri's IPC, nothing else: the UI never talks HTTP (the engine does).
  "connect-src": ["ipc:", "http://ipc.localhost"],
  // data: frames only, so content documents can replace each other (ContentFrame.svelte).
  "frame-src": ["'self'", "data:"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'none'"],
};
/** Directives that must stay: without them the browser falls back to something wider (or to nothing). */
const REQUIRED_DIRECTIVES = ["default-src", "script-src", "object-src", "base-uri", "form-action", "frame-src", "connect-src"];
/** The only sources a new directive may have. */
const NEW_DIRECTIVE_SOURCES = ["'none'", "'self'"];

/** app.security, apart from the CSP: the prototype stays frozen, nothing else is set. */
const ALLOWED_SECURITY = { freezePrototype: true };
/** The one window and the keys it may set (no url: it loads the bundled frontend). */
const ALLOWED_WINDOWS = { main: ["label", "title", "width", "height", "minWidth", "minHeight"] };
/** Capability files, with their windows and permissions. */
const ALLOWED_CAPABILITIES = {
  default: { windows: ["main"], permissions: ["core:event:allow-listen", "core:event:allow-unlisten"] },
};
/** Tauri plugins: crates named tauri-plugin-*, and what src-tauri/src initializes. */
const ALLOWED_PLUGINS = ["tauri-plugin-single-instance", "tauri-plugin-window-state"];
/** Features of the tauri crate (protocol-asset, devtools or a remote-URL feature would widen). */
const ALLOWED_TAURI_FEATURES = ["image-png", "tray-icon"];

// ---- Reading the app ---------------------------------------------------------------

const read = (file) => fs.readFileSync(path.join(repo, file), "utf8");
const conf = JSON.parse(read("src-tauri/tauri.conf.json"));

/** The CSP as {directive: [sources]}, from tauri.conf.json's object or string form. */
function parseCsp(csp) {
  if (typeof csp === "string") {
    return Object.fromEntries(
      csp.split(";").map((part) => part.trim()).filter(Boolean).map((part) => {
        const [name, ...sources] = part.split(/\s+/);
        return [name.toLowerCase(), sources];
      }),
    );
  }
  return Object.fromEntries(Object.entries(csp).map(([name, value]) => [name, Array.isArray(value) ? value : String(value).split(/\s+/).filter(Boolean)]));
}

/** Every way a CSP is wider than today's, as sentences. */
function cspWidenings(csp, allowed = ALLOWED_CSP) {
  const problems = [];
  for (const name of REQUIRED_DIRECTIVES) {
    if (!csp[name]) problems.push(`${name} is gone (it falls back to something wider)`);
  }
  for (const [name, sources] of Object.entries(csp)) {
    const permitted = allowed[name] ?? NEW_DIRECTIVE_SOURCES;
    for (const source of sources) {
      if (!permitted.includes(source)) problems.push(`${name} gained ${source}`);
    }
    if (/^(script-src|default-src|script-src-elem|script-src-attr|worker-src)$/.test(name)) {
      for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'wasm-unsafe-eval'", "data:", "blob:", "*"]) {
        if (sources.includes(bad)) problems.push(`${name} allows ${bad} (scripts)`);
      }
    }
    for (const source of sources) {
      const remote = /^(https?:|wss?:)?\/\/|^\*|^https?:$|^wss?:$/i.test(source) && source !== "http://ipc.localhost";
      if (remote) problems.push(`${name} allows the remote origin ${source}`);
    }
  }
  return problems;
}

function cargoDependencies(file) {
  return [...read(file).matchAll(/^([A-Za-z0-9_-]+)\s*=/gm)].map((match) => match[1]);
}

// ---- The tests ---------------------------------------------------------------------

test("the checker itself catches widenings", () => {
  const today = parseCsp(conf.app.security.csp);
  assert.deepEqual(cspWidenings(today), []);
  const wider = (change) => cspWidenings({ ...today, ...change });
  assert.match(wider({ "script-src": ["'self'", "'unsafe-inline'"] }).join(), /script-src gained 'unsafe-inline'/);
  assert.match(wider({ "connect-src": ["ipc:", "http://ipc.localhost", "https://api.example.com"] }).join(), /remote origin https:\/\/api\.example\.com/);
  assert.match(wider({ "frame-src": ["'self'", "data:", "https:"] }).join(), /frame-src gained https:/);
  assert.match(wider({ "worker-src": ["blob:"] }).join(), /worker-src gained blob:/);
  const noBase = { ...today };
  delete noBase["base-uri"];
  assert.match(cspWidenings(noBase).join(), /base-uri is gone/);
  assert.deepEqual(cspWidenings({ ...today, "img-src": ["'self'"] }), [], "narrowing passes");
});

test("the CSP in tauri.conf.json is no wider than today's", () => {
  const csp = parseCsp(conf.app.security.csp);
  assert.deepEqual(cspWidenings(csp), []);
  // devCsp would apply to `tauri dev` only, but a looser one is how a widening starts.
  if (conf.app.security.devCsp) assert.deepEqual(cspWidenings(parseCsp(conf.app.security.devCsp)), [], "devCsp");
});

test("app.security, the windows and the global Tauri object are as today", () => {
  const { csp: _csp, devCsp: _dev, ...security } = conf.app.security;
  assert.deepEqual(security, ALLOWED_SECURITY, "app.security gained or lost a setting (dangerousDisableAssetCspModification, assetProtocol, ...)");
  assert.equal(conf.app.withGlobalTauri, false, "withGlobalTauri puts window.__TAURI__ in every page");
  const windows = conf.app.windows.map((window) => window.label ?? "main");
  assert.deepEqual(windows, Object.keys(ALLOWED_WINDOWS), "the windows");
  for (const window of conf.app.windows) {
    const extra = Object.keys(window).filter((key) => !ALLOWED_WINDOWS[window.label ?? "main"].includes(key));
    assert.deepEqual(extra, [], `window ${window.label} sets ${extra.join(", ")} (a url, devtools, ...)`);
  }
  assert.equal(conf.plugins, undefined, "tauri.conf.json configures plugins");
  assert.equal(conf.build.frontendDist, "../ui/dist", "the frontend is the bundled one, not a URL");
});

test("capabilities grant no new permission, window or remote origin", () => {
  const dir = path.join(repo, "src-tauri", "capabilities");
  const files = fs.readdirSync(dir).sort();
  assert.deepEqual(files, Object.keys(ALLOWED_CAPABILITIES).map((name) => `${name}.json`), "capability files");
  for (const file of files) {
    const capability = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
    const allowed = ALLOWED_CAPABILITIES[path.basename(file, ".json")];
    assert.equal(capability.remote, undefined, `${file} lets remote URLs call commands`);
    assert.deepEqual(capability.windows, allowed.windows, `${file}: windows`);
    assert.equal(capability.webviews, undefined, `${file}: webviews`);
    const permissions = capability.permissions.map((p) => (typeof p === "string" ? p : p.identifier));
    assert.deepEqual(permissions.filter((p) => !allowed.permissions.includes(p)), [], `${file} gained permissions`);
    assert.ok(capability.permissions.every((p) => typeof p === "string"), `${file}: a scoped permission object`);
  }
  // What the last build resolved, when there was one: the same, and local only.
  const resolved = path.join(repo, "src-tauri", "gen", "schemas", "capabilities.json");
  if (fs.existsSync(resolved)) {
    for (const [name, capability] of Object.entries(JSON.parse(fs.readFileSync(resolved, "utf8")))) {
      const allowed = ALLOWED_CAPABILITIES[name];
      assert.ok(allowed, `the build resolved an unknown capability ${name}`);
      assert.equal(capability.local, true, `${name} is not local`);
      assert.equal(capability.remote, undefined, `${name} has remote URLs`);
      assert.deepEqual(capability.permissions.filter((p) => !allowed.permissions.includes(p)), [], `${name}: resolved permissions`);
    }
  }
});

test("no new Tauri plugin or tauri feature", () => {
  const declared = [...new Set([...cargoDependencies("src-tauri/Cargo.toml"), ...cargoDependencies("Cargo.toml")])]
    .filter((name) => name.startsWith("tauri-plugin-"))
    .sort();
  assert.deepEqual(declared, ALLOWED_PLUGINS, "tauri-plugin-* crates in Cargo.toml");
  const initialized = new Set();
  for (const file of fs.readdirSync(path.join(repo, "src-tauri", "src"))) {
    for (const match of read(`src-tauri/src/${file}`).matchAll(/\.plugin\(\s*([a-z_]+)::/g)) initialized.add(match[1].replaceAll("_", "-"));
  }
  assert.deepEqual([...initialized].sort(), ALLOWED_PLUGINS, "plugins src-tauri/src initializes");
  const features = /^tauri\s*=\s*\{[^}]*features\s*=\s*\[([^\]]*)\]/m.exec(read("Cargo.toml"))?.[1] ?? "";
  assert.deepEqual([...features.matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort(), ALLOWED_TAURI_FEATURES, "the tauri crate's features");
  // Dev-dependencies (tauri's `test` feature for the mock runtime) are not in the app.
  const shipped = read("src-tauri/Cargo.toml").split(/^\[/m).filter((section) => !section.startsWith("dev-dependencies]")).join("[");
  assert.doesNotMatch(shipped, /^tauri\s*=.*features/m, "src-tauri adds tauri features of its own");
  // The ACL the last build generated knows only core and these plugins' permissions.
  const acl = path.join(repo, "src-tauri", "gen", "schemas", "acl-manifests.json");
  if (fs.existsSync(acl)) {
    const pluginsWithPermissions = Object.keys(JSON.parse(fs.readFileSync(acl, "utf8"))).filter((key) => !key.startsWith("core"));
    for (const key of pluginsWithPermissions) assert.ok(ALLOWED_PLUGINS.includes(`tauri-plugin-${key}`), `the ACL has a plugin ${key}`);
  }
});

test("the built frontend loads no remote script, style or font", () => {
  const dist = path.join(repo, "ui", "dist");
  assert.ok(fs.existsSync(path.join(dist, "index.html")), "ui/dist is not built: npm --prefix ui run build (the app build does it)");
  const html = fs.readFileSync(path.join(dist, "index.html"), "utf8");
  const urls = [...html.matchAll(/<(script|link|img|iframe|meta)\b[^>]*?\s(?:src|href|content)="([^"]*)"/gi)].map((m) => ({ tag: m[1], url: m[2] }));
  const remote = urls.filter(({ url }) => /^(https?:)?\/\/|^[a-z][a-z0-9+.-]*:\/\//i.test(url));
  assert.deepEqual(remote, [], "index.html loads from another origin");
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>[^<]+<\/script>/i, "index.html has an inline script");
  const scripts = urls.filter(({ tag }) => tag.toLowerCase() === "script").map(({ url }) => url);
  assert.ok(scripts.length > 0 && scripts.every((url) => url.startsWith("/assets/")), `scripts: ${scripts}`);
  for (const file of fs.readdirSync(path.join(dist, "assets"))) {
    const text = fs.readFileSync(path.join(dist, "assets", file), "utf8");
    if (file.endsWith(".css")) {
      assert.doesNotMatch(text, /@import|url\(\s*["']?(https?:)?\/\//i, `${file} imports or loads a remote resource`);
    }
    if (file.endsWith(".js")) {
      assert.doesNotMatch(text, /\bimport\s*\(\s*["'`](https?:)?\/\/|\bfrom\s*["'](https?:)?\/\//, `${file} imports a remote module`);
      assert.doesNotMatch(text, /new\s+(Shared)?Worker\(\s*["'`](https?:)?\/\//, `${file} starts a remote worker`);
    }
  }
});
