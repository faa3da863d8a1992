//! Domain types and pure logic of Steward.
//!
//! Everything here is plain data and deterministic functions: no I/O, no clock, no
//! randomness. The client, store and engine crates build on these types, and the desktop
//! shell hands them to the UI unchanged (they derive `specta::Type` so the TypeScript
//! bindings are generated from them).

pub mod error;
pub mod jobs;
pub mod model;
pub mod notify;
pub mod push;
pub mod sse;
pub mod unsent;

pub use error::{AppError, ErrorCode};
pub use jobs::{
    CountEntry, JobAction, JobBulkOutcome, JobDetail, JobInfo, JobPage, JobQuery, JobStats,
};
pub use model::{
    AccountAction, AccountCounts, AccountDetail, AccountNote, AccountSummary, AppState,
    AuditEventInfo, AuditPage, AuditQuery, AuthorHistoryEntry, AuthorInfo, BootstrapProgress,
    BulkOutcome, ClaimInfo, ConflictInfo, ConflictResolution, ContentObject, Decided,
    DecisionAction, ItemDetail, ItemPage, ItemSort, ItemState, ItemSummary, ProfileInfo,
    QueueSummary, ReasonTemplate, ReportInfo, SessionInfo, SkippedItem, SyncStatus, UndoOutcome,
    UserInfo,
};
pub use unsent::{RefusedAction, SignOutMode, UnsentWork};
