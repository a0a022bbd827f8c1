//! SonarQube: checking the server and token, finding the scanner's analyses, waiting for the
//! compute engine, and reading each analysis's gate, measures, issues and hotspots.

pub mod client;
pub mod model;
pub mod present;
pub mod report_task;

use crate::checklist::Check;
use crate::error::{Error, Service};
use crate::http::origin_of;
use client::{CeOutcome, IssueSet, Scope, SonarClient};
use model::{CeStatus, Hotspot, Measure, ProjectStatus};
use report_task::ReportTask;

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

/// What the server is, as far as decoration is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Cloud,
    /// Developer, Enterprise or Data Center: analyses pull requests itself.
    Commercial,
    /// Community Build (or Community Edition): no branch or pull request analysis.
    Community,
    Unknown,
}

/// What the preflight learnt about the server.
pub struct ServerFacts {
    pub version: String,
    pub flavour: Flavour,
    /// `sonar.core.serverBaseURL`, when set and readable.
    pub public_base_url: Option<String>,
}

/// Runs the server and token checks. A failed check that makes every later call pointless
/// (unreachable server, rejected token) ends the run with its error; the others become warnings.
/// The five calls do not depend on each other, so they go out together: one round trip.
pub fn preflight(client: &SonarClient, checks: &mut Vec<Check>) -> Result<ServerFacts, Error> {
    let (version, status, valid, edition, base_url) = std::thread::scope(|s| {
        let status = s.spawn(|| client.system_status());
        let valid = s.spawn(|| client.validate_token());
        let edition = s.spawn(|| if client.is_cloud() { Flavour::Cloud } else { edition(client) });
        let base_url = s.spawn(|| if client.is_cloud() { Ok(None) } else { client.server_base_url() });
        let version = client.server_version();
        (version, join(status), join(valid), join(edition), join(base_url))
    });
    let version = match version {
        Ok(v) => v,
        Err(e) => {
            checks.push(Check::fail("SonarQube server reachable", e.to_string()));
            return Err(e);
        }
    };
    let status = status?;
    if status.status != "UP" {
        let meaning = match status.status.as_str() {
            "STARTING" => "the server is starting; wait for it to finish and run again",
            "DOWN" => {
                "the server is down (often its database or search engine cannot be reached); ask its administrator to check the server logs"
            }
            "RESTARTING" => "the server is restarting; run again in a few minutes",
            "DB_MIGRATION_NEEDED" => {
                "the server was upgraded and waits for its database migration; an administrator must open /setup on the server"
            }
            "DB_MIGRATION_RUNNING" => "the server is migrating its database after an upgrade; run again when it is done",
            _ => "the server is not ready",
        };
        let msg = format!("SonarQube at {} reports status {}: {meaning}", client.base_url(), status.status);
        checks.push(Check::fail("SonarQube server is UP", msg.clone()));
        return Err(Error::Api { service: Service::SonarQube, message: msg });
    }
    checks.push(Check::pass("SonarQube server reachable", format!("{} answers, version {version}, status UP", client.base_url())));

    if !valid? {
        let msg = "the token is not valid for this server: api/authentication/validate answered valid=false. It is mistyped, expired or revoked, or it was created on another server; create a new token (My Account > Security) and update sonarToken or the service connection".to_string();
        checks.push(Check::fail("SonarQube token valid", msg.clone()));
        return Err(Error::Credentials { service: Service::SonarQube, message: msg });
    }
    checks.push(Check::pass("SonarQube token valid", "api/authentication/validate says valid=true".to_string()));

    let flavour = edition;
    checks.push(Check::pass(
        "SonarQube edition",
        match flavour {
            Flavour::Cloud => "SonarQube Cloud: pull request analysis supported".to_string(),
            Flavour::Commercial => "a commercial edition: pull request analysis supported".to_string(),
            Flavour::Community => {
                "Community Build: no branch or pull request analysis; results are those of the analysed branch".to_string()
            }
            Flavour::Unknown => "could not tell the edition (api/navigation/global did not say)".to_string(),
        },
    ));

    let public_base_url = if client.is_cloud() {
        None
    } else {
        match base_url {
            Ok(None) => {
                checks.push(Check::warn(
                    "sonar.core.serverBaseURL set",
                    "the server's base URL is not set, so links that SonarQube builds (in report-task.txt, e-mails, its own PR decoration) point at http://localhost:9000".to_string(),
                    format!("an administrator sets it in Administration > Configuration > General Settings > General > Server base URL, to the URL people use, e.g. {}", client.base_url()),
                ));
                None
            }
            Ok(Some(url)) => {
                let url = url.trim_end_matches('/').to_string();
                if origin_of(&url) != origin_of(client.base_url()) {
                    checks.push(Check::warn(
                        "sonar.core.serverBaseURL matches",
                        format!("the server's base URL is {url}, but this pipeline reaches it at {}; links in the PR use {url}", client.base_url()),
                        "if people cannot open that URL, correct the setting in Administration > Configuration > General Settings > Server base URL; if the agent needs an internal address, that is fine".to_string(),
                    ));
                } else {
                    checks.push(Check::pass("sonar.core.serverBaseURL set", url.clone()));
                }
                Some(url)
            }
            // Reading settings needs an authenticated user; a token that cannot is not fatal here.
            Err(_) => None,
        }
    };
    Ok(ServerFacts { version, flavour, public_base_url })
}

