//! Text for people: the PR summary comment, inline issue comments and the build summary, in
//! Markdown. Everything that came from outside (messages, keys, paths, rule names) is escaped so it
//! can neither format nor inject HTML.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::decide::{InlineCandidate, InlineStats, Texts, Verdict};
use crate::sonar::model::GateStatus;
use crate::sonar::present::{Severity, describe_condition, format_value, issue_kind, issue_severity, metric_name};
use crate::sonar::{Analysis, AnalysisOutcome, Issues, issue_url};

/// Escapes text for Markdown and the HTML Azure DevOps renders: entities for `&<>`, a backslash
/// before every character that formats inline (emphasis, code, links, tables, headings), and line
/// breaks folded to spaces so a message cannot start a heading, list or table row. A leading `-`,
/// `+` or `1.` would start a list, so those are escaped at the start only.
pub fn escape_md(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    let leading_digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '!' | '{' | '}' | '@' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            // "12. item" starts an ordered list; "45.5%" does not.
            '.' if i == leading_digits && i > 0 && chars.get(i + 1).is_none_or(|n| *n == ' ') => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A link whose URL we built ourselves; parentheses and spaces are percent-encoded so the URL
/// cannot end the Markdown link early.
fn link(text: &str, url: &str) -> String {
    let safe = url.replace(' ', "%20").replace('(', "%28").replace(')', "%29");
    format!("[{}]({safe})", escape_md(text))
}

fn verdict_heading(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::NotThisBuild => "⛔ Analysis of another build",
        Verdict::Gate(GateStatus::Ok) => "✅ Quality gate passed",
        Verdict::Gate(GateStatus::Error) => "❌ Quality gate failed",
        Verdict::Gate(GateStatus::Warn) => "⚠️ Quality gate warning",
        Verdict::Gate(GateStatus::None) => "➖ No quality gate",
        Verdict::AnalysisFailed => "❗ Analysis failed",
        Verdict::TimedOut => "⏳ Analysis did not finish in time",
    }
}

/// The comments of one run: links go to the server's public base URL.
pub struct Comments<'a> {
    pub link_base: &'a str,
}

impl Texts for Comments<'_> {
    fn summary(&self, analysis: &Analysis, stats: &InlineStats) -> String {
        summary_comment(analysis, stats)
    }

    fn inline(&self, candidate: &InlineCandidate<'_>, analysis: &Analysis) -> String {
        inline_comment(candidate, analysis, self.link_base)
    }
}

