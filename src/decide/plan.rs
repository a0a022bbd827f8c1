//! The publish plan: from the analyses, the issues matched to the pull request and the threads
//! already on it, every write to make (statuses, threads to create, reopen, resolve, replies, the
//! summary created once and then edited in place, duplicates closed). Pure: the text comes from a
//! [`Texts`], the writes are performed by the caller. After the writes, [`settle`] decides how the
//! threads this run created converge with any an overlapping run created at the same moment.

use std::collections::{BTreeMap, HashSet};

use super::scope::{DecorationMode, InlineCandidate, Matched, count_by_severity, files_of};
use super::statuses::{EarlierResult, PROP_BUILD, PROP_PROJECT, PROP_PROJECTS};
use super::verdict::{StatusDecision, Verdict, analysis_status, combined_status, effective_verdict};
use crate::azdo::model::{IterationFile, LineRange, Marker, NewThread, PrStatus, StatusContext, Thread, ThreadKind, ThreadStatus};
use crate::azdo::write::Write;
use crate::sonar::model::GateStatus;
use crate::sonar::present::Severity;
use crate::sonar::{Analysis, AnalysisOutcome};

/// How the pull request is decorated: the task's decoration inputs, validated.
#[derive(Clone, Debug)]
pub(crate) struct Decoration {
    pub(crate) mode: DecorationMode,
    /// Fail the status and the task when issues at or above this severity sit on changed lines.
    pub(crate) fail_on_new_issues: Option<Severity>,
    /// Fail them when less of the changed lines than this (percent) is covered by tests
    /// (`minChangedLinesCoverage`; changed-lines decoration only).
    pub(crate) min_changed_lines_coverage: Option<f64>,
    /// Fail them when the pull request has dependency risks at or above this severity
    /// (`failOnDependencyRisks`: info, low, medium, high or blocker).
    pub(crate) fail_on_dependency_risks: Option<String>,
    /// Where the analysed project sits in the repository (a monorepo's subfolder), when given.
    pub(crate) project_base_dir: Option<String>,
    pub(crate) post_status: bool,
    pub(crate) post_summary_comment: bool,
    pub(crate) post_inline_comments: bool,
    /// Which issues get a new inline comment (the cap and the noise filters).
    pub(crate) inline_filter: InlineFilter,
    /// When the summary comment is posted.
    pub(crate) summary_when: SummaryWhen,
    /// Post a `pending` status while the analyses are processed (`pendingStatus`).
    pub(crate) pending_status: bool,
    /// Carry reviewers' Won't fix / By design resolutions over to SonarQube (`syncResolutions`),
    /// and whether the pull request's author's count (`allowAuthorResolutions`).
    pub(crate) sync_resolutions: SyncResolutions,
    pub(crate) allow_author_resolutions: bool,
    pub(crate) status_genre: String,
    pub(crate) status_name: String,
}

/// `syncResolutions`: whether reviewers' resolutions are carried over to SonarQube
/// (`decide::triage`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SyncResolutions {
    #[default]
    None,
    ToSonarQube,
}

/// When the summary comment is posted (`summaryWhen`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SummaryWhen {
    Always,
    /// Only when the pull request does not pass: a passing run creates none, and resolves one that
    /// an earlier failing run made, so no active thread blocks a "resolve all comments" policy.
    Failing,
}

/// Which open issues on changed lines get a new inline comment: at most `cap` open threads, and only
/// issues at or above `min_severity` (`inlineMinSeverity`) that affect one of `qualities`
/// (`inlineSoftwareQualities`, SonarQube's names). Threads already posted are kept either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InlineFilter {
    pub(crate) cap: usize,
    pub(crate) min_severity: Option<Severity>,
    pub(crate) qualities: Option<Vec<String>>,
}

impl InlineFilter {
    /// Only a cap: every issue is eligible.
    #[cfg(test)]
    pub(crate) fn cap(cap: usize) -> Self {
        Self { cap, min_severity: None, qualities: None }
    }

    fn admits(&self, c: &InlineCandidate<'_>) -> bool {
        self.admits_issue(c.issue)
    }

