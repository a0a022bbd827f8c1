//! One write to the pull request, as a value: what the publish plan decides and the writer
//! performs. Types only (no I/O), so the decisions can name them.

use super::model::{NewThread, PrStatus, ThreadStatus};

/// One write to the pull request. `what` names the thread as a person reads it ("the inline
/// comment on /src/Cart.java:88 (java:S117, issue AZ-3)"), `why` says why it changes.
#[derive(Clone, Debug)]
pub(crate) enum Write {
    Status(PrStatus),
    CreateThread { thread: NewThread, what: String },
    ThreadStatus { thread: u64, status: ThreadStatus, what: String, why: &'static str },
    UpdateComment { thread: u64, comment: u64, content: String, what: String },
    Reply { thread: u64, content: String, what: String },
}

/// "status SonarQube/quality gate = failed (…) on iteration 2".
pub(crate) fn describe_status(s: &PrStatus) -> String {
    format!(
        "status {}/{} = {} ({}) on iteration {}",
        s.context.genre,
        s.context.name,
        s.state,
        s.description,
        s.iteration_id.map_or("-".to_string(), |i| i.to_string())
    )
}
