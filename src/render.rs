//! Text for people: the PR summary comment, inline issue comments and the build summary, in
//! Markdown. Everything that came from outside (messages, keys, paths, rule names) is escaped so it
//! can neither format nor inject HTML.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::decide::{InlineCandidate, InlineStats, Texts, Verdict};
use crate::sonar::model::GateStatus;
use crate::sonar::present::{Severity, describe_condition, format_value, issue_kind, issue_severity, metric_name};
use crate::sonar::{Analysis, AnalysisOutcome, Issues, issue_url};

/// Makes text from outside inert wherever it lands in Markdown (a paragraph, a table cell, a
/// link's text): entities for `&<>`, so no HTML; a backslash before every character that formats
/// inline (emphasis, code, links, images, tables, headings); line breaks folded and control
/// characters shown as `<U+XXXX>` tags, so a message cannot start a heading, list, quote or table
/// row, nor hide or reorder text; leading spaces dropped, so no code block. A `:` before `//` and a
/// `.` inside a name are escaped too, which keeps a renderer that links bare URLs and domain names
/// (markdown-it's linkify) from making a link the task did not make.
pub fn escape_md(text: &str) -> String {
    let visible = crate::text::visible(text);
    let chars: Vec<char> = visible.trim_start().chars().collect();
    let mut out = String::with_capacity(chars.len() + 8);
    let leading_digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        let (prev, next) = (i.checked_sub(1).and_then(|p| chars.get(p)), chars.get(i + 1));
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '!' | '{' | '}' | '@' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            // "12. item" starts an ordered list; "45.5%" does not.
            '.' if i == leading_digits && i > 0 && next.is_none_or(|n| *n == ' ') => out.push_str("\\."),
            // "evil.example" and "www.x" read as links to linkify; "45.5" does not.
            '.' if prev.is_some_and(|p| p.is_alphanumeric()) && next.is_some_and(|n| n.is_alphabetic()) => out.push_str("\\."),
            ':' if chars.get(i + 1..i + 3) == Some(&['/', '/']) => out.push_str("\\:"),
            c => out.push(c),
        }
    }
    out
}

/// A link whose URL we built ourselves. Characters that could end the destination early, start
/// HTML or hide anything are percent-encoded.
fn link(text: &str, url: &str) -> String {
    format!("[{}]({})", escape_md(text), safe_destination(url))
}

fn safe_destination(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' | '(' | ')' | '<' | '>' | '"' | '\'' | '\\' | '`' | '[' | ']' | '{' | '}' | '|' | '^' => {
                out.push_str(&format!("%{:02X}", c as u32))
            }
            c if c.is_control() || crate::text::has_controls(c.encode_utf8(&mut [0; 4])) => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
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
        fit(summary_comment(analysis, stats), &analysis.dashboard_url)
    }

    fn inline(&self, candidate: &InlineCandidate<'_>, analysis: &Analysis) -> String {
        let url = issue_url(self.link_base, analysis.project_key(), &analysis.scope, &candidate.issue.key);
        fit(inline_comment(candidate, analysis, self.link_base), &url)
    }
}

/// Azure DevOps refuses a comment of more than 150 000 characters (400 "A discussion comment
/// cannot be longer than 150000 characters", observed by several tools that post to Azure Repos;
/// .NET counts UTF-16 code units).
pub const COMMENT_LIMIT: usize = 150_000;
/// The most characters of one message from a server a comment shows.
const MESSAGE_LIMIT: usize = 4_000;
/// The most rows of a list from a server (conditions) a comment shows.
const ROWS_LIMIT: usize = 50;
/// The most analysis warnings a comment shows (each up to `MESSAGE_LIMIT`).
const WARNINGS_LIMIT: usize = 10;

/// Server text, made inert and shortened to `max` characters, saying so.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}… (shortened: {} more characters)", escape_md(&text[..cut]), text[cut..].chars().count()),
        None => escape_md(text),
    }
}