    /// Whether the filter lets this issue have an inline comment (its severity as candidates
    /// rank it: `issue_severity`).
    pub(crate) fn admits_issue(&self, issue: &crate::sonar::model::Issue) -> bool {
        self.min_severity.is_none_or(|min| crate::sonar::present::issue_severity(issue) >= min)
            && self.qualities.as_ref().is_none_or(|wanted| {
                crate::sonar::present::issue_qualities(issue).iter().any(|q| wanted.iter().any(|w| w.eq_ignore_ascii_case(q)))
            })
    }
}

/// Counts the summary shows about inline comments and the PR's own gate.
#[derive(Clone, Debug, Default)]
pub(crate) struct InlineStats {
    pub(crate) posted: usize,
    pub(crate) over_cap: usize,
    pub(crate) cap: usize,
    /// In changed-lines mode: issues on lines the PR changed, by the server's severity word
    /// (most severe first).
    pub(crate) changed_lines: Option<Vec<(String, usize)>>,
    /// In changed-lines mode: the files (project-relative) those issues are in.
    pub(crate) changed_files: Vec<String>,
    /// Issues in changed files on lines that exist only in the merge commit.
    pub(crate) unplaced: usize,
    /// The PR's own gate (failOnNewIssues, minChangedLinesCoverage) failed, and why.
    pub(crate) new_issues_failure: Option<String>,
    /// In changed-lines mode: coverage on the lines the PR changed, when read.
    pub(crate) changed_coverage: Option<super::coverage::ChangedCoverage>,
    /// Open issues whose thread a reviewer resolved as Won't fix, By design or Closed: the issue
    /// key and the status as the pull request shows it.
    pub(crate) resolved_by_reviewers: Vec<(String, &'static str)>,
    /// Open issues not commented because of inlineMinSeverity or inlineSoftwareQualities.
    pub(crate) filtered_out: usize,
    /// Lines the summary shows whatever the analysis says (a token about to expire).
    pub(crate) notices: Vec<String>,
}

/// The text people read, written by the rendering layer.
pub(crate) trait Texts {
    fn summary(&self, analysis: &Analysis, stats: &InlineStats) -> String;
    fn inline(&self, candidate: &InlineCandidate<'_>, analysis: &Analysis) -> String;
}

/// The pull request as this run found it.
pub(crate) struct PullRequestView<'a> {
    pub(crate) threads: &'a [Thread],
    /// This task's identity: only threads whose first comment it wrote are its own.
    pub(crate) me: &'a str,
    /// The iteration the status and new threads are for.
    pub(crate) iteration: Option<u32>,
    /// The change tracking id of each file of that iteration, by path (leading `/`).
    pub(crate) tracking_ids: &'a BTreeMap<String, u64>,
    /// Lines every summary shows (a token about to expire).
    pub(crate) notices: &'a [String],
    /// This build's id (`Build.BuildId`), recorded on the statuses it posts.
    pub(crate) build_id: Option<&'a str>,
    /// Other projects' results this build already posted on this iteration (`statuses`).
    pub(crate) earlier: &'a [EarlierResult],
    /// The status went out already, as soon as the gates were read (`app::early_status`).
    pub(crate) status_posted: bool,
}

/// Every write, in the order they are listed in the log, and the lines that say what was decided.
#[derive(Debug, Default)]
pub(crate) struct PublishPlan {
    pub(crate) writes: Vec<Write>,
    pub(crate) notes: Vec<String>,
}

/// Plans the decoration of one pull request. `matched` has one entry per analysis. An analysis
/// that is not this build's gets nothing.
pub(crate) fn plan_publish(
    analyses: &[Analysis],
    matched: &[Matched<'_>],
    pr: &PullRequestView<'_>,
    options: &Decoration,
    texts: &dyn Texts,
) -> PublishPlan {
    let mut plan = PublishPlan::default();
    let ours: Vec<(&Analysis, &Matched<'_>)> =
        analyses.iter().zip(matched).filter(|(a, _)| !matches!(a.outcome, AnalysisOutcome::NotThisBuild { .. })).collect();
    if options.post_status && !pr.status_posted {
        plan.writes.extend(plan_statuses(&ours, pr, options));
    }
    for (a, m) in ours {
        let mut stats = InlineStats {
            cap: options.inline_filter.cap,
            changed_lines: m.scoped.then(|| count_by_severity(&m.candidates)),
            changed_files: if m.scoped { files_of(&m.candidates) } else { Vec::new() },
            unplaced: m.unplaced,
            new_issues_failure: m.own_gate_failure(),
            changed_coverage: m.changed_coverage.clone(),
            notices: pr.notices.to_vec(),
            ..InlineStats::default()
        };
        if options.post_inline_comments {
            plan_inline_writes(a, m, pr, &options.inline_filter, texts, &mut stats, &mut plan);
        }
        if options.post_summary_comment {
            let content = texts.summary(a, &stats);
            let passing = matches!(Verdict::of(a), Verdict::Gate(GateStatus::Ok)) && m.own_gate_failure().is_none();
            plan_summary_writes(a, content, passing, options.summary_when, pr, &mut plan);
        }
    }
    plan
}

/// The `pending` status a run posts before it waits for analyses still in SonarQube's queue,
/// under the context its result will take (so the result replaces it): none unless
/// `pendingStatus` asks for it and statuses are posted.
pub(crate) fn pending_status(options: &Decoration, iteration: Option<u32>, waiting_for: usize) -> Option<Write> {
    (options.pending_status && options.post_status && waiting_for > 0).then(|| {
        let analyses = if waiting_for == 1 { "the analysis".to_string() } else { format!("{waiting_for} analyses") };
        plain_status(options, iteration, "pending", format!("Waiting for SonarQube to process {analyses}"))
    })
}

/// The status that replaces a pending one when the run ends before it has a result (the wait
/// failed): never a pending status left behind for a policy to wait on forever.
pub(crate) fn pending_withdrawn(options: &Decoration, iteration: Option<u32>) -> Write {
    plain_status(options, iteration, "error", "The quality gate could not be read; see the pipeline run's log".to_string())
}

fn plain_status(options: &Decoration, iteration: Option<u32>, state: &str, description: String) -> Write {
    Write::Status(PrStatus::new(
        state,
        description,
        StatusContext { genre: options.status_genre.clone(), name: options.status_name.clone() },
        None,
        iteration,
    ))
}

/// One project's result as its status shows it.
#[derive(Clone, Debug)]
pub(crate) struct ProjectResult<'a> {
    pub(crate) project_key: &'a str,
    pub(crate) dashboard_url: &'a str,
    pub(crate) decision: StatusDecision,
    /// What the result counts as in a combined status.
    pub(crate) verdict: Verdict,
}

/// Where statuses go and what they record: the iteration, this build, other projects' earlier
/// results on it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StatusTarget<'a> {
    pub(crate) iteration: Option<u32>,
    pub(crate) build_id: Option<&'a str>,
    pub(crate) earlier: &'a [EarlierResult],
}

/// One status per analysis; with several (in this run, or earlier runs of this build for other
/// projects: `earlier`), each gets `name/projectKey` and the plain context carries the combined
/// result, so one policy can require all of them. An earlier project that had only the plain
/// context gets its own, with its result as posted, since the plain one now says something else.
fn plan_statuses(analyses: &[(&Analysis, &Matched<'_>)], pr: &PullRequestView<'_>, options: &Decoration) -> Vec<Write> {
    let results: Vec<ProjectResult<'_>> = analyses
        .iter()
        .map(|(a, m)| ProjectResult {
            project_key: a.project_key(),
            dashboard_url: &a.dashboard_url,
            decision: analysis_status(a, m.own_gate_failure().as_deref()),
            verdict: effective_verdict(a, m.own_gate_failure().as_deref()),
        })
        .collect();
    status_writes(&results, StatusTarget { iteration: pr.iteration, build_id: pr.build_id, earlier: pr.earlier }, options)
}

/// The status writes for these projects' results (see `plan_statuses`).
pub(crate) fn status_writes(results: &[ProjectResult<'_>], at: StatusTarget<'_>, options: &Decoration) -> Vec<Write> {
    let keys: Vec<&str> = results.iter().map(|r| r.project_key).collect();
    let status = |name: &str, d: StatusDecision, target: Option<&str>, project: Option<&str>| {
        let mut s = PrStatus::new(
            d.state,
            d.description,
            StatusContext { genre: options.status_genre.clone(), name: name.to_string() },
            target.map(str::to_string),
            at.iteration,
        );
        s.properties = status_properties(at.build_id, project, &keys, at.earlier);
        Write::Status(s)
    };
    let name = &options.status_name;
    if let ([r], []) = (results, at.earlier) {
        return vec![status(name, r.decision.clone(), Some(r.dashboard_url), Some(r.project_key))];
    }
    let Some(target) = results.first().map(|r| r.dashboard_url).or_else(|| at.earlier.first().and_then(|e| e.target_url.as_deref())) else {
        return Vec::new();
    };
    let mut writes = Vec::new();
    let mut verdicts = Vec::new();
    for e in at.earlier {
        if !e.has_own_context {
            let d = StatusDecision { state: state_word(&e.state), description: e.description.clone() };
            writes.push(status(&format!("{name}/{}", e.project_key), d, e.target_url.as_deref(), Some(&e.project_key)));
        }
        verdicts.push((e.project_key.clone(), verdict_of_state(&e.state)));
    }
    for r in results {
        writes.push(status(&format!("{name}/{}", r.project_key), r.decision.clone(), Some(r.dashboard_url), Some(r.project_key)));
        verdicts.push((r.project_key.to_string(), r.verdict));
    }
    verdicts.sort_by(|x, y| x.0.cmp(&y.0));
    writes.push(status(name, combined_status(&verdicts), Some(target), None));
    writes
}

/// What a status records for a later run of this build: the build, and the project it is for (or,
/// on a combined status, every project it covers).
fn status_properties(
    build_id: Option<&str>,
    project: Option<&str>,
    keys: &[&str],
    earlier: &[EarlierResult],
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut props = serde_json::Map::new();
    if let Some(id) = build_id {
        props.insert(PROP_BUILD.to_string(), id.into());
    }
    match project {
        Some(key) => props.insert(PROP_PROJECT.to_string(), key.into()),
        None => {
            let mut keys: Vec<&str> = keys.iter().copied().chain(earlier.iter().map(|e| e.project_key.as_str())).collect();
            keys.sort_unstable();
            props.insert(PROP_PROJECTS.to_string(), keys.join(",").into())
        }
    };
    Some(props)
}

/// A posted status's state as this task writes it (an unknown word counts as an error).
fn state_word(state: &str) -> &'static str {
    ["succeeded", "failed", "error", "notApplicable"].into_iter().find(|w| w.eq_ignore_ascii_case(state)).unwrap_or("error")
}

/// The verdict a posted state stands for in a combined status.
fn verdict_of_state(state: &str) -> Verdict {
    match state_word(state) {
        "succeeded" => Verdict::Gate(GateStatus::Ok),
        "failed" => Verdict::Gate(GateStatus::Error),
        "notApplicable" => Verdict::Gate(GateStatus::None),
        _ => Verdict::AnalysisFailed,
    }
}

fn plan_inline_writes(
    a: &Analysis,
    m: &Matched<'_>,
    pr: &PullRequestView<'_>,
    filter: &InlineFilter,
    texts: &dyn Texts,
    stats: &mut InlineStats,
    plan: &mut PublishPlan,
) {
    let signature = signature_of(a);
    let who = Authorship { me: pr.me, signature: &signature };
    let inline = plan_inline(a.project_key(), &m.candidates, pr.threads, &who, filter, &|key| m.known_closed(a, key));
    for c in &inline.create {
        let mut thread =
            NewThread::new(Marker::issue(c.project_key, &c.issue.key), texts.inline(c, a), ThreadStatus::Active, Some(&line_range(c)));
        if let (Some(iteration), Some(&change_tracking_id)) = (pr.iteration, pr.tracking_ids.get(&c.file_path)) {
            thread = thread.in_iteration(IterationFile { iteration, change_tracking_id });
        }
        let thread = thread.with_rule(&c.issue.rule);
        plan.writes.push(Write::CreateThread { what: thread.describe(), thread });
    }
    let what = |id: u64| pr.threads.iter().find(|t| t.id == id).map_or_else(|| "a thread".to_string(), Thread::describe);
    for &id in &inline.reactivate {
        plan.writes.push(Write::ThreadStatus { thread: id, status: ThreadStatus::Active, what: what(id), why: "the issue is back" });
    }
    for &id in &inline.resolve {
        plan.writes.push(Write::ThreadStatus { thread: id, status: ThreadStatus::Fixed, what: what(id), why: "the issue is fixed" });
    }
    for &id in &inline.ask_to_resolve {
        plan.writes.push(Write::Reply { thread: id, content: ASK_TO_RESOLVE.to_string(), what: what(id) });
    }
    close_duplicates(&inline.duplicates, pr.threads, plan);
    let open_keys: HashSet<&str> = m.candidates.iter().map(|c| c.issue.key.as_str()).collect();
    let open_threads = canonical_of(pr.threads, ThreadKind::Issue, a.project_key(), |t| who.owns(t))
        .iter()
        .filter(|c| c.marker.issue_key.as_deref().is_some_and(|k| open_keys.contains(k)))
        .count();
    stats.posted = open_threads + inline.create.len();
    stats.over_cap = inline.over_cap;
    stats.filtered_out = inline.filtered_out;
    stats.resolved_by_reviewers = inline.resolved_by_reviewers.clone();
    let filtered = match inline.filtered_out {
        0 => String::new(),
        n => format!(", {n} left out by inlineMinSeverity/inlineSoftwareQualities"),
    };
    let by_reviewers = match inline.resolved_by_reviewers.len() {
        0 => String::new(),
        n => format!(", {n} resolved by reviewers (left as they are)"),
    };
    plan.notes.push(format!(
        "Inline comments for '{}': {} new, {} reopened, {} resolved, {} left for a person to resolve, {} over the cap{filtered}{by_reviewers}",
        a.project_key(),
        inline.create.len(),
        inline.reactivate.len(),
        inline.resolve.len(),
        inline.ask_to_resolve.len(),
        inline.over_cap,
    ));
}

fn plan_summary_writes(a: &Analysis, content: String, passing: bool, when: SummaryWhen, pr: &PullRequestView<'_>, plan: &mut PublishPlan) {
    let project_key = a.project_key();
    let signature = signature_of(a);
    let who = Authorship { me: pr.me, signature: &signature };
    let SummaryPlan { action, duplicates, superseded } = plan_summary(project_key, &content, passing, pr.threads, &who);
    match action {
        SummaryAction::Create { .. } if passing && when == SummaryWhen::Failing => {
            plan.notes.push(format!("Summary comment for '{project_key}': none, the pull request passes (summaryWhen: failing)"))
        }
        SummaryAction::Create { content, status } => {
            let thread = NewThread::new(Marker::summary(project_key), content, status, None);
            plan.writes.push(Write::CreateThread { what: thread.describe(), thread })
        }
        SummaryAction::Update { thread_id, comment_id, content, status } => {
            let what = format!("the summary comment for '{project_key}'");
            if let Some(content) = content {
                plan.writes.push(Write::UpdateComment { thread: thread_id, comment: comment_id, content, what: what.clone() });
            }
            if let Some(status) = status {
                let why = if status == ThreadStatus::Active { "the pull request does not pass" } else { "the pull request passes" };
                plan.writes.push(Write::ThreadStatus { thread: thread_id, status, what, why });
            }
        }
        SummaryAction::Unchanged => plan.notes.push(format!("Summary comment for '{project_key}' is up to date")),
    }
    close_duplicates(&duplicates, pr.threads, plan);
    for id in superseded {
        let what = format!("the summary comment for '{project_key}' an earlier identity of this task wrote");
        plan.writes.push(Write::Reply { thread: id, content: SUPERSEDED.to_string(), what: what.clone() });
        plan.writes.push(Write::ThreadStatus {
            thread: id,
            status: ThreadStatus::Closed,
            what,
            why: "this task now posts with another identity, and keeps its summary in a thread of its own",
        });
    }
}

/// The reply that closes a summary an earlier identity of this task wrote (its text is left as it
/// was: the task never edits what another identity wrote).
pub(crate) const SUPERSEDED: &str = "This summary is out of date: the pipeline now posts with another identity, whose summary comment for this project in this pull request is the current one. Closed by sonar-pr-gate.";

/// What a thread of `a`'s project that another identity wrote must still hold to be taken for
/// this task's (see [`Authorship`]): an inline comment, the link to its issue in SonarQube; the
/// summary, the link to the analysis.
fn signature_of(a: &Analysis) -> impl Fn(&Marker) -> Option<String> + '_ {
    move |marker: &Marker| match (marker.kind, marker.issue_key.as_deref()) {
        (ThreadKind::Issue, Some(key)) => Some(a.links.issue(key)),
        (ThreadKind::Summary, _) => Some(a.dashboard_url.clone()),
        _ => None,
    }
}

fn close_duplicates(duplicates: &[u64], threads: &[Thread], plan: &mut PublishPlan) {
    for &id in duplicates {
        let what = threads.iter().find(|t| t.id == id).map_or_else(|| "a thread".to_string(), Thread::describe);
        plan.writes.push(Write::ThreadStatus {
            thread: id,
            status: ThreadStatus::Closed,
            what,
            why: "a duplicate left by an overlapping run",
        });
    }
}

/// Where an inline thread sits. Offsets in SonarQube are 0-based; Azure DevOps' are 1-based. A
/// range without offsets covers the whole lines.
fn line_range(c: &InlineCandidate<'_>) -> LineRange {
    let (start_offset, end_offset) =
        if c.end_offset > 0 || c.start_offset > 0 { (c.start_offset.saturating_add(1), c.end_offset.saturating_add(1)) } else { (1, 1) };
    LineRange { file_path: c.file_path.clone(), start_line: c.start_line, start_offset, end_line: c.end_line, end_offset }
}

/// The marker of a thread this task owns: it carries the task's marker, its first comment was
/// written by `me` and is not deleted, and the thread is not deleted. A thread someone else wrote
/// that happens to carry the same properties is theirs, and left alone.
pub(crate) fn owned(thread: &Thread, me: &str) -> Option<Marker> {
    let first = thread.comments.first()?;
    let author = first.author.as_ref().and_then(|a| a.id.as_deref())?;
    (!thread.is_deleted && !first.is_deleted && author.eq_ignore_ascii_case(me)).then(|| thread.marker()).flatten()
}

/// Which threads are this task's. A pipeline can change the credential the task posts with (a PAT
/// dropped for the job token, a PAT rotated to another account): the threads the earlier identity
/// wrote are still the task's when they carry its marker and their first comment still holds the
/// task's own link (`signature`). Such a thread is adopted for its status only: never edited, and
/// a summary is closed in favour of one the current identity owns. A stranger's thread with copied
/// properties and text of its own is not adopted; one that copies the text too gains nothing a
/// reviewer does not have already (resolving the task's own thread has the same effect).
pub(crate) struct Authorship<'a> {
    pub(crate) me: &'a str,
    pub(crate) signature: &'a dyn Fn(&Marker) -> Option<String>,
}

impl Authorship<'_> {
    /// The marker of a thread this identity wrote, or an earlier identity of the task.
    fn owns(&self, thread: &Thread) -> Option<Marker> {
        owned(thread, self.me).or_else(|| self.wrote_earlier(thread))
    }

