//! When a request is tried again, and after how long: bounded retries with exponential backoff and
//! jitter that honour `Retry-After`, never repeating a POST that may have been applied.

use std::time::Duration;

use super::message::{Method, Response};
use crate::error::TransportError;

/// How many times, and how long to wait.
#[derive(Clone, Debug)]
pub(crate) struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) first_backoff: Duration,
    /// The longest single wait, whatever `Retry-After` asks for.
    pub(crate) max_backoff: Duration,
    /// The most time all retries and rate-limit pauses of one run may spend waiting.
    pub(crate) budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            budget: Duration::from_secs(120),
        }
    }
}

/// The longest wait a server may ask for (`Retry-After`, `X-RateLimit-Reset`): a longer request is
/// capped, and the log says so.
pub(crate) const MAX_REQUESTED_WAIT: Duration = Duration::from_secs(60);

/// A `Retry-After` value in seconds (fractions accepted, as some proxies send them). The HTTP-date
/// form and anything that is not a finite, non-negative duration are ignored, never a panic.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// A wait before the next attempt, and what the server asked for when it asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wait {
    pub(crate) wait: Duration,
    /// `Retry-After`, as asked, when it was more than `MAX_REQUESTED_WAIT`.
    pub(crate) capped_from: Option<Duration>,
}

/// How long to wait before retrying after a response, if it should be retried at all.
pub(crate) fn after_status(method: Method, resp: &Response, attempt: u32, policy: &RetryPolicy) -> Option<Wait> {
    let retryable = match resp.status {
        429 => true,
        // A 5xx on a POST may have been applied and a second one would duplicate it; reads and
        // this task's PATCHes (set a status, replace a comment's text) are safe to repeat.
        500 | 502 | 503 | 504 => method != Method::Post,
        _ => false,
    };
    if !retryable {
        return None;
    }
    Some(match resp.header("retry-after").map(parse_retry_after) {
        // The server said how long: honoured, up to a minute.
        Some(Some(asked)) => Wait { wait: asked.min(MAX_REQUESTED_WAIT), capped_from: (asked > MAX_REQUESTED_WAIT).then_some(asked) },
        // An absurd value (1e20, a negative number): our own backoff, and it is said.
        Some(None) => Wait { wait: backoff(attempt, policy), capped_from: Some(Duration::MAX) },
        None => Wait { wait: backoff(attempt, policy), capped_from: None },
    })
}

/// How long to wait before retrying after a transport failure, if it should be retried at all.
/// A name that does not resolve and a port that refuses are not transient for a pipeline step:
/// they fail at once, with the fix.
pub(crate) fn after_error(method: Method, err: &TransportError, attempt: u32, policy: &RetryPolicy) -> Option<Wait> {
    let wait = Wait { wait: backoff(attempt, policy), capped_from: None };
    match err {
        // The connection never opened: safe to repeat even for a write.
        TransportError::Connect { .. } => Some(wait),
        TransportError::Timeout { .. } | TransportError::Other { .. } if method != Method::Post => Some(wait),
        _ => None,
    }
}

/// Exponential backoff with up to 25% jitter, so parallel jobs do not retry in lockstep.
pub(crate) fn backoff(attempt: u32, policy: &RetryPolicy) -> Duration {
    let base = policy.first_backoff.saturating_mul(1 << attempt.min(10));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let jitter = base.mul_f64(f64::from(nanos % 250) / 1000.0);
    (base + jitter).min(policy.max_backoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p =
            RetryPolicy { first_backoff: Duration::from_millis(100), max_backoff: Duration::from_millis(350), ..RetryPolicy::default() };
        let b0 = backoff(0, &p);
        assert!(b0 >= Duration::from_millis(100) && b0 <= Duration::from_millis(125));
        assert!(backoff(1, &p) >= Duration::from_millis(200));
        assert_eq!(backoff(5, &p), Duration::from_millis(350));
    }

    #[test]
    fn writes_are_not_retried_after_a_server_error() {
        let resp = |status| Response { status, content_type: None, headers: vec![("Retry-After".into(), "2".into())], body: vec![] };
        let p = RetryPolicy::default();
        let two = Some(Wait { wait: Duration::from_secs(2), capped_from: None });
        assert_eq!(after_status(Method::Get, &resp(503), 0, &p), two);
        assert_eq!(after_status(Method::Post, &resp(503), 0, &p), None);
        assert_eq!(after_status(Method::Patch, &resp(503), 0, &p), two);
        assert_eq!(after_status(Method::Post, &resp(429), 0, &p), two);
        assert_eq!(after_status(Method::Get, &resp(404), 0, &p), None);
        let asked = |v: &str| Response { status: 429, content_type: None, headers: vec![("Retry-After".into(), v.into())], body: vec![] };
        assert_eq!(
            after_status(Method::Get, &asked("3600"), 0, &p),
            Some(Wait { wait: MAX_REQUESTED_WAIT, capped_from: Some(Duration::from_secs(3600)) })
        );
        let absurd = after_status(Method::Get, &asked("1e20"), 0, &p).unwrap();
        assert!(absurd.wait <= p.max_backoff && absurd.capped_from == Some(Duration::MAX));
    }

    #[test]
    fn absurd_retry_after_values_are_ignored_not_a_panic() {
        for v in ["1e20", "-1", "NaN", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", "", "99999999999999999999999"] {
            assert!(parse_retry_after(v).is_none_or(|d| d < Duration::MAX), "{v}");
        }
        assert_eq!(parse_retry_after(" 1.5 "), Some(Duration::from_millis(1500)));
    }
}
