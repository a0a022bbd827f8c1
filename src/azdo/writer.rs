//! Performing the writes a publish plan decided, several at once, without ever duplicating one: a
//! POST that failed in a way that may still have been applied is checked against the pull request
//! before it is sent again.

use super::client::AzdoClient;
use super::model::{NewComment, NewThread, PrStatus, ThreadStatus};
use crate::error::Error;

/// One write to the pull request.
#[derive(Clone, Debug)]
pub enum Write {
    Status(PrStatus),
    CreateThread { thread: NewThread, what: String },
    ThreadStatus { thread: u64, status: ThreadStatus, why: &'static str },
    UpdateComment { thread: u64, comment: u64, content: String },
    Reply { thread: u64, content: String },
}

/// "status SonarQube/quality gate = failed (…) on iteration 2".
pub fn describe_status(s: &PrStatus) -> String {
    format!(
        "status {}/{} = {} ({}) on iteration {}",
        s.context.genre,
        s.context.name,
        s.state,
        s.description,
        s.iteration_id.map_or("-".to_string(), |i| i.to_string())
    )
}

impl Write {
    /// What a dry run prints for this write.
    pub fn dry_run_lines(&self) -> Vec<String> {
        match self {
            Write::Status(s) => vec![format!("[dry run] would post {}", describe_status(s))],
            Write::CreateThread { thread, what } => vec![format!("[dry run] would create the {what}:"), thread.content().to_string()],
            Write::ThreadStatus { thread, status, why } => vec![format!("[dry run] would {why}: thread {thread} -> {}", status.as_str())],
            Write::UpdateComment { thread, content, .. } => {
                vec![format!("[dry run] would update the summary comment in thread {thread}:"), content.clone()]
            }
            Write::Reply { thread, content } => vec![format!("[dry run] would reply in thread {thread}: {content}")],
        }
    }
}

/// Writes to the pull request: independent of each other, so several at once. Azure DevOps' own
/// clients issue a handful of requests in parallel; 16 keeps a 25-comment run to two round trips.
const WRITE_CONCURRENCY: usize = 16;

pub struct Writer<'a> {
    pub client: &'a AzdoClient,
    pub pr: u32,
    /// Hears one line per write done, for the log.
    pub report: &'a (dyn Fn(String) + Sync),
}

impl Writer<'_> {
    /// Every write, at most `WRITE_CONCURRENCY` at once; the first failure (in list order) is
    /// reported. A failed write is not repeated here: the HTTP layer already retried what was safe.
    /// Returns, per write, the id of the thread it created (when it created one).
    pub fn perform_all(&self, writes: &[Write]) -> Result<Vec<Option<u64>>, Error> {
        let results = crate::parallel::map_bounded(writes, WRITE_CONCURRENCY, |w| self.perform(w));
        results.into_iter().collect()
    }

    /// Performs a write. A POST that failed in a way that may still have been applied (dropped
    /// connection, time-out, server error) is never blindly repeated: the PR is read again, and
    /// only if the status, thread or reply is not there is it sent once more.
    fn perform(&self, write: &Write) -> Result<Option<u64>, Error> {
        match self.perform_once(write) {
            Err(e) if e.write_may_have_applied() && !matches!(write, Write::ThreadStatus { .. } | Write::UpdateComment { .. }) => {
                (self.report)(format!("A write failed ({e}); reading the pull request again to see whether it was applied"));
                if self.was_applied(write)? {
                    (self.report)("It was applied; not sending it again".to_string());
                    return Ok(None);
                }
                self.perform_once(write)
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
            Write::Reply { thread, content } => self
                .client
                .threads(self.pr)?
                .iter()
                .any(|t| t.id == *thread && t.comments.iter().any(|c| c.content.as_deref() == Some(content.as_str()))),
            Write::ThreadStatus { .. } | Write::UpdateComment { .. } => false,
        })
    }

    fn perform_once(&self, write: &Write) -> Result<Option<u64>, Error> {
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
                format!("Created the {what} (thread {})", thread.id)
            }
            Write::ThreadStatus { thread, status, why } => {
                client.set_thread_status(pr, *thread, *status)?;
                format!("Thread {thread} set to {} ({why})", status.as_str())
            }
            Write::UpdateComment { thread, comment, content } => {
                client.update_comment(pr, *thread, *comment, content)?;
                format!("Updated the summary comment in thread {thread}")
            }
            Write::Reply { thread, content } => {
                client.add_comment(pr, *thread, &NewComment::reply(content.clone()))?;
                format!("Asked in thread {thread} to resolve it by hand (a person replied there)")
            }
        };
        (self.report)(line);
        Ok(created)
    }
}
