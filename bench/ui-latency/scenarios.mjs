// Issue 16's scenarios in the real app, each beside its baseline in the same run:
//
// - triage: key press to next item painted (j, and a = approve and next), against (a)
//   a Django admin action round trip for one item (bench/py/admin_side.py action) and
//   (b) a floor in the same webview: a raw innerHTML swap of the same item view's markup
//   (its content inlined, no frames), timed to painted the same way (the next animation
//   frame, then a zero-delay timer). Goals: p95 at most 1.0x the floor, at least 10x
//   faster than the admin round trip.
// - audit-search-ui: a key in the audit screen's search field to the list painted
//   (ui/src/lib/shared/perf.ts, AUDIT_SEARCH_MEASURE), Enter and the typing pause,
//   against the admin changelist search for the same words. Goal: at least 50x.
// - memory-start: PSS of the app and its WebKit processes after the first download, and
//   cold start to the first painted queue, against a minimal Tauri app (bench/minimal-app)
//   started and measured the same way. Goals: at most 100 MB over it; start at most 2.5x.
//
// The sides alternate (A B A B) in rounds. Runs under scripts/scale-stack.sh (the server
// on PostgreSQL, seeded) inside scripts/with-desktop-session.sh; scripts/bench.sh runs it.
//
//   node bench/ui-latency/scenarios.mjs [--quick] [--only triage,audit,memory]
//
// Environment: STEWARD_STACK_WEB_URLS, DATABASE_URL and SCALE_PASSWORD (from the stack),
// APP_BIN (default target/debug/steward), MINIMAL_APP_BIN (default
// target/debug/steward-minimal-app), BENCH_ROUNDS, and the e2e harness's variables.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { App } from "../../e2e/harness/app.mjs";
import { removeTemp, repo, sleep, tempDir, waitFor } from "../../e2e/harness/util.mjs";
import { processesOf, pss, startedAt } from "./procs.mjs";
import { Report, median, percentile, row, spread } from "./report.mjs";

const run = promisify(execFile);
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = new Set((args.includes("--only") ? args[args.indexOf("--only") + 1] : "triage,audit,memory").split(","));

const base = (process.env.STEWARD_STACK_WEB_URLS ?? "").split(",")[0];
if (!base) throw new Error("run under scripts/scale-stack.sh: STEWARD_STACK_WEB_URLS is not set");
const password = process.env.SCALE_PASSWORD ?? "admin-demo";
const appBin = path.resolve(repo, process.env.APP_BIN ?? "target/debug/steward");
const minimalBin = path.resolve(repo, process.env.MINIMAL_APP_BIN ?? "target/debug/steward-minimal-app");
const python = path.join(repo, ".venv/bin/python");
const adminSide = path.join(repo, "bench/py/admin_side.py");
const wordsFile = path.join(repo, "bench/words/audit.txt");
const words = fs.readFileSync(wordsFile, "utf8").split("\n").map((w) => w.trim()).filter(Boolean);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 2 : 4));
const MOVES = quick ? 20 : 75; // j presses per round
const DECISIONS = quick ? 10 : 40; // a presses per round
const SWAPS = quick ? 20 : 75; // floor swaps per round
const ADMIN_ACTIONS = quick ? 3 : 10; // admin round trips per round
const STARTS = quick ? 2 : 5; // cold starts per side
const PACE_MS = 125; // the fastest human triage (bench/README.md)

const admin = { token: null };
async function api(pathAndQuery) {
  if (!admin.token) {
    const answer = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password }),
    });
    admin.token = (await answer.json()).access_token;
  }
  const answer = await fetch(`${base}/api/v1/${pathAndQuery}`, { headers: { authorization: `Bearer ${admin.token}` } });
  if (!answer.ok) throw new Error(`GET ${pathAndQuery}: HTTP ${answer.status}`);
  return answer.json();
}

async function django(script) {
  const { stdout } = await run(python, ["manage.py", "shell", "-c", script], {
    cwd: path.join(repo, "server"),
    env: { ...process.env, DJANGO_SETTINGS_MODULE: "demo.settings" },
    maxBuffer: 1 << 24,
  });
  return stdout.trim().split("\n").at(-1);
}

