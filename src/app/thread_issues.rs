//! The issues of this task's threads that a first-page read did not hold, asked for by key: a
//! thread is resolved only when its own issue is known to be closed, never because a partial list
//! left it out.

use crate::azdo::model::{Thread, ThreadKind};
use crate::error::Error;
use crate::parallel;
use crate::sonar::{Analysis, AnalysisOutcome, Issues, SonarClient};

/// For each analysis whose issues were read from the first page only: the issue keys the pull
/// request's inline threads for its project name, that the page did not hold, are asked for at
/// once (one round trip, beside the other analyses'); those still open join the list, and every
/// key asked for is recorded, so one not found is known to be closed. Threads anyone wrote count
/// here: asking about a stranger's key costs a few bytes and decides nothing on its own.
pub(super) fn check(sonar: &SonarClient, threads: Option<&[Thread]>, analyses: &mut [Analysis]) -> Result<(), Error> {
    let Some(threads) = threads else { return Ok(()) };
    let asks: Vec<(usize, Vec<String>)> =
        analyses.iter().enumerate().map(|(n, a)| (n, keys_to_ask(a, threads))).filter(|(_, keys)| !keys.is_empty()).collect();
    let found = parallel::map_bounded(&asks, 4, |(n, keys)| {
        let a = &analyses[*n];
        sonar.open_issues_by_key(a.project_key(), &a.scope, keys)
    });
    for ((n, keys), found) in asks.into_iter().zip(found) {
        let AnalysisOutcome::Completed(done) = &mut analyses[n].outcome else { continue };
        let Issues::Read(set) = &mut done.issues else { continue };
        // The token read the first page, so it may read these; a refusal now leaves them unknown.
        let Some(found) = found? else { continue };
        set.issues.extend(found.issues);
        set.components.extend(found.components);
        set.checked.extend(keys);
    }
    Ok(())
}

/// The issue keys the pull request's inline threads for this analysis's project name that its
/// first page did not hold: none when every issue was read.
pub(super) fn keys_to_ask(a: &Analysis, threads: &[Thread]) -> Vec<String> {
    let AnalysisOutcome::Completed(done) = &a.outcome else { return Vec::new() };
    let Some(set) = done.issues.read().filter(|s| s.first_page_only) else { return Vec::new() };
    let mut keys: Vec<String> = threads
        .iter()
        .filter_map(Thread::marker)
        .filter(|m| m.kind == ThreadKind::Issue && m.project_key == a.project_key())
        .filter_map(|m| m.issue_key)
        .filter(|k| !set.issues.iter().any(|i| &i.key == k))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
