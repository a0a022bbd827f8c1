//! Unit tests of the decisions, on analyses and threads built in memory.

use serde_json::json;

use super::plan::{ASK_TO_RESOLVE, Authorship, SummaryAction, plan_inline, plan_summary};
use super::*;
use crate::azdo::model::{LineRange, Marker, NewThread, Thread, ThreadStatus};
use crate::azdo::write::Write;
use crate::changes::{Block, ChangesUnknown, FileDiff, PrChanges};
use crate::pipeline::commands::TaskResult;
use crate::sonar::analysis::IssueSet;
use crate::sonar::model::Issue;
use crate::sonar::present::Severity;
use crate::sonar::report_task::ReportTask;
use crate::sonar::{Analysis, AnalysisOutcome, Completed, Flavour, Issues, Scope};

fn thread(id: u64, status: &str, kind: &str, issue: Option<&str>, comments: serde_json::Value) -> Thread {
    let mut props = json!({
        "SonarPrGate.Kind": {"$type": "System.String", "$value": kind},
        "SonarPrGate.ProjectKey": {"$type": "System.String", "$value": "proj"},
    });
    if let Some(k) = issue {
        props["SonarPrGate.IssueKey"] = json!({"$type": "System.String", "$value": k});
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

/// Only the threads `me` wrote are the task's (no earlier identity's thread is recognised).
fn only(me: &str) -> Authorship<'_> {
    Authorship { me, signature: &|_| None }
}

fn ours(author: &str) -> serde_json::Value {
    json!([{"id": 1, "content": "issue", "author": {"id": author}}])
}

/// A completed analysis of project `proj` with a gate and issues on `path:line` (severity as given).
fn analysis(gate: &str, scope: Scope, issues: &[(&str, &str, u32, &str)]) -> Analysis {
    let report = ReportTask {
        path: "/s/.scannerwork/report-task.txt".into(),
        project_key: "proj".into(),
        server_url: "https://sq".into(),
        server_version: None,
        organization: None,
        branch: None,
        dashboard_url: None,
        ce_task_id: "T".into(),
        pull_request: None,
        credentials: None,
    };
    let gate = serde_json::from_value(json!({"status": gate, "conditions": [
        {"status": gate, "metricKey": "new_coverage", "comparator": "LT", "errorThreshold": "80", "actualValue": if gate == "OK" { "90" } else { "50" }}
    ]}))
    .unwrap();
    let issues: Vec<Issue> = issues
        .iter()
        .map(|(key, path, line, sev)| {
            serde_json::from_value(json!({"key": key, "component": format!("proj:{path}"), "line": line, "severity": sev, "message": "m"}))
                .unwrap()
        })
        .collect();
    let set = IssueSet { total: issues.len() as u64, issues, ..IssueSet::default() };
    let done = Completed {
        uncovered: None,
        changed_file_lines: Vec::new(),
        metric_names: Default::default(),
        synced: Vec::new(),
        gate_definition: Vec::new(),
        dependency_risks: None,
        gate,
        measures: None,
        issues: Issues::Read(set),
        hotspots: None,
        ce_warnings: vec![],
        revision: None,
        submitted_at: None,
    };
    Analysis {
        links: crate::sonar::links::Links::new("https://sq", "proj", &scope, None),
        report,
        scope,
        dashboard_url: "https://sq/dashboard?id=proj".into(),
        outcome: AnalysisOutcome::Completed(Box::new(done)),
        warnings: vec![],
    }
}

/// A pull request without threads, at iteration 1.
fn empty_view(ids: &std::collections::BTreeMap<String, u64>) -> PullRequestView<'_> {
    PullRequestView {
        threads: &[],
        me: "me",
        iteration: Some(1),
        tracking_ids: ids,
        notices: &[],
        build_id: None,
        earlier: &[],
        status_posted: false,
    }
}

