//! Which issues are the pull request's: SonarQube's own PR analysis, or any analysis scoped by this
//! task to the lines the PR changed (Community Build), with each issue moved from the analysed
//! merge commit onto the PR's source lines; and the PR's own gate on them (`failOnNewIssues`).

use std::collections::BTreeMap;

use crate::changes::{ChangesUnknown, Placement, PrChanges};
use crate::sonar::model::Issue;
use crate::sonar::present::{Severity, issue_severity, severity_word};
use crate::sonar::{Analysis, AnalysisOutcome, Flavour, Scope};

/// How issues are matched to the pull request (the `decorationMode` input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecorationMode {
    /// From the server's capabilities: its own PR analysis on commercial editions and Cloud, the
    /// PR's changed lines on Community Build.
    Auto,
    /// SonarQube's pull request analysis: its issues are the PR's.
    PullRequest,
    /// Any analysis, scoped by this task to the lines the PR changed.
    ChangedLines,
}

/// Whether an analysis is scoped to the changed lines, and the words that say why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Matching {
    pub(crate) changed_lines: bool,
    pub(crate) why: &'static str,
}

pub(crate) fn matching(mode: DecorationMode, flavour: Flavour, scope: &Scope) -> Matching {
    let pr_analysis = matches!(scope, Scope::PullRequest(_));
    let (changed_lines, why) = match mode {
        DecorationMode::ChangedLines => (true, "scoped to the lines the pull request changed (decorationMode: changedLines)"),
        DecorationMode::PullRequest => (false, "SonarQube's pull request analysis (decorationMode: pullRequest)"),
        DecorationMode::Auto if flavour == Flavour::Community => {
            (true, "scoped to the lines the pull request changed, because Community Build cannot analyse pull requests")
        }
        DecorationMode::Auto if !pr_analysis => {
            (true, "scoped to the lines the pull request changed, because this analysis is not a pull request analysis")
        }
        DecorationMode::Auto => (false, "SonarQube's pull request analysis (the server analyses pull requests)"),
    };
    Matching { changed_lines, why }
}

/// An issue that may get an inline comment: on a line of a file. It borrows the issue: with
/// 10 000 open issues, copies would double the task's memory.
#[derive(Clone, Debug)]
pub(crate) struct InlineCandidate<'a> {
    pub(crate) project_key: &'a str,
    pub(crate) issue: &'a Issue,
    /// Repository path with a leading `/`.
    pub(crate) file_path: String,
    pub(crate) start_line: u32,
    pub(crate) end_line: u32,
    /// 0-based, as SonarQube gives them; 0 and 0 mean whole lines.
    pub(crate) start_offset: u32,
    pub(crate) end_offset: u32,
    pub(crate) severity: Severity,
}

/// Every issue of a completed analysis that sits on a line, with its repository path: the
/// project's folder in the repository (`prefix`, for monorepos) joined to SonarQube's path.
fn located_issues<'a>(analysis: &'a Analysis, prefix: &str) -> Vec<InlineCandidate<'a>> {
    let AnalysisOutcome::Completed(done) = &analysis.outcome else { return Vec::new() };
    let Some(set) = done.issues.read() else { return Vec::new() };
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
pub(crate) fn inline_candidates<'a>(analysis: &'a Analysis, prefix: &str) -> Vec<InlineCandidate<'a>> {
    if !matches!(analysis.scope, Scope::PullRequest(_)) {
        return Vec::new();
    }
    let mut out = located_issues(analysis, prefix);
    sort_candidates(&mut out);
    out
}

/// An analysis's issues scoped to the lines the PR changed, moved onto the source commit's lines.
pub(crate) struct Scoped<'a> {
    pub(crate) candidates: Vec<InlineCandidate<'a>>,
    /// Issues in files the PR changed whose line exists only in the merge commit: reported in the
    /// summary, never placed on a wrong line.
    pub(crate) unplaced: usize,
}

