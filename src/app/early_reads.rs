//! What is read of the pull request while the analyses are awaited: the PR, its iterations, its
//! statuses, who the credential is, and the iteration's files. Both the publish run and the early
//! status (`early_status`) use them.

use std::sync::Arc;

use crate::azdo::AzdoClient;
use crate::azdo::model::{ChangeEntry, Iteration, PrStatus, PullRequest};
use crate::changes::ChangesUnknown;
use crate::decide;
use crate::error::Error;
use crate::parallel;

/// What can be read while the analyses are awaited: the PR, its iterations, its statuses and who
/// the credential is, all at once on Azure DevOps Services; elsewhere the PR alone first, so an
/// older server's api-version is settled once, not by several requests racing to step down. The
/// threads are read later.
pub(super) struct Early {
    pub(super) pull_request: PullRequest,
    pub(super) iterations: Vec<Iteration>,
    pub(super) statuses: Result<Vec<PrStatus>, Error>,
    /// Still being read when the rest is done: the status needs the iteration, not its files.
    pub(super) files: Option<FilesRead>,
    pub(super) me: String,
}

/// The chosen iteration's files, being read on a thread of their own.
pub(super) type FilesRead = (u32, parallel::Pending<'static, Result<Vec<ChangeEntry>, ChangesUnknown>>);

/// An iteration's changed files (with their change tracking ids), by iteration id.
pub(super) type IterationFiles = (u32, Result<Vec<ChangeEntry>, ChangesUnknown>);

/// `files_of`: the source commit whose iteration's files are read too, when any decoration will
/// need them; the files of the iteration the decoration will choose are then read while the
/// analyses are, not after.
/// `statuses`: whether the PR's statuses are read too (only when statuses are posted). Reading them
/// may fail without failing the run: this run's own result is then posted as if it were alone.
/// The files' read goes on after this returns (see `Early::files`), so the status waits for the
/// iteration only.
pub(super) fn read_early(client: &Arc<AzdoClient>, pr: u32, files_of: Option<Option<String>>, statuses: bool) -> Result<Early, Error> {
    // On Services every read goes out at once; elsewhere the PR first, alone, settles the version.
    let read_first = if client.api_version_known() { None } else { Some(client.pull_request(pr)?) };
    let (pull_request, iterations, me, statuses) = parallel::scope(|s| {
        let pull_request = match read_first {
            Some(read) => parallel::Pending::ready(Ok(read)),
            None => s.start(|| client.pull_request(pr)),
        };
        let me = s.start(|| client.connection_data());
        let statuses = statuses.then(|| s.start(|| client.statuses(pr)));
        // The iterations are read here before anything is awaited (a tuple's parts are evaluated
        // in order: waiting for the PR first would put them a round trip later).
        let iterations = client.iterations(pr);
        (pull_request.wait(), iterations, me.wait(), statuses.map(parallel::Pending::wait))
    });
    let pull_request = pull_request?;
    let statuses = statuses.unwrap_or_else(|| Ok(Vec::new()));
    let iterations = iterations?;
    let files = files_of.and_then(|commit| {
        let id = decide::choose_iteration(&iterations, commit.as_deref()).id?;
        let client = client.clone();
        Some((
            id,
            parallel::start_detached(move || client.iteration_changes(pr, id).map_err(|e| ChangesUnknown::ReadFailed(e.to_string()))),
        ))
    });
    let me = me?.authenticated_user.and_then(|u| u.id).unwrap_or_default();
    Ok(Early { pull_request, iterations, statuses, files, me })
}

/// The early reads, done (`Ok`) or still under way (`Err`).
pub(super) type EarlyRead = Result<Result<Early, Error>, parallel::Pending<'static, Result<Early, Error>>>;

/// The early reads, shared by the lanes that write before the rest is read (the status, the
/// inline comments): the first to need them waits for them, and each looks at them only for as
/// long as it takes to copy what it needs, never while it writes.
pub(super) struct SharedEarly(std::sync::Mutex<Option<EarlyRead>>);

impl SharedEarly {
    pub(super) fn new(early: Option<EarlyRead>) -> Self {
        Self(std::sync::Mutex::new(early))
    }

    /// `look` at the early reads, once they are done; `None` when there are none.
    pub(super) fn with<R>(&self, look: impl FnOnce(&mut Result<Early, Error>) -> R) -> Option<R> {
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut early = match slot.take()? {
            Err(pending) => pending.wait(),
            Ok(done) => done,
        };
        let seen = look(&mut early);
        *slot = Some(Ok(early));
        Some(seen)
    }

    /// The iteration's files (its id and the read), waited for without holding the others up:
    /// the read is taken out, awaited, and put back done. `None` when they were not read.
    pub(super) fn files(&self) -> Option<(u32, Result<Vec<ChangeEntry>, ChangesUnknown>)> {
        let (id, pending) = self.with(|e| e.as_mut().ok().and_then(|e| e.files.take()))??;
        let files = pending.wait();
        self.with(|e| {
            if let Ok(e) = e {
                e.files = Some((id, parallel::Pending::ready(files.clone())));
            }
        });
        Some((id, files))
    }

    pub(super) fn into_inner(self) -> Option<EarlyRead> {
        self.0.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether a finished analysis is known to be this pull request's, of this build, before the rest
/// is read: only a pull request analysis can be (a branch's revision comes with the other reads),
/// and `decide::not_this_build` must not refuse it. The lanes that write early ask this.
pub(super) fn known_this_builds(settings: &crate::settings::Settings, pull_request: u32, f: &crate::sonar::analysis::Finished) -> bool {
    let build = decide::Build { pull_request: Some(pull_request), commits: Vec::new(), started: settings.pipeline_started };
    let path = f.report.path.display().to_string();
    let analysed = decide::Analysed {
        project_key: &f.report.project_key,
        task_id: &f.report.ce_task_id,
        report_path: &path,
        scope: &f.scope,
        revision: None,
        submitted_at: f.task.submitted_at.as_deref(),
    };
    matches!(f.scope, crate::sonar::Scope::PullRequest(_)) && decide::not_this_build(&analysed, &build).is_none()
}