fn options() -> Decoration {
    Decoration {
        min_changed_lines_coverage: None,
        fail_on_dependency_risks: None,
        mode: DecorationMode::Auto,
        fail_on_new_issues: None,
        project_base_dir: None,
        post_status: true,
        post_summary_comment: true,
        post_inline_comments: true,
        inline_filter: InlineFilter::cap(25),
        summary_when: SummaryWhen::Always,
        pending_status: false,
        sync_resolutions: Default::default(),
        allow_author_resolutions: false,
        status_genre: "SonarQube".into(),
        status_name: "quality gate".into(),
    }
}

struct Plain;

impl Texts for Plain {
    fn summary(&self, a: &Analysis, stats: &InlineStats) -> String {
        format!("summary of {} ({} inline)", a.project_key(), stats.posted)
    }
    fn inline(&self, c: &InlineCandidate<'_>, _: &Analysis) -> String {
        format!("issue {}", c.issue.key)
    }
}

#[test]
fn first_run_creates_up_to_the_cap() {
    let (k1, k2, k3) = (issue("k1"), issue("k2"), issue("k3"));
    let c = vec![candidate(&k1, Severity::Blocker), candidate(&k2, Severity::Major), candidate(&k3, Severity::Minor)];
    let plan = plan_inline("proj", &c, &[], &only("me"), &InlineFilter::cap(2), &|_| true);
    assert_eq!(plan.create.iter().map(|c| c.issue.key.as_str()).collect::<Vec<_>>(), ["k1", "k2"]);
    assert_eq!(plan.over_cap, 1);
}

#[test]
fn rerun_creates_nothing_twice_and_resolves_fixed_issues() {
    let k1 = issue("k1");
    let c = vec![candidate(&k1, Severity::Major)];
    let existing = vec![
        thread(10, "active", "issue", Some("k1"), ours("me")),
        thread(11, "active", "issue", Some("gone"), ours("me")),
        thread(12, "fixed", "issue", Some("gone2"), ours("me")),
    ];
    let plan = plan_inline("proj", &c, &existing, &only("me"), &InlineFilter::cap(25), &|_| true);
    assert!(plan.create.is_empty());
    assert_eq!(plan.resolve, [11]);
    assert!(plan.reactivate.is_empty());
}

#[test]
fn returning_issue_reopens_its_thread() {
    let k1 = issue("k1");
    let plan = plan_inline(
        "proj",
        &[candidate(&k1, Severity::Major)],
        &[thread(10, "fixed", "issue", Some("k1"), ours("me"))],
        &only("me"),
        &InlineFilter::cap(25),
        &|_| true,
    );
    assert_eq!(plan.reactivate, [10]);
    assert!(plan.create.is_empty());
}

#[test]
fn human_replies_are_never_closed_over() {
    let comments = json!([{"id": 1, "content": "issue", "author": {"id": "me"}}, {"id": 2, "content": "why?", "author": {"id": "human"}}]);
    let plan =
        plan_inline("proj", &[], &[thread(10, "active", "issue", Some("gone"), comments)], &only("me"), &InlineFilter::cap(25), &|_| true);
    assert_eq!(plan.ask_to_resolve, [10]);
    assert!(plan.resolve.is_empty());
    // Asked once only.
    let comments = json!([{"id": 1, "author": {"id": "me"}}, {"id": 2, "author": {"id": "human"}}, {"id": 3, "content": ASK_TO_RESOLVE, "author": {"id": "me"}}]);
    let plan =
        plan_inline("proj", &[], &[thread(10, "active", "issue", Some("gone"), comments)], &only("me"), &InlineFilter::cap(25), &|_| true);
    assert!(plan.ask_to_resolve.is_empty() && plan.resolve.is_empty());
}

#[test]
fn unreadable_issues_resolve_nothing() {
    let plan =
        plan_inline("proj", &[], &[thread(11, "active", "issue", Some("k"), ours("me"))], &only("me"), &InlineFilter::cap(25), &|_| false);
    assert!(plan.resolve.is_empty());
}

