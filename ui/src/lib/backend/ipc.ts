// The UI's one wrapper around the generated commands and events (bindings.ts). Every
// command becomes a method of `backend` by itself: adding one to the Rust side
// (the engine, commands.rs and the list in src-tauri/src/lib.rs) and regenerating the
// bindings is all it takes.
import { commands, events } from "./bindings";
import type { AppError, DecisionAction, Decided, BulkOutcome } from "./bindings";
import { toBackendError } from "./errors";

/** The generated `commands` object; tests pass a fake of it. */
export type Commands = typeof commands;

/** What a generated command resolves to (the generator does not export a name for it). */
type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

/** The data of an ok result; a command that cannot fail resolves to its value itself. */
type Data<R> = [Extract<R, { status: "ok" }>] extends [never]
  ? R
  : Extract<R, { status: "ok" }> extends { data: infer T }
    ? T
    : never;

/** A command as the UI calls it: its data, or a thrown BackendError. */
type Unwrapped<F> = F extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<Data<R>> : never;

/** Every command, unwrapped; a decision's reason and note may be left out (null). */
export type Backend = Omit<{ [K in keyof Commands]: Unwrapped<Commands[K]> }, "decideItem" | "decideItems"> & {
  decideItem(
    itemId: number,
    action: DecisionAction,
    reasonCode?: string | null,
    note?: string | null,
  ): Promise<Decided>;
  decideItems(
    itemIds: number[],
    action: DecisionAction,
    reasonCode?: string | null,
    note?: string | null,
  ): Promise<BulkOutcome>;
};

export type Unlisten = () => void;

/** The command's name on the Rust side, for logs: getAppState -> get_app_state. */
function commandName(method: string): string {
  return method.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function isCommandResult(value: unknown): value is CommandResult<unknown> {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (candidate.status === "ok" && "data" in candidate) || (candidate.status === "error" && "error" in candidate);
}

function fail(command: string, failure: unknown) {
  const error = toBackendError(command, failure);
  console.error(`backend command ${command} failed: [${error.code}] ${error.message}`, failure);
  return error;
}

/**
 * Wraps the generated commands so the rest of the UI deals in plain values and thrown
 * BackendErrors. The command name is logged on every failure, since a rejected promise in
 * a webview otherwise says little about which call broke.
 */
export function createBackend(cmds: Commands): Backend {
  const wrapped: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [method, command] of Object.entries(cmds) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    const name = commandName(method);
    wrapped[method] = async (...args) => {
      let result: unknown;
      try {
        result = await command(...args);
      } catch (thrown) {
        throw fail(name, thrown);
      }
      // A command that cannot fail (set_content_focus) resolves to its value itself.
      if (!isCommandResult(result)) return result;
      if (result.status === "error") throw fail(name, result.error);
      return result.data;
    };
  }
  const unwrapped = wrapped as unknown as { [K in keyof Commands]: Unwrapped<Commands[K]> };
  return {
    ...unwrapped,
    decideItem: (itemId, action, reasonCode = null, note = null) =>
      unwrapped.decideItem(itemId, action, reasonCode, note),
    decideItems: (itemIds, action, reasonCode = null, note = null) =>
      unwrapped.decideItems(itemIds, action, reasonCode, note),
  };
}

export const backend: Backend = createBackend(commands);

type Events = typeof events;
export type EventName = keyof Events;
/** The payload of an engine event, as generated from the Rust type. */
export type EventPayload<K extends EventName> = Parameters<Parameters<Events[K]["listen"]>[0]>[0]["payload"];

/**
 * Calls `handler` with the payload of every `name` event the engine sends; resolves to
 * an unsubscribe. A subscription that fails is logged and resolves to a no-op.
 */
export function onEvent<K extends EventName>(name: K, handler: (payload: EventPayload<K>) => void): Promise<Unlisten> {
  const listen = events[name].listen as (callback: (event: { payload: EventPayload<K> }) => void) => Promise<Unlisten>;
  return listen((event) => handler(event.payload)).catch((error: unknown) => {
    console.error(`subscribing to ${name} failed`, error);
    return () => {};
  });
}

/** Subscriptions held for a component's life: returns the one function that ends them all. */
export function subscribe(...subscriptions: Promise<Unlisten>[]): Unlisten {
  return () => {
    for (const pending of subscriptions) void pending.then((unlisten) => unlisten());
  };
}
