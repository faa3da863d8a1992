//! Fuzzing the pure pieces the sync stands on (proptest): the SSE parser and the push
//! planner's rules. Zero panics, and the properties below, over 2,000 cases each by
//! default; `STEWARD_LONG_TESTS=1` runs 100,000.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use steward_core::push::{PushAnswer, PushDisposition, backoff_delay, classify_push};
use steward_core::sse::SseParser;

fn cases() -> u32 {
    if std::env::var("STEWARD_LONG_TESTS").is_ok_and(|v| v == "1") {
        100_000
    } else {
        2_000
    }
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Bytes that look like an event stream often enough to reach every branch: field names,
/// colons, spaces, all three line endings, and anything else.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data".to_vec()),
        Just(b"event: changed".to_vec()),
        Just(b"id: 7".to_vec()),
        Just(b"retry: 5000".to_vec()),
        Just(b"retry: x".to_vec()),
        Just(b": keep-alive".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"{\"collection\": \"items\", \"cursor\": \"Mnw0Mnwx\"}".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

/// Feeding a stream in any chunks gives the same events, and the same retry, as feeding it
/// whole: the network decides where chunks end, so the parser must not.
#[test]
fn the_sse_parser_never_panics_and_ignores_where_chunks_end() {
    let strategy = (
        stream_bytes(),
        proptest::collection::vec(any::<usize>(), 0..12),
    );
    runner()
        .run(&strategy, |(bytes, cuts)| {
            let mut whole = SseParser::new();
            let expected = whole.feed(&bytes);
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut chunked = SseParser::new();
            let mut events = Vec::new();
            let mut start = 0;
            for point in points.into_iter().chain([bytes.len()]) {
                events.extend(chunked.feed(&bytes[start..point]));
                start = point;
            }
            prop_assert_eq!(&events, &expected);
            prop_assert_eq!(chunked.retry_ms, whole.retry_ms);
            for event in &events {
                prop_assert!(!event.event.is_empty());
            }
            Ok(())
        })
        .unwrap();
}

/// Every answer has one disposition; only a 2xx is done, a 409 is a conflict, 401 asks
/// for a new token, and the network or the server's trouble is retried, never rejected.
#[test]
fn every_push_answer_has_one_safe_disposition() {
    let answer = prop_oneof![
        Just(PushAnswer::Accepted),
        Just(PushAnswer::NetworkError),
        Just(PushAnswer::MalformedBody),
        any::<u16>().prop_map(PushAnswer::Status),
    ];
    runner()
        .run(&answer, |answer| {
            let disposition = classify_push(answer);
            match answer {
                PushAnswer::Status(status) if status >= 500 => {
                    prop_assert_eq!(disposition, PushDisposition::RetryLater)
                }
                PushAnswer::Status(401) => {
                    prop_assert_eq!(disposition, PushDisposition::Reauthenticate)
                }
                PushAnswer::Status(409) => prop_assert_eq!(disposition, PushDisposition::Conflict),
                PushAnswer::NetworkError | PushAnswer::MalformedBody => {
                    prop_assert_eq!(disposition, PushDisposition::RetryLater)
                }
                PushAnswer::Accepted => prop_assert_eq!(disposition, PushDisposition::Done),
                PushAnswer::Status(_) => prop_assert_ne!(disposition, PushDisposition::Done),
            }
            Ok(())
        })
        .unwrap();
}

/// The backoff stays within [0, min(cap, base * 2^attempt)] for every attempt and every
/// jitter a caller could pass, NaN and infinities included.
#[test]
fn the_backoff_is_bounded_for_any_attempt_and_jitter() {
    let jitter = prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        0.0..1.0f64,
    ];
    let strategy = (any::<u32>(), 1u64..10_000, 1u64..1_000_000, jitter);
    runner()
        .run(&strategy, |(attempt, base_ms, cap_ms, jitter)| {
            let (base, cap) = (
                Duration::from_millis(base_ms),
                Duration::from_millis(cap_ms),
            );
            let delay = backoff_delay(attempt, base, cap, jitter);
            prop_assert!(delay <= cap, "{delay:?} > {cap:?}");
            let ceiling = base.saturating_mul(2u32.saturating_pow(attempt.min(16)));
            prop_assert!(delay <= ceiling);
            Ok(())
        })
        .unwrap();
}
