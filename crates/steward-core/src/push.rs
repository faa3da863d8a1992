//! What to do with an outbox row after the server answered its push.
//!
//! The engine sends one outbox row at a time, in order. This module decides, from the
//! answer alone, whether the row is done, must be retried later, has become a conflict,
//! or was refused; and how long to wait before the next attempt.

use std::time::Duration;

/// What the server (or the network) said about one pushed action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushAnswer {
    /// A 2xx response; the action is applied on the server.
    Accepted,
    /// No answer: connection refused, DNS failure, timeout.
    NetworkError,
    /// An HTTP status that is not 2xx.
    Status(u16),
    /// A 2xx whose body is not what the API promises.
    MalformedBody,
}

/// What the engine does next with the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushDisposition {
    /// Apply the server's answer to the cache and drop the row.
    Done,
    /// Keep the row and try again after a backoff; later rows wait behind it.
    RetryLater,
    /// Refresh the session, then retry at once.
    Reauthenticate,
    /// The server's state moved on: keep the row as a conflict with the server's state.
    Conflict,
    /// The server refused the action for good: roll back the optimistic change and tell the user.
    Rejected,
}

pub fn classify_push(answer: PushAnswer) -> PushDisposition {
    match answer {
        PushAnswer::Accepted => PushDisposition::Done,
        PushAnswer::NetworkError => PushDisposition::RetryLater,
        // A replayed idempotency key returns the first answer, so retrying a malformed
        // body is safe and may succeed once a misbehaving proxy is gone.
        PushAnswer::MalformedBody => PushDisposition::RetryLater,
        PushAnswer::Status(401) => PushDisposition::Reauthenticate,
        PushAnswer::Status(409) => PushDisposition::Conflict,
        PushAnswer::Status(408 | 425 | 429) => PushDisposition::RetryLater,
        PushAnswer::Status(status) if status >= 500 => PushDisposition::RetryLater,
        PushAnswer::Status(_) => PushDisposition::Rejected,
    }
}

/// Exponential backoff with full jitter: a random delay in `[0, min(cap, base * 2^attempt)]`.
///
/// `jitter` is a number in `[0, 1)` supplied by the caller, so this stays deterministic.
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exponential = base.saturating_mul(2u32.saturating_pow(attempt.min(16)));
    let ceiling = exponential.min(cap);
    // NaN would panic in `mul_f64`; a caller's bad jitter means no wait, not a crash.
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    ceiling.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::push::{PushAnswer, PushDisposition, backoff_delay, classify_push};

    fn check(answer: PushAnswer, expected: PushDisposition) {
        assert_eq!(classify_push(answer), expected, "for {answer:?}");
    }

    #[test]
    fn answers_map_to_dispositions() {
        check(PushAnswer::Accepted, PushDisposition::Done);
        check(PushAnswer::NetworkError, PushDisposition::RetryLater);
        check(PushAnswer::MalformedBody, PushDisposition::RetryLater);
        check(PushAnswer::Status(401), PushDisposition::Reauthenticate);
        check(PushAnswer::Status(409), PushDisposition::Conflict);
        check(PushAnswer::Status(429), PushDisposition::RetryLater);
        check(PushAnswer::Status(500), PushDisposition::RetryLater);
        check(PushAnswer::Status(503), PushDisposition::RetryLater);
        check(PushAnswer::Status(400), PushDisposition::Rejected);
        check(PushAnswer::Status(403), PushDisposition::Rejected);
        check(PushAnswer::Status(404), PushDisposition::Rejected);
        check(PushAnswer::Status(422), PushDisposition::Rejected);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(500);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff_delay(0, base, cap, 0.999_999).as_millis(), 499);
        assert_eq!(backoff_delay(3, base, cap, 0.5), Duration::from_secs(2));
        assert_eq!(backoff_delay(30, base, cap, 0.5), Duration::from_secs(30));
        assert_eq!(backoff_delay(5, base, cap, 0.0), Duration::ZERO);
    }
}
