/**
 * Performance marks for the latency benchmark (bench/ui-latency). A key press starts a
 * measurement for the item it brings; the item counts as shown once the DOM has its
 * header and panels and its content frame shows its own document. The measurement ends
 * when the frame after that has been rendered: the next animation frame runs its
 * callbacks, the browser then styles, lays out and paints in the same task, and a
 * zero-delay timer set in the callback fires only after that work (schedule.ts
 * afterQueuedTasks; WebKit has no Event Timing API). Not included: the UI process
 * copying the painted frame to the window (see bench/ui-latency for the check on screen). The benchmark reads the measures named NEXT_ITEM_MEASURE through
 * performance.getEntriesByName; nothing else depends on them.
 */
import { afterQueuedTasks } from "./schedule";

export const NEXT_ITEM_MEASURE = "steward:next-item";

/** The parts, so a slow step can be told apart. */
const PARTS = [":dom", ":content", ":first-frame", ":next-frame"] as const;

/** The browser's entry buffer is bounded; keep the newest measures only. */
const MAX_MEASURES = 5_000;
let measures = 0;

let pending: { start: number; id: number; dom: number | null; content: number | null } | null = null;

/** A key press (its handler began at `start`, from performance.now()) is bringing item `id`. */
export function beginNextItem(start: number, id: number): void {
  pending = { start, id, dom: null, content: null };
}

/** Part of item `id` is on screen: its DOM (header, panels) or its content frame. */
export function nextItemReady(id: number, part: "dom" | "content"): void {
  if (typeof performance === "undefined" || typeof requestAnimationFrame === "undefined") return;
  if (!pending || pending.id !== id) return;
  pending[part] ??= performance.now();
  if (pending.dom === null || pending.content === null) return;
  const { start, dom, content } = pending;
  pending = null;
  const detail = String(id);
  requestAnimationFrame(() => {
    const firstFrame = performance.now();
    afterQueuedTasks(() => {
      const painted = performance.now();
      if (++measures > MAX_MEASURES) {
        performance.clearMeasures(NEXT_ITEM_MEASURE);
        for (const part of PARTS) performance.clearMeasures(`${NEXT_ITEM_MEASURE}${part}`);
        measures = 1;
      }
      performance.measure(`${NEXT_ITEM_MEASURE}:dom`, { start, end: dom, detail });
      performance.measure(`${NEXT_ITEM_MEASURE}:content`, { start, end: content, detail });
      performance.measure(`${NEXT_ITEM_MEASURE}:first-frame`, { start, end: firstFrame, detail });
      performance.measure(NEXT_ITEM_MEASURE, { start, end: painted, detail });
      // An upper bound: the start of the frame after it (at 60 Hz this alone waits up to 16.7 ms).
      requestAnimationFrame(() =>
        performance.measure(`${NEXT_ITEM_MEASURE}:next-frame`, { start, end: performance.now(), detail }),
      );
    });
  });
}

/**
 * A trace mark for a handled key (what it did, where the selection was), so a benchmark
 * or a test that sees a key go nowhere can say why. Bounded like the measures.
 */
export function markKey(detail: string): void {
  if (typeof performance === "undefined") return;
  if (performance.getEntriesByName("steward:key").length > MAX_MEASURES) performance.clearMarks("steward:key");
  performance.mark("steward:key", { detail });
}

/**
 * Startup, for bench's cold-start scenario: the first time a queue's rows are on screen,
 * a mark once the frame that shows them has been rendered (the same end as the measures
 * above). The benchmark adds `performance.timeOrigin` and compares it with the process's
 * start time; a minimal Tauri window marks its first paint the same way.
 */
export const FIRST_QUEUE_MARK = "steward:first-queue-painted";

export function firstQueueShown(): void {
  if (typeof performance === "undefined" || typeof requestAnimationFrame === "undefined") return;
  if (performance.getEntriesByName(FIRST_QUEUE_MARK).length > 0) return;
  requestAnimationFrame(() =>
    afterQueuedTasks(() => {
      if (performance.getEntriesByName(FIRST_QUEUE_MARK).length === 0) performance.mark(FIRST_QUEUE_MARK);
    }),
  );
}

/**
 * The audit search as a user sees it: from the key that asked for it (a filter key, or
 * Enter) to the frame that shows its rows rendered. `auditSearchAsked` keeps the key's
 * time until the search it triggers starts (`takeAuditSearchStart`); the screen ends the
 * measure once that search's rows are on screen, unless a newer search replaced it.
 */
export const AUDIT_SEARCH_MEASURE = "steward:audit-search";
let auditSearchStart: number | null = null;

export function auditSearchAsked(start: number): void {
  auditSearchStart = start;
}

export function takeAuditSearchStart(): number | null {
  const start = auditSearchStart;
  auditSearchStart = null;
  return start;
}

export function auditSearchShown(start: number, detail: string): void {
  if (typeof performance === "undefined" || typeof requestAnimationFrame === "undefined") return;
  requestAnimationFrame(() =>
    afterQueuedTasks(() => {
      if (performance.getEntriesByName(AUDIT_SEARCH_MEASURE).length > MAX_MEASURES) {
        performance.clearMeasures(AUDIT_SEARCH_MEASURE);
      }
      performance.measure(AUDIT_SEARCH_MEASURE, { start, end: performance.now(), detail });
    }),
  );
}
