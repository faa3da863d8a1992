use steward_core::{AppError, ErrorCode};

/// Everything that can go wrong talking to a Steward server.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("The server URL is not usable: {0}")]
    InvalidUrl(String),
    #[error("Cannot reach the server at {url}: {detail}.")]
    Unreachable { url: String, detail: String },
    /// The server answered with an error in the API's `{code, message, fields}` shape.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        /// The whole error body, for 409 answers that carry the server's current state.
        body: serde_json::Value,
    },
    #[error(
        "The server answered with something that is not the Steward API (HTTP {status}): {detail}"
    )]
    BadResponse { status: u16, detail: String },
    #[error("{0}")]
    Internal(String),
}

/// "45 seconds", "1 minute", "4 minutes" (rounded up).
fn wait(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds} second{}", if seconds == 1 { "" } else { "s" }),
        _ => {
            let minutes = seconds.div_ceil(60);
            format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
        }
    }
}

impl ClientError {
    /// Parses a non-2xx answer. An error body that is not the API's shape is a bad response.
    pub(crate) fn from_error_response(status: u16, bytes: &[u8]) -> Self {
        match serde_json::from_slice(bytes) {
            Ok(body) => Self::from_error_body(status, body),
            Err(_) => ClientError::BadResponse {
                status,
                detail: format!(
                    "the error body is not JSON ({} bytes{})",
                    bytes.len(),
                    if status >= 500 {
                        ", a server error"
                    } else {
                        ""
                    }
                ),
            },
        }
    }

    /// Reads an error answer already parsed as JSON (a `POST /mutations` entry's body).
    /// A body that is not the API's `{code, message}` shape is a bad response.
    pub fn from_error_body(status: u16, body: serde_json::Value) -> Self {
        let code = body.get("code").and_then(|c| c.as_str());
        let message = body.get("message").and_then(|m| m.as_str());
        match (code, message) {
            (Some(code), Some(message)) => ClientError::Api {
                status,
                code: code.to_string(),
                message: message.to_string(),
                body,
            },
            _ => ClientError::BadResponse {
                status,
                detail: "the error body has no code and message".into(),
            },
        }
    }

    /// A 429's `Retry-After` (seconds): kept in the body as `retry_after_seconds`, and
    /// said in the message when the server's message does not say when to try again.
    pub(crate) fn with_retry_after(self, seconds: Option<u64>) -> Self {
        match (self, seconds) {
            (
                ClientError::Api {
                    status: 429,
                    code,
                    mut message,
                    mut body,
                },
                Some(seconds),
            ) => {
                if let Some(object) = body.as_object_mut() {
                    object.insert("retry_after_seconds".into(), seconds.into());
                }
                if !message.to_lowercase().contains("try again") {
                    message = format!("{} Try again in {}.", message.trim_end(), wait(seconds));
                }
                ClientError::Api {
                    status: 429,
                    code,
                    message,
                    body,
                }
            }
            (other, _) => other,
        }
    }

    /// The HTTP status, when the server answered at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::BadResponse { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. })
    }

    /// The one mapping from HTTP failures to the UI's error codes.
    pub fn to_app_error(&self) -> AppError {
        let code = match self {
            ClientError::InvalidUrl(_) => ErrorCode::InvalidInput,
            ClientError::Unreachable { .. } => ErrorCode::ServerUnreachable,
            ClientError::BadResponse { .. } => ErrorCode::BadResponse,
            ClientError::Internal(_) => ErrorCode::Internal,
            ClientError::Api { status, code, .. } => match (*status, code.as_str()) {
                (401, "invalid_credentials") => ErrorCode::InvalidCredentials,
                (401, _) => ErrorCode::SessionExpired,
                (403, _) => ErrorCode::PermissionDenied,
                (404, _) => ErrorCode::NotFound,
                (409, _) => ErrorCode::Conflict,
                (400 | 422, _) => ErrorCode::InvalidInput,
                (429, _) => ErrorCode::TooManyAttempts,
                (500.., _) => ErrorCode::ServerUnreachable,
                _ => ErrorCode::BadResponse,
            },
        };
        AppError::new(code, self.to_string())
    }
}

/// A short, human reason for a failed request, without the URL noise reqwest adds.
pub(crate) fn describe_network_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "the request timed out".into();
    }
    let mut source: Option<&dyn std::error::Error> = Some(error);
    let mut deepest = error.to_string();
    while let Some(current) = source {
        deepest = current.to_string();
        source = current.source();
    }
    if error.is_connect() {
        format!("could not connect ({deepest})")
    } else {
        deepest
    }
}

#[cfg(test)]
mod tests {
    use steward_core::ErrorCode;

    use crate::error::ClientError;

    fn check(status: u16, body: &str, expected: ErrorCode) {
        let error = ClientError::from_error_response(status, body.as_bytes());
        assert_eq!(error.to_app_error().code, expected, "{status} {body}");
    }

    #[test]
    fn statuses_and_codes_map_to_app_errors() {
        let api = |code: &str| format!(r#"{{"code":"{code}","message":"m","fields":{{}}}}"#);
        check(
            401,
            &api("invalid_credentials"),
            ErrorCode::InvalidCredentials,
        );
        check(401, &api("token_expired"), ErrorCode::SessionExpired);
        check(403, &api("permission_denied"), ErrorCode::PermissionDenied);
        check(404, &api("not_found"), ErrorCode::NotFound);
        check(409, &api("stale_version"), ErrorCode::Conflict);
        check(400, &api("validation_error"), ErrorCode::InvalidInput);
        check(422, &api("idempotency_key_reused"), ErrorCode::InvalidInput);
        check(429, &api("throttled"), ErrorCode::TooManyAttempts);
        check(502, "<html>Bad gateway</html>", ErrorCode::BadResponse);
        check(400, r#"{"detail":"x"}"#, ErrorCode::BadResponse);
    }

    #[test]
    fn api_errors_keep_the_server_message() {
        let error = ClientError::from_error_response(
            401,
            br#"{"code":"invalid_credentials","message":"Wrong username or password.","fields":{}}"#,
        );
        assert_eq!(error.to_app_error().message, "Wrong username or password.");
    }

    #[test]
    fn a_429_says_when_to_try_again() {
        let body =
            br#"{"code":"too_many_attempts","message":"Too many sign-in attempts.","fields":{}}"#;
        let error = ClientError::from_error_response(429, body).with_retry_after(Some(230));
        let app = error.to_app_error();
        assert_eq!(app.code, ErrorCode::TooManyAttempts);
        assert_eq!(
            app.message,
            "Too many sign-in attempts. Try again in 4 minutes."
        );
        let said = br#"{"code":"x","message":"Slow down. Try again in 30 seconds.","fields":{}}"#;
        let error = ClientError::from_error_response(429, said).with_retry_after(Some(30));
        assert_eq!(
            error.to_app_error().message,
            "Slow down. Try again in 30 seconds."
        );
    }
}