    /// The marker of a thread an earlier identity of the task wrote (not this one).
    fn wrote_earlier(&self, thread: &Thread) -> Option<Marker> {
        let first = thread.comments.first()?;
        if thread.is_deleted || first.is_deleted || owned(thread, self.me).is_some() {
            return None;
        }
        let marker = thread.marker()?;
        let signature = (self.signature)(&marker).filter(|s| !s.is_empty())?;
        first.content.as_deref()?.contains(&signature).then_some(marker)
    }
}

/// One of this task's threads, with the copies overlapping runs made of it.
pub(crate) struct Canonical<'t> {
    pub(crate) thread: &'t Thread,
    pub(crate) marker: Marker,
    /// Threads with the same marker and a higher id: duplicates to close.
    pub(crate) duplicates: Vec<&'t Thread>,
}

/// This task's threads of one kind for one project, one per marker: the lowest id wins, which
/// every run agrees on without talking to the others.
pub(crate) fn canonical<'t>(existing: &'t [Thread], me: &str, kind: ThreadKind, project_key: &str) -> Vec<Canonical<'t>> {
    canonical_of(existing, kind, project_key, |t| owned(t, me))
}

/// [`canonical`] over the threads `ours` says are the task's (giving their marker).
fn canonical_of<'t>(
    existing: &'t [Thread],
    kind: ThreadKind,
    project_key: &str,
    ours: impl Fn(&Thread) -> Option<Marker>,
) -> Vec<Canonical<'t>> {
    let mut groups: BTreeMap<Option<String>, Vec<&'t Thread>> = BTreeMap::new();
    let mut markers: BTreeMap<Option<String>, Marker> = BTreeMap::new();
    for t in existing {
        let Some(m) = ours(t).filter(|m| m.kind == kind && m.project_key == project_key) else { continue };
        groups.entry(m.issue_key.clone()).or_default().push(t);
        markers.entry(m.issue_key.clone()).or_insert(m);
    }
    groups
        .into_iter()
        .filter_map(|(key, mut threads)| {
            threads.sort_by_key(|t| t.id);
            let winner = threads.remove(0);
            Some(Canonical { thread: winner, marker: markers.remove(&key)?, duplicates: threads })
        })
        .collect()
}

