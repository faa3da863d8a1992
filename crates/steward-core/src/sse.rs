//! A parser for Server-Sent Events (the `text/event-stream` format), fed bytes as they
//! arrive. Only what the live-update stream uses: `event`, `data`, `id`, `retry`, and
//! comments; lines may end in LF, CRLF or CR.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, "message" when absent.
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
    id: Option<String>,
    /// The reconnection delay the server asked for, in milliseconds.
    pub retry_ms: Option<u64>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds received bytes; returns the events completed by them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n' || b == b'\r') {
            // A CR at the very end may be the first half of a CRLF: wait for more.
            if self.buffer[end] == b'\r' && end + 1 == self.buffer.len() {
                break;
            }
            let line = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
            let skip = if self.buffer[end] == b'\r' && self.buffer.get(end + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            self.buffer.drain(..end + skip);
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        events
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            if self.data.is_empty() {
                self.event = None;
                return None;
            }
            return Some(SseEvent {
                event: self.event.take().unwrap_or_else(|| "message".to_string()),
                data: std::mem::take(&mut self.data).join("\n"),
                id: self.id.clone(),
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => self.data.push(value.to_string()),
            "id" => self.id = Some(value.to_string()),
            "retry" => self.retry_ms = value.parse().ok().or(self.retry_ms),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::sse::{SseEvent, SseParser};

    #[test]
    fn events_are_parsed_across_chunks_and_line_endings() {
        let mut parser = SseParser::new();
        assert_eq!(parser.feed(b"retry: 5000\r\nid: 1\r\nevent: chan"), vec![]);
        let events =
            parser.feed(b"ged\r\ndata: {\"collection\": \"items\"}\r\n\r\n: keep-alive\n\n");
        assert_eq!(
            events,
            vec![SseEvent {
                event: "changed".into(),
                data: "{\"collection\": \"items\"}".into(),
                id: Some("1".into())
            }]
        );
        assert_eq!(parser.retry_ms, Some(5000));
    }

    #[test]
    fn multi_line_data_is_joined_and_default_event_is_message() {
        let mut parser = SseParser::new();
        let events = parser.feed(b"data: a\ndata: b\n\n");
        assert_eq!(events[0].event, "message");
        assert_eq!(events[0].data, "a\nb");
    }

    #[test]
    fn a_trailing_cr_waits_for_its_lf() {
        let mut parser = SseParser::new();
        assert_eq!(parser.feed(b"data: x\r"), vec![]);
        assert_eq!(parser.feed(b"\n\r\n").len(), 1);
    }
}
