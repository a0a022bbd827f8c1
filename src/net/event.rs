//! What the HTTP client tells its caller: events, in values, and the observer that hears them.
//! The caller decides the words and where they go.

use std::path::Path;
use std::time::Duration;

use super::message::Method;
use super::url::Origin;

/// Something the client did that a person may want to know about; the caller decides the words
/// and where they go.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// A request and how it ended (`200`, or the transport error), for debug output.
    Sent {
        method: Method,
        url: &'a str,
        outcome: String,
        elapsed: Duration,
    },
    /// A request failed in a way worth repeating, and will be repeated after `wait`.
    Retrying {
        method: Method,
        url: &'a str,
        reason: String,
        wait: Duration,
        attempt: u32,
        attempts: u32,
    },
    /// A server asked for a longer wait than this client grants (`asked` is `Duration::MAX` for a
    /// value that is not a number of seconds at all).
    WaitCapped {
        url: &'a str,
        asked: Duration,
        waiting: Duration,
    },
    /// The service announced throttling (Retry-After on a success, or X-RateLimit-Remaining 0):
    /// every following request waits.
    SlowDown {
        resource: &'a str,
        wait: Duration,
    },
    /// A credential was not attached because the request goes to another origin.
    CredentialWithheld {
        target: String,
        owner: &'a Origin,
    },
    /// Certificate validation is off (the agent operator's setting).
    CertificateValidationOff,
    SystemCertificatesUnreadable {
        errors: &'a [String],
    },
    TrustedCertificates {
        count: usize,
        path: &'a Path,
    },
    /// Requests to `origin` have gone unanswered for `waited` (said after a few seconds, then now
    /// and then): what they are, when this attempt gives up, and when the run does.
    Waiting {
        origin: &'a str,
        requests: &'a [String],
        waited: Duration,
        attempt_left: Duration,
        run_left: Option<Duration>,
        retries: u32,
        time_limit: &'a str,
    },
    /// A client certificate will be presented to servers that ask for one; `days_left` until it
    /// expires, when its validity could be read.
    ClientCertificate {
        source: &'a str,
        expires: Option<(String, i64)>,
    },
}

/// Receives the client's events.
pub(crate) trait Observer: Send + Sync {
    fn note(&self, event: &Event<'_>);
}
