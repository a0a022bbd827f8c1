//! How much of an analysis's issue list a run reads: the first page, most severe first, when it
//! settles every decision the run takes from the issues; every page otherwise.

use super::plan::InlineFilter;
use crate::sonar::analysis::IssueSet;
use crate::sonar::model::Issue;
use crate::sonar::present::{Severity, issue_severity};

/// What the run decides from an analysis's issues.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IssueNeeds<'a> {
    /// Every issue is listed (a SARIF file): every page is read.
    pub(crate) every_issue: bool,
    /// Inline comments are posted, under this filter (the most severe first, up to its cap).
    pub(crate) inline: Option<&'a InlineFilter>,
    /// `failOnNewIssues`: fails when an issue on a line is at least this severe.
    pub(crate) fail_at: Option<Severity>,
}

/// Whether the first page (`page`: SonarQube's first 500 open issues, most severe first, of more)
/// settles what the run decides, so the other pages need not be read.
///
/// SonarQube sorts `s=SEVERITY` by the issue's severity, then its key (`IssueIndex.java`); the
/// task ranks an issue by its highest impact on 10.2+ (`issue_severity`), which SonarQube's own
/// mapping raises with that severity (HIGH for Blocker and Critical, MEDIUM for Major, LOW for
/// Minor and Info). The page is trusted only when its ranks fall in the server's order; then no
/// issue left unread ranks above the page's last, `floor`, and:
/// - the inline comments are settled when the page holds as many issues on a line that the
///   filter admits as the cap allows (none unread outranks them; among equals, the server's
///   order picks, the same on every run), or the filter's minimum is above `floor` (everything
///   it admits is on the page);
/// - `failOnNewIssues` is settled when an issue on a line here is at its threshold (it fails
///   whatever the rest holds), or the threshold is above `floor` (none can be elsewhere).
pub(crate) fn first_page_enough(page: &IssueSet, needs: &IssueNeeds<'_>) -> bool {
    if needs.every_issue {
        return false;
    }
    let ranks: Vec<Severity> = page.issues.iter().map(issue_severity).collect();
    let Some(&floor) = ranks.last() else { return false };
    let in_server_order = ranks.windows(2).all(|w| w[0] >= w[1]);
    let has_severity = page.issues.iter().all(|i| i.severity.as_deref().and_then(Severity::parse).is_some());
    if !in_server_order || !has_severity {
        return false;
    }
    let on_a_line = |i: &Issue| i.text_range.map_or(i.line, |r| Some(r.start_line)).is_some_and(|l| l > 0);
    if let Some(filter) = needs.inline.filter(|f| f.cap > 0) {
        let admitted = page.issues.iter().filter(|i| on_a_line(i) && filter.admits_issue(i)).count();
        if admitted < filter.cap && filter.min_severity.is_none_or(|min| min <= floor) {
            return false;
        }
    }
    if let Some(threshold) = needs.fail_at {
        let fails = page.issues.iter().any(|i| on_a_line(i) && issue_severity(i) >= threshold);
        if !fails && threshold <= floor {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(key: &str, severity: &str, line: Option<u32>) -> Issue {
        serde_json::from_value(serde_json::json!({
            "key": key, "component": "shop:src/A.java", "line": line, "severity": severity, "message": "m", "rule": "java:S1",
        }))
        .unwrap()
    }

    fn page(severities: &[&str]) -> IssueSet {
        let issues = severities.iter().enumerate().map(|(n, s)| issue(&format!("k{n}"), s, Some(1 + n as u32))).collect();
        IssueSet { issues, total: 10_000, ..IssueSet::default() }
    }

    #[test]
    fn the_inline_comments_are_settled_when_the_page_fills_the_cap() {
        let filter = InlineFilter::cap(2);
        let needs = IssueNeeds { inline: Some(&filter), ..IssueNeeds::default() };
        // Two issues on lines: none unread is more severe than either.
        assert!(first_page_enough(&page(&["BLOCKER", "MAJOR", "MAJOR"]), &needs));
        assert!(first_page_enough(&page(&["MAJOR", "MAJOR"]), &needs));
        // One on a line: the second comment may be for an issue on a later page.
        let mut one = page(&["BLOCKER", "MAJOR"]);
        one.issues[1].line = None;
        assert!(!first_page_enough(&one, &needs));
        // The filter admits one of them: the same.
        let bugs = InlineFilter { cap: 2, min_severity: None, qualities: Some(vec!["RELIABILITY".into()]) };
        assert!(!first_page_enough(&page(&["BLOCKER", "MAJOR"]), &IssueNeeds { inline: Some(&bugs), ..IssueNeeds::default() }));
        // A minimum above the floor: everything the filter admits is on the page.
        let critical = InlineFilter { cap: 25, min_severity: Some(Severity::Critical), qualities: None };
        assert!(first_page_enough(&page(&["BLOCKER", "MAJOR"]), &IssueNeeds { inline: Some(&critical), ..IssueNeeds::default() }));
        // No inline comments: nothing to settle.
        assert!(first_page_enough(&page(&["MINOR", "MINOR"]), &IssueNeeds::default()));
    }

    #[test]
    fn fail_on_new_issues_is_settled_by_a_failing_issue_or_a_threshold_above_the_floor() {
        let at = |s| IssueNeeds { fail_at: Some(s), ..IssueNeeds::default() };
        assert!(first_page_enough(&page(&["CRITICAL", "MINOR"]), &at(Severity::Major)), "fails on the Critical");
        assert!(first_page_enough(&page(&["MAJOR", "MINOR"]), &at(Severity::Critical)), "none can be elsewhere");
        // An issue without a line does not fail the PR's own gate: one on a line at Major may be
        // on a later page.
        let mut set = page(&["BLOCKER", "MAJOR"]);
        set.issues.iter_mut().for_each(|i| i.line = None);
        assert!(!first_page_enough(&set, &at(Severity::Major)));
    }

    #[test]
    fn a_page_out_of_order_a_sarif_file_or_an_empty_page_means_every_page_is_read() {
        let filter = InlineFilter::cap(1);
        let needs = IssueNeeds { inline: Some(&filter), ..IssueNeeds::default() };
        assert!(!first_page_enough(&page(&["MAJOR", "BLOCKER", "MINOR"]), &needs), "not in the order the server claims");
        let sarif = IssueNeeds { every_issue: true, ..IssueNeeds::default() };
        assert!(!first_page_enough(&page(&["BLOCKER", "MINOR"]), &sarif));
        assert!(!first_page_enough(&page(&[]), &IssueNeeds::default()));
    }
}
