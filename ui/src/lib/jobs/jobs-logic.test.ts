import { describe, expect, it } from "vitest";
import {
  EMPTY_JOB_FILTERS,
  backendLabel,
  canCancel,
  canRetry,
  retryBlocked,
  describeJobQuery,
  failureChart,
  jobQueryFromFilters,
  niceCeiling,
} from "./jobs-logic";

const now = Date.parse("2026-11-24T12:30:00Z");

describe("jobQueryFromFilters", () => {
  it("maps any to null and a preset to a lower bound", () => {
    expect(jobQueryFromFilters(EMPTY_JOB_FILTERS, now)).toEqual({ status: null, kind: null, from: null, to: null });
    expect(
      jobQueryFromFilters({ ...EMPTY_JOB_FILTERS, status: "failed", kind: "build_report", range: "1h" }, now),
    ).toEqual({
      status: "failed",
      kind: "build_report",
      from: "2026-11-24T11:30:00.000Z",
      to: null,
    });
  });
  it("describes the query for a confirmation", () => {
    expect(describeJobQuery({ status: "failed", kind: "build_report", from: null, to: null }, "Any time")).toBe(
      "failed build_report jobs",
    );
    expect(describeJobQuery({ status: null, kind: null, from: "x", to: null }, "Last hour")).toBe(
      "failed jobs (last hour)",
    );
  });
  it("knows which statuses can be retried or cancelled", () => {
    const able = (status: string) => ({ status, can_retry: true, can_cancel: true, retry_blocked_reason: "" });
    expect(canRetry(able("failed"))).toBe(true);
    expect(canRetry(able("succeeded"))).toBe(false);
    expect(canCancel(able("pending"))).toBe(true);
    expect(canCancel(able("succeeded"))).toBe(false);
    expect(canCancel(able("failed"))).toBe(false);
  });
  it("names each backend as the jobs screen shows it", () => {
    expect(backendLabel("tasks")).toBe("django-tasks");
    expect(backendLabel("celery")).toBe("Celery");
    expect(backendLabel("other")).toBe("other");
  });
  it("follows the server on what a job's backend can do, and says why not", () => {
    const blocked = {
      status: "failed",
      can_retry: false,
      can_cancel: false,
      retry_blocked_reason: "Its arguments are not JSON.",
    };
    expect(canRetry(blocked)).toBe(false);
    expect(retryBlocked(blocked)).toBe("Its arguments are not JSON.");
    expect(retryBlocked({ ...blocked, retry_blocked_reason: "" })).toMatch(/cannot re-send/);
    expect(retryBlocked({ ...blocked, can_retry: true })).toBeNull();
    expect(retryBlocked({ ...blocked, status: "running" })).toBeNull();
    expect(canCancel({ ...blocked, status: "pending" })).toBe(false);
  });
});

describe("failureChart", () => {
  it("rounds the axis up to 1, 2 or 5 times a power of ten", () => {
    expect(niceCeiling(0)).toBe(1);
    expect(niceCeiling(1)).toBe(1);
    expect(niceCeiling(3)).toBe(5);
    expect(niceCeiling(7)).toBe(10);
    expect(niceCeiling(11)).toBe(20);
    expect(niceCeiling(480)).toBe(500);
  });

  it("fills missing hours with zero and scales bars to the round maximum", () => {
    const chart = failureChart(
      [
        { key: "2026-11-24T12:00:00Z", count: 4 },
        { key: "2026-11-24T10:00:00+00:00", count: 2 },
        { key: "2026-11-20T10:00:00Z", count: 99 },
        { key: "not a date", count: 1 },
      ],
      now,
      { hours: 4, width: 400, height: 100, gap: 0 },
    );
    expect(chart.bars.map((bar) => bar.count)).toEqual([0, 2, 0, 4]);
    expect(chart.max).toBe(5);
    expect(chart.total).toBe(6);
    expect(chart.bars[3]).toMatchObject({ x: 300, width: 100, height: 80, y: 20 });
    expect(chart.bars[0].height).toBe(0);
    expect(chart.ticks).toEqual([0, 5]);
    expect(failureChart([{ key: "2026-11-24T12:00:00Z", count: 9 }], now, { hours: 2 }).ticks).toEqual([0, 5, 10]);
  });

  it("draws an empty chart when nothing failed", () => {
    const chart = failureChart([], now, { hours: 3 });
    expect(chart.total).toBe(0);
    expect(chart.bars.every((bar) => bar.height === 0)).toBe(true);
  });
});
