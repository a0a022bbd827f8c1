//! Every response model, and what the task does with a parsed value, on arbitrary bytes: a
//! server's answer can be anything, and must never crash the task.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonar_pr_gate::azdo::model::{ChangeEntry, ConnectionData, FileDiffResponse, IterationChanges, PrStatus, PullRequest, Thread, ValueList};
use sonar_pr_gate::sonar::model::*;
use sonar_pr_gate::sonar::present::{describe_condition, issue_kind, issue_severity};

fuzz_target!(|data: &[u8]| {
    if let Ok(ps) = serde_json::from_slice::<ProjectStatusResponse>(data) {
        for c in &ps.project_status.conditions {
            let _ = describe_condition(c);
        }
    }
    if let Ok(issues) = serde_json::from_slice::<IssuesResponse>(data) {
        let _ = issues.total();
        for i in &issues.issues {
            let _ = (issue_severity(i), issue_kind(i), sonar_pr_gate::render::escape_md(&i.message));
        }
    }
    if let Ok(m) = serde_json::from_slice::<MeasuresResponse>(data) {
        for m in &m.component.measures {
            let _ = m.best_value();
        }
    }
    let _ = serde_json::from_slice::<CeTaskResponse>(data);
    let _ = serde_json::from_slice::<HotspotsResponse>(data);
    let _ = serde_json::from_slice::<SystemStatus>(data);
    let _ = serde_json::from_slice::<PullRequest>(data);
    if let Ok(threads) = serde_json::from_slice::<ValueList<Thread>>(data) {
        for t in &threads.value {
            let _ = (t.property("SonarPrGate.Kind"), t.is_active(), t.marker(), sonar_pr_gate::decide::plan::owned(t, "me"));
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
        let _ = sonar_pr_gate::render::fit(sonar_pr_gate::render::escape_md(text), "https://sq/x");
        let _ = sonar_pr_gate::net::url::link_target(text);
        let _ = sonar_pr_gate::pipeline::env::parse_agent_time(text);
    }
});
