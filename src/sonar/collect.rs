//! One analysis, start to end: wait for the compute engine to finish the task the scanner
//! submitted, then read what the pull request needs (gate, measures, issues, hotspots, the
//! analysed revision) together. The two halves are apart so the caller can read the pull request
//! beside the second and choose which issues to read.

use std::time::Instant;

use super::analysis::{Analysis, AnalysisOutcome, Completed, Ended, EndedHow, Finished, IssueSet, Issues, UncoveredCode, Waited};
use super::branch::Scope;
use super::client::{CeOutcome, SonarClient};
use super::links::Links;
use super::model::{CeStatus, CeTask};
use super::report_task::ReportTask;
use crate::error::Error;
use crate::parallel;

/// Metrics the PR comment shows; unknown ones are dropped for older servers.
pub(crate) const SUMMARY_METRICS: [&str; 12] = [
    "new_coverage",
    "new_duplicated_lines_density",
    "new_violations",
    "new_security_hotspots",
    "pull_request_fixed_issues",
    "new_accepted_issues",
    "coverage",
    "duplicated_lines_density",
    // Open issues of the whole scope: what the summary counts when only changed files are read.
    "violations",
    // What a failed coverage condition takes to pass: new lines to cover, how many are not, and
    // whether conditions (branches) count too.
    "new_lines_to_cover",
    "new_uncovered_lines",
    "new_conditions_to_cover",
];

/// Waits for the compute engine to finish one analysis, until the client's deadline; `started` is
/// when that time began (for the message), and `on_status` hears every new task status.
pub(crate) fn wait(
    client: &SonarClient,
    report: ReportTask,
    link_base: &str,
    started: Instant,
    first: Option<CeTask>,
    on_status: impl FnMut(&CeTask),
) -> Result<Waited, Error> {
    let key = report.project_key.clone();
    let links_of = |scope: &Scope| Links::new(link_base, &key, scope, client.organization());
    let ended = |report: ReportTask, scope: Scope, outcome: AnalysisOutcome| {
        let links = links_of(&scope);
        Waited::Ended(Box::new(Analysis { report, scope, dashboard_url: links.dashboard(), links, outcome, warnings: vec![] }))
    };
    let task = match client.wait_for_task(&report.ce_task_id, &key, started, first, on_status)? {
        CeOutcome::Finished(task) => task,
        CeOutcome::TimedOut { task_id, last_status, waited } => {
            let message = format!(
                "the analysis of '{key}' did not finish within {} s: task {task_id} was still {} when the task stopped waiting. The server's queue may be busy; see {} and raise {} if analyses routinely take longer",
                waited.as_secs(),
                last_status.map_or("unknown", CeStatus::as_str),
                client.background_tasks_url(&key),
                client.names().polling_timeout
            );
            let scope = scope_from_report(&report);
            let how = EndedHow::TimedOut { waited_secs: waited.as_secs(), last_status: last_status.map_or("unknown", CeStatus::as_str) };
            return Ok(ended(report, scope, AnalysisOutcome::TimedOut { message, ended: Ended { task_id, how } }));
        }
    };
    let scope = match (&task.pull_request, &task.branch, task.branch_type.as_deref()) {
        (Some(pr), _, _) => Scope::PullRequest(pr.clone()),
        (None, Some(branch), Some("BRANCH" | "LONG" | "SHORT")) => Scope::Branch(branch.clone()),
        _ => scope_from_report(&report),
    };
    if task.status != CeStatus::Success {
        let message = format!(
            "the analysis of '{key}' {}: {}. See {}",
            if task.status == CeStatus::Canceled { "was canceled" } else { "failed on the server" },
            crate::text::visible(task.error_message.as_deref().unwrap_or("SonarQube gave no reason")),
            client.background_tasks_url(&key)
        );
        let how = match task.status {
            CeStatus::Canceled => EndedHow::Canceled,
            _ => EndedHow::Failed { reason: task.error_message.clone() },
        };
        return Ok(ended(report, scope, AnalysisOutcome::Failed { message, ended: Ended { task_id: task.id.clone(), how } }));
    }
    let Some(analysis_id) = task.analysis_id.clone() else {
        let message = format!("analysis task {} of '{key}' succeeded but names no analysis id; the server's answer is incomplete", task.id);
        let how = EndedHow::Failed { reason: Some("SonarQube says the analysis succeeded but names no analysis to read".into()) };
        return Ok(ended(report, scope, AnalysisOutcome::Failed { message, ended: Ended { task_id: task.id.clone(), how } }));
    };
    let links = links_of(&scope);
    Ok(Waited::Succeeded(Box::new(Finished {
        report,
        task,
        analysis_id: Some(analysis_id),
        scope,
        dashboard_url: links.dashboard(),
        links,
    })))
}

/// The most files whose uncovered new lines are read and listed; the rest are counted and linked.
pub(crate) const UNCOVERED_FILES_LISTED: usize = 10;