/// The summary comment for one project's analysis.
pub fn summary_comment(analysis: &Analysis, inline: &InlineStats) -> String {
    let verdict = Verdict::of(analysis);
    let mut md = String::new();
    // A server gate that passed does not make the heading pass when the PR's own gate failed.
    let heading = match (verdict, &inline.new_issues_failure) {
        (Verdict::Gate(GateStatus::Ok), Some(_)) => "❌ Quality gate passed, but the pull request's own gate failed",
        _ => verdict_heading(verdict),
    };
    let _ = writeln!(md, "### {heading} for {}", code(analysis.project_key()));
    md.push('\n');
    match &analysis.outcome {
        AnalysisOutcome::Failed { message } | AnalysisOutcome::TimedOut { message } | AnalysisOutcome::NotThisBuild { message } => {
            let _ = writeln!(md, "{}", escape_md(message));
        }
        AnalysisOutcome::Completed(done) => {
            let failed: Vec<_> = done.gate.conditions.iter().filter(|c| c.status != GateStatus::Ok).collect();
            if !failed.is_empty() {
                md.push_str("| Condition not met | Actual | Required |\n|---|---|---|\n");
                for c in &failed {
                    let actual = c.actual_value.as_deref().map(|v| format_value(&c.metric_key, v)).unwrap_or_default();
                    let threshold = c
                        .error_threshold
                        .as_deref()
                        .or(c.warning_threshold.as_deref())
                        .map(|v| format_value(&c.metric_key, v))
                        .unwrap_or_default();
                    let required = match c.comparator.as_deref() {
                        Some("GT") if c.metric_key.ends_with("_rating") => format!("{threshold} or better"),
                        Some("GT") => format!("≤ {threshold}"),
                        Some("LT") => format!("≥ {threshold}"),
                        _ => threshold,
                    };
                    let _ =
                        writeln!(md, "| {} | {} | {} |", escape_md(&metric_name(&c.metric_key)), escape_md(&actual), escape_md(&required));
                }
                md.push('\n');
            }
            issues_section(&mut md, analysis, done, inline);
            if let Some((total, _)) = &done.hotspots {
                let _ = writeln!(md, "\n**Security hotspots to review:** {total}");
            }
            if let Some(measures) = &done.measures {
                let shown: Vec<String> =
                    ["new_coverage", "new_duplicated_lines_density", "pull_request_fixed_issues", "new_accepted_issues"]
                        .iter()
                        .filter_map(|key| {
                            let m = measures.iter().find(|m| m.metric == *key)?;
                            Some(format!("{}: {}", metric_name(key), escape_md(&format_value(key, m.best_value()?))))
                        })
                        .collect();
                if !shown.is_empty() {
                    let _ = writeln!(md, "\n{}", shown.join(" · "));
                }
            }
            if let Some(counts) = &inline.changed_lines {
                let total: usize = counts.iter().map(|(_, n)| n).sum();
                let by: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {}", s.label())).collect();
                let _ = writeln!(
                    md,
                    "\n**Issues on lines this pull request changed:** {}{}",
                    total,
                    if by.is_empty() { String::new() } else { format!(" ({})", by.join(", ")) }
                );
                if inline.unplaced > 0 {
                    let _ = writeln!(
                        md,
                        "\n{} more in changed files could not be placed: their lines exist only in the merge commit (from the target branch or a conflict resolution).",
                        inline.unplaced
                    );
                }
            }
            if let Some(reason) = &inline.new_issues_failure {
                let _ = writeln!(md, "\n❌ **The pull request's own gate fails:** {}.", escape_md(reason));
            }
            if inline.posted + inline.over_cap > 0 {
                let _ = write!(md, "\n**Inline comments:** {} on changed lines", inline.posted);
                if inline.over_cap > 0 {
                    let _ = write!(md, "; {} more not commented (maxInlineComments is {})", inline.over_cap, inline.cap);
                }
                md.push('\n');
            }
            for w in &done.ce_warnings {
                let _ = writeln!(md, "\n> ⚠️ {}", escape_md(w));
            }
        }
    }
    let _ = writeln!(md, "\n{}", link("See the analysis in SonarQube", &analysis.dashboard_url));
    md
}

/// The open issues: the scope's, or, when only the files the PR changed were read, the project's
/// count; and a word when SonarQube's cap made the list partial.
fn issues_section(md: &mut String, analysis: &Analysis, done: &crate::sonar::Completed, inline: &InlineStats) {
    let project_count = || -> Option<String> {
        let m = done.measures.as_ref()?.iter().find(|m| m.metric == "violations")?;
        m.value.clone()
    };
    match (&done.issues, inline.changed_lines.is_some()) {
        (Issues::Read(_) | Issues::NotRead, true) => {
            let count = project_count().unwrap_or_else(|| "not known".to_string());
            let _ =
                writeln!(md, "**Open issues in the project:** {} · {}", escape_md(&count), link("list them", &issues_list_url(analysis)));
        }
        (Issues::Read(set), false) => {
            let _ = write!(md, "**Open issues:** {}", issue_breakdown(&set.issues, set.total));
            if set.total > 0 {
                let _ = write!(md, " · {}", link("list them", &issues_list_url(analysis)));
            }
            md.push('\n');
        }
        (Issues::NotRead, false) => md.push_str("**Open issues:** not read.\n"),
        (Issues::Forbidden, _) => md.push_str("**Open issues:** not readable with this token (it needs 'Browse' on the project).\n"),
    }
    if let Issues::Read(set) = &done.issues
        && set.capped
    {
        let _ = writeln!(
            md,
            "\nSonarQube returns at most 10,000 issues per query; {} were read of {} reported. The list is partial, so no thread was resolved for an issue missing from it.",
            set.issues.len(),
            set.total
        );
    }
}

/// The server's list of the analysis's open issues.
fn issues_list_url(analysis: &Analysis) -> String {
    // The dashboard URL already carries the link base, project and scope.
    analysis.dashboard_url.replacen("/dashboard?", "/project/issues?", 1) + "&resolved=false"
}

