// The UI's only door to the Rust side. Components import from lib/backend (this file),
// never from bindings.ts, so the generated file can be replaced without touching them.
export { backend, createBackend, onCollectionChanged, onSyncStatusChanged } from "./ipc";
export type { Backend, Commands, Unlisten } from "./ipc";
export { BackendError, ERROR_CODES, isAppError, isErrorCode, toBackendError } from "./errors";
export type {
  AppError,
  AppState,
  AuthorInfo,
  ClaimInfo,
  CollectionChanged,
  DecisionAction,
  ErrorCode,
  ItemDetail,
  ItemState,
  ItemSummary,
  QueueSummary,
  ReportInfo,
  SessionInfo,
  SyncStatus,
  SyncStatusChanged,
  UserInfo,
} from "./bindings";