#[test]
fn the_prs_own_gate_counts_issues_at_or_above_the_threshold() {
    let (a, mut b) = (issue("a"), issue("b"));
    b.severity = Some("MINOR".into());
    let c = vec![candidate(&a, Severity::Major), candidate(&b, Severity::Minor)];
    assert_eq!(scope::new_issues_gate(&c, None, false), None);
    assert_eq!(scope::new_issues_gate(&c, Some(Severity::Critical), false), None);
    assert_eq!(
        scope::new_issues_gate(&c, Some(Severity::Major), false).as_deref(),
        Some("1 issue at or above Major on lines this pull request changed")
    );
    assert_eq!(
        scope::new_issues_gate(&c, Some(Severity::Info), false).as_deref(),
        Some("2 issues at or above Info on lines this pull request changed")
    );
    // A partial list can fail the PR's own gate, never pass it.
    assert!(scope::new_issues_gate(&c, Some(Severity::Critical), true).unwrap().starts_with("the list of issues is partial"));
    assert_eq!(scope::new_issues_gate(&c, None, true), None);
    assert_eq!(scope::count_by_severity(&c), [("Major".to_string(), 1), ("Minor".to_string(), 1)]);
}

#[test]
fn summary_is_created_once_then_updated_only_when_changed() {
    let summary = |existing: &[Thread], project: &str, content: &str, passing: bool| {
        plan_summary(project, content, passing, existing, &only("me")).action
    };
    assert_eq!(summary(&[], "proj", "x", false), SummaryAction::Create { content: "x".into(), status: ThreadStatus::Active });
    let existing = vec![thread(5, "active", "summary", None, json!([{"id": 1, "content": "x", "author": {"id": "me"}}]))];
    assert_eq!(summary(&existing, "proj", "x", false), SummaryAction::Unchanged);
    assert_eq!(
        summary(&existing, "proj", "y", true),
        SummaryAction::Update { thread_id: 5, comment_id: 1, content: Some("y".into()), status: Some(ThreadStatus::Fixed) }
    );
    // Another project's summary is not ours to touch.
    assert!(matches!(summary(&existing, "other", "x", false), SummaryAction::Create { .. }));
}

#[test]
fn threads_someone_else_wrote_are_left_alone_even_with_our_properties() {
    let k1 = issue("k1");
    // A person (or another tool) wrote these with this task's properties.
    let theirs = vec![thread(10, "active", "issue", Some("gone"), ours("human")), thread(11, "active", "summary", None, ours("human"))];
    let plan = plan_inline("proj", &[candidate(&k1, Severity::Major)], &theirs, &only("me"), &InlineFilter::cap(25), &|_| true);
    assert!(plan.resolve.is_empty() && plan.ask_to_resolve.is_empty() && plan.duplicates.is_empty());
    assert_eq!(plan.create.len(), 1);
    assert!(matches!(plan_summary("proj", "x", false, &theirs, &only("me")).action, SummaryAction::Create { .. }));
}

#[test]
fn a_summary_whose_first_comment_a_person_deleted_is_replaced() {
    let deleted = vec![thread(
        5,
        "active",
        "summary",
        None,
        json!([{"id": 1, "content": "", "isDeleted": true, "author": {"id": "me"}}, {"id": 2, "content": "kept", "author": {"id": "human"}}]),
    )];
    assert!(matches!(plan_summary("proj", "x", false, &deleted, &only("me")).action, SummaryAction::Create { .. }));
}

