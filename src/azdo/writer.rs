//! Performing the writes a publish plan decided, several at once, without ever duplicating one: a
//! POST that failed in a way that may still have been applied is checked against the pull request
//! before it is sent again.

use super::client::AzdoClient;
use super::model::NewComment;
use super::write::{Write, describe_status};
use crate::error::Error;

/// Writes to the pull request: independent of each other, so as many at once as the client keeps
/// connections to one server (more threads would only wait for a connection).
const WRITE_CONCURRENCY: usize = crate::net::MAX_CONNECTIONS_PER_HOST;

pub(crate) struct Writer<'a> {
    pub(crate) client: &'a AzdoClient,
    pub(crate) pr: u32,
}

/// What one write did, for the log: its lines (what was done, or a retry's check), and the id of
/// the thread it created, if it created one.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) lines: Vec<String>,
    pub(crate) created: Option<u64>,
}

impl Writer<'_> {
    /// Every write, at most `WRITE_CONCURRENCY` at once. Returns each write's result in the order
    /// of `writes`, so the log lists them in plan order whichever finished first. A failed write is
    /// not repeated here: the HTTP layer already retried what was safe.
    pub(crate) fn perform_all(&self, writes: &[Write]) -> Vec<Result<Done, Error>> {
        self.perform_all_leaving(writes, 0)
    }

    /// `perform_all` with `spare` of the connections left for other writes (a status that must
    /// not wait behind these).
    pub(crate) fn perform_all_leaving(&self, writes: &[Write], spare: usize) -> Vec<Result<Done, Error>> {
        crate::parallel::map_bounded(writes, WRITE_CONCURRENCY.saturating_sub(spare).max(1), |w| self.perform(w))
    }

    /// Performs a write. A POST that failed in a way that may still have been applied (dropped
    /// connection, time-out, server error) is never blindly repeated: the PR is read again, and
    /// only if the status, thread or reply is not there is it sent once more.
    fn perform(&self, write: &Write) -> Result<Done, Error> {
        match self.perform_once(write) {
            Err(e) if e.write_may_have_applied() && !matches!(write, Write::ThreadStatus { .. } | Write::UpdateComment { .. }) => {
                let mut lines = vec![format!("A write failed ({e}); reading the pull request again to see whether it was applied")];
                if self.was_applied(write)? {
                    lines.push("It was applied; not sending it again".to_string());
                    return Ok(Done { lines, created: None });
                }
                let mut done = self.perform_once(write)?;
                lines.append(&mut done.lines);
                Ok(Done { lines, created: done.created })
            }
            other => other,
        }
    }

    fn was_applied(&self, write: &Write) -> Result<bool, Error> {
        Ok(match write {
            Write::CreateThread { thread, .. } => {
                self.client.threads(self.pr)?.iter().any(|t| !t.is_deleted && t.marker().as_ref() == Some(&thread.marker))
            }
            Write::Status(status) => self.client.statuses(self.pr)?.iter().any(|s| {
                s.state == status.state
                    && s.description == status.description
                    && s.iteration_id == status.iteration_id
                    && s.context == status.context
            }),
            Write::Reply { thread, content, .. } => self
                .client
                .threads(self.pr)?
                .iter()
                .any(|t| t.id == *thread && t.comments.iter().any(|c| c.content.as_deref() == Some(content.as_str()))),
            Write::ThreadStatus { .. } | Write::UpdateComment { .. } => false,
        })
    }

    fn perform_once(&self, write: &Write) -> Result<Done, Error> {
        let (client, pr) = (self.client, self.pr);
        let mut created = None;
        let line = match write {
            Write::Status(status) => {
                client.post_status(pr, status)?;
                format!("Posted {}", describe_status(status))
            }
            Write::CreateThread { thread, what } => {
                let thread = client.create_thread(pr, thread)?;
                created = Some(thread.id);
                format!("Created thread {}, {what}", thread.id)
            }
            Write::ThreadStatus { thread, status, what, why } => {
                client.set_thread_status(pr, *thread, *status)?;
                format!("Set thread {thread}, {what}, to {} ({why})", status.as_str())
            }
            Write::UpdateComment { thread, comment, content, what } => {
                client.update_comment(pr, *thread, *comment, content)?;
                format!("Updated thread {thread}, {what}")
            }
            Write::Reply { thread, content, what } => {
                client.add_comment(pr, *thread, &NewComment::reply(content.clone()))?;
                format!("Asked in thread {thread}, {what}, to resolve it by hand (a person replied there)")
            }
        };
        Ok(Done { lines: vec![line], created })
    }
}
