/**
 * Background work that must not delay the frame the moderator is waiting for (loading
 * the neighbours' content, handing a decision to the engine) runs after that frame has
 * been rendered: the next animation frame runs its callbacks, the browser renders, and
 * the work runs two tasks later. One task is how perf.ts detects "rendered"; the second
 * hop keeps background work out of that measurement as well as out of the frame.
 */
export function afterPaint(task: () => void): () => void {
  let cancelled = false;
  const frame = requestAnimationFrame(() =>
    afterQueuedTasks(() =>
      afterQueuedTasks(() => {
        if (!cancelled) task();
      }),
    ),
  );
  return () => {
    cancelled = true;
    cancelAnimationFrame(frame);
  };
}

/** afterPaint as a promise. */
export function nextPaint(): Promise<void> {
  return new Promise((resolve) => afterPaint(resolve));
}

/**
 * Runs `task` in a new task: after the current one and, when called from an animation
 * frame callback, after the browser has rendered that frame. WebKit lays out and paints
 * in the same task that runs the animation frame callbacks, so a zero-delay timer set
 * there fires once the frame is painted (measured: it waits out a 60 ms paint, and fires
 * within 1 ms when nothing changed). A posted MessageChannel message, the usual probe in
 * Chromium, is not used: WebKit routes MessagePort messages through its UI process, which
 * added 5-7 ms to every measurement even on an idle page.
 */
export function afterQueuedTasks(task: () => void): void {
  setTimeout(task, 0);
}