#[test]
fn duplicates_from_overlapping_runs_are_closed_and_the_lowest_id_wins() {
    let k1 = issue("k1");
    let existing = vec![
        thread(20, "active", "issue", Some("k1"), ours("me")),
        thread(12, "fixed", "issue", Some("k1"), ours("me")),
        thread(30, "active", "summary", None, json!([{"id": 1, "content": "x", "author": {"id": "me"}}])),
        thread(31, "active", "summary", None, json!([{"id": 1, "content": "x", "author": {"id": "me"}}])),
    ];
    let plan = plan_inline("proj", &[candidate(&k1, Severity::Major)], &existing, &only("me"), &InlineFilter::cap(25), &|_| true);
    assert_eq!(plan.reactivate, [12], "the lowest id is the thread that stays");
    assert_eq!(plan.duplicates, [20]);
    assert!(plan.create.is_empty());
    let super::plan::SummaryPlan { action, duplicates, .. } = plan_summary("proj", "x", false, &existing, &only("me"));
    assert_eq!((action, duplicates), (SummaryAction::Unchanged, vec![31]));
}

#[test]
fn settling_closes_this_runs_copy_and_gives_the_winner_its_content() {
    let new = crate::azdo::model::NewThread::new(crate::azdo::model::Marker::summary("proj"), "passed".into(), ThreadStatus::Fixed, None);
    let threads = vec![
        thread(40, "active", "summary", None, json!([{"id": 1, "content": "failed", "author": {"id": "me"}}])),
        thread(41, "fixed", "summary", None, json!([{"id": 1, "content": "passed", "author": {"id": "me"}}])),
    ];
    let writes: Vec<String> = settle(&[(41, &new)], &threads, "me").iter().map(|w| format!("{w:?}")).collect();
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert!(
        writes[0].contains("UpdateComment { thread: 40, comment: 1, content: \"passed\", what: \"the summary comment for 'proj'\" }"),
        "{writes:?}"
    );
    assert!(writes[1].contains("thread: 40, status: Fixed"), "{writes:?}");
    assert!(writes[2].contains("thread: 41, status: Closed"), "{writes:?}");
    // The run whose thread won has nothing to settle.
    assert!(settle(&[(40, &new)], &threads, "me").is_empty());
    // Nobody else made one: nothing to settle.
    assert!(settle(&[(41, &new)], &threads[1..], "me").is_empty());
}

#[test]
fn matching_follows_the_mode_and_the_server() {
    let pr = Scope::PullRequest("7".into());
    assert!(!matching(DecorationMode::Auto, Flavour::Commercial, &pr).changed_lines);
    assert!(matching(DecorationMode::Auto, Flavour::Community, &Scope::Main).changed_lines);
    assert!(matching(DecorationMode::Auto, Flavour::Commercial, &Scope::Branch("b".into())).changed_lines);
    assert!(matching(DecorationMode::ChangedLines, Flavour::Commercial, &pr).changed_lines);
    assert!(!matching(DecorationMode::PullRequest, Flavour::Community, &Scope::Main).changed_lines);
    assert_eq!(
        matching(DecorationMode::Auto, Flavour::Community, &Scope::Main).why,
        "scoped to the lines the pull request changed, because Community Build cannot analyse pull requests"
    );
}

#[test]
fn scoping_keeps_issues_on_changed_lines_mapped_to_the_source_side() {
    let a = analysis(
        "OK",
        Scope::Main,
        &[
            ("on", "src/A.java", 16, "MAJOR"),
            ("off", "src/A.java", 11, "BLOCKER"),
            ("target", "src/A.java", 2, "MINOR"),
            ("else", "src/B.java", 1, "MAJOR"),
        ],
    );
    let mut changes = PrChanges::default();
    let block = |os, oc, ms, mc| Block { original_start: os, original_count: oc, modified_start: ms, modified_count: mc };
    changes.pr.insert("/app/src/A.java".into(), FileDiff { blocks: vec![block(10, 3, 10, 3)] });
    changes.merge.insert("/app/src/A.java".into(), FileDiff { blocks: vec![block(0, 0, 1, 5)] });
    let m = match_issues(&a, "app", true, Some(&Ok(changes)), Some(Severity::Major));
    assert_eq!(m.candidates.iter().map(|c| (c.issue.key.as_str(), c.start_line)).collect::<Vec<_>>(), [("on", 11)]);
    assert_eq!(m.unplaced, 1);
    assert_eq!(m.new_issues_failure.as_deref(), Some("1 issue at or above Major on lines this pull request changed"));
    let failed = match_issues(&a, "app", true, Some(&Err(ChangesUnknown::ReadFailed("no diffs".into()))), None);
    assert!(failed.candidates.is_empty());
    assert_eq!(failed.scoping_failed.map(|e| e.to_string()).as_deref(), Some("no diffs"));
    // Not scoped: a branch analysis has no PR issues to comment.
    assert!(match_issues(&a, "", false, None, None).candidates.is_empty());
}

