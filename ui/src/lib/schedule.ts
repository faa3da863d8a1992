/**
 * Background work that must not delay the frame the moderator is waiting for (loading
 * the neighbours' content, handing a decision to the engine) runs after that frame has
 * been rendered, and behind any task already queued by then: the next animation frame
 * runs its callbacks, the browser renders, and the work runs two posted messages later.
 * One message is how perf.ts detects "rendered"; the second hop keeps background work
 * out of that measurement as well as out of the frame.
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
 * Runs `task` in a posted message: after the tasks already queued and, when called from
 * an animation frame callback, after the browser has rendered that frame.
 */
export function afterQueuedTasks(task: () => void): void {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    channel.port1.close();
    task();
  };
  channel.port2.postMessage(null);
}
