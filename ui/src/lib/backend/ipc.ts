import { commands, events } from "./bindings";
import type {
  AppError,
  AppState,
  CollectionChanged,
  DecisionAction,
  ItemDetail,
  ItemSummary,
  QueueSummary,
  SessionInfo,
  SyncStatus,
  SyncStatusChanged,
} from "./bindings";
import { toBackendError } from "./errors";

/** The generated `commands` object; tests pass a fake of it. */
export type Commands = typeof commands;

/** What every generated command resolves to (the generator does not export a name for it). */
type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

export type Unlisten = () => void;

export interface Backend {
  getAppState(): Promise<AppState>;
  signIn(serverUrl: string, username: string, password: string): Promise<SessionInfo>;
  signOut(): Promise<void>;
  listQueues(): Promise<QueueSummary[]>;
  listQueueItems(queueId: number): Promise<ItemSummary[]>;
  getItem(itemId: number): Promise<ItemDetail>;
  decideItem(
    itemId: number,
    action: DecisionAction,
    reasonCode?: string | null,
    note?: string | null,
  ): Promise<ItemSummary>;
  syncNow(): Promise<SyncStatus>;
  getSyncStatus(): Promise<SyncStatus>;
}

/**
 * Wraps the generated commands so the rest of the UI deals in plain values and thrown
 * BackendErrors. The command name is logged on every failure, since a rejected promise in
 * a webview otherwise says little about which call broke.
 */
export function createBackend(cmds: Commands): Backend {
  async function call<T>(name: string, run: () => Promise<CommandResult<T>>): Promise<T> {
    let result: CommandResult<T>;
    try {
      result = await run();
    } catch (thrown) {
      throw fail(name, thrown);
    }
    if (result.status === "error") throw fail(name, result.error);
    return result.data;
  }

  return {
    getAppState: () => call("get_app_state", () => cmds.getAppState()),
    signIn: (serverUrl, username, password) =>
      call("sign_in", () => cmds.signIn(serverUrl, username, password)),
    signOut: async () => {
      await call("sign_out", () => cmds.signOut());
    },
    listQueues: () => call("list_queues", () => cmds.listQueues()),
    listQueueItems: (queueId) => call("list_queue_items", () => cmds.listQueueItems(queueId)),
    getItem: (itemId) => call("get_item", () => cmds.getItem(itemId)),
    decideItem: (itemId, action, reasonCode = null, note = null) =>
      call("decide_item", () => cmds.decideItem(itemId, action, reasonCode, note)),
    syncNow: () => call("sync_now", () => cmds.syncNow()),
    getSyncStatus: () => call("get_sync_status", () => cmds.getSyncStatus()),
  };
}

function fail(command: string, failure: unknown) {
  const error = toBackendError(command, failure);
  console.error(`backend command ${command} failed: [${error.code}] ${error.message}`, failure);
  return error;
}

export const backend: Backend = createBackend(commands);

/** Calls `handler` with every sync status the engine emits; resolves to an unsubscribe. */
export function onSyncStatusChanged(handler: (status: SyncStatus) => void): Promise<Unlisten> {
  return events.syncStatusChanged.listen((event: { payload: SyncStatusChanged }) =>
    handler(event.payload.status),
  );
}

/** Calls `handler` when the engine changed a cached collection ("queues" or "items"). */
export function onCollectionChanged(
  handler: (collection: CollectionChanged["collection"]) => void,
): Promise<Unlisten> {
  return events.collectionChanged.listen((event: { payload: CollectionChanged }) =>
    handler(event.payload.collection),
  );
}
