// Hostile content in an item must neither execute nor load anything. The test controls
// the canary: a loopback HTTP listener that must receive no request from the webview, and
// a window flag (window.__canary) that every payload would set, in the app and in the frame.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { sleep, waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;
let listener;
let listenerPort;
const hits = [];
const CANARY_TITLE = "Canary: hostile payloads";

before(async () => {
  listener = http.createServer((request, response) => {
    hits.push({ url: request.url, userAgent: request.headers["user-agent"] ?? "" });
    response.writeHead(200, { "Content-Type": "image/png" });
    // A 1x1 transparent PNG, so an engine that fetches images gets a real one.
    response.end(Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64"));
  });
  await new Promise((resolve) => listener.listen(0, "127.0.0.1", resolve));
  listenerPort = listener.address().port;
  const origin = `http://127.0.0.1:${listenerPort}`;

  const body = [
    "<p>Canary body</p>",
    "<script>window.parent.__canary=1;window.__canary=1</script>",
    `<img src=x onerror="window.parent.__canary=2;window.__canary=2">`,
    `<a href="javascript:window.parent.__canary=3">Click for a prize</a>`,
    `<svg onload="window.parent.__canary=4;window.__canary=4"><circle r="5"/></svg>`,
    `<img src="${origin}/pixel.png" alt="remote pixel">`,
    `<a href="${origin}/link">a link to the listener</a>`,
    `<iframe src="${origin}/frame"></iframe>`,
    `<p style="background:url(${origin}/background.png)">styled</p>`,
    `<link rel="stylesheet" href="${origin}/style.css">`,
    `<object data="${origin}/object"></object><video src="${origin}/video.mp4" autoplay></video>`,
  ].join("");
  // The oldest open item of the most urgent queue: the first one the app shows.
  const prepare = (server) =>
    server.shell(
    "from datetime import timedelta; from django.utils import timezone; " +
    "from steward.models import Item, Member, Queue; " +
    "queue = Queue.objects.order_by('-priority').first(); author = Member.objects.order_by('id').first(); " +
    "t = timezone.now() - timedelta(days=60); " +
    `Item.objects.create(queue=queue, author=author, title=${JSON.stringify(CANARY_TITLE)}, body_html=${JSON.stringify(body)}, ` +
    "state='open', version=1, created_at=t, updated_at=timezone.now())",
  );
  started = await signedInApp("hostile", { items: 30, prepare });
  ({ server, app } = started);
});

after(async () => {
  await started?.stop();
  await new Promise((resolve) => listener?.close(resolve));
});

const frameSelector = '[data-testid="item-content"]';

test("scripts, handlers, javascript: URLs, svg onload and remote loads do nothing", withScreenshotOnFailure(() => app, "hostile", async () => {
  await waitFor("the canary item on screen", async () => (await app.text('[data-testid="item-title"]')) === CANARY_TITLE, 30_000, 100);
  await waitFor("the content frame", async () => (await app.attr(frameSelector, "data-document"))?.includes("Canary body"), 10_000, 100);
  // Give anything that would load or run the time to do it.
  await sleep(2_000);
  await app.screenshot("hostile-canary");

  assert.deepEqual(hits, [], "the loopback listener must receive no request");
  assert.equal(await app.browser.execute(() => typeof window.__canary), "undefined", "window.__canary set in the app");
  assert.equal(await app.attr(frameSelector, "sandbox"), "", "the frame must be fully sandboxed");

  const srcdoc = await app.attr(frameSelector, "data-document");
  assert.match(srcdoc, /^<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
  for (const forbidden of [/<script/i, /onerror/i, /onload/i, /javascript:/i, /<iframe/i, /<object/i, /<link/i, /<video/i, /style="[^"]*url\(/i]) {
    assert.doesNotMatch(srcdoc.replace(/^.*?<body>/s, ""), forbidden, `the rendered content still has ${forbidden}`);
  }
  for (const [, src] of srcdoc.matchAll(/\ssrc="([^"]*)"/g)) {
    assert.match(src, /^data:/, `an image source that is not data: (${src})`);
  }

  // Inside the frame too: it has no allow-scripts, so its own flag stays unset. WebDriver
  // may refuse to run a script in a frame that forbids scripts; that is a pass as well.
  const frame = await app.browser.$(frameSelector);
  await app.browser.switchFrame(frame).catch(() => app.browser.switchToFrame(frame));
  const inside = await app.browser.execute(() => typeof window.__canary).catch((error) => `refused: ${error.message.split("\n")[0]}`);
  await app.browser.switchFrame(null).catch(() => app.browser.switchToParentFrame());
  assert.notEqual(inside, "number", "the canary ran inside the frame");
}));

test("Show images: the webview itself never requests the remote image", withScreenshotOnFailure(() => app, "show-images", async () => {
  const button = await app.$("show-images");
  await button.waitForDisplayed({ timeout: 10_000 });
  assert.match(await app.text('[data-testid="show-images"]'), /Show images \(\d+\)/);
  await button.click();
  await waitFor("images shown or an error saying why not", async () =>
    (await app.browser.execute(() => Boolean(document.querySelector('[data-testid="images-shown"], [data-testid="images-error"]')))), 15_000, 100);
  await sleep(1_500);

  const srcdoc = await app.attr(frameSelector, "data-document");
  for (const [, src] of srcdoc.matchAll(/\ssrc="([^"]*)"/g)) {
    assert.match(src, /^data:/, `an image source that is not data: (${src})`);
  }
  // The engine may fetch the image (that is its job); a browser never may.
  const fromWebview = hits.filter((hit) => /AppleWebKit|Mozilla/.test(hit.userAgent));
  assert.deepEqual(fromWebview, [], "the webview requested the listener");
  assert.equal(await app.browser.execute(() => typeof window.__canary), "undefined");
  const error = await app.text('[data-testid="images-error"]');
  if (error) console.log(`# Show images is not available from the engine yet: ${error}`);
  await app.screenshot("hostile-show-images");
}));
