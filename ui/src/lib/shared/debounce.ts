/** How long a filter waits after the last key press before it asks again. */
export const FILTER_DEBOUNCE_MS = 150;

export type Debounced<A extends unknown[]> = ((...args: A) => void) & {
  /** Drops a call that is waiting. */
  cancel(): void;
  /** Runs a waiting call now (Enter in a search field). */
  flush(): void;
};

/**
 * Calls `run` once the calls stop for `ms`, with the last arguments: a search that
 * "updates as you type" asks once per pause, not once per key.
 */
export function debounce<A extends unknown[]>(run: (...args: A) => void, ms = FILTER_DEBOUNCE_MS): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: A | null = null;
  const fire = () => {
    timer = undefined;
    const args = pending;
    pending = null;
    if (args) run(...args);
  };
  const debounced = ((...args: A) => {
    pending = args;
    clearTimeout(timer);
    timer = setTimeout(fire, ms);
  }) as Debounced<A>;
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
    pending = null;
  };
  debounced.flush = () => {
    clearTimeout(timer);
    fire();
  };
  return debounced;
}
