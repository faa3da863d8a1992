//! Where the app's log lines go: stderr and the active profile's rolling file, both
//! through the engine's redaction (`steward_engine::logging::redact`), so a secret that
//! slips into a log line (a header in an error message) is caught on both. Nothing is
//! written to a file before the data directory is known: no log in a shared temp
//! directory under a name anyone can predict.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use steward_engine::logging::{LogSink, RedactingWriter, redact};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::EitherWriter;

/// stderr, one formatted event at a time, redacted.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedactedStderr;

/// One event's text, written redacted to stderr when the formatter is done with it.
pub struct RedactedStderrLine {
    buffer: Vec<u8>,
}

impl RedactedStderrLine {
    fn finish(&mut self, out: &mut impl Write) {
        if self.buffer.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.buffer);
        // A log line that cannot be written is not worth failing the app for.
        let _ = out.write_all(redact(&text).as_bytes());
        self.buffer.clear();
    }
}

impl Write for RedactedStderrLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedStderrLine {
    fn drop(&mut self) {
        self.finish(&mut std::io::stderr().lock());
    }
}

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = RedactedStderrLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedStderrLine { buffer: Vec::new() }
    }
}

/// The file layer's writer: discards lines until the app's setup hands it the sink in the
/// data directory ([`LaterSink::set`]); stderr has them meanwhile.
#[derive(Debug, Clone, Default)]
pub struct LaterSink {
    sink: Arc<OnceLock<LogSink>>,
}

impl LaterSink {
    /// Starts writing to `sink`, and returns it (the first one, if set twice).
    pub fn set(&self, sink: LogSink) -> LogSink {
        self.sink.get_or_init(|| sink).clone()
    }
}

impl<'a> MakeWriter<'a> for LaterSink {
    type Writer = EitherWriter<RedactingWriter, std::io::Sink>;

    fn make_writer(&'a self) -> Self::Writer {
        match self.sink.get() {
            Some(sink) => EitherWriter::A(sink.make_writer()),
            None => EitherWriter::B(std::io::sink()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use crate::logging::RedactedStderrLine;

    #[test]
    fn stderr_lines_are_redacted_like_the_file() {
        let mut line = RedactedStderrLine { buffer: Vec::new() };
        write!(
            line,
            "WARN sync round failed error=upstream said password=hunter2 Authorization: Bearer abc.DEF"
        )
        .unwrap();
        let mut out = Vec::new();
        line.finish(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "WARN sync round failed error=upstream said password=<redacted> Authorization: <redacted>"
        );
    }
}
