// The jobs dashboard against the real server and its db_worker: a seeded build_report job
// that failed with a TimeoutError shows its traceback, a retry from the app goes through
// the outbox, the worker runs it, and the list shows it succeeded. The data-testid scheme
// is documented at the top of accounts-audit.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { withScreenshotOnFailure } from "../harness/app.mjs";
import { waitFor } from "../harness/util.mjs";
import { signedInApp } from "../harness/setup.mjs";

let started;
let server;
let app;
let admin;

before(async () => {
  // Seeded with jobs in every status (failed ones included).
  started = await signedInApp("jobs", {
    items: 30,
    seed: ["--jobs", "30"],
    admin: true,
    asAdmin: true,
    synced: true,
  });
  ({ server, app, admin } = started);
});

after(() => started?.stop());

async function jobRows() {
  return app.browser.execute(() =>
    [...document.querySelectorAll('[data-testid="job-row"]')].map((row) => ({ id: Number(row.getAttribute("data-job-id")), status: row.getAttribute("data-status") })),
  );
}

test("a failed build_report job shows its traceback, and a retry makes it succeed", withScreenshotOnFailure(() => app, "jobs-retry", async () => {
  const failedOnServer = (await admin.get("/jobs?status=failed&kind=build_report&limit=100")).results;
  assert.ok(failedOnServer.length > 0, "the seed has failed build_report jobs");

  await (await app.$("nav-jobs")).click();
  await waitFor("the failed count in the dashboard", async () => (await app.count("jobs-stat-failed")) > 0, 30_000, 200);
  await (await app.$("jobs-status-filter")).selectByAttribute("value", "failed");
  await (await app.$("jobs-kind-filter")).selectByAttribute("value", "build_report");
  await waitFor("only failed build_report jobs listed", async () => {
    const rows = await jobRows();
    return rows.length === failedOnServer.length && rows.every((row) => row.status === "failed");
  }, 15_000, 200);
  const listed = (await jobRows()).map((row) => row.id).sort((a, b) => a - b);
  assert.deepEqual(listed, failedOnServer.map((job) => job.id).sort((a, b) => a - b));
  await app.screenshot("jobs-failed-filter");

  // Retry all matching states the count before anything happens; cancel it.
  await (await app.$("jobs-retry-matching")).click();
  await (await app.$("confirm-dialog")).waitForDisplayed({ timeout: 5_000 });
  const title = await app.text('[data-testid="confirm-title"]');
  assert.equal(title, `Retry ${failedOnServer.length} job${failedOnServer.length === 1 ? "" : "s"}?`);
  await (await app.$("confirm-cancel")).click();

  const jobId = listed[0];
  await (await app.browser.$(`[data-testid="job-row"][data-job-id="${jobId}"]`)).click();
  await waitFor("the job's traceback", async () => (await app.text('[data-testid="job-traceback"]'))?.includes("TimeoutError"), 10_000, 100);
  assert.equal(await app.attr('[data-testid="job-status"]', "data-status"), "failed");
  await app.screenshot("jobs-traceback");

  await (await app.$("job-retry")).click();
  await app.waitForSynced();
  await waitFor("the server to queue the retry", async () => (await admin.get(`/jobs/${jobId}`)).status === "pending", 30_000, 300);
  server.runWorkerBatch();
  await waitFor("the server to say it succeeded", async () => (await admin.get(`/jobs/${jobId}`)).status === "succeeded", 30_000, 300);

  // The engine pulls the change; the list follows live. Clear the status filter to see it.
  await (await app.$("jobs-status-filter")).selectByAttribute("value", "");
  await waitFor("the job listed as succeeded", async () => {
    const row = (await jobRows()).find((candidate) => candidate.id === jobId);
    if (row?.status === "succeeded") return true;
    await (await app.$("sync-now")).click().catch(() => {});
    return false;
  }, 60_000, 1_000);
  await waitFor("the detail to say succeeded", async () => (await app.attr('[data-testid="job-status"]', "data-status")) === "succeeded", 10_000, 200);
  await app.screenshot("jobs");
}));
