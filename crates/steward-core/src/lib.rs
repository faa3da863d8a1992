//! Domain types and pure logic of Steward.
//!
//! Everything here is plain data and deterministic functions: no I/O, no clock, no
//! randomness. The client, store and engine crates build on these types, and the desktop
//! shell hands them to the UI unchanged (they derive `specta::Type` so the TypeScript
//! bindings are generated from them).

pub mod error;
pub mod model;
pub mod notify;
pub mod push;

pub use error::{AppError, ErrorCode};
pub use model::{
    AppState, AuthorHistoryEntry, AuthorInfo, BootstrapProgress, BulkOutcome, ClaimInfo,
    ConflictInfo, ConflictResolution, DecisionAction, ItemDetail, ItemPage, ItemSort, ItemState,
    ItemSummary, ProfileInfo, QueueSummary, ReasonTemplate, ReportInfo, SessionInfo, SkippedItem,
    SyncStatus, UndoOutcome, UserInfo,
};
