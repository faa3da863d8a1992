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
  const frame = requestAnimationFrame(() => {
    const first = new MessageChannel();
    first.port1.onmessage = () => {
      first.port1.close();
      const second = new MessageChannel();
      second.port1.onmessage = () => {
        second.port1.close();
        if (!cancelled) task();
      };
      second.port2.postMessage(null);
    };
    first.port2.postMessage(null);
  });
  return () => {
    cancelled = true;
    cancelAnimationFrame(frame);
  };
}

/** afterPaint as a promise. */
export function nextPaint(): Promise<void> {
  return new Promise((resolve) => afterPaint(resolve));
}
