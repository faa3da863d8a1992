import { commands, events } from "./bindings";
import type {
  ActionRefused,
  AppError,
  AppState,
  BulkOutcome,
  CollectionChanged,
  ConflictInfo,
  ConflictResolution,
  ContentKey,
  DecisionAction,
  Decided,
  ItemDetail,
  ItemPage,
  ItemSort,
  ItemState,
  ItemSummary,
  NewHighPriorityItems,
  ProfileInfo,
  QueueSummary,
  ReasonTemplate,
  RefusedAction,
  SessionChanged,
  SessionInfo,
  SignOutMode,
  SyncStatus,
  SyncStatusChanged,
  UndoOutcome,
  UnsentWork,
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
  /** Signs out; what happens to actions not yet on the server is `mode`'s (see SignOutMode). */
  signOut(mode: SignOutMode): Promise<void>;
  /** What signing out would throw away: queued actions, conflicts and refusals. */
  getUnsentWork(): Promise<UnsentWork>;
  /** Actions the server refused for good, with what the user wrote and the server's reason. */
  listRefused(): Promise<RefusedAction[]>;
  dismissRefused(outboxId: number): Promise<void>;
  listQueues(): Promise<QueueSummary[]>;
  listQueueItems(queueId: number): Promise<ItemSummary[]>;
  getItem(itemId: number): Promise<ItemDetail>;
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
  undoLast(): Promise<UndoOutcome>;
  listItems(queueId: number, state: ItemState, sort: ItemSort, offset: number, limit: number): Promise<ItemPage>;
  claimItem(itemId: number): Promise<void>;
  releaseItem(itemId: number): Promise<void>;
  listReasonTemplates(scope: "decision" | "account"): Promise<ReasonTemplate[]>;
  listConflicts(): Promise<ConflictInfo[]>;
  resolveConflict(outboxId: number, resolution: ConflictResolution): Promise<void>;
  listProfiles(): Promise<ProfileInfo[]>;
  saveProfile(name: string, serverUrl: string, production: boolean): Promise<ProfileInfo>;
  switchProfile(name: string): Promise<AppState>;
  /** The item's sanitized HTML with its images inlined as data: URIs, fetched by the engine, never by the webview. */
  loadItemImages(itemId: number): Promise<string>;
  syncNow(): Promise<SyncStatus>;
  getSyncStatus(): Promise<SyncStatus>;
  /** Tells the shell the keyboard focus is (or is no longer) inside an item's content frame. */
  setContentFocus(focused: boolean): Promise<void>;
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
    signOut: async (mode) => {
      await call("sign_out", () => cmds.signOut(mode));
    },
    getUnsentWork: () => call("get_unsent_work", () => cmds.getUnsentWork()),
    listRefused: () => call("list_refused", () => cmds.listRefused()),
    dismissRefused: async (outboxId) => {
      await call("dismiss_refused", () => cmds.dismissRefused(outboxId));
    },
    listQueues: () => call("list_queues", () => cmds.listQueues()),
    listQueueItems: (queueId) => call("list_queue_items", () => cmds.listQueueItems(queueId)),
    getItem: (itemId) => call("get_item", () => cmds.getItem(itemId)),
    decideItem: (itemId, action, reasonCode = null, note = null) =>
      call("decide_item", () => cmds.decideItem(itemId, action, reasonCode, note)),
    decideItems: (itemIds, action, reasonCode = null, note = null) =>
      call("decide_items", () => cmds.decideItems(itemIds, action, reasonCode, note)),
    undoLast: () => call("undo_last", () => cmds.undoLast()),
    listItems: (queueId, state, sort, offset, limit) =>
      call("list_items", () => cmds.listItems(queueId, state, sort, offset, limit)),
    claimItem: async (itemId) => {
      await call("claim_item", () => cmds.claimItem(itemId));
    },
    releaseItem: async (itemId) => {
      await call("release_item", () => cmds.releaseItem(itemId));
    },
    listReasonTemplates: (scope) => call("list_reason_templates", () => cmds.listReasonTemplates(scope)),
    listConflicts: () => call("list_conflicts", () => cmds.listConflicts()),
    resolveConflict: async (outboxId, resolution) => {
      await call("resolve_conflict", () => cmds.resolveConflict(outboxId, resolution));
    },
    listProfiles: () => call("list_profiles", () => cmds.listProfiles()),
    saveProfile: (name, serverUrl, production) =>
      call("save_profile", () => cmds.saveProfile(name, serverUrl, production)),
    switchProfile: (name) => call("switch_profile", () => cmds.switchProfile(name)),
    loadItemImages: (itemId) => call("load_item_images", () => cmds.loadItemImages(itemId)),
    syncNow: () => call("sync_now", () => cmds.syncNow()),
    getSyncStatus: () => call("get_sync_status", () => cmds.getSyncStatus()),
    setContentFocus: async (focused) => {
      await call("set_content_focus", async () => ({ status: "ok" as const, data: await cmds.setContentFocus(focused) }));
    },
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

/** Calls `handler` when the engine changed a cached collection ("queues", "items",
 * "reason_templates", "accounts", "audit" or "jobs"). */
export function onCollectionChanged(
  handler: (collection: CollectionChanged["collection"]) => void,
): Promise<Unlisten> {
  return events.collectionChanged.listen((event: { payload: CollectionChanged }) =>
    handler(event.payload.collection),
  );
}

/** The server refused an action for good (a lost claim, a rejected decision). */
export function onActionRefused(handler: (error: AppError) => void): Promise<Unlisten> {
  return events.actionRefused.listen((event: { payload: ActionRefused }) => handler(event.payload.error));
}

/** The session ended by itself; the UI goes back to the sign-in screen. */
export function onSessionExpired(handler: () => void): Promise<Unlisten> {
  return events.sessionExpired.listen(() => handler());
}

/** The user's roles changed on the server: screens follow the new session's permissions. */
export function onSessionChanged(handler: (session: SessionInfo) => void): Promise<Unlisten> {
  return events.sessionChanged.listen((event: { payload: SessionChanged }) => handler(event.payload.session));
}

/** A triage key pressed while the focus was inside an item's content (see content_keys.rs). */
export function onContentKey(handler: (key: ContentKey) => void): Promise<Unlisten> {
  return events.contentKey.listen((event: { payload: ContentKey }) => handler(event.payload));
}

/** New items arrived in a high-priority queue (the shell raises the OS notification). */
export function onNewHighPriorityItems(handler: (news: NewHighPriorityItems) => void): Promise<Unlisten> {
  return events.newHighPriorityItems.listen((event: { payload: NewHighPriorityItems }) => handler(event.payload));
}
