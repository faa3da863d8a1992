// Steward plugged into a real product (the demo forum, server/forum): its users report
// its posts through its own endpoint, a moderator removes one in the app and the product
// stops showing it; suspending a user really ends their product session until the
// suspension ends; the product's own failed jobs, on Celery and on django-tasks, are
// retried from the app and succeed on the real workers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { ProductUser } from "../harness/product.mjs";
import { signedInApp } from "../harness/setup.mjs";
import { waitFor } from "../harness/util.mjs";

let started;
let server;
let app;
let admin;

before(async () => {
  started = await signedInApp("product", { items: 30, workers: true, admin: true, asAdmin: true, synced: true });
  ({ server, app, admin } = started);
});

after(() => started?.stop());

/** A new post on the forum by `author`, through the product's own model; its id. */
function newPost(author, title) {
  return server.shell(
    "from django.contrib.auth import get_user_model\n" +
      "from forum.models import Post\n" +
      `post = Post.objects.create(author=get_user_model().objects.get(username=${JSON.stringify(author)}), ` +
      `title=${JSON.stringify(title)}, body_html='<p>' + ${JSON.stringify(title)} + ' buy now</p>')\n` +
      "print(post.pk)",
  ).split("\n").pop();
}

async function openView(view) {
  await (await app.$(`nav-${view}`)).click();
}

test("a post reported on the product appears in the app; removing it hides it on the product", withScreenshotOnFailure(() => app, "product-report", async () => {
  const title = `Cheap watches ${Date.now()}`;
  const postId = newPost("member0001", title);
  const reporter = new ProductUser(server.url);
  assert.ok(await reporter.signIn("member0002"), "a forum member signs in to the product");
  const reported = await reporter.report(postId, "spam", "Same link in every thread");
  assert.ok(reported.item > 0);
  assert.ok((await reporter.listedPosts()).includes(postId), "the product lists the post before the decision");

  await openView("triage");
  await (await app.$("sync-now")).click();
  // The item lands in the queue its Source chose (spam reports go to Spam).
  const spam = await waitFor("the Spam queue", () => app.browser.execute(() =>
    [...document.querySelectorAll('[data-testid="queue-item"]')].find((q) => q.textContent?.includes("Spam"))?.getAttribute("data-queue-id")), 30_000, 200);
  await (await app.browser.$(`[data-testid="queue-item"][data-queue-id="${spam}"]`)).click();
  const row = await waitFor("the reported post in the list", async () => {
    const found = await app.browser.execute((id) => document.querySelector(`[data-testid="item-row"][data-item-id="${id}"]`) !== null, reported.item);
    if (found) return true;
    await app.keys("End");
    return false;
  }, 30_000, 250);
  assert.ok(row);
  await (await app.browser.$(`[data-testid="item-row"][data-item-id="${reported.item}"]`)).click();
  await waitFor("the item on screen", async () => (await app.currentItemId()) === reported.item, 10_000, 50);
  await waitFor("the product object in the header", async () => (await app.text('[data-testid="item-object"]')) === "post", 10_000, 100);
  assert.equal(await app.attr('[data-testid="item-object"]', "data-type"), "forum.post");
  assert.match(await app.text('[data-testid="item-reports"]'), /member0002/);
  await app.screenshot("product-item");

  await app.keys("r");
  await waitFor("the decision on the server", async () => (await admin.get(`/items/${reported.item}`)).state === "removed", 30_000, 250);
  assert.equal((await admin.decisionsOn(reported.item)).length, 1);
  await waitFor("the product to stop listing the post", async () => !(await reporter.listedPosts()).includes(postId), 10_000, 200);
  const page = await reporter.request(`/posts/${postId}`);
  assert.equal(page.status, 404, "the post's page is gone for its readers");
}));

