// Hostile content at volume: every payload of e2e/corpus/hostile.json becomes an item of
// its own (its body, a report's note and, when short enough, its title), and the test
// walks them with `j` in the real app. Each payload is built to give itself away: a
// script that runs sets window.__canary (here and in the parent), posts "canary:<id>" to
// the parent, asks Tauri's IPC for decide_item on its own item and for sign_out, and
// anything that loads requests the loopback canary at /<id>. For each payload the test
// checks that the canary got no request, that the flag is unset in the app window and in
// the content frame, that no message came from a frame, and that each decision button is
// what a pointer at its centre hits. At the end: still signed in, no decision on any
// corpus item in the server's audit log, and a real pointer click on Approve over the
// overlay that tries hardest to cover it decides that item. The figures go to
// bench/results/hostile-<date>.json and to the test's output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { adminClient } from "../harness/admin.mjs";
import { RealInput } from "../harness/real-input.mjs";
import { MODERATOR } from "../harness/server.mjs";
import { repo, sleep, waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

const corpus = JSON.parse(fs.readFileSync(path.join(repo, "e2e", "corpus", "hostile.json"), "utf8")).payloads;
const DECISIONS = ["approve", "remove", "escalate", "ignore"];
const frameSelector = '[data-testid="item-content"]';

let started;
let server;
let app;
let real;
let canary;
let origin;
/** Requests the canary received: the webview's, if any (the test's own control is marked). */
const hits = [];
/** Payload id -> item id, in the order the app lists them. */
const itemOf = new Map();
/** Per payload: what the checks saw. */
const results = [];

/** The script every executable payload carries (single quotes only, no spaces, no < or >). */
function script(id, url, { withItem }) {
  const parts = [
    `window.__canary='${id}'`,
    `try{parent.__canary='${id}'}catch(e){}`,
    `try{top.postMessage('canary:${id}','*')}catch(e){}`,
    `try{fetch('${url}/js')}catch(e){}`,
    "try{(window.__TAURI_INTERNALS__||parent.__TAURI_INTERNALS__).invoke('sign_out',{mode:'discard'})}catch(e){}",
  ];
  if (withItem) {
    parts.push(`try{(window.__TAURI_INTERNALS__||parent.__TAURI_INTERNALS__).invoke('decide_item',{itemId:{{ITEM}},action:'remove',reasonCode:null,note:'${id}'})}catch(e){}`);
  }
  return parts.join(";");
}

/** The payload with every placeholder but {{ITEM}} filled in (the server fills that one). */
function fill(payload, id) {
  const url = `${origin}/${id}`;
  const plain = script(id, url, { withItem: true });
  const encoded = script(id, url, { withItem: false });
  const html = `<script>${encoded}</script>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" onload="${encoded}"><script>${encoded}</script></svg>`;
  const values = {
    ID: id,
    URL: url,
    ORIGIN: origin,
    PORT: String(new URL(origin).port),
    JS: plain,
    JS_URI: encodeURIComponent(encoded),
    JS_HTML_URI: encodeURIComponent(html),
    JS_HTML_B64: Buffer.from(html).toString("base64"),
    JS_SVG_B64: Buffer.from(svg).toString("base64"),
  };
  return payload.replace(/\{\{(ID|URL|ORIGIN|PORT|JS|JS_URI|JS_HTML_URI|JS_HTML_B64|JS_SVG_B64)\}\}/g, (_, name) => values[name]);
}

before(async () => {
  canary = http.createServer((request, response) => {
    hits.push({ url: request.url, method: request.method, userAgent: request.headers["user-agent"] ?? "", control: request.headers["x-e2e-control"] === "1" });
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end("<script>window.__canary='served'</script>");
  });
  await new Promise((resolve) => canary.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${canary.address().port}`;

  const rows = corpus.map(({ id, payload }) => {
    const filled = fill(payload, id);
    // The title shows the payload as text in the item list and the header; a long one
    // gets a short probe instead (titles stop at 300 characters).
    const probe = `<img src=x onerror="window.__canary='${id}'"><script>window.__canary='${id}'</script>`;
    const title = `${id} ${filled.length <= 280 ? filled : probe}`;
    return { id, title, body: `<p>corpus ${id}</p>${filled}`, note: filled };
  });
  const prepare = (server) => {
    const file = path.join(server.tmp, "corpus-rows.json");
    fs.writeFileSync(file, JSON.stringify(rows));
    // The oldest open items of the most urgent queue, in corpus order: the first the app shows.
    const printed = server.shell(
      [
        "import json",
        "from datetime import timedelta",
        "from django.utils import timezone",
        "from steward.models import Account, Item, Queue, Report",
        `rows = json.load(open(${JSON.stringify(file)}))`,
        "queue = Queue.objects.order_by('-priority').first()",
        "author = Account.objects.order_by('id').first()",
        "start = timezone.now() - timedelta(days=365)",
        "ids = []",
        "for index, row in enumerate(rows):",
        "    at = start + timedelta(minutes=index)",
        "    item = Item.objects.create(queue=queue, author=author, title=row['title'][:300], body_html='', state='open', version=1, created_at=at, updated_at=timezone.now())",
        "    item.body_html = row['body'].replace('{{ITEM}}', str(item.pk))",
        "    item.save(update_fields=['body_html'])",
        "    Report.objects.create(item=item, reason='spam', note=row['note'].replace('{{ITEM}}', str(item.pk)), created_at=at)",
        "    ids.append(item.pk)",
        "print(json.dumps(ids))",
      ].join("\n"),
    );
    const ids = JSON.parse(printed.split("\n").at(-1));
    corpus.forEach(({ id }, index) => itemOf.set(id, ids[index]));
  };
  started = await signedInApp("hostile-corpus", { items: 10, prepare });
  ({ server, app } = started);
  real = new RealInput(app.browser);
  // Records every message the app window receives: a frame that ran a script would post one.
  await app.browser.execute(() => {
    window.__e2eMessages = [];
    window.addEventListener("message", (event) => {
      const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data);
      window.__e2eMessages.push({ origin: event.origin, data: String(data).slice(0, 200) });
    });
  });
});

after(async () => {
  await started?.stop();
  await new Promise((resolve) => canary?.close(resolve));
});

/** What a pointer at the centre of each decision button hits. */
function decisionButtonsHit() {
  return app.browser.execute((actions) =>
    actions.map((action) => {
      const button = document.querySelector(`button[data-testid="decide-${action}"]`);
      if (!button) return { action, present: false };
      const rect = button.getBoundingClientRect();
      const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
      return {
        action,
        present: true,
        onTop: hit !== null && (hit === button || button.contains(hit)),
        hit: hit ? `${hit.tagName.toLowerCase()}${hit.dataset?.testid ? `[${hit.dataset.testid}]` : ""}` : null,
        enabled: !button.disabled,
      };
    }), DECISIONS);
}

/** The flag inside the frame on screen; WebDriver may refuse to run a script in a frame that forbids scripts. */
async function flagInFrame() {
  const frame = await app.browser.$(frameSelector);
  await app.browser.switchFrame(frame).catch(() => app.browser.switchToFrame(frame));
  try {
    return await app.browser.execute(() => ({ canary: typeof window.__canary, body: document.body?.textContent?.slice(0, 80) ?? "" }));
  } catch (error) {
    return { refused: error.message.split("\n")[0] };
  } finally {
    await app.browser.switchFrame(null).catch(() => app.browser.switchToParentFrame());
    // Looking inside the frame leaves WebDriver's keyboard there; a click on the item's
    // title (plain text) gives it back to the triage screen (as in triage-keyboard).
    await (await app.$("item-title")).click();
  }
}

const appFlags = () => app.browser.execute(() => ({
  canary: typeof window.__canary,
  messages: window.__e2eMessages ?? null,
  signedIn: document.querySelector('[data-testid="signin-submit"]') === null,
}));

test("every payload of the corpus renders inert, and the decision buttons stay on top", withScreenshotOnFailure(() => app, "hostile-corpus", async () => {
  assert.ok(corpus.length >= 60, `the corpus has ${corpus.length} payloads`);
  // The detectors work: a message to the app window and a request to the canary are seen.
  await app.browser.execute(() => window.postMessage("control", "*"));
  await fetch(`${origin}/control`, { headers: { "x-e2e-control": "1" } });
  await waitFor("the control message", async () => (await appFlags()).messages.some((m) => m.data === "control"), 5_000, 50);
  assert.equal(hits.filter((hit) => hit.control).length, 1, "the canary saw the control request");

  const firstId = itemOf.get(corpus[0].id);
  await waitFor(`the first corpus item (${firstId}) on screen`, async () => (await app.currentItemId()) === firstId, 30_000, 100);
  for (const [index, { id, category }] of corpus.entries()) {
    const itemId = itemOf.get(id);
    const began = Date.now();
    if (index > 0) await app.pressAndWaitForNext("j");
    assert.equal(await app.currentItemId(), itemId, `${id}: the app shows item ${await app.currentItemId()}, not ${itemId}`);
    await waitFor(`${id} in the content frame`, async () => {
      const shown = await app.attr(frameSelector, "data-item-id");
      const doc = await app.attr(frameSelector, "data-document");
      return Number(shown) === itemId && doc?.includes(`corpus ${id}`);
    }, 10_000, 25);
    const rendered = Date.now() - began;
    const inFrame = await flagInFrame();
    const flags = await appFlags();
    const buttons = await decisionButtonsHit();
    results.push({ id, category, itemId, rendered: true, renderMs: rendered, appFlag: flags.canary, frame: inFrame, buttons, signedIn: flags.signedIn });
    assert.equal(flags.signedIn, true, `${id}: signed out`);
    assert.equal(flags.canary, "undefined", `${id}: window.__canary set in the app`);
    assert.notEqual(inFrame.canary, "string", `${id}: window.__canary set in the frame`);
    for (const button of buttons) {
      assert.ok(button.present && button.onTop && button.enabled, `${id}: decide-${button.action} is covered or gone: ${JSON.stringify(button)}`);
    }
  }
  // Give late loads, refreshes and timers the time to happen, then look again.
  await sleep(3_000);
  const flags = await appFlags();
  const fromWebview = hits.filter((hit) => !hit.control);
  const frameMessages = flags.messages.filter((message) => message.data !== "control");
  assert.deepEqual(fromWebview, [], "the canary must receive no request from the app");
  assert.deepEqual(frameMessages, [], "no frame may post to the app");
  assert.equal(flags.canary, "undefined");
  assert.equal(flags.signedIn, true);

  // No Tauri command was reached: no decision on any corpus item, each still open.
  const admin = await adminClient(server.url);
  const decided = [];
  for (const { id } of corpus) {
    const itemId = itemOf.get(id);
    const decisions = await admin.decisionsOn(itemId);
    const item = await admin.get(`/items/${itemId}`);
    if (decisions.length > 0 || item.state !== "open") decided.push({ id, itemId, state: item.state, decisions: decisions.length });
  }
  assert.deepEqual(decided, [], "a payload reached decide_item");

  // The last payload covers the whole frame with a click trap: a real pointer on Approve
  // still decides the item, as the moderator.
  const last = corpus.at(-1);
  assert.equal(last.category, "overlay");
  const lastItem = itemOf.get(last.id);
  assert.equal(await app.currentItemId(), lastItem);
  await app.screenshot("hostile-corpus-overlay");
  await real.click('button[data-testid="decide-approve"]');
  const decisions = await waitFor("the real click's decision on the server", async () => {
    const found = await admin.decisionsOn(lastItem);
    return found.length > 0 ? found : null;
  }, 60_000, 250);
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0].data.action, "approve");
  assert.equal(decisions[0].actor_username, MODERATOR);
  assert.equal((await appFlags()).canary, "undefined", "the click ran the trap's handler");

  report = figures({ decided, frameMessages, fromWebview, realClick: { payload: last.id, itemId: lastItem, decided: decisions[0].data.action } });
  writeReport();
  console.log(`# hostile corpus: ${JSON.stringify(report.totals)}`);
  for (const [category, row] of Object.entries(report.byCategory)) console.log(`# ${category}: ${JSON.stringify(row)}`);
}));

// The sanitizer removed every payload above, so the frame's own walls were never tried.
// Here they are alone: each payload, unsanitized, in a frame built as ContentFrame builds
// one (sandbox="", the content CSP first in the document), placed over the real content.
test("with the sanitizer bypassed, the sandboxed frame and its CSP alone keep every payload inert", withScreenshotOnFailure(() => app, "hostile-corpus-raw", async () => {
  const csp = /CONTENT_FRAME_CSP = "([^"]+)"/.exec(fs.readFileSync(path.join(repo, "ui", "src", "lib", "triage", "content-frame.ts"), "utf8"))[1];
  const hitsBefore = hits.length;
  const documents = corpus.map(({ id, payload }) => ({
    id,
    doc: `<!doctype html><meta http-equiv="Content-Security-Policy" content="${csp}"><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
      `<body><p>raw ${id}</p>${fill(payload, id).replaceAll("{{ITEM}}", String(itemOf.get(id)))}</body>`,
  }));
  const loaded = await app.browser.executeAsync((documents, done) => {
    const container = document.querySelector('[data-testid="item-content"]').parentElement;
    let pending = documents.length;
    for (const { id, doc } of documents) {
      const frame = document.createElement("iframe");
      frame.setAttribute("sandbox", "");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.dataset.raw = id;
      frame.style.cssText = "position:absolute;inset:0;width:100%;height:100%;border:0;background:transparent";
      frame.onload = () => --pending === 0 && done(documents.length);
      frame.srcdoc = doc;
      container.appendChild(frame);
    }
    setTimeout(() => done(documents.length - pending), 20_000);
  }, documents);
  assert.equal(loaded, corpus.length, "every raw frame loaded");
  await sleep(3_000);
  await app.screenshot("hostile-corpus-raw");

  const raw = [];
  for (const { id, category } of corpus) {
    const frame = await app.browser.$(`iframe[data-raw="${id}"]`);
    await app.browser.switchFrame(frame).catch(() => app.browser.switchToFrame(frame));
    const inside = await app.browser.execute(() => typeof window.__canary).catch((error) => `refused: ${error.message.split("\n")[0]}`);
    await app.browser.switchFrame(null).catch(() => app.browser.switchToParentFrame());
    raw.push({ id, category, frameFlag: inside });
  }
  const flags = await appFlags();
  const buttons = await decisionButtonsHit();
  const requests = hits.slice(hitsBefore).filter((hit) => !hit.control);
  const messages = flags.messages.filter((message) => message.data !== "control");
  await app.browser.execute(() => document.querySelectorAll("iframe[data-raw]").forEach((frame) => frame.remove()));

  report ??= {};
  report.sanitizerBypassed = {
    payloads: raw.length,
    canaryRequests: requests.length,
    appFlags: flags.canary === "undefined" ? 0 : 1,
    frameFlags: raw.filter((r) => r.frameFlag === "string").length,
    frameUnreadable: raw.filter((r) => r.frameFlag.startsWith("refused")).length,
    frameMessages: messages.length,
    buttonsCovered: buttons.filter((b) => !b.onTop).length,
    signedIn: flags.signedIn,
    requests,
  };
  writeReport();
  console.log(`# sanitizer bypassed: ${JSON.stringify({ ...report.sanitizerBypassed, requests: undefined })}`);
  assert.deepEqual(requests, [], "a raw payload reached the canary");
  assert.equal(flags.canary, "undefined", "a raw payload set the flag in the app");
  assert.deepEqual(raw.filter((r) => r.frameFlag === "string"), [], "a raw payload ran in its frame");
  assert.deepEqual(messages, [], "a raw payload posted to the app");
  assert.ok(buttons.every((b) => b.onTop), `a raw payload covers a decision button: ${JSON.stringify(buttons)}`);
  assert.equal(flags.signedIn, true);
}));

let report;
function writeReport() {
  const file = path.join(repo, "bench", "results", `hostile-${new Date().toISOString().slice(0, 10)}.json`);
  const { payloads = [], ...summary } = report;
  const lines = payloads.map((payload) => `  ${JSON.stringify(payload)}`).join(",\n");
  fs.writeFileSync(file, `${JSON.stringify(summary, null, 1).replace(/\n}$/, "")},\n "payloads": [\n${lines}\n ]\n}\n`);
  console.log(`# written to ${path.relative(repo, file)}`);
}

/** The report: totals, one row per category, and every payload's own result. */
function figures({ decided, frameMessages, fromWebview, realClick }) {
  const row = () => ({ payloads: 0, rendered: 0, canaryRequests: 0, appFlags: 0, frameFlags: 0, frameUnreadable: 0, commandsReached: 0, buttonsCovered: 0 });
  const byCategory = {};
  const totals = row();
  for (const result of results) {
    const own = (hit) => hit.url.split("/")[1] === result.id;
    const counts = {
      payloads: 1,
      rendered: result.rendered ? 1 : 0,
      canaryRequests: fromWebview.filter(own).length,
      appFlags: result.appFlag === "undefined" ? 0 : 1,
      frameFlags: result.frame.canary === "string" ? 1 : 0,
      frameUnreadable: result.frame.refused ? 1 : 0,
      commandsReached: decided.some((d) => d.id === result.id) ? 1 : 0,
      buttonsCovered: result.buttons.filter((b) => !b.onTop).length,
    };
    byCategory[result.category] ??= row();
    for (const [key, value] of Object.entries(counts)) {
      byCategory[result.category][key] += value;
      totals[key] += value;
    }
  }
  const renderMs = results.map((r) => r.renderMs).sort((a, b) => a - b);
  return {
    test: "e2e/tests/hostile-corpus.test.mjs",
    date: new Date().toISOString(),
    corpus: "e2e/corpus/hostile.json",
    totals: { ...totals, frameMessages: frameMessages.length, signedInThroughout: results.every((r) => r.signedIn) },
    renderMs: { median: renderMs[Math.floor(renderMs.length / 2)], max: renderMs.at(-1) },
    realClick,
    byCategory,
    // One line per payload: the buttons as a count on top, the frame's flag as read there.
    payloads: results.map(({ id, category, itemId, renderMs, appFlag, frame, buttons, signedIn }) => ({
      id, category, itemId, renderMs, appFlag, frameFlag: frame.canary ?? frame.refused, buttonsOnTop: buttons.filter((b) => b.onTop).length, signedIn,
    })),
  };
}