/// What to do with the summary thread of one project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SummaryAction {
    Create { content: String, status: ThreadStatus },
    Update { thread_id: u64, comment_id: u64, content: Option<String>, status: Option<ThreadStatus> },
    Unchanged,
}

/// What to do with the threads of one project.
#[derive(Debug, Default)]
pub(crate) struct ThreadPlan<'a> {
    pub(crate) create: Vec<InlineCandidate<'a>>,
    /// Threads whose issue is back: reopen.
    pub(crate) reactivate: Vec<u64>,
    /// Threads whose issue is gone and nobody replied: resolve.
    pub(crate) resolve: Vec<u64>,
    /// Threads whose issue is gone but a person replied: ask them to resolve it.
    pub(crate) ask_to_resolve: Vec<u64>,
    /// Open duplicates an overlapping run left: close.
    pub(crate) duplicates: Vec<u64>,
    /// Open issues on lines that were not commented because of the cap.
    pub(crate) over_cap: usize,
    /// Open issues whose thread a reviewer resolved (see [`resolved_by_a_person`]): left alone.
    pub(crate) resolved_by_reviewers: Vec<(String, &'static str)>,
    /// Open issues without a thread that the filter leaves out (not counted as over the cap).
    pub(crate) filtered_out: usize,
}

/// The reply posted once in a thread whose issue is fixed but which a person took part in; we do
/// not close a conversation someone else is having.
pub(crate) const ASK_TO_RESOLVE: &str = "SonarQube no longer reports this issue. Someone replied here, so this thread was left open: please resolve it when the conversation is done.";