/// A comment within Azure DevOps' limit: cut at a line, with a note of what was left out and
/// where to read it. Every part is bounded already; this holds whatever happens.
pub fn fit(md: String, full_text_url: &str) -> String {
    let units = |s: &str| s.encode_utf16().count();
    if units(&md) <= COMMENT_LIMIT {
        return md;
    }
    let note_room = 600;
    let mut used = 0;
    let mut cut = 0;
    for (i, c) in md.char_indices() {
        used += c.len_utf16();
        if used > COMMENT_LIMIT - note_room {
            break;
        }
        cut = i + c.len_utf8();
    }
    let cut = md[..cut].rfind('\n').unwrap_or(cut);
    let left_out = md[cut..].chars().count();
    format!(
        "{}\n\n… {left_out} more characters left out: Azure DevOps takes at most 150,000 in a comment. {}\n",
        &md[..cut],
        link("Read it all in SonarQube", full_text_url)
    )
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
            let _ = writeln!(md, "{}", (shorten(message, MESSAGE_LIMIT)));
        }
        AnalysisOutcome::Completed(done) => {
            let failed: Vec<_> = done.gate.conditions.iter().filter(|c| c.status != GateStatus::Ok).collect();
            if !failed.is_empty() {
                md.push_str("| Condition not met | Actual | Required |\n|---|---|---|\n");
                for c in failed.iter().take(ROWS_LIMIT) {
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
                    let name = metric_name(&c.metric_key);
                    let _ = writeln!(md, "| {} | {} | {} |", (shorten(&name, 200)), (shorten(&actual, 200)), (shorten(&required, 200)));
                }
                if failed.len() > ROWS_LIMIT {
                    let _ = writeln!(md, "\n{} more conditions not met: see the analysis in SonarQube.", failed.len() - ROWS_LIMIT);
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
            for w in done.ce_warnings.iter().take(WARNINGS_LIMIT) {
                let _ = writeln!(md, "\n> ⚠️ {}", (shorten(w, MESSAGE_LIMIT)));
            }
            if done.ce_warnings.len() > WARNINGS_LIMIT {
                let _ = writeln!(md, "\n> {} more warnings of the analysis: see it in SonarQube.", done.ce_warnings.len() - WARNINGS_LIMIT);
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
        (shorten(&issue_kind(issue), 200)),
        (shorten(&issue.message, MESSAGE_LIMIT)),
        code(&issue.rule),
        link("View in SonarQube", &issue_url(link_base, analysis.project_key(), &analysis.scope, &issue.key))
    )
}

fn title_case(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut c = lower.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Inline code. A backtick would end the span, a line break or control character break out of it
/// or hide something, and `|` end a table cell, so such text is escaped as plain text instead.
fn code(text: &str) -> String {
    if text.is_empty() || text.contains(['`', '|']) || crate::text::has_controls(text) || text.trim() != text {
        escape_md(text)
    } else {
        format!("`{text}`")
    }
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
    use proptest::prelude::*;

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

    #[test]
    fn comments_stay_within_azure_devops_limit() {
        let long = "line of text ✅\n".repeat(20_000);
        let fitted = fit(long.clone(), "https://sq/dashboard?id=a");
        assert!(fitted.encode_utf16().count() <= COMMENT_LIMIT);
        assert!(fitted.ends_with("more characters left out: Azure DevOps takes at most 150,000 in a comment. [Read it all in SonarQube](https://sq/dashboard?id=a)\n"), "{}", &fitted[fitted.len() - 200..]);
        assert!(fitted.starts_with("line of text ✅\nline"));
        assert_eq!(fit("short".into(), "x"), "short");
        assert_eq!(shorten("ab_def", 3), "ab\\_… (shortened: 3 more characters)");
        assert_eq!(shorten("a_c", 3), "a\\_c");
    }

    #[test]
    fn bare_urls_and_domains_are_not_left_for_a_linkifier() {
        assert_eq!(escape_md("see http://evil.example/x"), "see http\\://evil\\.example/x");
        assert_eq!(escape_md("java.lang.String is 45.5% of www.x"), "java\\.lang\\.String is 45.5% of www\\.x");
        assert_eq!(escape_md("    indented\rline"), "indented line");
        assert_eq!(code("java:S1144"), "`java:S1144`");
        assert_eq!(code("java:S1\r144"), "java:S1 144");
        assert_eq!(code("a|b"), "a\\|b");
    }

    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// Hostile text: everything Markdown, HTML, links and control characters are made of.
    fn hostile() -> impl Strategy<Value = String> {
        proptest::string::string_regex(
            "([<>&\\[\\]()!`*_#|~{}@\\\\:/.=+\\- \r\n\t\x1b\u{202e}\u{2066}]|javascript:|http://x\\.y|<img src=x onerror=y>|<div>|\\]\\(http://evil\\)|a|1|\\u{0})*",
        )
        .unwrap()
    }

    /// What a CommonMark renderer makes of a document: its events.
    fn events(md: &str) -> Vec<Event<'_>> {
        Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).collect()
    }

    fn no_html_and_no_links(md: &str, links_we_made: usize) -> Result<(), TestCaseError> {
        let evs = events(md);
        let html = evs.iter().filter(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_))).count();
        let links = evs.iter().filter(|e| matches!(e, Event::Start(Tag::Link { .. } | Tag::Image { .. }))).count();
        let blocks = evs
            .iter()
            .filter(|e| {
                matches!(e, Event::Start(Tag::Heading { .. } | Tag::List(_) | Tag::BlockQuote(_) | Tag::CodeBlock(_) | Tag::Table(_)))
            })
            .count();
        prop_assert_eq!(html, 0, "raw HTML in {:?}", md);
        prop_assert_eq!(links, links_we_made, "a link the task did not make in {:?}", md);
        prop_assert_eq!(blocks, 0, "a block the text started in {:?}", md);
        Ok(())
    }

    proptest! {
        /// Whatever a server sends, in each place it can land, renders as text.
        #[test]
        fn hostile_text_is_inert_wherever_it_lands(s in hostile()) {
            no_html_and_no_links(&format!("Before {} after", escape_md(&s)), 0)?;
            no_html_and_no_links(&escape_md(&s), 0)?;
            no_html_and_no_links(&format!("Rule {} · end", code(&s)), 0)?;
            no_html_and_no_links(&format!("{} · [ours](https://sq/x)", link(&s, "https://sq/dashboard?id=a")), 2)?;
            let dest = format!("https://sq/d?id={}", s);
            let md = link("x", &dest);
            let evs = events(&md);
            let ours: Vec<_> = evs.iter().filter_map(|e| match e { Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()), _ => None }).collect();
            prop_assert_eq!(ours.len(), 1, "one link in {:?}", md);
            prop_assert!(ours[0].starts_with("https://sq/d?id="), "{:?}", ours);
            prop_assert!(!evs.iter().any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_))));
        }

        /// In a table row, the text stays in its cell.
        #[test]
        fn hostile_text_stays_in_its_table_cell(s in hostile()) {
            let md = format!("| Condition | Status |\n|---|---|\n| {} | ok |\n", escape_md(&s));
            let evs = events(&md);
            let cells = evs.iter().filter(|e| matches!(e, Event::Start(Tag::TableCell))).count();
            prop_assert_eq!(cells, 4, "{:?}", md);
            prop_assert!(!evs.iter().any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_) | Event::Start(Tag::Link { .. }))), "{:?}", md);
            let _ = TagEnd::TableCell;
        }
    }
}