#[test]
fn the_plan_posts_the_status_comments_and_summary_of_a_first_run() {
    let a = analysis("ERROR", Scope::PullRequest("7".into()), &[("k1", "F.java", 3, "MAJOR"), ("k2", "G.java", 4, "BLOCKER")]);
    let m = match_issues(&a, "", false, None, None);
    let ids = std::collections::BTreeMap::from([("/F.java".to_string(), 7u64)]);
    let view = PullRequestView {
        threads: &[],
        me: "me",
        iteration: Some(2),
        tracking_ids: &ids,
        notices: &[],
        build_id: None,
        earlier: &[],
        status_posted: false,
    };
    let plan = plan_publish(std::slice::from_ref(&a), std::slice::from_ref(&m), &view, &options(), &Plain);
    let kinds: Vec<String> = plan
        .writes
        .iter()
        .map(|w| match w {
            Write::Status(s) => format!("status {} {} it{:?}", s.state, s.description, s.iteration_id),
            Write::CreateThread { thread, .. } => format!("thread {}", thread.content()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "status failed Quality gate failed: 1 condition not met itSome(2)",
            "thread issue k2",
            "thread issue k1",
            "thread summary of proj (2 inline)"
        ]
    );
    assert_eq!(plan.notes, ["Inline comments for 'proj': 2 new, 0 reopened, 0 resolved, 0 left for a person to resolve, 0 over the cap"]);
}

#[test]
fn a_passing_server_gate_with_the_prs_own_gate_failing_posts_failed() {
    let a = analysis("OK", Scope::Main, &[("k1", "F.java", 3, "MAJOR")]);
    let mut changes = PrChanges::default();
    changes.pr.insert(
        "/F.java".into(),
        FileDiff { blocks: vec![Block { original_start: 2, original_count: 0, modified_start: 3, modified_count: 1 }] },
    );
    let m = match_issues(&a, "", true, Some(&Ok(changes)), Some(Severity::Minor));
    let ids = std::collections::BTreeMap::new();
    let view = PullRequestView {
        threads: &[],
        me: "me",
        iteration: None,
        tracking_ids: &ids,
        notices: &[],
        build_id: None,
        earlier: &[],
        status_posted: false,
    };
    let plan = plan_publish(std::slice::from_ref(&a), std::slice::from_ref(&m), &view, &options(), &Plain);
    let Write::Status(s) = &plan.writes[0] else { panic!("a status first") };
    assert_eq!(
        (s.state.as_str(), s.description.as_str()),
        ("failed", "Failed: 1 issue at or above Minor on lines this pull request changed (SonarQube's quality gate passed)")
    );
    // The summary thread stays active: the PR does not pass.
    let Some(Write::CreateThread { thread, .. }) = plan.writes.last() else { panic!("a summary") };
    assert_eq!(thread.status(), ThreadStatus::Active);
}

#[test]
fn several_analyses_get_one_status_each_and_a_combined_one() {
    let mut b = analysis("ERROR", Scope::PullRequest("7".into()), &[]);
    b.report.project_key = "web".into();
    let a = analysis("OK", Scope::PullRequest("7".into()), &[]);
    let analyses = [a, b];
    let matched: Vec<Matched> = analyses.iter().map(|a| match_issues(a, "", false, None, None)).collect();
    let o = Decoration { post_inline_comments: false, post_summary_comment: false, ..options() };
    let ids = std::collections::BTreeMap::new();
    let view = empty_view(&ids);
    let plan = plan_publish(&analyses, &matched, &view, &o, &Plain);
    let statuses: Vec<(String, String)> = plan
        .writes
        .iter()
        .filter_map(|w| match w {
            Write::Status(s) => Some((s.context.name.clone(), s.state.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("quality gate/proj".to_string(), "succeeded".to_string()),
            ("quality gate/web".into(), "failed".into()),
            ("quality gate".into(), "failed".into())
        ]
    );
}

#[test]
fn outcomes_follow_the_gate_the_prs_own_gate_and_the_switch() {
    let ok = analysis("OK", Scope::Main, &[]);
    let failing = analysis("ERROR", Scope::Main, &[]);
    let passed = outcome(std::slice::from_ref(&ok), &[], true, "failOnQualityGateError");
    assert_eq!((passed.result, passed.message.as_str(), passed.exit_code), (TaskResult::Succeeded, "quality gate passed (1 analysis)", 0));
    let failed = outcome(std::slice::from_ref(&failing), &[], true, "failOnQualityGateError");
    assert_eq!(failed.result, TaskResult::Failed);
    assert_eq!(failed.exit_code, 1);
    assert_eq!(failed.report, Report::Error("quality gate of 'proj' failed: Coverage on New Code is 50.0%, needs at least 80.0%".into()));
    let lenient = outcome(std::slice::from_ref(&failing), &[], false, "failOnQualityGateError");
    assert_eq!((lenient.result, lenient.exit_code), (TaskResult::SucceededWithIssues, 0));
    assert!(
        matches!(lenient.report, Report::Warning(w) if w.ends_with("(failOnQualityGateError is false, so the run succeeds with issues)"))
    );
    let own_gate = outcome(std::slice::from_ref(&ok), &["'proj': 1 issue (failOnNewIssues)".into()], false, "failOnQualityGateError");
    assert_eq!((own_gate.result, own_gate.message.as_str()), (TaskResult::Failed, "'proj': 1 issue (failOnNewIssues)"));
    assert_eq!(quality_gate_status(&[ok, failing]), "ERROR");
    assert_eq!(quality_gate_status(&[]), "NONE");
}

#[test]
fn an_analysis_that_is_not_this_builds_gets_nothing_posted_and_fails_the_task() {
    let mut a = analysis("OK", Scope::PullRequest("41".into()), &[("k1", "F.java", 3, "MAJOR")]);
    a.outcome = AnalysisOutcome::NotThisBuild { message: "the analysis of 'proj' is of pull request 41".into() };
    let m = match_issues(&a, "", false, None, None);
    let ids = std::collections::BTreeMap::new();
    let view = empty_view(&ids);
    let plan = plan_publish(std::slice::from_ref(&a), std::slice::from_ref(&m), &view, &options(), &Plain);
    assert!(plan.writes.is_empty(), "{:?}", plan.writes);
    let o = outcome(std::slice::from_ref(&a), &[], false, "failOnQualityGateError");
    assert_eq!((o.result, o.message.as_str()), (TaskResult::Failed, "the analysis of 'proj' is of pull request 41"));
    assert_eq!(quality_gate_status(std::slice::from_ref(&a)), "NONE");
}

#[test]
fn a_capped_issue_list_resolves_nothing() {
    let mut a = analysis("OK", Scope::PullRequest("7".into()), &[]);
    if let AnalysisOutcome::Completed(done) = &mut a.outcome
        && let Issues::Read(set) = &mut done.issues
    {
        set.capped = true;
    }
    let m = match_issues(&a, "", false, None, Some(Severity::Blocker));
    assert!(m.partial && !m.complete(&a));
    assert!(m.new_issues_failure.unwrap().starts_with("the list of issues is partial"));
}

/// Write lines say which thread: the file and line, the rule and the issue, as the log shows them.
#[test]
fn threads_are_described_by_place_rule_and_issue() {
    let mut t = thread(106, "active", "issue", Some("AZ-1"), ours("me"));
    assert_eq!(t.describe(), "the inline comment (issue AZ-1)");
    t.thread_context = Some(json!({"filePath": "/src/Cart.java", "rightFileStart": {"line": 88, "offset": 1}}));
    t.properties.as_mut().unwrap().insert("SonarPrGate.Rule".into(), json!({"$type": "System.String", "$value": "java:S117"}));
    assert_eq!(t.describe(), "the inline comment on /src/Cart.java:88 (java:S117, issue AZ-1)");
    assert_eq!(thread(109, "active", "summary", None, ours("me")).describe(), "the summary comment for 'proj'");
    // A new thread says the same before it exists.
    let range = LineRange { file_path: "/src/Cart.java".into(), start_line: 88, start_offset: 1, end_line: 88, end_offset: 1 };
    let new = NewThread::new(Marker::issue("proj", "AZ-1"), "x".into(), ThreadStatus::Active, Some(&range)).with_rule("java:S117");
    assert_eq!(new.describe(), "the inline comment on /src/Cart.java:88 (java:S117, issue AZ-1)");
}

/// A reviewer's Won't fix, By design, Closed or Pending on an open issue's thread stands: not
/// reopened, not posted again, and the resolutions are counted for the summary. Resolved
/// (`fixed`) is this task's own word for "gone", so it is reopened while the issue is open.
#[test]
fn a_reviewers_resolution_of_an_open_issue_stands() {
    let keys = ["k1", "k2", "k3", "k4", "k5"];
    let issues: Vec<Issue> = keys.iter().map(|k| issue(k)).collect();
    let candidates: Vec<InlineCandidate<'_>> = issues.iter().map(|i| candidate(i, Severity::Major)).collect();
    let existing = vec![
        thread(1, "wontFix", "issue", Some("k1"), ours("me")),
        thread(2, "byDesign", "issue", Some("k2"), ours("me")),
        thread(3, "closed", "issue", Some("k3"), ours("me")),
        thread(4, "pending", "issue", Some("k4"), ours("me")),
        thread(5, "fixed", "issue", Some("k5"), ours("me")),
    ];
    let plan = plan_inline("proj", &candidates, &existing, &only("me"), &InlineFilter::cap(25), &|_| true);
    assert!(plan.create.is_empty(), "nothing posted again: {:?}", plan.create.iter().map(|c| &c.issue.key).collect::<Vec<_>>());
    assert_eq!(plan.reactivate, [5], "only the thread this task resolved is reopened");
    assert!(plan.resolve.is_empty() && plan.duplicates.is_empty());
    assert_eq!(
        plan.resolved_by_reviewers,
        [("k1".to_string(), "Won't fix"), ("k2".to_string(), "By design"), ("k3".to_string(), "Closed")]
    );
    // The issues gone: a person's resolution is left as it is; a pending thread is resolved.
    let plan = plan_inline("proj", &[], &existing, &only("me"), &InlineFilter::cap(25), &|_| true);
    assert_eq!(plan.resolve, [4]);
    assert!(plan.reactivate.is_empty() && plan.resolved_by_reviewers.is_empty());
}

/// The pipeline changed its credential: the threads the earlier identity wrote are the task's
/// when they still hold the task's link, and are adopted for their status only; the earlier
/// summary is closed with a pointer, and the current identity gets its own. A thread with the
/// task's properties and text of its own stays the stranger's.
#[test]
fn threads_an_earlier_identity_of_the_task_wrote_are_adopted_for_their_status_only() {
    let link = |key: &str| format!("https://sq/project/issues?id=proj&open={key}");
    let signature = |m: &Marker| match m.issue_key.as_deref() {
        Some(key) => Some(link(key)),
        None => Some("https://sq/dashboard?id=proj".to_string()),
    };
    let who = Authorship { me: "job", signature: &signature };
    let text =
        |key: &str| json!([{"id": 1, "content": format!("🟠 **Medium**\n\n[View in SonarQube]({})", link(key)), "author": {"id": "pat"}}]);
    let k1 = issue("k1");
    let k3 = issue("k3");
    let existing = vec![
        thread(1, "active", "issue", Some("k1"), text("k1")),
        thread(2, "active", "issue", Some("k2"), text("k2")),
        thread(3, "active", "issue", Some("k3"), json!([{"id": 1, "content": "my own note", "author": {"id": "stranger"}}])),
        thread(
            4,
            "active",
            "summary",
            None,
            json!([{"id": 1, "content": "[See the analysis in SonarQube](https://sq/dashboard?id=proj)", "author": {"id": "pat"}}]),
        ),
        thread(5, "active", "summary", None, json!([{"id": 1, "content": "my summary", "author": {"id": "stranger"}}])),
    ];
    let plan = plan_inline(
        "proj",
        &[candidate(&k1, Severity::Major), candidate(&k3, Severity::Major)],
        &existing,
        &who,
        &InlineFilter::cap(25),
        &|_| true,
    );
    assert_eq!(
        plan.create.iter().map(|c| c.issue.key.as_str()).collect::<Vec<_>>(),
        ["k3"],
        "k1 is threaded already; the stranger's k3 is not ours"
    );
    assert_eq!(plan.resolve, [2], "k2 is gone: the adopted thread is resolved");
    let summary = plan_summary("proj", "x", false, &existing, &who);
    assert!(matches!(summary.action, SummaryAction::Create { .. }), "the current identity has a summary of its own");
    assert_eq!(summary.superseded, [4], "the earlier identity's summary is closed; the stranger's is left alone");
    // Once closed, it is left alone; and the current identity's own threads are never "earlier".
    let mut closed = existing.clone();
    closed[3].status = Some("closed".into());
    assert!(plan_summary("proj", "x", false, &closed, &who).superseded.is_empty());
    let mine = vec![thread(6, "active", "summary", None, json!([{"id": 1, "content": "x", "author": {"id": "job"}}]))];
    let own = plan_summary("proj", "x", false, &mine, &who);
    assert!(own.superseded.is_empty() && own.action == SummaryAction::Unchanged);
}

/// inlineMinSeverity and inlineSoftwareQualities choose which open issues get a new thread; the
/// rest are counted, not over the cap, and a thread already posted for one of them is kept.
#[test]
fn the_inline_filter_chooses_new_threads_and_keeps_old_ones() {
    let with = |key: &str, quality: &str, severity: &str| -> Issue {
        serde_json::from_value(json!({"key": key, "impacts": [{"softwareQuality": quality, "severity": severity}]})).unwrap()
    };
    let legacy: Issue = serde_json::from_value(json!({"key": "bug", "type": "BUG", "severity": "CRITICAL"})).unwrap();
    let issues =
        [with("sec-high", "SECURITY", "HIGH"), with("main-high", "MAINTAINABILITY", "HIGH"), with("rel-low", "RELIABILITY", "LOW"), legacy];
    let candidates: Vec<InlineCandidate<'_>> = issues.iter().map(|i| candidate(i, crate::sonar::present::issue_severity(i))).collect();
    let filter =
        InlineFilter { cap: 25, min_severity: Some(Severity::Critical), qualities: Some(vec!["SECURITY".into(), "RELIABILITY".into()]) };
    let existing = vec![thread(9, "active", "issue", Some("rel-low"), ours("me"))];
    let plan = plan_inline("proj", &candidates, &existing, &only("me"), &filter, &|_| true);
    let created: Vec<&str> = plan.create.iter().map(|c| c.issue.key.as_str()).collect();
    assert_eq!(created, ["sec-high", "bug"], "a legacy bug is reliability");
    assert_eq!((plan.filtered_out, plan.over_cap), (1, 0), "main-high is left out; rel-low has its thread already");
    assert!(plan.resolve.is_empty() && plan.reactivate.is_empty(), "the thread of a filtered issue is kept");
}
