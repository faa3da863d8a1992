/**
 * Performance marks for the latency benchmark (bench/ui-latency). A key press starts a
 * measurement; it ends at the second animation frame after the next item is in the DOM,
 * which is when the compositor has painted it. The benchmark reads the measures named
 * NEXT_ITEM_MEASURE through performance.getEntriesByName; nothing else depends on them.
 */
export const NEXT_ITEM_MEASURE = "steward:next-item";

/** The browser's entry buffer is bounded; keep the newest measures only. */
const MAX_MEASURES = 5_000;
let measures = 0;

/** Call once the DOM shows the new item; `start` is performance.now() when the key handler began. */
export function measureNextItemPainted(start: number, detail: string): void {
  if (typeof performance === "undefined" || typeof requestAnimationFrame === "undefined") return;
  const domUpdated = performance.now();
  requestAnimationFrame(() => {
    const firstFrame = performance.now();
    requestAnimationFrame(() => {
      if (++measures > MAX_MEASURES) {
        performance.clearMeasures(NEXT_ITEM_MEASURE);
        performance.clearMeasures(`${NEXT_ITEM_MEASURE}:dom`);
        performance.clearMeasures(`${NEXT_ITEM_MEASURE}:first-frame`);
        measures = 1;
      }
      // The parts, so a slow step can be told apart: our work, waiting for a frame, painting.
      performance.measure(`${NEXT_ITEM_MEASURE}:dom`, { start, end: domUpdated, detail });
      performance.measure(`${NEXT_ITEM_MEASURE}:first-frame`, { start, end: firstFrame, detail });
      performance.measure(NEXT_ITEM_MEASURE, { start, end: performance.now(), detail });
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