async function adminSideRun(command, extra) {
  const { stdout } = await run(python, [adminSide, command, "--url", base, "--username", "admin", "--password", password, "--timeout", "600", ...extra], {
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout);
}

// ---- the app ------------------------------------------------------------------------

async function startApp(dataDir, application = appBin) {
  return App.start({ serverUrl: base, dataDir, application });
}

/** Signs in as admin and waits until no collection downloads and the counts hold still. */
async function signInAndBootstrap(app) {
  const started = Date.now();
  await app.signIn({ serverUrl: base, username: "admin", password, firstItemTimeout: 30 * 60_000 });
  let last = -1;
  let stableSince = Date.now();
  await waitFor("the first download to finish", async () => {
    const downloading = await app.browser.execute(() => Boolean(document.querySelector('[data-testid="status-bootstrap"]')));
    const total = await app.count("item-list-total");
    if (total !== last || downloading) {
      last = total;
      stableSince = Date.now();
      return false;
    }
    return Date.now() - stableSince > 3_000;
  }, 60 * 60_000, 500);
  return (Date.now() - started) / 1000;
}

/** One key, then one in-page wait for its next-item measure (no WebDriver polling meanwhile). */
async function press(app, key) {
  const before = await app.currentItemId();
  await app.keys(key);
  const shown = await app.browser.executeAsync((name, previous, done) => {
    const current = () => Number(document.querySelector('[data-testid="item-title"]')?.dataset.itemId ?? NaN);
    const measured = () => performance.getEntriesByName(name).at(-1)?.detail === String(current());
    if (current() !== previous && measured()) return done(current());
    const observer = new PerformanceObserver(() => {
      if (current() !== previous && measured()) {
        observer.disconnect();
        clearTimeout(timer);
        done(current());
      }
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      done(null);
    }, 10_000);
    observer.observe({ type: "measure" });
  }, "steward:next-item", before);
  if (shown === null) throw new Error(`no next item measured after pressing ${key} on item ${before}`);
}

async function pressMany(app, key, count) {
  await app.browser.execute(() => performance.clearMeasures("steward:next-item"));
  for (let i = 0; i < count; i++) {
    const began = Date.now();
    await press(app, key);
    await sleep(Math.max(0, PACE_MS - (Date.now() - began)));
  }
  return app.browser.execute(() => performance.getEntriesByName("steward:next-item").map((m) => m.duration));
}

/**
 * The floor: the item view's markup as the app drew it for two items, each content frame
 * replaced by that item's content inline, swapped into the same place with innerHTML
 * one every PACE_MS, each timed from the assignment to the timer after the next frame.
 */
async function floorSwaps(app, count) {
  const markups = [];
  for (let i = 0; i < 2; i++) {
    const id = await app.currentItemId();
    const item = await api(`items/${id}`);
    const body = item.content.body_html;
    const markup = await app.browser.execute((content) => {
      const view = document.querySelector('section.detail[aria-label="Item"]');
      const clone = view.cloneNode(true);
      for (const frame of clone.querySelectorAll("iframe")) {
        const inline = document.createElement("div");
        inline.className = frame.className;
        inline.innerHTML = content;
        frame.replaceWith(inline);
      }
      return clone.innerHTML;
    }, body);
    markups.push(markup);
    await press(app, "j");
  }
  return app.browser.executeAsync((markups, count, pace, done) => {
    const view = document.querySelector('section.detail[aria-label="Item"]');
    const host = view.cloneNode(false);
    view.style.display = "none";
    view.after(host);
    const durations = [];
    let n = 0;
    const swap = () => {
      const start = performance.now();
      host.innerHTML = markups[n % 2];
      requestAnimationFrame(() =>
        setTimeout(() => {
          durations.push(performance.now() - start);
          if (++n < count) setTimeout(swap, Math.max(0, pace - (performance.now() - start)));
          else {
            host.remove();
            view.style.display = "";
            done(durations);
          }
        }, 0),
      );
    };
    swap();
  }, markups, count, PACE_MS);
}

async function adminActions(queueId, count) {
  const ids = JSON.parse(
    await django(
      "import json\nfrom steward.models import Item\n" +
        `print(json.dumps(list(Item.objects.filter(state='open', queue_id=${queueId}).order_by('-pk').values_list('pk', flat=True)[:${count}])))`,
    ),
  );
  const answer = await adminSideRun("action", ["--item-ids", ids.join(","), "--action", "approve", "--changelist-query", `state__exact=open&queue__id__exact=${queueId}`]);
  if (answer.verified !== ids.length) throw new Error(`the admin decided ${answer.verified} of ${ids.length} items: ${JSON.stringify(answer)}`);
  return answer.samples_ms;
}

async function triage(app, items) {
  const report = new Report("triage", quick);
  const shownQueue = (await api(`items/${await app.currentItemId()}`)).queue;
  // The admin decides in another queue than the one on screen, so neither side meets the other's items.
  const all = (await api("queues")).results.map((q) => q.id);
  const adminQueue = all.find((id) => id !== shownQueue) ?? shownQueue;
  for (let i = 0; i < 20; i++) await press(app, "j"); // warm up
  const sides = { j: [], a: [], floor: [], admin: [] };
  const ratios = { floor: [], admin: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const got = {};
    const steps = [
      async () => {
        got.j = await pressMany(app, "j", MOVES);
        got.a = await pressMany(app, "a", DECISIONS);
      },
      async () => (got.floor = await floorSwaps(app, SWAPS)),
      async () => (got.admin = await adminActions(adminQueue, ADMIN_ACTIONS)),
    ];
    // A B C, then C B A: no side always runs first.
    for (const step of round % 2 ? steps.reverse() : steps) await step();
    const ours = [...got.j, ...got.a];
    ratios.floor.push(percentile(got.floor, 95) / percentile(ours, 95));
    ratios.admin.push(median(got.admin) / median(ours));
    console.log(`round ${round}: app p95 ${percentile(ours, 95).toFixed(1)} ms, floor p95 ${percentile(got.floor, 95).toFixed(1)} ms, admin p50 ${median(got.admin).toFixed(0)} ms`);
    for (const key of Object.keys(sides)) sides[key].push(...got[key]);
  }
  const ours = [...sides.j, ...sides.a];
  report.add(row({
    name: `key press to next item painted, p95 (${items} items cached, j and a, one every ${PACE_MS} ms)`,
    steward: percentile(ours, 95),
    baselineName: "floor: raw innerHTML swap of the same item view, same webview, same paint timing",
    baseline: percentile(sides.floor, 95),
    unit: "ms",
    goalRatio: 1.0,
    goal: "p95 at most 1.0x the floor",
    roundRatios: ratios.floor,
  }));
  report.add(row({
    name: `key press to next item painted, p50 (${items} items cached)`,
    steward: median(ours),
    baselineName: "Django admin action round trip for one item (POST, redirect, changelist rendered)",
    baseline: median(sides.admin),
    unit: "ms",
    goalRatio: 10,
    goal: "at least 10x faster than the admin round trip",
    roundRatios: ratios.admin,
  }));
  report.add(row({
    name: `key press to next item painted, p95 (${items} items cached)`,
    steward: percentile(ours, 95),
    baselineName: "Django admin action round trip for one item, p95",
    baseline: percentile(sides.admin, 95),
    unit: "ms",
    goalRatio: 10,
  }));
  Object.assign(report.extra, {
    items_cached: items,
    pace_ms: PACE_MS,
    rounds: ROUNDS,
    samples: { j: sides.j.length, a: sides.a.length, floor: sides.floor.length, admin: sides.admin.length },
    ms: {
      j: { p50: median(sides.j), p95: percentile(sides.j, 95) },
      a: { p50: median(sides.a), p95: percentile(sides.a, 95) },
      floor: { p50: median(sides.floor), p95: percentile(sides.floor, 95), spread: spread(sides.floor) },
      admin: { p50: median(sides.admin), p95: percentile(sides.admin, 95), spread: spread(sides.admin) },
    },
    admin_queue: adminQueue,
    app_queue: shownQueue,
  });
  report.write();
}

// ---- audit search in the UI ------------------------------------------------------------

/** Types `word` in the audit search field; with `enter`, presses Enter after it. */
async function searchOnce(app, word, enter) {
  const field = await app.$("audit-search");
  await field.click();
  await app.browser.execute(() => {
    const input = document.querySelector('[data-testid="audit-search"]');
    input.value = "";
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await sleep(400); // the empty search's own answer lands and is measured apart
  await app.browser.execute((name) => performance.clearMeasures(name), "steward:audit-search");
  // Element Send Keys types each character as a key (browser.keys drops a doubled letter here).
  await field.addValue(word);
  if (enter) await app.browser.keys(["Enter"]);
  const duration = await app.browser.executeAsync((name, text, done) => {
    const found = () => performance.getEntriesByName(name).find((m) => m.detail === text);
    if (found()) return done(found().duration);
    const observer = new PerformanceObserver(() => {
      if (found()) {
        observer.disconnect();
        clearTimeout(timer);
        done(found().duration);
      }
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      done(null);
    }, 20_000);
    observer.observe({ type: "measure" });
  }, "steward:audit-search", word);
  if (duration === null) {
    const seen = await app.browser.execute(() => ({
      value: document.querySelector('[data-testid="audit-search"]')?.value,
      focused: document.activeElement?.getAttribute("data-testid"),
      measures: performance.getEntriesByName("steward:audit-search").map((m) => m.detail),
    }));
    throw new Error(`no audit search measured for ${JSON.stringify(word)}: ${JSON.stringify(seen)}`);
  }
  return duration;
}

async function auditSearchUi(app, events) {
  const report = new Report("audit-search-ui", quick);
  await (await app.$("nav-audit")).click();
  await (await app.$("audit-screen")).waitForDisplayed({ timeout: 30_000 });
  await sleep(1000);
  const enter = [];
  const paused = [];
  const theirs = [];
  const ratios = [];
  for (let round = 0; round < ROUNDS; round++) {
    const ours = { enter: [], paused: [] };
    const admin = [];
    const steps = [
      async () => {
        for (const word of words) {
          ours.enter.push(await searchOnce(app, word, true));
          ours.paused.push(await searchOnce(app, word, false));
        }
      },
      async () => admin.push(...(await adminSideRun("search", ["--words-file", wordsFile, "--queries", String(words.length)])).samples_ms),
    ];
    for (const step of round % 2 ? steps.reverse() : steps) await step();
    ratios.push(median(admin) / median(ours.enter));
    console.log(`round ${round}: Enter to painted p50 ${median(ours.enter).toFixed(1)} ms, typing pause p50 ${median(ours.paused).toFixed(1)} ms, admin p50 ${median(admin).toFixed(0)} ms`);
    enter.push(...ours.enter);
    paused.push(...ours.paused);
    theirs.push(...admin);
  }
  const baselineName = "Django admin changelist search, same words, over HTTP";
  report.add(row({ name: `audit search in the app, Enter to list painted, p50 (${events} events)`, steward: median(enter), baselineName, baseline: median(theirs), unit: "ms", goalRatio: 50, roundRatios: ratios }));
  report.add(row({ name: `audit search in the app, Enter to list painted, p95 (${events} events)`, steward: percentile(enter, 95), baselineName, baseline: percentile(theirs, 95), unit: "ms", goalRatio: 50 }));
  report.add(row({
    name: `audit search in the app, last key to list painted after the typing pause (150 ms), p50 (${events} events)`,
    steward: median(paused),
    baselineName,
    baseline: median(theirs),
    unit: "ms",
    goalRatio: 50,
  }));
  Object.assign(report.extra, { events, words, rounds: ROUNDS, enter_ms: enter, paused_ms: paused, admin_ms: theirs });
  report.write();
}

// ---- memory and cold start --------------------------------------------------------------

/** The running app's main process (the one running `binary`). */
function mainProcess(binary) {
  const found = processesOf(binary);
  if (found.length !== 1) throw new Error(`${found.length} processes run ${binary}`);
  return found[0];
}

/** Starts `binary` on `dataDir` and waits for its first-queue mark; the time from the process's start. */
async function coldStart(binary, dataDir) {
  const app = await startApp(dataDir, binary);
  try {
    const mark = await app.browser.executeAsync((done) => {
      const find = () => performance.getEntriesByName("steward:first-queue-painted")[0];
      const check = () => (find() ? done({ at: performance.timeOrigin + find().startTime }) : setTimeout(check, 20));
      check();
    });
    const pid = mainProcess(binary);
    const startMs = mark.at - startedAt(pid);
    await sleep(2000);
    return { startMs, memory: pss(pid) };
  } finally {
    await app.stop();
    await sleep(1000);
  }
}

async function memoryStart(bootstrapMemory, dataDir, tmp) {
  const report = new Report("memory-start", quick);
  const minimalDir = path.join(tmp, "minimal");
  const ours = [];
  const theirs = [];
  const ratios = [];
  for (let i = 0; i < STARTS; i++) {
    const pair = i % 2 ? [["minimal", minimalBin, minimalDir], ["steward", appBin, dataDir]] : [["steward", appBin, dataDir], ["minimal", minimalBin, minimalDir]];
    const got = {};
    for (const [side, binary, dir] of pair) got[side] = await coldStart(binary, dir);
    ours.push(got.steward);
    theirs.push(got.minimal);
    ratios.push(got.minimal.startMs / got.steward.startMs);
    console.log(`start ${i}: Steward ${got.steward.startMs.toFixed(0)} ms to its first queue, minimal app ${got.minimal.startMs.toFixed(0)} ms to its window`);
  }
  const minimalMiB = median(theirs.map((t) => t.memory.total_mib));
  report.add(row({
    name: "proportional memory (PSS) of the app and its WebKit processes after the first download",
    steward: bootstrapMemory.total_mib,
    baselineName: "minimal Tauri app (empty window, same Tauri and WebKit), after its window shows",
    baseline: minimalMiB,
    unit: "MiB",
    goal: "at most 100 MB over the minimal app",
    meets: bootstrapMemory.total_mib - minimalMiB <= 100 / 1.048576,
    over_minimal_mib: Math.round((bootstrapMemory.total_mib - minimalMiB) * 10) / 10,
  }));
  report.add(row({
    name: "cold start to the first painted queue (signed in, cache full)",
    steward: median(ours.map((o) => o.startMs)),
    baselineName: "minimal Tauri app, start to its first painted frame",
    baseline: median(theirs.map((t) => t.startMs)),
    unit: "ms",
    goalRatio: 0.4,
    goal: "at most 2.5x the minimal app's time (ratio >= 0.4)",
    roundRatios: ratios,
  }));
  Object.assign(report.extra, {
    after_bootstrap: bootstrapMemory,
    cold_start_memory: { steward: ours.map((o) => o.memory.total_mib), minimal: theirs.map((t) => t.memory.total_mib) },
    start_ms: { steward: ours.map((o) => o.startMs), minimal: theirs.map((t) => t.startMs) },
    start_resolution_ms: 10,
    minimal_processes: theirs.at(-1).memory.processes,
    app_binary: path.relative(repo, appBin),
  });
  report.write();
}

// ---- the run -------------------------------------------------------------------------

const tmp = tempDir("bench-scenarios");
const dataDir = path.join(tmp, "app");
try {
  const totals = { items: (await api("items?limit=1")).total, audit: (await api("audit?limit=1")).total };
  console.log(`server ${base}: ${totals.items} items, ${totals.audit} audit events`);
  const app = await startApp(dataDir);
  let bootstrapMemory;
  try {
    const seconds = await signInAndBootstrap(app);
    await sleep(2000);
    bootstrapMemory = pss(mainProcess(appBin));
    console.log(`the app signed in and downloaded everything in ${seconds.toFixed(0)} s; ${bootstrapMemory.total_mib} MiB PSS`);
    if (only.has("triage")) await triage(app, totals.items);
    if (only.has("audit")) await auditSearchUi(app, totals.audit);
  } catch (error) {
    await app.screenshot("bench-scenarios-failure").catch(() => {});
    throw error;
  } finally {
    await app.stop();
    await sleep(1000);
  }
  if (only.has("memory")) await memoryStart(bootstrapMemory, dataDir, tmp);
} finally {
  removeTemp(tmp);
}