/// The result of a scoped thread; a panic there is a bug, so it is passed on.
pub(crate) fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn edition(client: &SonarClient) -> Flavour {
    match client.edition() {
        Some(e) if e == "community" => Flavour::Community,
        Some(e) if ["developer", "enterprise", "datacenter"].contains(&e.as_str()) => Flavour::Commercial,
        _ => Flavour::Unknown,
    }
}

/// Compares the report's `serverUrl` with the URL the task uses.
pub fn check_report_server_url(report: &ReportTask, base_url: &str, checks: &mut Vec<Check>) {
    if origin_of(&report.server_url) != origin_of(base_url) {
        checks.push(Check::warn(
            "report-task.txt serverUrl matches",
            format!("{} names the server {} but this task calls {}", report.path.display(), report.server_url, base_url),
            "the task keeps calling the URL it was given; if that is a different server, set sonarUrl (or the service connection) to the server the scanner used".to_string(),
        ));
    }
}

/// Everything known about one analysis.
pub struct Analysis {
    pub report: ReportTask,
    pub scope: Scope,
    pub dashboard_url: String,
    pub outcome: AnalysisOutcome,
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

/// Waits for one analysis and reads what the PR needs.
pub fn collect(
    client: &SonarClient,
    report: ReportTask,
    link_base: &str,
    timeout: std::time::Duration,
    log: &crate::pipeline::Log,
) -> Result<Analysis, Error> {
    let key = report.project_key.clone();
    log.info(&format!("Waiting for analysis task {} of project '{key}'", report.ce_task_id));
    let outcome = client.wait_for_task(&report.ce_task_id, &key, timeout, |task| {
        log.info(&format!("  analysis task {}: {}", task.id, task.status.as_str()));
    })?;
    let task = match outcome {
        CeOutcome::Finished(task) => task,
        CeOutcome::TimedOut { task_id, last_status, waited } => {
            let scope = scope_from_report(&report);
            let message = format!(
                "the analysis of '{key}' did not finish within {} s: task {task_id} was still {} when the task stopped waiting. The server's queue may be busy; see {} and raise pollingTimeoutSec if analyses routinely take longer",
                waited.as_secs(),
                last_status.map_or("unknown", CeStatus::as_str),
                client.background_tasks_url(&key)
            );
            return Ok(Analysis {
                dashboard_url: dashboard_url(link_base, &key, &scope),
                scope,
                report,
                outcome: AnalysisOutcome::TimedOut { message },
            });
        }
    };
    let scope = match (&task.pull_request, &task.branch, task.branch_type.as_deref()) {
        (Some(pr), _, _) => Scope::PullRequest(pr.clone()),
        (None, Some(branch), Some("BRANCH")) | (None, Some(branch), Some("LONG")) | (None, Some(branch), Some("SHORT")) => {
            Scope::Branch(branch.clone())
        }
        _ => scope_from_report(&report),
    };
    let dashboard_url = dashboard_url(link_base, &key, &scope);
    if task.status != CeStatus::Success {
        let message = format!(
            "the analysis of '{key}' {}: {}. See {}",
            if task.status == CeStatus::Canceled { "was canceled" } else { "failed on the server" },
            task.error_message.as_deref().unwrap_or("SonarQube gave no reason"),
            client.background_tasks_url(&key)
        );
        return Ok(Analysis { report, scope, dashboard_url, outcome: AnalysisOutcome::Failed { message } });
    }
    let Some(analysis_id) = task.analysis_id.clone() else {
        let message = format!("analysis task {} of '{key}' succeeded but names no analysis id; the server's answer is incomplete", task.id);
        return Ok(Analysis { report, scope, dashboard_url, outcome: AnalysisOutcome::Failed { message } });
    };
    // Four reads that depend only on the analysis: one round trip (plus the rest of the issue pages).
    let (gate, measures, issues, hotspots) = std::thread::scope(|s| {
        let measures = s.spawn(|| client.measures(&key, &scope, &SUMMARY_METRICS));
        let issues = s.spawn(|| client.open_issues(&key, &scope));
        let hotspots = s.spawn(|| client.hotspots_to_review(&key, &scope));
        let gate = client.project_status(&analysis_id, &key);
        (gate, join(measures), join(issues), join(hotspots))
    });
    let (gate, measures, issues, hotspots) = (gate?, measures?, issues?, hotspots?);
    if measures.is_none() {
        log.warning(&format!("the token may not read the measures of '{key}' (HTTP 403); the report shows the quality gate without coverage and duplication. Use a user token with 'Browse' on the project"));
    }
    if issues.is_none() {
        log.warning(&format!("the token may not read the issues of '{key}' (HTTP 403); no issues are listed or commented. Use a user token with 'Browse' on the project (analysis tokens cannot read issues)"));
    }
    Ok(Analysis {
        report,
        scope,
        dashboard_url,
        outcome: AnalysisOutcome::Completed(Box::new(Completed {
            gate,
            analysis_id,
            measures,
            issues,
            hotspots,
            ce_warnings: task.warnings,
        })),
    })
}

fn scope_from_report(report: &ReportTask) -> Scope {
    match (&report.pull_request, &report.branch) {
        (Some(pr), _) => Scope::PullRequest(pr.clone()),
        (None, Some(b)) => Scope::Branch(b.clone()),
        _ => Scope::Main,
    }
}

/// The dashboard link people open: on the server's public base URL when it is set.
pub fn dashboard_url(link_base: &str, project_key: &str, scope: &Scope) -> String {
    let mut url = format!("{}/dashboard?id={}", link_base.trim_end_matches('/'), crate::percent::encode(project_key));
    match scope {
        Scope::PullRequest(id) => url.push_str(&format!("&pullRequest={}", crate::percent::encode(id))),
        Scope::Branch(b) => url.push_str(&format!("&branch={}", crate::percent::encode(b))),
        Scope::Main => {}
    }
    url
}

/// A link to one issue on the server.
pub fn issue_url(link_base: &str, project_key: &str, scope: &Scope, issue_key: &str) -> String {
    let mut url = format!(
        "{}/project/issues?id={}&open={}",
        link_base.trim_end_matches('/'),
        crate::percent::encode(project_key),
        crate::percent::encode(issue_key)
    );
    match scope {
        Scope::PullRequest(id) => url.push_str(&format!("&pullRequest={}", crate::percent::encode(id))),
        Scope::Branch(b) => url.push_str(&format!("&branch={}", crate::percent::encode(b))),
        Scope::Main => {}
    }
    url
}
