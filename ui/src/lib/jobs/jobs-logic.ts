import type { CountEntry, JobInfo, JobQuery } from "../backend";
import { blankToNull, rangeBounds, type RangePreset } from "../shared/time-range";

export const JOB_STATUSES = ["failed", "pending", "running", "succeeded", "cancelled"] as const;

export type JobFilters = { status: string; kind: string; range: RangePreset; customFrom: string; customTo: string };

export const EMPTY_JOB_FILTERS: JobFilters = { status: "", kind: "", range: "any", customFrom: "", customTo: "" };

/** The engine's query for the jobs list; "" in a select means any. */
export function jobQueryFromFilters(filters: JobFilters, nowMs: number): JobQuery {
  const { from, to } = rangeBounds(filters.range, nowMs, filters.customFrom, filters.customTo);
  return { status: blankToNull(filters.status), kind: blankToNull(filters.kind), from, to };
}

/**
 * "failed build_report jobs (last 24 hours)", for the retry-all confirmation. Without a
 * status filter the server retries the failed ones, so that is what the sentence says.
 */
export function describeJobQuery(query: JobQuery, rangeLabel: string): string {
  const parts = [query.status ?? "failed", query.kind ?? "", "jobs"].filter(Boolean).join(" ");
  return query.from || query.to ? `${parts} (${rangeLabel.toLowerCase()})` : parts;
}

type JobAbilities = Pick<JobInfo, "status" | "can_retry" | "can_cancel">;

/**
 * Whether a job can be retried: it failed or was cancelled, and its backend can re-send it
 * exactly (the server says so: a Celery task whose arguments could not be stored, or a job
 * from before the backend, cannot be). The engine skips the rest.
 */
export function canRetry(job: JobAbilities): boolean {
  return (job.status === "failed" || job.status === "cancelled") && job.can_retry;
}
/** Whether a job can be cancelled: it has not started, and its backend can still stop it. */
export function canCancel(job: JobAbilities): boolean {
  return job.status === "pending" && job.can_cancel;
}
/** A job that failed and cannot be retried: the reason to show beside the disabled button. */
export function retryBlocked(job: JobAbilities & Pick<JobInfo, "retry_blocked_reason">): string | null {
  if (job.status !== "failed" && job.status !== "cancelled") return null;
  if (job.can_retry) return null;
  return job.retry_blocked_reason || "Its backend cannot re-send this job.";
}

export function countOf(entries: CountEntry[], key: string): number {
  return entries.find((entry) => entry.key === key)?.count ?? 0;
}

export type Bar = { hourMs: number; count: number; x: number; y: number; height: number; width: number };
export type Chart = { bars: Bar[]; max: number; ticks: number[]; total: number };

/** A round top for the y axis (1, 2, 5 × 10^n) so the gridlines read as whole numbers. */
export function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

/**
 * Lays out failures per hour as SVG bars: the last `hours` hours ending with the hour of
 * `nowMs`, hours without failures drawn as zero (the engine only sends hours that have
 * some), heights scaled to a round maximum.
 */
export function failureChart(
  entries: CountEntry[],
  nowMs: number,
  {
    hours = 48,
    width = 600,
    height = 120,
    gap = 2,
  }: { hours?: number; width?: number; height?: number; gap?: number } = {},
): Chart {
  const hour = 3_600_000;
  const lastHour = Math.floor(nowMs / hour) * hour;
  const firstHour = lastHour - (hours - 1) * hour;
  const counts = new Map<number, number>();
  for (const entry of entries) {
    const at = Date.parse(entry.key);
    if (Number.isNaN(at)) continue;
    const bucket = Math.floor(at / hour) * hour;
    if (bucket < firstHour || bucket > lastHour) continue;
    counts.set(bucket, (counts.get(bucket) ?? 0) + entry.count);
  }
  const rawMax = Math.max(0, ...counts.values());
  const max = niceCeiling(rawMax);
  const slot = width / hours;
  const barWidth = Math.max(1, slot - gap);
  const bars: Bar[] = [];
  let total = 0;
  for (let i = 0; i < hours; i++) {
    const hourMs = firstHour + i * hour;
    const count = counts.get(hourMs) ?? 0;
    total += count;
    const barHeight = count === 0 ? 0 : Math.max(2, (count / max) * height);
    bars.push({ hourMs, count, x: i * slot, y: height - barHeight, height: barHeight, width: barWidth });
  }
  // Gridlines only at whole numbers: a half of 5 would read as a fraction of a job.
  const ticks = Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
  return { bars, max, ticks, total };
}

/** What the jobs screen calls a backend: django-tasks' is "tasks" on the wire. */
export function backendLabel(backend: string): string {
  switch (backend) {
    case "tasks":
      return "django-tasks";
    case "celery":
      return "Celery";
    case "legacy":
      return "earlier jobs";
    case "":
      return "—";
    default:
      return backend;
  }
}
