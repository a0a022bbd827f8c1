//! One analysis, start to end: wait for the compute engine to finish the task the scanner
//! submitted, then read what the pull request needs (gate, measures, issues, hotspots) together.

use std::time::Duration;

use super::client::{CeOutcome, IssueSet, Scope, SonarClient};
use super::model::{CeStatus, CeTask, Hotspot, Measure, ProjectStatus};
use super::report_task::ReportTask;
use crate::error::Error;
use crate::net::url::encode;
use crate::parallel::join;

/// Metrics the PR comment shows; unknown ones are dropped for older servers.
pub const SUMMARY_METRICS: [&str; 8] = [
    "new_coverage",
    "new_duplicated_lines_density",
    "new_violations",
    "new_security_hotspots",
    "pull_request_fixed_issues",
    "new_accepted_issues",
    "coverage",
    "duplicated_lines_density",
];

/// Everything known about one analysis.
pub struct Analysis {
    pub report: ReportTask,
    pub scope: Scope,
    pub dashboard_url: String,
    pub outcome: AnalysisOutcome,
    /// What could not be read and what that costs the report, for the log.
    pub warnings: Vec<String>,
}

pub enum AnalysisOutcome {
    Completed(Box<Completed>),
    /// The compute engine reported FAILED or CANCELED.
    Failed {
        message: String,
    },
    /// The compute engine did not finish within pollingTimeoutSec.
    TimedOut {
        message: String,
    },
}

pub struct Completed {
    pub gate: ProjectStatus,
    pub analysis_id: String,
    /// `None` when the token may not read it (the report degrades to the gate only).
    pub measures: Option<Vec<Measure>>,
    pub issues: Option<IssueSet>,
    pub hotspots: Option<(u64, Vec<Hotspot>)>,
    pub ce_warnings: Vec<String>,
}

impl Analysis {
    pub fn project_key(&self) -> &str {
        &self.report.project_key
    }
}

/// Waits for one analysis and reads what the PR needs; `on_status` hears every new task status.
pub fn collect(
    client: &SonarClient,
    report: ReportTask,
    link_base: &str,
    timeout: Duration,
    on_status: impl FnMut(&CeTask),
) -> Result<Analysis, Error> {
    let key = report.project_key.clone();
    let task = match client.wait_for_task(&report.ce_task_id, &key, timeout, on_status)? {
        CeOutcome::Finished(task) => task,
        CeOutcome::TimedOut { task_id, last_status, waited } => {
            let scope = scope_from_report(&report);
            let message = format!(
                "the analysis of '{key}' did not finish within {} s: task {task_id} was still {} when the task stopped waiting. The server's queue may be busy; see {} and raise pollingTimeoutSec if analyses routinely take longer",
                waited.as_secs(),
                last_status.map_or("unknown", CeStatus::as_str),
                client.background_tasks_url(&key)
            );
            let dashboard_url = dashboard_url(link_base, &key, &scope);
            return Ok(Analysis { dashboard_url, scope, report, outcome: AnalysisOutcome::TimedOut { message }, warnings: vec![] });
        }
    };
    let scope = match (&task.pull_request, &task.branch, task.branch_type.as_deref()) {
        (Some(pr), _, _) => Scope::PullRequest(pr.clone()),
        (None, Some(branch), Some("BRANCH" | "LONG" | "SHORT")) => Scope::Branch(branch.clone()),
        _ => scope_from_report(&report),
    };
    let dashboard_url = dashboard_url(link_base, &key, &scope);
    let failed = |message: String, report, scope| Analysis {
        report,
        scope,
        dashboard_url: dashboard_url.clone(),
        outcome: AnalysisOutcome::Failed { message },
        warnings: vec![],
    };
    if task.status != CeStatus::Success {
        let message = format!(
            "the analysis of '{key}' {}: {}. See {}",
            if task.status == CeStatus::Canceled { "was canceled" } else { "failed on the server" },
            task.error_message.as_deref().unwrap_or("SonarQube gave no reason"),
            client.background_tasks_url(&key)
        );
        return Ok(failed(message, report, scope));
    }
    let Some(analysis_id) = task.analysis_id.clone() else {
        let message = format!("analysis task {} of '{key}' succeeded but names no analysis id; the server's answer is incomplete", task.id);
        return Ok(failed(message, report, scope));
    };
    let completed = read_results(client, &key, &scope, analysis_id, task.warnings)?;
    let mut warnings = Vec::new();
    if completed.measures.is_none() {
        warnings.push(format!("the token may not read the measures of '{key}' (HTTP 403); the report shows the quality gate without coverage and duplication. Use a user token with 'Browse' on the project"));
    }
    if completed.issues.is_none() {
        warnings.push(format!("the token may not read the issues of '{key}' (HTTP 403); no issues are listed or commented. Use a user token with 'Browse' on the project (analysis tokens cannot read issues)"));
    }
    Ok(Analysis { report, scope, dashboard_url, outcome: AnalysisOutcome::Completed(Box::new(completed)), warnings })
}

/// Four reads that depend only on the analysis: one round trip (plus the rest of the issue pages).
fn read_results(client: &SonarClient, key: &str, scope: &Scope, analysis_id: String, ce_warnings: Vec<String>) -> Result<Completed, Error> {
    let (gate, measures, issues, hotspots) = std::thread::scope(|s| {
        let measures = s.spawn(|| client.measures(key, scope, &SUMMARY_METRICS));
        let issues = s.spawn(|| client.open_issues(key, scope));
        let hotspots = s.spawn(|| client.hotspots_to_review(key, scope));
        let gate = client.project_status(&analysis_id, key);
        (gate, join(measures), join(issues), join(hotspots))
    });
    Ok(Completed { gate: gate?, analysis_id, measures: measures?, issues: issues?, hotspots: hotspots?, ce_warnings })
}

fn scope_from_report(report: &ReportTask) -> Scope {
    match (&report.pull_request, &report.branch) {
        (Some(pr), _) => Scope::PullRequest(pr.clone()),
        (None, Some(b)) => Scope::Branch(b.clone()),
        _ => Scope::Main,
    }
}

/// A SonarQube page for a project, with the scope's parameters.
fn page_url(link_base: &str, page: &str, project_key: &str, extra: &[(&str, &str)], scope: &Scope) -> String {
    let mut url = format!("{}/{page}?id={}", link_base.trim_end_matches('/'), encode(project_key));
    for (k, v) in extra {
        url.push_str(&format!("&{k}={}", encode(v)));
    }
    for (k, v) in scope.params() {
        url.push_str(&format!("&{k}={}", encode(&v)));
    }
    url
}

/// The dashboard link people open: on the server's public base URL when it is set.
pub fn dashboard_url(link_base: &str, project_key: &str, scope: &Scope) -> String {
    page_url(link_base, "dashboard", project_key, &[], scope)
}

/// A link to one issue on the server.
pub fn issue_url(link_base: &str, project_key: &str, scope: &Scope, issue_key: &str) -> String {
    page_url(link_base, "project/issues", project_key, &[("open", issue_key)], scope)
}