pub(crate) fn scope_to_changes<'a>(analysis: &'a Analysis, changes: &PrChanges, prefix: &str) -> Scoped<'a> {
    let mut unplaced = 0;
    let mut candidates: Vec<InlineCandidate<'a>> = located_issues(analysis, prefix)
        .into_iter()
        .filter_map(|mut c| match changes.place(&c.file_path, c.start_line) {
            Placement::Changed(source_line) => {
                let span = c.end_line - c.start_line;
                c.start_line = source_line;
                c.end_line = source_line.saturating_add(span);
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
pub(crate) fn count_by_severity(candidates: &[InlineCandidate<'_>]) -> Vec<(String, usize)> {
    by_severity_word(candidates.iter().map(|c| c.issue))
}

/// Issues counted by the severity word the server uses, most severe first.
pub(crate) fn by_severity_word<'a>(issues: impl Iterator<Item = &'a Issue>) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<(std::cmp::Reverse<Severity>, &'static str), usize> = BTreeMap::new();
    for issue in issues {
        let (rank, word) = severity_word(issue);
        *counts.entry((std::cmp::Reverse(rank), word)).or_default() += 1;
    }
    counts.into_iter().map(|((_, word), n)| (word.to_string(), n)).collect()
}

/// The project-relative paths of the files the candidates are in, for a link to their issues.
pub(crate) fn files_of(candidates: &[InlineCandidate<'_>]) -> Vec<String> {
    let mut files: Vec<String> =
        candidates.iter().filter_map(|c| c.issue.component.strip_prefix(c.project_key)?.strip_prefix(':').map(str::to_string)).collect();
    files.sort();
    files.dedup();
    files
}

/// The PR's own gate: `failOnNewIssues` against the issues on changed lines. `Some(reason)` when
/// it fails. A partial list (SonarQube's result cap) can fail it but never pass it.
pub(crate) fn new_issues_gate(candidates: &[InlineCandidate<'_>], threshold: Option<Severity>, partial: bool) -> Option<String> {
    let threshold = threshold?;
    let n = candidates.iter().filter(|c| c.severity >= threshold).count();
    if n > 0 {
        return Some(format!(
            "{n} issue{} at or above {} on lines this pull request changed",
            if n == 1 { "" } else { "s" },
            threshold.label()
        ));
    }
    partial.then(|| {
        format!(
            "the list of issues is partial (SonarQube returns at most 10,000 a query), so it cannot show that no issue at or above {} is on the lines this pull request changed",
            threshold.label()
        )
    })
}

/// The PR's own dependency-risk condition (`failOnDependencyRisks`): why it fails, if it does. The
/// scale is SonarQube's for dependency risks, Info < Low < Medium < High < Blocker.
pub(crate) fn dependency_risk_gate(risks: &crate::sonar::model::DependencyRisks, threshold: Option<&str>) -> Option<String> {
    const SCALE: [&str; 5] = ["INFO", "LOW", "MEDIUM", "HIGH", "BLOCKER"];
    let threshold = threshold?.to_ascii_uppercase();
    let at = SCALE.iter().position(|s| *s == threshold)?;
    let n: u64 = risks.by_severity.iter().filter(|(s, _)| SCALE.iter().position(|x| x == s).is_some_and(|p| p >= at)).map(|(_, n)| n).sum();
    let word = threshold.chars().next().map(|c| c.to_string() + &threshold[1..].to_ascii_lowercase()).unwrap_or_default();
    (n > 0).then(|| format!("{n} dependency risk{} at or above {word}", if n == 1 { "" } else { "s" }))
}

/// One analysis matched to the pull request: the issues that are the PR's, and what follows.
#[derive(Debug)]
pub(crate) struct Matched<'a> {
    pub(crate) candidates: Vec<InlineCandidate<'a>>,
    pub(crate) unplaced: usize,
    /// Whether the issues were scoped to the PR's changed lines by this task.
    pub(crate) scoped: bool,
    /// Why the changed lines could not be read, if they could not.
    pub(crate) scoping_failed: Option<ChangesUnknown>,
    /// The PR's own gate (failOnNewIssues) failed, and why.
    pub(crate) new_issues_failure: Option<String>,
    /// SonarQube capped a query: issues may be missing from `candidates`, so none is taken as fixed.
    pub(crate) partial: bool,
    /// Coverage on the changed lines, when the analysis is scoped to them and its lines were read.
    pub(crate) changed_coverage: Option<super::coverage::ChangedCoverage>,
    /// The PR's own coverage condition (minChangedLinesCoverage) failed, and why.
    pub(crate) coverage_failure: Option<String>,
    /// The PR's own dependency-risk condition (failOnDependencyRisks) failed, and why.
    pub(crate) risk_failure: Option<String>,
}

impl Matched<'_> {
    /// Why the pull request's own gate fails (failOnNewIssues, minChangedLinesCoverage), if it does.
    pub(crate) fn own_gate_failure(&self) -> Option<String> {
        let reasons: Vec<&str> =
            [&self.new_issues_failure, &self.coverage_failure, &self.risk_failure].into_iter().flatten().map(String::as_str).collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Whether every issue the PR has is known: then a thread whose issue is not a candidate is
    /// fixed.
    pub(crate) fn complete(&self, analysis: &Analysis) -> bool {
        let read = read_set(analysis).is_some_and(|s| !s.first_page_only);
        read && !self.partial && self.scoping_failed.is_none()
    }

    /// Whether the issue `key`, which is not a candidate, is known to be closed: the list is
    /// complete, or only its first page was read and the issue was asked for by key and is not
    /// open. Only then is its thread taken as fixed.
    pub(crate) fn known_closed(&self, analysis: &Analysis, key: &str) -> bool {
        self.complete(analysis)
            || (self.scoping_failed.is_none() && read_set(analysis).is_some_and(|s| s.first_page_only && s.known_closed(key)))
    }
}

fn read_set(analysis: &Analysis) -> Option<&crate::sonar::analysis::IssueSet> {
    match &analysis.outcome {
        AnalysisOutcome::Completed(d) => d.issues.read(),
        _ => None,
    }
}

/// Matches one analysis: `changes` is what the PR changed (or why that could not be read), and is
/// only looked at when the analysis is scoped to changed lines.
pub(crate) fn match_issues<'a>(
    analysis: &'a Analysis,
    prefix: &str,
    scoped: bool,
    changes: Option<&Result<PrChanges, ChangesUnknown>>,
    threshold: Option<Severity>,
) -> Matched<'a> {
    let (candidates, unplaced, scoping_failed) = match (scoped, changes) {
        (false, _) => (inline_candidates(analysis, prefix), 0, None),
        (true, Some(Ok(c))) => {
            let s = scope_to_changes(analysis, c, prefix);
            (s.candidates, s.unplaced, None)
        }
        (true, Some(Err(e))) => (Vec::new(), 0, Some(e.clone())),
        (true, None) => (Vec::new(), 0, Some(ChangesUnknown::NotRead)),
    };
    let partial = matches!(&analysis.outcome, AnalysisOutcome::Completed(d) if d.issues.read().is_some_and(|s| s.capped));
    let new_issues_failure = new_issues_gate(&candidates, threshold, partial);
    Matched {
        candidates,
        unplaced,
        scoped,
        scoping_failed,
        new_issues_failure,
        partial,
        changed_coverage: None,
        coverage_failure: None,
        risk_failure: None,
    }
}

#[cfg(test)]
mod risk_tests {
    use super::*;

    #[test]
    fn dependency_risks_at_or_above_the_threshold_fail_the_prs_own_gate() {
        let risks = crate::sonar::model::DependencyRisks { total: 3, by_severity: vec![("HIGH".into(), 1), ("LOW".into(), 2)] };
        assert_eq!(dependency_risk_gate(&risks, Some("medium")).as_deref(), Some("1 dependency risk at or above Medium"));
        assert_eq!(dependency_risk_gate(&risks, Some("low")).as_deref(), Some("3 dependency risks at or above Low"));
        assert_eq!(dependency_risk_gate(&risks, Some("blocker")), None);
        assert_eq!(dependency_risk_gate(&risks, None), None);
    }
}
