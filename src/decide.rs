//! The decisions, as pure functions of the data: which verdict an analysis has, which PR status
//! that means, which issues get inline comments, and what to create, update, resolve or reactivate
//! among the threads already on the pull request.

use std::collections::{BTreeMap, HashSet};

use crate::azdo::model::Thread;
use crate::sonar::client::Scope;
use crate::sonar::model::{GateStatus, Issue};
use crate::sonar::present::{Severity, issue_severity};
use crate::sonar::{Analysis, AnalysisOutcome};

/// Thread properties that mark the threads this task owns, so they are found again without
/// parsing comment text.
pub const PROP_KIND: &str = "SonarPrGate.Kind";
pub const PROP_PROJECT: &str = "SonarPrGate.ProjectKey";
pub const PROP_ISSUE: &str = "SonarPrGate.IssueKey";
pub const KIND_SUMMARY: &str = "summary";
pub const KIND_ISSUE: &str = "issue";

/// One analysis's result, reduced to what decides the status and the task result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Gate(GateStatus),
    AnalysisFailed,
    TimedOut,
}

impl Verdict {
    pub fn of(analysis: &Analysis) -> Self {
        match &analysis.outcome {
            AnalysisOutcome::Completed(c) => Verdict::Gate(c.gate.status),
            AnalysisOutcome::Failed { .. } => Verdict::AnalysisFailed,
            AnalysisOutcome::TimedOut { .. } => Verdict::TimedOut,
        }
    }

    /// The `qualityGateStatus` output variable: OK, ERROR, WARN or NONE (a failed or unfinished
    /// analysis has no gate, and is never reported as OK).
    pub fn output_value(self) -> &'static str {
        match self {
            Verdict::Gate(g) => g.as_str(),
            Verdict::AnalysisFailed | Verdict::TimedOut => "NONE",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Verdict::Gate(GateStatus::Ok) => 0,
            Verdict::Gate(GateStatus::None) => 1,
            Verdict::Gate(GateStatus::Warn) => 2,
            Verdict::TimedOut => 3,
            Verdict::AnalysisFailed => 4,
            Verdict::Gate(GateStatus::Error) => 5,
        }
    }

    /// The worst of several verdicts: what a combined status shows.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
        verdicts.into_iter().max_by_key(|v| v.rank())
    }
}

/// The body of a PR status, minus context and iteration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusDecision {
    /// `succeeded`, `failed`, `error` or `notApplicable`.
    pub state: &'static str,
    pub description: String,
}

/// OK → succeeded, ERROR (and the deprecated WARN, treated like ERROR as SonarSource's extension
/// does) → failed, a failed or unfinished analysis → error, NONE → notApplicable.
pub fn status_for(verdict: Verdict, failed_conditions: usize) -> StatusDecision {
    let (state, description) = match verdict {
        Verdict::Gate(GateStatus::Ok) => ("succeeded", "Quality gate passed".to_string()),
        Verdict::Gate(GateStatus::Error) | Verdict::Gate(GateStatus::Warn) => (
            "failed",
            match failed_conditions {
                0 => "Quality gate failed".to_string(),
                1 => "Quality gate failed: 1 condition not met".to_string(),
                n => format!("Quality gate failed: {n} conditions not met"),
            },
        ),
        Verdict::Gate(GateStatus::None) => ("notApplicable", "No quality gate is set for this project".to_string()),
        Verdict::AnalysisFailed => ("error", "The SonarQube analysis failed".to_string()),
        Verdict::TimedOut => ("error", "The SonarQube analysis did not finish in time".to_string()),
    };
    StatusDecision { state, description }
}

/// The combined status over several projects.
pub fn combined_status(verdicts: &[(String, Verdict)]) -> StatusDecision {
    let worst = Verdict::worst(verdicts.iter().map(|(_, v)| *v)).unwrap_or(Verdict::Gate(GateStatus::None));
    let failing: Vec<&str> = verdicts.iter().filter(|(_, v)| v.rank() >= 2).map(|(k, _)| k.as_str()).collect();
    let state = status_for(worst, 0).state;
    let description = if failing.is_empty() {
        match worst {
            Verdict::Gate(GateStatus::None) => "No quality gate is set for these projects".to_string(),
            _ => format!("Quality gate passed for all {} projects", verdicts.len()),
        }
    } else {
        format!("{} of {} projects not passing: {}", failing.len(), verdicts.len(), failing.join(", "))
    };
    StatusDecision { state, description }
}