/// A pull request's measures and its new code that tests do not cover: both from the measures
/// tree (beside the other reads), then the new lines of the first `UNCOVERED_FILES_LISTED` files
/// (one round trip more, only for files with uncovered new code). Other scopes read the measures
/// alone and have no uncovered code. `None` where the token may not read the measures.
fn measures_and_uncovered(
    client: &SonarClient,
    key: &str,
    scope: &Scope,
) -> Result<(Option<Vec<super::model::Measure>>, Option<UncoveredCode>), Error> {
    if !matches!(scope, Scope::PullRequest(_)) {
        return Ok((client.measures(key, scope, &SUMMARY_METRICS)?, None));
    }
    let Some(read) = client.pull_request_measures(key, scope, &SUMMARY_METRICS)? else { return Ok((None, None)) };
    let (measures, files) = (read.measures, read.uncovered_files);
    let listed: Vec<&super::model::UncoveredFile> =
        files.iter().filter(|f| f.lines + f.conditions > 0).take(UNCOVERED_FILES_LISTED).collect();
    let lines = parallel::map_bounded(&listed, 6, |f| client.new_lines(&f.key, scope)).into_iter().collect::<Result<Vec<_>, Error>>()?;
    Ok((Some(measures), Some(UncoveredCode { files, lines })))
}

/// Which issues to read with the results.
#[derive(Clone, Copy)]
pub(crate) enum IssueQuery<'a> {
    /// The open issues of the analysis's scope (a pull request analysis, or a branch): every page,
    /// or only the first (most severe first) when `first_page_enough` says it settles what the
    /// run decides (`decide::first_page_enough`).
    Scope { first_page_enough: &'a (dyn Fn(&IssueSet) -> bool + Sync) },
    /// None now: only the files a pull request changed are read, once they are known.
    Later,
}

/// Who hears a read as soon as it is done, while the other reads go on: the caller may post the
/// status from the gate, and the inline comments from the issues, without waiting for the rest.
pub(crate) struct ReadHooks<'a> {
    pub(crate) on_gate: &'a (dyn Fn(&super::model::ProjectStatus) + Sync),
    pub(crate) on_issues: &'a (dyn Fn(&Issues) + Sync),
}

/// Reads what depends only on the analysis, all at once: one round trip (plus the other issue
/// pages). `hooks` hear the gate and the issues as they arrive.
pub(crate) fn read(client: &SonarClient, finished: Finished, issues: IssueQuery<'_>, hooks: &ReadHooks<'_>) -> Result<Analysis, Error> {
    let (key, scope, id) = (finished.report.project_key.as_str(), &finished.scope, finished.analysis_id.as_deref());
    // Six reads at most for the server's six connections (a pull request: the gate, its
    // definition, the measures with the uncovered code, the issues, hotspots, dependency risks;
    // the gate's name and the metric names were read ahead, beside the first poll), so all go out
    // at once, the heads of the chains and the issues first (the status and the inline comments
    // go out as soon as those are read).
    let (gate, measured, issue_set, hotspots, risks, revision, overall) = parallel::scope(|s| {
        let gate = s.start(|| {
            let gate = client.project_status(id, key, scope);
            if let Ok(g) = &gate {
                (hooks.on_gate)(g);
            }
            gate
        });
        // Only a pull request leaves the overall-code conditions out.
        let overall = s.start(|| if matches!(scope, Scope::PullRequest(_)) { client.gate_definition(key) } else { Ok(Vec::new()) });
        let measured = s.start(|| measures_and_uncovered(client, key, scope));
        let issues = s.start(|| match issues {
            IssueQuery::Scope { first_page_enough } => {
                let issues = client.open_issues(key, scope, first_page_enough).map(|i| i.map_or(Issues::Forbidden, Issues::Read));
                if let Ok(i) = &issues {
                    (hooks.on_issues)(i);
                }
                issues
            }
            IssueQuery::Later => Ok(Issues::NotRead),
        });
        let risks = s.start(|| client.dependency_risks(key, scope));
        let hotspots = s.start(|| client.hotspots_to_review(key, scope));
        let revision = client.analysis_revision(key, scope, id);
        (gate.wait(), measured.wait(), issues.wait(), hotspots.wait(), risks.wait(), revision, overall.wait())
    });
    let gate = gate?;
    let (measures, uncovered) = measured?;
    let completed = Completed {
        gate,
        measures,
        issues: issue_set?,
        hotspots: hotspots?,
        ce_warnings: finished.task.warnings.clone(),
        revision: revision?,
        submitted_at: finished.task.submitted_at.clone(),
        uncovered,
        changed_file_lines: Vec::new(),
        metric_names: Default::default(),
        synced: Vec::new(),
        gate_definition: overall?,
        dependency_risks: risks?,
    };
    let mut warnings = Vec::new();
    if completed.measures.is_none() {
        warnings.push(format!("the token may not read the measures of '{key}' (HTTP 403); the report shows the quality gate without coverage and duplication. Use a user token with 'Browse' on the project"));
    }
    if matches!(completed.issues, Issues::Forbidden) {
        warnings.push(format!("the token may not read the issues of '{key}' (HTTP 403); no issues are listed or commented. Use a user token with 'Browse' on the project (analysis tokens cannot read issues)"));
    }
    Ok(Analysis {
        report: finished.report,
        scope: finished.scope,
        dashboard_url: finished.dashboard_url,
        links: finished.links,
        outcome: AnalysisOutcome::Completed(Box::new(completed)),
        warnings,
    })
}

fn scope_from_report(report: &ReportTask) -> Scope {
    match (&report.pull_request, &report.branch) {
        (Some(pr), _) => Scope::PullRequest(pr.clone()),
        (None, Some(b)) => Scope::Branch(b.clone()),
        _ => Scope::Main,
    }
}