/// Decides the inline threads of one project. `candidates` are most severe first; threads that
/// already exist for an issue that is still open stay as they are, whatever the cap. A thread
/// whose issue is not a candidate is taken as fixed only when `closed` says that issue is known
/// to be closed (a complete list, or the issue asked for by key).
pub(crate) fn plan_inline<'a>(
    project_key: &str,
    candidates: &[InlineCandidate<'a>],
    existing: &[Thread],
    who: &Authorship<'_>,
    filter: &InlineFilter,
    closed: &dyn Fn(&str) -> bool,
) -> ThreadPlan<'a> {
    let mut plan = ThreadPlan::default();
    let ours = canonical_of(existing, ThreadKind::Issue, project_key, |t| who.owns(t));
    let open_keys: HashSet<&str> = candidates.iter().map(|c| c.issue.key.as_str()).collect();
    let mut threaded: HashSet<&str> = HashSet::new();
    for c in &ours {
        plan.duplicates.extend(c.duplicates.iter().filter(|d| d.is_active()).map(|d| d.id));
        let Some(key) = c.marker.issue_key.as_deref() else { continue };
        let thread = c.thread;
        threaded.insert(key);
        let still_open = open_keys.contains(key);
        if still_open && set_by_a_person(thread) {
            // A reviewer's decision on an open issue stands: never reopened, never posted again.
            if let Some(status) = resolved_by_a_person(thread) {
                plan.resolved_by_reviewers.push((key.to_string(), status));
            }
        } else if still_open && !thread.is_active() {
            plan.reactivate.push(thread.id);
        } else if !still_open && thread.is_active() && closed(key) {
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
    let already =
        ours.iter().filter(|c| c.thread.is_active() && c.marker.issue_key.as_deref().is_some_and(|k| open_keys.contains(k))).count();
    let room = filter.cap.saturating_sub(already);
    let (new, left_out): (Vec<&InlineCandidate<'a>>, Vec<_>) =
        candidates.iter().filter(|c| !threaded.contains(c.issue.key.as_str())).partition(|c| filter.admits(c));
    plan.filtered_out = left_out.len();
    plan.over_cap = new.len().saturating_sub(room);
    plan.create = new.into_iter().take(room).cloned().collect();
    plan
}

/// Whether a person set the thread's status: this task writes only `active`, `fixed`, and `closed`
/// on the copies overlapping runs leave (never on the thread that wins, which is the one asked
/// about here). `fixed` is the task's own word for "the issue is gone", so a thread a reviewer
/// marked Resolved while the issue is still open is reopened: Won't fix and By design are how a
/// reviewer dismisses an issue.
fn set_by_a_person(thread: &Thread) -> bool {
    matches!(thread.status.as_deref(), Some("wontFix" | "byDesign" | "closed" | "pending"))
}

/// A reviewer's resolution, in the words the pull request shows (`pending` is a person's status
/// but not a resolution).
fn resolved_by_a_person(thread: &Thread) -> Option<&'static str> {
    match thread.status.as_deref()? {
        "wontFix" => Some("Won't fix"),
        "byDesign" => Some("By design"),
        "closed" => Some("Closed"),
        _ => None,
    }
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

/// The summary of one project: what to do with the task's own summary thread, the open copies
/// overlapping runs left (to close), and summaries an earlier identity of the task wrote (to close
/// with a pointer).
#[derive(Debug)]
pub(crate) struct SummaryPlan {
    pub(crate) action: SummaryAction,
    pub(crate) duplicates: Vec<u64>,
    pub(crate) superseded: Vec<u64>,
}

/// Decides the summary thread of one project: created once, then updated in place; active while
/// the gate is not passing, resolved when it passes. Nothing is sent when nothing changed. The
/// current identity's own summary is the one kept: one an earlier identity wrote cannot be edited
/// (its text is not this identity's to change), so it is closed once, and this identity has its own.
pub(crate) fn plan_summary(project_key: &str, content: &str, passing: bool, existing: &[Thread], who: &Authorship<'_>) -> SummaryPlan {
    let superseded = existing
        .iter()
        .filter(|t| t.status.as_deref() != Some("closed"))
        .filter(|t| who.wrote_earlier(t).is_some_and(|m| m.kind == ThreadKind::Summary && m.project_key == project_key))
        .map(|t| t.id)
        .collect();
    let status = if passing { ThreadStatus::Fixed } else { ThreadStatus::Active };
    let Some(found) = canonical(existing, who.me, ThreadKind::Summary, project_key).into_iter().next() else {
        return SummaryPlan { action: SummaryAction::Create { content: content.to_string(), status }, duplicates: Vec::new(), superseded };
    };
    let duplicates = found.duplicates.iter().filter(|d| d.is_active()).map(|d| d.id).collect();
    let (thread, first) = (found.thread, &found.thread.comments[0]);
    let new_content = (first.content.as_deref() != Some(content)).then(|| content.to_string());
    let new_status = (thread.is_active() == passing).then_some(status);
    let action = if new_content.is_none() && new_status.is_none() {
        SummaryAction::Unchanged
    } else {
        SummaryAction::Update { thread_id: thread.id, comment_id: first.id, content: new_content, status: new_status }
    };
    SummaryPlan { action, duplicates, superseded }
}

/// After this run created threads (`created`: each new thread's id and body), the writes that
/// make it converge with an overlapping run that created the same threads at the same moment.
/// Both runs agree without talking: the lowest id wins; a run closes the copies it made itself,
/// after giving the winner what its copy said (so the latest run's summary is what stays).
pub(crate) fn settle(created: &[(u64, &NewThread)], threads: &[Thread], me: &str) -> Vec<Write> {
    let mut writes = Vec::new();
    for (id, new) in created {
        let marker = &new.marker;
        let group = canonical(threads, me, marker.kind, &marker.project_key);
        let Some(c) = group.into_iter().find(|c| c.marker.issue_key == marker.issue_key) else { continue };
        if c.thread.id == *id || !c.duplicates.iter().any(|d| d.id == *id) {
            continue;
        }
        let winner = c.thread;
        if let Some(first) = winner.comments.first()
            && first.content.as_deref() != Some(new.content())
        {
            writes.push(Write::UpdateComment {
                thread: winner.id,
                comment: first.id,
                content: new.content().to_string(),
                what: winner.describe(),
            });
        }
        if winner.is_active() != (new.status() == ThreadStatus::Active) {
            writes.push(Write::ThreadStatus {
                thread: winner.id,
                status: new.status(),
                what: winner.describe(),
                why: "the thread that wins takes the state this run's copy had",
            });
        }
        writes.push(Write::ThreadStatus {
            thread: *id,
            status: ThreadStatus::Closed,
            what: new.describe(),
            why: "this run's copy of a thread an overlapping run also made",
        });
    }
    writes
}