/// An issue that may get an inline comment: on a line of a file. It borrows the issue: with
/// 10 000 open issues, copies would double the task's memory.
#[derive(Clone, Debug)]
pub struct InlineCandidate<'a> {
    pub project_key: &'a str,
    pub issue: &'a Issue,
    /// Repository path with a leading `/`.
    pub file_path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub start_offset: u32,
    pub end_offset: u32,
    pub severity: Severity,
}

/// Every issue of a completed analysis that sits on a line, with its repository path: the
/// project's folder in the repository (`prefix`, for monorepos) joined to SonarQube's path.
fn located_issues<'a>(analysis: &'a Analysis, prefix: &str) -> Vec<InlineCandidate<'a>> {
    let AnalysisOutcome::Completed(done) = &analysis.outcome else { return Vec::new() };
    let Some(set) = &done.issues else { return Vec::new() };
    let paths: BTreeMap<&str, &str> = set.components.iter().filter_map(|c| Some((c.key.as_str(), c.path.as_deref()?))).collect();
    set.issues
        .iter()
        .filter_map(|issue| {
            let (start_line, end_line, start_offset, end_offset) = match (issue.text_range, issue.line) {
                (Some(r), _) => (r.start_line, r.end_line.max(r.start_line), r.start_offset, r.end_offset),
                (None, Some(line)) => (line, line, 0, 0),
                (None, None) => return None,
            };
            if start_line == 0 {
                return None;
            }
            let path = paths
                .get(issue.component.as_str())
                .map(|p| p.to_string())
                .or_else(|| issue.component.split_once(':').map(|(_, p)| p.to_string()))?;
            let path = path.replace('\\', "/");
            let joined = if prefix.is_empty() {
                path.trim_start_matches('/').to_string()
            } else {
                format!("{prefix}/{}", path.trim_start_matches('/'))
            };
            Some(InlineCandidate {
                project_key: analysis.project_key(),
                severity: issue_severity(issue),
                issue,
                file_path: format!("/{joined}"),
                start_line,
                end_line,
                start_offset,
                end_offset,
            })
        })
        .collect()
}

/// Most severe first, then by file and line, so the order is stable from run to run.
fn sort_candidates(candidates: &mut [InlineCandidate<'_>]) {
    candidates
        .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.file_path.cmp(&b.file_path)).then(a.start_line.cmp(&b.start_line)));
}

/// Issues of a PR analysis that sit on a line, most severe first: SonarQube's own PR analysis
/// reports the PR's issues. Branch and main-branch analyses give none here (they would comment on
/// code the PR did not touch); `scope_to_changes` handles them.
pub fn inline_candidates<'a>(analysis: &'a Analysis, prefix: &str) -> Vec<InlineCandidate<'a>> {
    if !matches!(analysis.scope, Scope::PullRequest(_)) {
        return Vec::new();
    }
    let mut out = located_issues(analysis, prefix);
    sort_candidates(&mut out);
    out
}

/// An analysis's issues scoped to the lines the PR changed, moved onto the source commit's lines.
pub struct Scoped<'a> {
    pub candidates: Vec<InlineCandidate<'a>>,
    /// Issues in files the PR changed whose line exists only in the merge commit: reported in the
    /// summary, never placed on a wrong line.
    pub unplaced: usize,
}

pub fn scope_to_changes<'a>(analysis: &'a Analysis, changes: &crate::changes::PrChanges, prefix: &str) -> Scoped<'a> {
    use crate::changes::Placement;
    let mut unplaced = 0;
    let mut candidates: Vec<InlineCandidate<'a>> = located_issues(analysis, prefix)
        .into_iter()
        .filter_map(|mut c| match changes.place(&c.file_path, c.start_line) {
            Placement::Changed(source_line) => {
                let span = c.end_line - c.start_line;
                c.start_line = source_line;
                c.end_line = source_line + span;
                Some(c)
            }
            Placement::Unmappable => {
                unplaced += 1;
                None
            }
            Placement::Unchanged | Placement::OutsidePr => None,
        })
        .collect();
    sort_candidates(&mut candidates);
    Scoped { candidates, unplaced }
}

