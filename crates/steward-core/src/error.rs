//! The one error type that crosses the boundary to the UI.
//!
//! Every failure the user can see ends up as an [`AppError`]: a stable machine code the UI
//! can branch on, and a sentence that can be shown as is. The codes are mirrored in
//! TypeScript by the generated bindings; `error_json_is_pinned` keeps their JSON stable.

use serde::{Deserialize, Serialize};

/// Stable codes for everything that can go wrong, as the UI sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The server rejected the username or password.
    InvalidCredentials,
    /// No account is signed in for the active profile.
    NotSignedIn,
    /// The session expired or was revoked; the user has to sign in again.
    SessionExpired,
    /// The server could not be reached (DNS, refused connection, timeout).
    ServerUnreachable,
    /// The OS keychain (Secret Service, Keychain, Credential Manager) is not usable.
    KeychainUnavailable,
    /// The server says the signed-in account may not do this.
    PermissionDenied,
    /// The thing asked for does not exist (locally or on the server).
    NotFound,
    /// The server's state moved on since the user saw it.
    Conflict,
    /// The input was rejected (locally or by the server) before anything changed.
    InvalidInput,
    /// The server answered with something that is not the Steward API.
    BadResponse,
    /// The local cache could not be read or written.
    Storage,
    /// A bug: something that should not happen did.
    Internal,
    /// The server refuses to try again so soon (too many sign-in attempts, HTTP 429); the
    /// message says when to try again.
    TooManyAttempts,
    /// Actions exist only in the local cache (not yet sent, in conflict or refused), and
    /// what was asked would throw them away; the message says how many and what to do.
    UnsentWork,
}

/// An error fit to show to the user: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn not_signed_in() -> Self {
        Self::new(
            ErrorCode::NotSignedIn,
            "You are not signed in. Sign in to a Steward server to continue.",
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn storage(message: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::Storage,
            format!("The local cache could not be used: {message}"),
        )
    }
}

/// A lower-case error text ("item 4 is not open") as a sentence the UI can show: first
/// letter capitalized, ending with a full stop.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let mut sentence = first.to_uppercase().chain(chars).collect::<String>();
            if !sentence.ends_with('.') {
                sentence.push('.');
            }
            sentence
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{AppError, ErrorCode};

    fn check(code: ErrorCode, expected: &str) {
        let json = serde_json::to_string(&AppError::new(code, "m")).unwrap();
        assert_eq!(json, format!(r#"{{"code":"{expected}","message":"m"}}"#));
    }

    #[test]
    fn error_json_is_pinned() {
        check(ErrorCode::InvalidCredentials, "invalid_credentials");
        check(ErrorCode::NotSignedIn, "not_signed_in");
        check(ErrorCode::SessionExpired, "session_expired");
        check(ErrorCode::ServerUnreachable, "server_unreachable");
        check(ErrorCode::KeychainUnavailable, "keychain_unavailable");
        check(ErrorCode::PermissionDenied, "permission_denied");
        check(ErrorCode::NotFound, "not_found");
        check(ErrorCode::Conflict, "conflict");
        check(ErrorCode::InvalidInput, "invalid_input");
        check(ErrorCode::BadResponse, "bad_response");
        check(ErrorCode::Storage, "storage");
        check(ErrorCode::Internal, "internal");
        check(ErrorCode::UnsentWork, "unsent_work");
    }
}