/// "3 (1 Critical, 2 Major; 1 Bug, 2 Code Smell)".
fn issue_breakdown(issues: &[crate::sonar::model::Issue], total: u64) -> String {
    if total == 0 {
        return "none".to_string();
    }
    let mut by_severity: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for i in issues {
        *by_severity.entry(std::cmp::Reverse(issue_severity(i))).or_default() += 1;
        *by_kind.entry(issue_kind(i)).or_default() += 1;
    }
    let sev: Vec<String> = by_severity.iter().map(|(s, n)| format!("{n} {}", s.0.label())).collect();
    let kind: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {}", escape_md(k))).collect();
    format!("{total} ({}; {})", sev.join(", "), kind.join(", "))
}

/// An inline comment on one issue.
pub fn inline_comment(c: &InlineCandidate, analysis: &Analysis, link_base: &str) -> String {
    let issue = &c.issue;
    let mut impact = String::new();
    if !issue.impacts.is_empty() {
        let parts: Vec<String> =
            issue.impacts.iter().map(|i| format!("{} {}", title_case(&i.software_quality), title_case(&i.severity))).collect();
        impact = format!(" · {}", escape_md(&parts.join(", ")));
    }
    format!(
        "**{} {}**{impact}: {}\n\nRule {} · {}",
        c.severity.label(),
        escape_md(&issue_kind(issue)),
        escape_md(&issue.message),
        code(&issue.rule),
        link("View in SonarQube", &issue_url(link_base, analysis.project_key(), &analysis.scope, &issue.key))
    )
}

fn title_case(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Inline code; a backtick in the text would end the span, so such text is escaped instead.
fn code(text: &str) -> String {
    if text.contains('`') || text.contains('\n') { escape_md(text) } else { format!("`{text}`") }
}

/// The build summary (the run's "SonarQube quality gate" tab).
pub fn build_summary(analyses: &[Analysis], not_a_pr: Option<&str>) -> String {
    let mut md = String::from("# SonarQube quality gate\n\n");
    if let Some(reason) = not_a_pr {
        let _ = writeln!(md, "Nothing was posted to a pull request: {}.\n", escape_md(reason));
    }
    for a in analyses {
        let verdict = Verdict::of(a);
        let _ = writeln!(md, "## {} for {}\n", verdict_heading(verdict), code(a.project_key()));
        match &a.outcome {
            AnalysisOutcome::Completed(done) => {
                if done.gate.conditions.is_empty() {
                    md.push_str("The gate has no conditions.\n");
                } else {
                    md.push_str("| Condition | Status |\n|---|---|\n");
                    for c in &done.gate.conditions {
                        let _ = writeln!(
                            md,
                            "| {} | {} |",
                            escape_md(&describe_condition(c)),
                            if c.status == GateStatus::Ok { "✅ passed" } else { "❌ failed" }
                        );
                    }
                }
            }
            AnalysisOutcome::Failed { message } | AnalysisOutcome::TimedOut { message } | AnalysisOutcome::NotThisBuild { message } => {
                let _ = writeln!(md, "{}", escape_md(message));
            }
        }
        let _ = writeln!(md, "\n{}\n", link("Open the analysis in SonarQube", &a.dashboard_url));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_defuses_markdown_html_and_links() {
        let hostile = "<img src=x onerror=alert(1)> **bold** [click](http://evil) | cell\n# heading";
        let safe = escape_md(hostile);
        assert!(!safe.contains('<') && !safe.contains('>'));
        assert!(!safe.contains("**") && !safe.contains("]("));
        assert!(!safe.contains('\n'));
        assert!(safe.contains("\\|"));
        assert_eq!(escape_md("a_b"), "a\\_b");
        assert_eq!(escape_md("re-interrupt it. Don't"), "re-interrupt it. Don't");
        assert_eq!(escape_md("- item"), "\\- item");
        assert_eq!(escape_md("12. item"), "12\\. item");
        assert_eq!(escape_md("45.5%"), "45.5%");
        assert_eq!(escape_md("@alice"), "\\@alice");
    }

    #[test]
    fn links_cannot_be_closed_early() {
        assert_eq!(link("x", "https://s/d?id=a (b)"), "[x](https://s/d?id=a%20%28b%29)");
    }
}
