// The first rendered frame, marked as Steward marks its first queue
// (ui/src/lib/shared/perf.ts): the next animation frame, then a zero-delay timer.
requestAnimationFrame(() => setTimeout(() => performance.mark("steward:first-queue-painted"), 0));
