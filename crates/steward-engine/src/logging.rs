//! Logs: a rolling file per profile, with tokens and passwords redacted.
//!
//! The shell installs a tracing subscriber whose writer is a [`LogSink`]. The engine
//! points the sink at the active profile's folder, so each environment keeps its own
//! log. Every formatted event passes through [`redact`] before it reaches the file: the
//! engine never logs a secret on purpose, and this catches the accidents (a header in an
//! error message, a request body in a debug line).

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use regex::Regex;
use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// Days of logs kept per profile.
const KEPT_FILES: usize = 7;

static SECRET_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // Authorization headers, whatever their scheme.
        r#"(?i)(\bauthorization"?\s*[:=]\s*"?)(?:bearer\s+|basic\s+)?[^"\s,;&}]+"#,
        // Bearer tokens anywhere else in a line.
        r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+",
        // key=value, key: value and "key": "value" for secret-looking keys.
        r#"(?i)("?\b(?:access_token|refresh_token|id_token|token|password|passwd|secret)"?\s*[:=]\s*"?)[^"\s,;&}]+"#,
    ]
    .into_iter()
    .map(|pattern| Regex::new(pattern).expect("the redaction patterns compile"))
    .collect()
});

/// Replaces secrets in one log line with `<redacted>`.
pub fn redact(line: &str) -> Cow<'_, str> {
    let mut result = Cow::Borrowed(line);
    for pattern in SECRET_PATTERNS.iter() {
        if pattern.is_match(&result) {
            result = Cow::Owned(pattern.replace_all(&result, "${1}<redacted>").into_owned());
        }
    }
    result
}

/// Where log lines go: the active profile's rolling file (or a general one before any
/// profile is active). Cheap to clone; all clones share the target.
#[derive(Clone)]
pub struct LogSink {
    target: Arc<Mutex<Target>>,
}

struct Target {
    dir: PathBuf,
    appender: Option<RollingFileAppender>,
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSink").finish_non_exhaustive()
    }
}

impl LogSink {
    /// A sink writing to `<dir>/steward.log.<date>` until told otherwise.
    pub fn new(dir: &Path) -> Self {
        let sink = Self {
            target: Arc::new(Mutex::new(Target {
                dir: PathBuf::new(),
                appender: None,
            })),
        };
        sink.set_dir(dir);
        sink
    }

    /// Sends the following lines to `<dir>/steward.log.<date>`.
    pub fn set_dir(&self, dir: &Path) {
        let appender = std::fs::create_dir_all(dir).ok().and_then(|()| {
            RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("steward")
                .filename_suffix("log")
                .max_log_files(KEPT_FILES)
                .build(dir)
                .ok()
        });
        let mut target = self.target.lock().unwrap_or_else(|e| e.into_inner());
        target.dir = dir.to_path_buf();
        target.appender = appender;
    }

    pub fn dir(&self) -> PathBuf {
        self.target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .dir
            .clone()
    }
}

/// Collects one formatted event, then writes it redacted.
pub struct RedactingWriter {
    target: Arc<Mutex<Target>>,
    buffer: Vec<u8>,
}

impl Write for RedactingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingWriter {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let clean = redact(&text);
        let mut target = self.target.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(appender) = target.appender.as_mut() {
            // A log line that cannot be written is not worth failing the app for.
            let _ = appender.write_all(clean.as_bytes());
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogSink {
    type Writer = RedactingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            target: Arc::clone(&self.target),
            buffer: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::logging::redact;

    fn check(input: &str, expected: &str) {
        assert_eq!(redact(input), expected);
    }

    #[test]
    fn secrets_are_redacted() {
        check(
            "Authorization: Bearer abc.DEF-123",
            "Authorization: <redacted>",
        );
        check(
            "sent bearer xyz to the server",
            "sent bearer <redacted> to the server",
        );
        check(
            r#"{"refresh_token": "r1", "user": 3}"#,
            r#"{"refresh_token": "<redacted>", "user": 3}"#,
        );
        check("password=hunter2&user=ann", "password=<redacted>&user=ann");
        check(r#"access_token="a.b.c""#, r#"access_token="<redacted>""#);
    }

    #[test]
    fn ordinary_lines_are_kept() {
        check("decision pushed item_id=4", "decision pushed item_id=4");
        check("signed in user=moderator", "signed in user=moderator");
    }
}
