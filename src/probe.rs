//! Entry points for the fuzz targets and the conformance tests: each takes text a server, a file or
//! a person could hand the task and does with it exactly what the task does. They keep the wire
//! models and parsers crate-private (so the compiler reports what nothing reads) while the tests
//! outside the crate still reach the code that reads untrusted input. Not a stable API.

use std::path::Path;

use serde_json::{Value, json};

use crate::azdo::model::{ChangeEntry, ConnectionData, FileDiffResponse, IterationChanges, PrStatus, PullRequest, Thread, ValueList};
use crate::sonar::model::{
    CeTaskResponse, HotspotsResponse, IssuesResponse, MeasuresResponse, ProjectAnalyses, ProjectStatusResponse, SettingsValues,
    SystemStatus,
};
use crate::sonar::present::{describe_condition, issue_kind, issue_severity};

/// The task inputs the task reads, by the names task.json must declare.
pub fn task_inputs() -> Vec<&'static str> {
    crate::settings::Field::INPUTS.iter().map(|f| f.task_name()).collect()
}

/// Reads `data` as every answer the task parses (SonarQube's and Azure DevOps'), and on each model
/// that parsed, does what the task does with it. Must never panic, whatever the bytes.
pub fn read_server_answer(data: &[u8]) {
    if let Ok(ps) = serde_json::from_slice::<ProjectStatusResponse>(data) {
        ps.project_status.conditions.iter().for_each(|c| drop(describe_condition(c)));
    }
    if let Ok(issues) = serde_json::from_slice::<IssuesResponse>(data) {
        let _ = issues.total();
        for i in &issues.issues {
            let _ = (issue_severity(i), issue_kind(i), crate::render::escape_md(&i.message));
        }
    }
    if let Ok(m) = serde_json::from_slice::<MeasuresResponse>(data) {
        let _: Vec<Option<&str>> = m.component.measures.iter().map(|m| m.best_value()).collect();
    }
    let _ = serde_json::from_slice::<CeTaskResponse>(data);
    let _ = serde_json::from_slice::<HotspotsResponse>(data);
    let _ = serde_json::from_slice::<SystemStatus>(data);
    let _ = serde_json::from_slice::<PullRequest>(data);
    if let Ok(threads) = serde_json::from_slice::<ValueList<Thread>>(data) {
        for t in &threads.value {
            let _ = (t.property("SonarPrGate.Kind"), t.is_active(), t.marker(), crate::decide::plan::owned(t, "me"));
        }
    }
    let _ = serde_json::from_slice::<ProjectAnalyses>(data);
    let _ = serde_json::from_slice::<ValueList<PrStatus>>(data);
    let _ = serde_json::from_slice::<ConnectionData>(data);
    let _ = serde_json::from_slice::<Vec<FileDiffResponse>>(data);
    if let Ok(changes) = serde_json::from_slice::<IterationChanges>(data) {
        let _ = changes.change_entries.iter().map(ChangeEntry::is_delete).count();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::render::fit(crate::render::escape_md(text), "https://sq/x");
        let _ = crate::net::url::link_target(text);
        let _ = crate::pipeline::time::parse_agent_time(text);
    }
}

/// What the task reads of an official SonarQube example answer of `endpoint` (`api/ce/task`, …),
/// as JSON the conformance tests compare.
pub fn read_sonarqube_example(endpoint: &str, text: &str) -> Result<Value, String> {
    let e = |e: serde_json::Error| format!("{endpoint}: {e}");
    Ok(match endpoint {
        "api/ce/task" => {
            let t = serde_json::from_str::<CeTaskResponse>(text).map_err(e)?.task;
            json!({ "status": t.status.as_str(), "analysisId": t.analysis_id })
        }
        "api/qualitygates/project_status" => {
            let ps = serde_json::from_str::<ProjectStatusResponse>(text).map_err(e)?.project_status;
            json!({ "status": ps.status.as_str(), "conditions": ps.conditions.len() })
        }
        "api/issues/search" => {
            let r = serde_json::from_str::<IssuesResponse>(text).map_err(e)?;
            json!({ "issues": r.issues.len(), "total": r.total() })
        }
        "api/hotspots/search" => json!({ "hotspots": serde_json::from_str::<HotspotsResponse>(text).map_err(e)?.hotspots.len() }),
        "api/measures/component" => {
            let m = serde_json::from_str::<MeasuresResponse>(text).map_err(e)?;
            let best: Vec<&str> = m.component.measures.iter().filter(|m| m.best_value().is_some()).map(|m| m.metric.as_str()).collect();
            json!({ "withBestValue": best })
        }
        "api/system/status" => json!({ "status": serde_json::from_str::<SystemStatus>(text).map_err(e)?.status }),
        "api/settings/values" => json!({ "settings": serde_json::from_str::<SettingsValues>(text).map_err(e)?.settings.len() }),
        other => return Err(format!("no model reads {other}")),
    })
}

/// What the task reads of an official Azure DevOps example answer: `threads` (a thread list) or
/// `pullRequest`, as JSON the conformance tests compare.
pub fn read_azure_devops_example(what: &str, body: Value) -> Result<Value, String> {
    let e = |e: serde_json::Error| format!("{what}: {e}");
    Ok(match what {
        "threads" => {
            let threads: ValueList<Thread> = serde_json::from_value(body).map_err(e)?;
            let first = threads.value.first().ok_or("no thread")?;
            json!({ "threads": threads.value.len(), "firstMergeStatus": first.property("CodeReviewMergeStatus") })
        }
        "pullRequest" => {
            let pr: PullRequest = serde_json::from_value(body).map_err(e)?;
            json!({ "id": pr.pull_request_id, "sourceCommit": pr.last_merge_source_commit.map(|c| c.commit_id) })
        }
        other => return Err(format!("no model reads {other}")),
    })
}

/// What the task takes from a report-task.txt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    pub project_key: String,
    pub ce_task_id: String,
    pub server_url: String,
    pub pull_request: Option<String>,
}

/// Parses a report-task.txt's text as the task does.
pub fn read_report_task(text: &str) -> Result<ReportFacts, String> {
    let t = crate::sonar::report_task::parse(Path::new("report-task.txt"), text).map_err(|e| e.to_string())?;
    Ok(ReportFacts { project_key: t.project_key, ce_task_id: t.ce_task_id, server_url: t.server_url, pull_request: t.pull_request })
}

/// A query parameter of a URL found in a report-task.txt, as the task reads it.
pub fn report_query_param(url: &str, name: &str) -> Option<String> {
    crate::sonar::report_task::query_param(url, name)
}

/// The issuer the TLS diagnosis names for a certificate (DER) a server sent.
pub fn certificate_issuer(der: &[u8]) -> Option<String> {
    crate::net::tls::issuer_name(der)
}

/// Untrusted text as the task puts it into Markdown.
pub fn escape_markdown(text: &str) -> String {
    crate::render::escape_md(text)
}