test("suspending a user ends their product session, and they cannot sign in until it ends", withScreenshotOnFailure(() => app, "product-suspend", async () => {
  const username = "member0004";
  const postId = newPost("member0001", `A post to report ${Date.now()}`);
  const member = new ProductUser(server.url);
  assert.ok(await member.signIn(username), `${username} signs in to the product`);
  assert.ok(await member.sessionAlive(postId), "their session works");

  const account = (await admin.get(`/accounts?q=${username}`)).results.find((a) => a.username === username);
  await openView("accounts");
  const search = await app.$("account-search");
  await search.setValue(username);
  await waitFor("the member in the list", () => app.browser.execute((id) => document.querySelector(`[data-testid="account-row"][data-account-id="${id}"]`) !== null, account.id), 15_000, 100);
  await (await app.browser.$(`[data-testid="account-row"][data-account-id="${account.id}"]`)).click();
  await (await app.$("account-action-suspend")).click();
  await (await app.$("suspend-form")).waitForDisplayed({ timeout: 5_000 });
  await (await app.$("suspend-duration")).selectByVisibleText("24 hours");
  await (await app.$("suspend-confirm")).click();
  await waitFor("the suspension on the server", async () => (await admin.get(`/accounts/${account.id}`)).status === "suspended", 30_000, 250);

  await waitFor("their session to end", async () => !(await member.sessionAlive(postId)), 15_000, 250);
  assert.equal(await new ProductUser(server.url).signIn(username), false, "a suspended user cannot sign in");

  // Its end comes (moved to the past here) and the sweep lifts it: they can sign in again.
  server.shell(
    "from datetime import timedelta\nfrom django.utils import timezone\nfrom steward.models import Suspension\n" +
      `Suspension.objects.filter(account__username=${JSON.stringify(username)}).update(ends_at=timezone.now() - timedelta(seconds=1))`,
  );
  server.manage("steward_sweep");
  assert.ok(await new ProductUser(server.url).signIn(username), "the suspension ended: they sign in again");
}));

/** Opens the jobs screen on the job `id` once the app has it in `status`. */
async function openJob(id, status) {
  await openView("jobs");
  await (await app.$("sync-now")).click();
  await waitFor(`job ${id} ${status} in the list`, async () => {
    const shown = await app.browser.execute((jobId) => document.querySelector(`[data-testid="job-row"][data-job-id="${jobId}"]`)?.getAttribute("data-status") ?? null, id);
    if (shown === status) return true;
    await (await app.$("sync-now")).click();
    return false;
  }, 60_000, 500);
  await (await app.browser.$(`[data-testid="job-row"][data-job-id="${id}"]`)).click();
  await waitFor("the job's detail", async () => (await app.attr('[data-testid="job-detail"]', "data-job-id")) === String(id), 10_000, 100);
}

async function retryFromTheApp(jobId, backend) {
  await openJob(jobId, "failed");
  assert.match(await app.text('[data-testid="job-runs-on"]'), backend);
  assert.match(await app.text('[data-testid="job-traceback"]'), /TimeoutError/);
  await app.screenshot(`product-job-${jobId}`);
  await (await app.$("job-retry")).click();
  const confirm = await app.$("confirm-ok");
  if (await confirm.isExisting()) await confirm.click();
  await waitFor(`job ${jobId} to succeed on the worker`, async () => (await admin.get(`/jobs/${jobId}`)).status === "succeeded", 60_000, 500);
  const audit = await admin.get(`/audit?action=job.retry&target_type=job&target_id=${jobId}`);
  assert.equal(audit.results.length, 1, "the retry is audited once");
  await openJob(jobId, "succeeded");
}

/** Waits for the product's job (by kind) the shell just started to fail on its worker. */
async function failedJob(kind, marker) {
  return waitFor(`the ${kind} job to fail`, async () => {
    const jobs = (await admin.get(`/jobs?status=failed&limit=100`)).results;
    return jobs.find((job) => job.kind.endsWith(kind) && job.payload_summary.includes(marker))?.id ?? null;
  }, 60_000, 500);
}

test("a Celery task that failed is listed with its traceback, retried from the app, and succeeds", withScreenshotOnFailure(() => app, "product-celery", async () => {
  const marker = `e2e-${Date.now()}`;
  server.shell(`from forum.tasks import rebuild_search_index\nrebuild_search_index.delay(${JSON.stringify(marker)}, timeout_seconds=0.3, work_seconds=1)`);
  const jobId = await failedJob("rebuild_search_index", marker);
  assert.equal((await admin.get(`/jobs/${jobId}`)).backend, "celery");
  await retryFromTheApp(jobId, /Celery/);
}));

test("a django-tasks task that failed is retried from the app and succeeds", withScreenshotOnFailure(() => app, "product-tasks", async () => {
  const marker = `e2e-${Date.now()}`;
  server.shell(`from forum.tasks import build_report\nbuild_report.enqueue(queue=${JSON.stringify(marker)}, timeout_seconds=0.3, work_seconds=1)`);
  const jobId = await failedJob("build_report", marker);
  assert.equal((await admin.get(`/jobs/${jobId}`)).backend, "tasks");
  await retryFromTheApp(jobId, /django-tasks/);
}));