/// Issues on changed lines, counted by severity (most severe first).
pub fn count_by_severity(candidates: &[InlineCandidate<'_>]) -> Vec<(Severity, usize)> {
    let mut counts: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for c in candidates {
        *counts.entry(std::cmp::Reverse(c.severity)).or_default() += 1;
    }
    counts.into_iter().map(|(s, n)| (s.0, n)).collect()
}

/// The PR's own gate: `failOnNewIssues` against the issues on changed lines. `Some(reason)` when
/// it fails.
pub fn new_issues_gate(candidates: &[InlineCandidate<'_>], threshold: Option<Severity>) -> Option<String> {
    let threshold = threshold?;
    let n = candidates.iter().filter(|c| c.severity >= threshold).count();
    (n > 0)
        .then(|| format!("{n} issue{} at or above {} on lines this pull request changed", if n == 1 { "" } else { "s" }, threshold.label()))
}

/// What to do with the summary thread of one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SummaryAction {
    Create { content: String, status: &'static str },
    Update { thread_id: u64, comment_id: u64, content: Option<String>, status: Option<&'static str> },
    Unchanged,
}

/// What to do with the threads of one project.
#[derive(Debug, Default)]
pub struct ThreadPlan<'a> {
    pub create: Vec<InlineCandidate<'a>>,
    /// Threads whose issue is back: reopen.
    pub reactivate: Vec<u64>,
    /// Threads whose issue is gone and nobody replied: resolve.
    pub resolve: Vec<u64>,
    /// Threads whose issue is gone but a person replied: ask them to resolve it.
    pub ask_to_resolve: Vec<u64>,
    /// Open issues on lines that were not commented because of the cap.
    pub over_cap: usize,
}

/// The reply posted once in a thread whose issue is fixed but which a person took part in; we do
/// not close a conversation someone else is having.
pub const ASK_TO_RESOLVE: &str = "SonarQube no longer reports this issue. Someone replied here, so this thread was left open: please resolve it when the conversation is done.";

/// Decides the inline threads of one project. `candidates` are most severe first; threads that
/// already exist for an issue that is still open stay as they are, whatever the cap.
pub fn plan_inline<'a>(
    project_key: &str,
    candidates: &[InlineCandidate<'a>],
    existing: &[Thread],
    cap: usize,
    issues_readable: bool,
) -> ThreadPlan<'a> {
    let mut plan = ThreadPlan::default();
    let ours: Vec<&Thread> = existing
        .iter()
        .filter(|t| {
            !t.is_deleted
                && t.property(PROP_KIND).as_deref() == Some(KIND_ISSUE)
                && t.property(PROP_PROJECT).as_deref() == Some(project_key)
        })
        .collect();
    let open_keys: HashSet<&str> = candidates.iter().map(|c| c.issue.key.as_str()).collect();
    let mut threaded: HashSet<String> = HashSet::new();
    for thread in &ours {
        let Some(key) = thread.property(PROP_ISSUE) else { continue };
        threaded.insert(key.clone());
        let still_open = open_keys.contains(key.as_str());
        if still_open && !thread.is_active() {
            plan.reactivate.push(thread.id);
        } else if !still_open && thread.is_active() && issues_readable {
            if has_human_reply(thread) {
                if !thread.comments.iter().any(|c| c.content.as_deref() == Some(ASK_TO_RESOLVE)) {
                    plan.ask_to_resolve.push(thread.id);
                }
            } else {
                plan.resolve.push(thread.id);
            }
        }
    }
    // The cap counts this run's new threads: re-runs never add past it.
    let already = ours.iter().filter(|t| t.is_active() && t.property(PROP_ISSUE).is_some_and(|k| open_keys.contains(k.as_str()))).count();
    let room = cap.saturating_sub(already);
    let new: Vec<&InlineCandidate<'a>> = candidates.iter().filter(|c| !threaded.contains(&c.issue.key)).collect();
    plan.over_cap = new.len().saturating_sub(room);
    plan.create = new.into_iter().take(room).cloned().collect();
    plan
}

/// Whether anyone but the thread's author (this task) wrote in it.
fn has_human_reply(thread: &Thread) -> bool {
    let Some(first) = thread.comments.first() else { return false };
    let author = first.author.as_ref().and_then(|a| a.id.clone());
    thread.comments.iter().skip(1).any(|c| {
        let system = c.comment_type.as_ref().is_some_and(|t| t == "system" || t == 3);
        let ours = match (&author, c.author.as_ref().and_then(|a| a.id.as_ref())) {
            (Some(a), Some(b)) => a == b,
            _ => c.content.as_deref() == Some(ASK_TO_RESOLVE),
        };
        !c.is_deleted && !system && !ours
    })
}

/// Decides the summary thread of one project: created once, then updated in place; active while
/// the gate is not passing, resolved when it passes. Nothing is sent when nothing changed.
pub fn plan_summary(project_key: &str, content: &str, passing: bool, existing: &[Thread]) -> SummaryAction {
    let status = if passing { "fixed" } else { "active" };
    let found = existing.iter().find(|t| {
        !t.is_deleted && t.property(PROP_KIND).as_deref() == Some(KIND_SUMMARY) && t.property(PROP_PROJECT).as_deref() == Some(project_key)
    });
    let Some(thread) = found else {
        return SummaryAction::Create { content: content.to_string(), status };
    };
    let Some(first) = thread.comments.first() else {
        return SummaryAction::Create { content: content.to_string(), status };
    };
    let new_content = (first.content.as_deref() != Some(content)).then(|| content.to_string());
    let current_active = thread.is_active();
    let new_status = (current_active == passing).then_some(status);
    if new_content.is_none() && new_status.is_none() {
        SummaryAction::Unchanged
    } else {
        SummaryAction::Update { thread_id: thread.id, comment_id: first.id, content: new_content, status: new_status }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn thread(id: u64, status: &str, kind: &str, issue: Option<&str>, comments: serde_json::Value) -> Thread {
        let mut props = json!({
            PROP_KIND: {"$type": "System.String", "$value": kind},
            PROP_PROJECT: {"$type": "System.String", "$value": "proj"},
        });
        if let Some(k) = issue {
            props[PROP_ISSUE] = json!({"$type": "System.String", "$value": k});
        }
        serde_json::from_value(json!({"id": id, "status": status, "properties": props, "comments": comments})).unwrap()
    }

    fn issue(key: &str) -> Issue {
        serde_json::from_value(json!({"key": key})).unwrap()
    }

    fn candidate(issue: &Issue, severity: Severity) -> InlineCandidate<'_> {
        InlineCandidate {
            project_key: "proj",
            issue,
            file_path: "/a.rs".into(),
            start_line: 1,
            end_line: 1,
            start_offset: 0,
            end_offset: 0,
            severity,
        }
    }

    fn ours(author: &str) -> serde_json::Value {
        json!([{"id": 1, "content": "issue", "author": {"id": author}}])
    }

    #[test]
    fn statuses_follow_the_gate() {
        assert_eq!(status_for(Verdict::Gate(GateStatus::Ok), 0).state, "succeeded");
        assert_eq!(
            status_for(Verdict::Gate(GateStatus::Error), 2),
            StatusDecision { state: "failed", description: "Quality gate failed: 2 conditions not met".into() }
        );
        assert_eq!(status_for(Verdict::Gate(GateStatus::Warn), 1).state, "failed");
        assert_eq!(status_for(Verdict::Gate(GateStatus::None), 0).state, "notApplicable");
        assert_eq!(status_for(Verdict::TimedOut, 0).state, "error");
        assert_eq!(status_for(Verdict::AnalysisFailed, 0).state, "error");
    }

    #[test]
    fn combined_status_carries_the_worst() {
        let c = combined_status(&[("a".into(), Verdict::Gate(GateStatus::Ok)), ("b".into(), Verdict::Gate(GateStatus::Error))]);
        assert_eq!(c, StatusDecision { state: "failed", description: "1 of 2 projects not passing: b".into() });
        let c = combined_status(&[("a".into(), Verdict::Gate(GateStatus::Ok)), ("b".into(), Verdict::Gate(GateStatus::Ok))]);
        assert_eq!(c.state, "succeeded");
    }

    #[test]
    fn first_run_creates_up_to_the_cap() {
        let (k1, k2, k3) = (issue("k1"), issue("k2"), issue("k3"));
        let c = vec![candidate(&k1, Severity::Blocker), candidate(&k2, Severity::Major), candidate(&k3, Severity::Minor)];
        let plan = plan_inline("proj", &c, &[], 2, true);
        assert_eq!(plan.create.iter().map(|c| c.issue.key.as_str()).collect::<Vec<_>>(), ["k1", "k2"]);
        assert_eq!(plan.over_cap, 1);
    }

    #[test]
    fn rerun_creates_nothing_twice_and_resolves_fixed_issues() {
        let k1 = issue("k1");
        let c = vec![candidate(&k1, Severity::Major)];
        let existing = vec![
            thread(10, "active", KIND_ISSUE, Some("k1"), ours("me")),
            thread(11, "active", KIND_ISSUE, Some("gone"), ours("me")),
            thread(12, "fixed", KIND_ISSUE, Some("gone2"), ours("me")),
        ];
        let plan = plan_inline("proj", &c, &existing, 25, true);
        assert!(plan.create.is_empty());
        assert_eq!(plan.resolve, [11]);
        assert!(plan.reactivate.is_empty());
    }

    #[test]
    fn returning_issue_reopens_its_thread() {
        let k1 = issue("k1");
        let plan =
            plan_inline("proj", &[candidate(&k1, Severity::Major)], &[thread(10, "fixed", KIND_ISSUE, Some("k1"), ours("me"))], 25, true);
        assert_eq!(plan.reactivate, [10]);
        assert!(plan.create.is_empty());
    }

    #[test]
    fn human_replies_are_never_closed_over() {
        let comments =
            json!([{"id": 1, "content": "issue", "author": {"id": "me"}}, {"id": 2, "content": "why?", "author": {"id": "human"}}]);
        let plan = plan_inline("proj", &[], &[thread(10, "active", KIND_ISSUE, Some("gone"), comments)], 25, true);
        assert_eq!(plan.ask_to_resolve, [10]);
        assert!(plan.resolve.is_empty());
        // Asked once only.
        let comments = json!([{"id": 1, "author": {"id": "me"}}, {"id": 2, "author": {"id": "human"}}, {"id": 3, "content": ASK_TO_RESOLVE, "author": {"id": "me"}}]);
        let plan = plan_inline("proj", &[], &[thread(10, "active", KIND_ISSUE, Some("gone"), comments)], 25, true);
        assert!(plan.ask_to_resolve.is_empty() && plan.resolve.is_empty());
    }

    #[test]
    fn unreadable_issues_resolve_nothing() {
        let plan = plan_inline("proj", &[], &[thread(11, "active", KIND_ISSUE, Some("k"), ours("me"))], 25, false);
        assert!(plan.resolve.is_empty());
    }

    #[test]
    fn the_prs_own_gate_counts_issues_at_or_above_the_threshold() {
        let (a, b) = (issue("a"), issue("b"));
        let c = vec![candidate(&a, Severity::Major), candidate(&b, Severity::Minor)];
        assert_eq!(new_issues_gate(&c, None), None);
        assert_eq!(new_issues_gate(&c, Some(Severity::Critical)), None);
        assert_eq!(
            new_issues_gate(&c, Some(Severity::Major)).as_deref(),
            Some("1 issue at or above Major on lines this pull request changed")
        );
        assert_eq!(
            new_issues_gate(&c, Some(Severity::Info)).as_deref(),
            Some("2 issues at or above Info on lines this pull request changed")
        );
        assert_eq!(count_by_severity(&c), [(Severity::Major, 1), (Severity::Minor, 1)]);
    }

    #[test]
    fn summary_is_created_once_then_updated_only_when_changed() {
        assert_eq!(plan_summary("proj", "x", false, &[]), SummaryAction::Create { content: "x".into(), status: "active" });
        let existing = vec![thread(5, "active", KIND_SUMMARY, None, json!([{"id": 1, "content": "x"}]))];
        assert_eq!(plan_summary("proj", "x", false, &existing), SummaryAction::Unchanged);
        assert_eq!(
            plan_summary("proj", "y", true, &existing),
            SummaryAction::Update { thread_id: 5, comment_id: 1, content: Some("y".into()), status: Some("fixed") }
        );
        // Another project's summary is not ours to touch.
        assert!(matches!(plan_summary("other", "x", false, &existing), SummaryAction::Create { .. }));
    }
}
