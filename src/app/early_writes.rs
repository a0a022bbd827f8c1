//! Writes sent before the run has planned the rest (the status from `early_status`, the inline
//! threads from `early_inline`): sent on a thread of their own, so the run reads, plans and sends
//! its other writes meanwhile, and collected when the run logs its writes. Whatever happens to the
//! run, they are over before it ends: dropping them waits for them, each bounded by the run's
//! deadline, and says what they did when the run did not.

use std::sync::Arc;

use crate::azdo::write::Write;
use crate::azdo::writer::Done;
use crate::azdo::{AzdoClient, Writer};
use crate::error::Error;
use crate::parallel;
use crate::pipeline::Log;

/// Writes under way, and what each did once done.
pub(super) struct EarlyWrites {
    writes: Vec<Write>,
    results: Option<parallel::Pending<'static, Vec<Result<Done, Error>>>>,
    /// Where what they did is said if the run never collects them (a run that failed before its
    /// own writes); `None` for writes whose lines the run's plan says in their place.
    said_on_drop: Option<Arc<Log>>,
}

impl EarlyWrites {
    pub(super) fn none() -> Self {
        Self { writes: Vec::new(), results: None, said_on_drop: None }
    }

    /// Starts `writes` on a thread of their own, `spare` of the server's connections left for
    /// other writes.
    pub(super) fn start(client: &Arc<AzdoClient>, pr: u32, writes: Vec<Write>, spare: usize, said_on_drop: Option<Arc<Log>>) -> Self {
        if writes.is_empty() {
            return Self::none();
        }
        let (client, sent) = (client.clone(), writes.clone());
        let results = parallel::start_detached(move || Writer { client: &client, pr }.perform_all_leaving(&sent, spare));
        Self { writes, results: Some(results), said_on_drop }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The writes under way.
    pub(super) fn writes(&self) -> &[Write] {
        &self.writes
    }

    /// Each write with what it did, once all are done.
    pub(super) fn wait(mut self) -> Vec<(Write, Result<Done, Error>)> {
        let results = self.results.take().map_or_else(Vec::new, parallel::Pending::wait);
        std::mem::take(&mut self.writes).into_iter().zip(results).collect()
    }
}

impl Drop for EarlyWrites {
    fn drop(&mut self) {
        if let Some(results) = self.results.take() {
            // A panic on the writes' thread was reported there; it is not raised again here.
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| results.wait()));
            if let (Some(log), Ok(done)) = (&self.said_on_drop, done) {
                done.iter().flatten().flat_map(|d| &d.lines).for_each(|l| log.info(l));
            }
        }
    }
}
