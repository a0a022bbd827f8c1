//! Text for people: the PR summary comment, inline issue comments and the build summary, in
//! Markdown. Everything that came from outside (messages, keys, paths, rule names) is escaped so it
//! can neither format nor inject HTML.

pub(crate) mod sarif;

use std::fmt::Write as _;

use crate::azdo::write::{Write, describe_status};
use crate::decide::{InlineCandidate, InlineStats, Texts, Verdict, by_severity_word};
use crate::sonar::model::GateStatus;
use crate::sonar::present::{Severity, describe_condition, format_value, issue_about, metric_name, severity_word};
use crate::sonar::{Analysis, AnalysisOutcome, Ended, EndedHow, Issues, Scope};

/// Makes text from outside inert wherever it lands in Markdown (a paragraph, a table cell, a
/// link's text): entities for `&<>`, so no HTML; a backslash before every character that formats
/// inline (emphasis, code, links, images, tables, headings); line breaks folded and control
/// characters shown as `<U+XXXX>` tags, so a message cannot start a heading, list, quote or table
/// row, nor hide or reorder text; leading spaces dropped, so no code block. A `:` before `//` and a
/// `.` inside a name are escaped too, which keeps a renderer that links bare URLs and domain names
/// (markdown-it's linkify) from making a link the task did not make.
pub(crate) fn escape_md(text: &str) -> String {
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

/// The comments of one run (their links, each analysis's, go to the server's public base URL).
pub(crate) struct Comments;

impl Texts for Comments {
    fn summary(&self, analysis: &Analysis, stats: &InlineStats) -> String {
        fit(summary_comment(analysis, stats), &analysis.dashboard_url)
    }

    fn inline(&self, candidate: &InlineCandidate<'_>, analysis: &Analysis) -> String {
        fit(inline_comment(candidate, analysis), &analysis.links.issue(&candidate.issue.key))
    }
}

/// Azure DevOps refuses a comment of more than 150 000 characters (400 "A discussion comment
/// cannot be longer than 150000 characters", observed by several tools that post to Azure Repos;
/// .NET counts UTF-16 code units).
pub(crate) const COMMENT_LIMIT: usize = 150_000;
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
pub(crate) fn fit(md: String, full_text_url: &str) -> String {
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

/// The summary comment for one project's analysis, laid out as SonarQube's own decoration: the
/// verdict, the failed conditions, then Issues and Measures, each figure a link to the page that
/// lists it. A measure a failed condition already shows is not repeated.
pub(crate) fn summary_comment(analysis: &Analysis, inline: &InlineStats) -> String {
    let verdict = Verdict::of(analysis);
    let mut md = String::new();
    // A server gate that passed does not make the heading pass when the PR's own gate failed: the
    // verdict comes first, its cause right after.
    let own_gate_failed = matches!(verdict, Verdict::Gate(GateStatus::Ok)) && inline.new_issues_failure.is_some();
    let heading = if own_gate_failed { "❌ Pull request gate failed" } else { verdict_heading(verdict) };
    let heading = match &analysis.outcome {
        AnalysisOutcome::Failed { ended: Ended { how: EndedHow::Canceled, .. }, .. } => "⛔ Analysis canceled",
        _ => heading,
    };
    match (&inline.new_issues_failure, own_gate_failed) {
        (Some(reason), true) => {
            let _ = writeln!(md, "### {heading} for {}: {}", code(analysis.project_key()), escape_md(reason));
        }
        _ => {
            let _ = writeln!(md, "### {heading} for {}", code(analysis.project_key()));
        }
    }
    match &analysis.outcome {
        AnalysisOutcome::Failed { ended, .. } | AnalysisOutcome::TimedOut { ended, .. } => ended_section(&mut md, analysis, ended),
        AnalysisOutcome::NotThisBuild { message } => {
            let _ = writeln!(md, "\n{}", shorten(message, MESSAGE_LIMIT));
        }
        AnalysisOutcome::Completed(done) => {
            let shown_in_conditions = failed_conditions_section(&mut md, analysis, done);
            uncovered_section(&mut md, analysis, done);
            changed_coverage_section(&mut md, inline);
            match &inline.new_issues_failure {
                Some(_) if own_gate_failed => {
                    let _ = writeln!(md, "\nSonarQube's quality gate passed; the pull request's own conditions did not.");
                }
                Some(reason) => {
                    let _ = writeln!(md, "\n❌ **The pull request's own gate fails too:** {}.", escape_md(reason));
                }
                None => {}
            }
            issues_section(&mut md, analysis, done, inline);
            measures_section(&mut md, analysis, done, inline, &shown_in_conditions);
            if inline.posted + inline.over_cap + inline.filtered_out > 0 {
                let _ = write!(md, "\n**Inline comments:** {} on changed lines", inline.posted);
                // Only the most severe page read: the rest are counted, not listed, so more may be.
                let at_least = if done.issues.read().is_some_and(|s| s.first_page_only) { "at least " } else { "" };
                if inline.over_cap > 0 {
                    let _ = write!(md, "; {at_least}{} more not commented (maxInlineComments is {})", inline.over_cap, inline.cap);
                }
                if inline.filtered_out > 0 {
                    let _ = write!(md, "; {at_least}{} left out by inlineMinSeverity or inlineSoftwareQualities", inline.filtered_out);
                }
                md.push('\n');
            }
            reviewers_line(&mut md, analysis, inline);
            synced_line(&mut md, analysis, &done.synced);
            for w in done.ce_warnings.iter().take(WARNINGS_LIMIT) {
                let _ = writeln!(md, "\n> ⚠️ {}", shorten(w, MESSAGE_LIMIT));
            }
            if done.ce_warnings.len() > WARNINGS_LIMIT {
                let _ = writeln!(md, "\n> {} more warnings of the analysis: see it in SonarQube.", done.ce_warnings.len() - WARNINGS_LIMIT);
            }
        }
    }
    for notice in &inline.notices {
        let _ = writeln!(md, "\n> ⚠️ {}", escape_md(notice));
    }
    let _ = writeln!(md, "\n{}", link("See the analysis in SonarQube", &analysis.dashboard_url));
    md
}

/// An analysis that ended without a result, for the people on the pull request: what happened in
/// plain words, the background task to look at, and what they can do in the pipeline.
fn ended_section(md: &mut String, analysis: &Analysis, ended: &Ended) {
    let task = link(&format!("background task {}", ended.task_id), &analysis.links.background_tasks());
    match &ended.how {
        EndedHow::Failed { reason } => {
            let _ = writeln!(
                md,
                "\nSonarQube could not process this analysis, so there is no quality gate result and the pull request does not pass."
            );
            if let Some(reason) = reason.as_deref().filter(|r| !r.trim().is_empty()) {
                let _ = writeln!(md, "\n**SonarQube's reason:** {}", shorten(reason, MESSAGE_LIMIT));
            }
            let _ = writeln!(
                md,
                "\n**What to do:** re-run the pipeline, which submits a new analysis. If it fails again, the {task} shows the server's error in full; a SonarQube administrator may need to look at it."
            );
        }
        EndedHow::Canceled => {
            let _ = writeln!(
                md,
                "\nThe analysis was canceled on the SonarQube server before it finished (see the {task}), so there is no quality gate result and the pull request does not pass.\n\n**What to do:** re-run the pipeline to analyse the pull request again."
            );
        }
        EndedHow::TimedOut { waited_secs, last_status } => {
            let _ = writeln!(
                md,
                "\nSonarQube was still processing the analysis ({task}: {}) when the pipeline stopped waiting for it after {waited_secs} s, so the quality gate is not known yet and the pull request does not pass.\n\n**What to do:** once the background task has finished, re-run the failed job to post the result. If the server's queue is often this slow, raise the step's `pollingTimeoutSec` input in the pipeline.",
                code(last_status)
            );
        }
    }
}

/// "**Resolved by reviewers:** 2 issues in this pull request: AZ-1 (Won't fix), …", each linked to
/// the issue in SonarQube: the open issues the task leaves alone because a person decided.
fn reviewers_line(md: &mut String, analysis: &Analysis, inline: &InlineStats) {
    const LISTED: usize = 10;
    let resolved = &inline.resolved_by_reviewers;
    if resolved.is_empty() {
        return;
    }
    let listed: Vec<String> =
        resolved.iter().take(LISTED).map(|(key, status)| format!("{} ({status})", link(key, &analysis.links.issue(key)))).collect();
    let more = if resolved.len() > LISTED { format!(" and {} more", resolved.len() - LISTED) } else { String::new() };
    let noun = if resolved.len() == 1 { "issue" } else { "issues" };
    let _ = writeln!(md, "\n**Resolved by reviewers:** {} {noun} in this pull request: {}{more}", resolved.len(), listed.join(", "));
}

/// "**Marked in SonarQube from this pull request:** 1 issue: AZ-1 (accepted; Won't fix by Jane
/// Reviewer)": the resolutions `syncResolutions` carried over this run, each linked to the issue.
fn synced_line(md: &mut String, analysis: &Analysis, synced: &[crate::sonar::analysis::Synced]) {
    const LISTED: usize = 10;
    let done: Vec<_> = synced.iter().filter(|s| !s.dry_run).collect();
    if done.is_empty() {
        return;
    }
    let listed: Vec<String> = done
        .iter()
        .take(LISTED)
        .map(|s| {
            format!(
                "{} ({}; {} by {})",
                link(&s.issue_key, &analysis.links.issue(&s.issue_key)),
                s.became,
                s.status,
                escape_md(&s.resolver)
            )
        })
        .collect();
    let more = if done.len() > LISTED { format!(" and {} more", done.len() - LISTED) } else { String::new() };
    let noun = if done.len() == 1 { "issue" } else { "issues" };
    let _ = writeln!(md, "\n**Marked in SonarQube from this pull request:** {} {noun}: {}{more}", done.len(), listed.join(", "));
}

/// The gate's conditions, failed first: each as SonarQube words it, "45.5% Coverage on New Code
/// (required ≥ 80.0%)", linked to the measure, with what it takes to pass where arithmetic allows;
/// then those that passed, and the conditions SonarQube did not check. Returns the metrics shown,
/// so Measures does not repeat them.
fn failed_conditions_section(md: &mut String, analysis: &Analysis, done: &crate::sonar::Completed) -> Vec<String> {
    let (failed, passed): (Vec<_>, Vec<_>) = done.gate.conditions.iter().partition(|c| c.status != GateStatus::Ok);
    let measure = |key: &str| done.measures.as_ref()?.iter().find(|m| m.metric == key)?.best_value().and_then(|v| v.parse::<f64>().ok());
    if !failed.is_empty() {
        md.push_str("\n**Failed conditions**\n\n");
        for c in failed.iter().take(ROWS_LIMIT) {
            let to_pass = crate::sonar::present::to_pass(c, &measure).map(|t| format!(": {}", escape_md(&t))).unwrap_or_default();
            let _ = writeln!(md, "- {}{to_pass}", condition_line(analysis, c));
        }
        if failed.len() > ROWS_LIMIT {
            let _ = writeln!(md, "- and {} more: see the analysis in SonarQube", failed.len() - ROWS_LIMIT);
        }
    }
    if !passed.is_empty() {
        md.push_str("\n**Passed conditions**\n\n");
        for c in passed.iter().take(ROWS_LIMIT) {
            let _ = writeln!(md, "- {}", condition_line(analysis, c));
        }
        if passed.len() > ROWS_LIMIT {
            let _ = writeln!(md, "- and {} more: see the analysis in SonarQube", passed.len() - ROWS_LIMIT);
        }
    }
    let overall: Vec<&crate::sonar::model::GateConditionDef> =
        done.gate_definition.iter().filter(|d| !d.metric.starts_with("new_")).collect();
    let definition_words = |d: &crate::sonar::model::GateConditionDef| {
        let c = crate::sonar::model::Condition {
            status: GateStatus::Ok,
            metric_key: d.metric.clone(),
            comparator: d.op.clone(),
            error_threshold: d.error.clone(),
            warning_threshold: None,
            actual_value: None,
        };
        format!("{} (required {})", shorten(&done_metric_name(analysis, &d.metric), 200), required_words(&c))
    };
    if !overall.is_empty() {
        let listed: Vec<String> = overall.iter().take(ROWS_LIMIT).map(|d| definition_words(d)).collect();
        let _ = writeln!(
            md,
            "\nThe gate's conditions on overall code do not apply to a pull request, so SonarQube did not check them here: {}.",
            listed.join(", ")
        );
    }
    if done.gate.ignored_conditions {
        // Those of the definition SonarQube left out: coverage and duplication on new code.
        let ignored: Vec<String> = done
            .gate_definition
            .iter()
            .filter(|d| d.metric.starts_with("new_") && (d.metric.contains("coverage") || d.metric.contains("duplicat")))
            .filter(|d| !done.gate.conditions.iter().any(|c| c.metric_key == d.metric))
            .map(definition_words)
            .collect();
        let which = if ignored.is_empty() {
            "the gate's coverage and duplication conditions on new code".to_string()
        } else {
            format!("{} ({})", if ignored.len() == 1 { "this condition" } else { "these conditions" }, ignored.join(", "))
        };
        let _ = writeln!(
            md,
            "\nSonarQube did not check {which}: fewer than 20 lines changed, and it ignores coverage and duplication conditions for small changes (the server setting `sonar.qualitygate.ignoreSmallChanges`)."
        );
    }
    failed.iter().chain(&passed).map(|c| c.metric_key.clone()).collect()
}

/// The most line ranges listed for one file.
const RANGES_LIMIT: usize = 20;

/// "**New code without tests**": for a pull request analysis, each file's new lines that tests do
/// not run and the branches they leave out, most uncovered file first, linked to SonarQube's view.
fn uncovered_section(md: &mut String, analysis: &Analysis, done: &crate::sonar::Completed) {
    let Some(code) = done.uncovered.as_ref().filter(|u| !u.files.is_empty()) else { return };
    md.push_str("\n**New code without tests**\n\n");
    for (file, lines) in code.files.iter().zip(code.lines.iter()) {
        let name = raw_link(&code_span(&file.path), &analysis.links.uncovered_in_file(&file.key));
        let detail = match lines {
            Some(lines) => {
                let parts = gaps_words(&crate::decide::coverage::gaps(lines));
                if parts.is_empty() {
                    // The measures and the lines disagree (an analysis still settling): the counts say it.
                    format!("{} new lines not covered", file.lines)
                } else {
                    parts.join("; ")
                }
            }
            None => format!(
                "{} new {} not covered (the lines are not listed: the token needs 'See Source Code' on the project)",
                file.lines,
                if file.lines == 1 { "line" } else { "lines" }
            ),
        };
        let _ = writeln!(md, "- {name}: {detail}");
    }
    if code.files.len() > code.lines.len() {
        let rest = code.files.len() - code.lines.len();
        let _ = writeln!(
            md,
            "- and {rest} more {}: {}",
            if rest == 1 { "file" } else { "files" },
            link("all uncovered new lines", &analysis.links.measure("new_uncovered_lines"))
        );
    }
}

/// "**Coverage on changed lines**" (changed-lines decoration): the share of the lines the pull
/// request changed that tests cover, and the lines they do not, file by file, on the PR's lines.
fn changed_coverage_section(md: &mut String, inline: &InlineStats) {
    const FILES_LIMIT: usize = 10;
    let Some(c) = &inline.changed_coverage else { return };
    let Some(percent) = c.percent() else {
        let _ = writeln!(
            md,
            "\n**Coverage on changed lines:** none of the lines this pull request changed is counted by coverage: no coverage data was imported for them (check the scanner's coverage report setting), or they hold no executable code."
        );
        return;
    };
    let (total, uncovered) = (c.lines_to_cover + c.conditions, c.uncovered_lines + c.uncovered_conditions);
    let _ =
        writeln!(md, "\n**Coverage on changed lines:** {percent:.1}% ({} of {total} lines and conditions covered)\n", total - uncovered);
    for (path, g) in c.files.iter().take(FILES_LIMIT) {
        let parts = gaps_words(g);
        let _ = writeln!(md, "- {}: {}", code_span(path.trim_start_matches('/')), parts.join("; "));
    }
    if c.files.len() > FILES_LIMIT {
        let _ = writeln!(md, "- and {} more files", c.files.len() - FILES_LIMIT);
    }
    if c.files_not_read > 0 {
        let _ = writeln!(
            md,
            "\n{} changed files' coverage could not be read (too many, or not in the analysis) and is not counted.",
            c.files_not_read
        );
    }
}

/// "HIGH" → "High".
fn title_case(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A file's gaps in words: "lines 42–54 not covered", "partly covered: 60 (1 of 2 conditions)".
fn gaps_words(g: &crate::decide::coverage::Gaps) -> Vec<String> {
    let mut parts = Vec::new();
    if !g.uncovered.is_empty() {
        let ranges: Vec<String> =
            g.uncovered.iter().take(RANGES_LIMIT).map(|(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") }).collect();
        let more = match g.uncovered.len().saturating_sub(RANGES_LIMIT) {
            0 => String::new(),
            n => format!(" and {n} more ranges"),
        };
        let word = if g.uncovered.len() == 1 && g.uncovered[0].0 == g.uncovered[0].1 { "line" } else { "lines" };
        parts.push(format!("{word} {}{more} not covered", ranges.join(", ")));
    }
    if !g.partly.is_empty() {
        let partly: Vec<String> =
            g.partly.iter().take(RANGES_LIMIT).map(|(l, covered, total)| format!("{l} ({covered} of {total} conditions)")).collect();
        parts.push(format!("partly covered: {}", partly.join(", ")));
    }
    parts
}

/// A path in code format, made inert (a backtick in it cannot close the span).
fn code_span(path: &str) -> String {
    code(&shorten_plain(path, 300))
}

/// Text cut to `max` characters, not escaped (for `code`, which makes it inert itself).
fn shorten_plain(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// One condition: "[45.5% Coverage on New Code](measure link) (required ≥ 80.0%)".
fn condition_line(analysis: &Analysis, c: &crate::sonar::model::Condition) -> String {
    let name = done_metric_name(analysis, &c.metric_key);
    if let Some((actual, required)) = crate::sonar::present::severity_condition_words(c) {
        let figure = format!("{actual}: {}", shorten(&name, 200));
        return format!("{} (required: {required})", raw_link(&figure, &analysis.links.measure(&c.metric_key)));
    }
    let actual = c.actual_value.as_deref().map(|v| format_value(&c.metric_key, v)).unwrap_or_else(|| "no value".to_string());
    let required = required_words(c);
    let figure = format!("{} {}", shorten(&actual, 200), shorten(&name, 200));
    format!("{} (required {})", raw_link(&figure, &analysis.links.measure(&c.metric_key)), shorten(&required, 200))
}

/// A condition's requirement: "≥ 80.0%", "A or better", "none worse than Minor".
fn required_words(c: &crate::sonar::model::Condition) -> String {
    let as_severity = crate::sonar::model::Condition { actual_value: Some("0".into()), ..c.clone() };
    if let Some((_, required)) = crate::sonar::present::severity_condition_words(&as_severity) {
        return required;
    }
    let threshold =
        c.error_threshold.as_deref().or(c.warning_threshold.as_deref()).map(|v| format_value(&c.metric_key, v)).unwrap_or_default();
    match c.comparator.as_deref() {
        Some("GT") if c.metric_key.ends_with("_rating") => format!("{threshold} or better"),
        Some("GT") => format!("≤ {threshold}"),
        Some("LT") => format!("≥ {threshold}"),
        _ => threshold,
    }
}

/// A metric's name in the server's words when it gave them, else as its UI shows it.
fn done_metric_name(analysis: &Analysis, key: &str) -> String {
    match &analysis.outcome {
        AnalysisOutcome::Completed(done) => done.metric_names.get(key).cloned().unwrap_or_else(|| metric_name(key)),
        _ => metric_name(key),
    }
}

/// "**Issues**": new (or, scoped to the changed lines, those on changed lines and the project's
/// open ones), fixed and accepted, each a link to its list.
fn issues_section(md: &mut String, analysis: &Analysis, done: &crate::sonar::Completed, inline: &InlineStats) {
    let links = &analysis.links;
    let measure = |key: &str| done.measures.as_ref()?.iter().find(|m| m.metric == key)?.best_value().map(str::to_string);
    let mut items = Vec::new();
    match (&done.issues, &inline.changed_lines) {
        (Issues::Forbidden, _) => items.push("Issues not readable with this token (it needs 'Browse' on the project)".to_string()),
        (_, Some(by_severity)) => {
            let total: usize = by_severity.iter().map(|(_, n)| n).sum();
            let figure = plural(total as u64, "issue on lines this pull request changed", "issues on lines this pull request changed");
            items.push(match total {
                // Nothing to list: a link would open the project's issues, which are not these.
                0 => figure,
                _ => format!("{}{}", raw_link(&figure, &links.open_issues_in(&inline.changed_files)), breakdown(by_severity)),
            });
            if let Some(count) = measure("violations").and_then(|v| v.parse::<u64>().ok()) {
                let figure = plural(count, "open issue in the whole project", "open issues in the whole project");
                items.push(raw_link(&figure, &links.open_issues()));
            }
            if inline.unplaced > 0 {
                items.push(format!(
                    "{} in changed files on lines that exist only in the merge commit (from the target branch or a conflict resolution), so not commented",
                    plural(inline.unplaced as u64, "more issue", "more issues")
                ));
            }
        }
        (Issues::Read(set), None) => {
            let (one, many) =
                if matches!(analysis.scope, Scope::PullRequest(_)) { ("new issue", "new issues") } else { ("open issue", "open issues") };
            // Only the first page read: the server's own counts, over every open issue.
            let counts = if set.first_page_only {
                set.counts.iter().map(|(word, n)| (word.clone(), usize::try_from(*n).unwrap_or(usize::MAX))).collect()
            } else {
                by_severity_word(set.issues.iter())
            };
            items.push(format!("{}{}", raw_link(&plural(set.total, one, many), &links.open_issues()), breakdown(&counts)));
        }
        (Issues::NotRead, None) => items.push("Issues not read".to_string()),
    }
    if let (Some(fixed), Some(url)) = (measure("pull_request_fixed_issues").and_then(|v| v.parse::<u64>().ok()), links.fixed_issues()) {
        items.push(raw_link(&plural(fixed, "fixed issue", "fixed issues"), &url));
    }
    if let Some(accepted) = measure("new_accepted_issues").and_then(|v| v.parse::<u64>().ok()) {
        items.push(raw_link(&plural(accepted, "accepted issue", "accepted issues"), &links.accepted_issues()));
    }
    if let Some(risks) = &done.dependency_risks {
        let counts: Vec<String> = risks.by_severity.iter().map(|(sev, n)| format!("{n} {}", title_case(sev))).collect();
        let detail = if counts.is_empty() { String::new() } else { format!(": {}", counts.join(", ")) };
        items.push(format!("{}{detail}", raw_link(&plural(risks.total, "dependency risk", "dependency risks"), &links.dashboard())));
    }
    md.push_str("\n**Issues**\n\n");
    items.iter().for_each(|i| {
        let _ = writeln!(md, "- {i}");
    });
    if let Some(set) = done.issues.read().filter(|s| s.capped) {
        let _ = writeln!(
            md,
            "\nSonarQube returns at most 10,000 issues per query; {} were read of {} reported. The list is partial, so no thread was resolved for an issue missing from it.",
            set.issues.len(),
            set.total
        );
    }
    if inline.changed_lines.is_some() {
        let analysed = match &analysis.scope {
            Scope::Branch(b) => format!("the branch {}", code(b)),
            Scope::Main | Scope::PullRequest(_) => "the main branch".to_string(),
        };
        let _ = writeln!(
            md,
            "\nSonarQube analysed {analysed} as a whole, not this pull request alone: only the issues on lines the pull request changed are commented on and count for it."
        );
    }
}

/// "**Measures**": hotspots to review, coverage and duplication on new code, each linked; those
/// a failed condition shows are left out.
fn measures_section(md: &mut String, analysis: &Analysis, done: &crate::sonar::Completed, inline: &InlineStats, shown: &[String]) {
    let links = &analysis.links;
    let mut items = Vec::new();
    if let Some(total) = &done.hotspots
        && !shown.iter().any(|m| m.contains("security_hotspots"))
    {
        items.push(format!("{} to review", raw_link(&plural(*total, "security hotspot", "security hotspots"), &links.hotspots())));
    }
    if let Some(measures) = &done.measures {
        for (key, words) in [("new_coverage", "coverage on new code"), ("new_duplicated_lines_density", "duplication on new code")] {
            if shown.iter().any(|m| m == key) {
                continue;
            }
            let Some(m) = measures.iter().find(|m| m.metric == key) else { continue };
            let figure = match m.best_value() {
                Some(v) => format!("{} {words}", escape_md(&format_value(key, v))),
                None => format!("No data on {words}"),
            };
            items.push(raw_link(&figure, &links.measure(key)));
        }
    }
    if !items.is_empty() {
        md.push_str("\n**Measures**\n\n");
        items.iter().for_each(|i| {
            let _ = writeln!(md, "- {i}");
        });
        if inline.changed_lines.is_some() {
            md.push_str("\nThese measures are the analysed branch's, over its new-code period.\n");
        }
    }
    no_coverage_note(md, done);
}

/// The most repeated coverage question, answered where the measures show it: a project with no
/// coverage measure at all, or 0.0% over the whole project, almost always imported no report.
fn no_coverage_note(md: &mut String, done: &crate::sonar::Completed) {
    let Some(measures) = &done.measures else { return };
    let value = |key: &str| measures.iter().find(|m| m.metric == key).and_then(|m| m.best_value()).and_then(|v| v.parse::<f64>().ok());
    match (value("coverage"), value("new_coverage")) {
        (None, None) => {
            let _ = writeln!(
                md,
                "\nNo coverage data was imported: SonarQube has no coverage measure for this project. Have the test step write a coverage report and point the scanner at it (e.g. `sonar.coverage.jacoco.xmlReportPaths`, `sonar.javascript.lcov.reportPaths`, `sonar.cs.opencover.reportsPaths`)."
            );
        }
        (Some(0.0), _) => {
            let _ = writeln!(
                md,
                "\nCoverage is 0.0% over the whole project: most likely no coverage report was imported. Have the test step write one and point the scanner at it (e.g. `sonar.coverage.jacoco.xmlReportPaths`, `sonar.javascript.lcov.reportPaths`, `sonar.cs.opencover.reportsPaths`)."
            );
        }
        _ => {}
    }
}

/// "3 new issues" / "1 new issue" / "No new issues".
fn plural(n: u64, one: &str, many: &str) -> String {
    match n {
        0 => format!("No {many}"),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// ": 1 High, 2 Medium" after a count, or nothing.
fn breakdown(by_severity: &[(String, usize)]) -> String {
    if by_severity.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = by_severity.iter().map(|(word, n)| format!("{n} {}", escape_md(word))).collect();
    format!(": {}", parts.join(", "))
}

/// Inline comment severity marks, by rank: one look tells how serious.
fn severity_mark(rank: Severity) -> &'static str {
    match rank {
        Severity::Blocker => "⛔",
        Severity::Critical => "🔴",
        Severity::Major => "🟠",
        Severity::Minor => "🟡",
        Severity::Info => "🔵",
    }
}

/// An inline comment on one issue: one severity in the server's words and what it is about, the
/// message on its own, then the rule with why it matters and the issue in SonarQube.
pub(crate) fn inline_comment(c: &InlineCandidate, analysis: &Analysis) -> String {
    let issue = &c.issue;
    let (rank, word) = severity_word(issue);
    let links = &analysis.links;
    format!(
        "{} **{}** · {}\n\n{}\n\n{} · {} · {}",
        severity_mark(rank),
        word,
        shorten(&issue_about(issue), 200),
        shorten(&issue.message, MESSAGE_LIMIT),
        code(&issue.rule),
        link("Why is this an issue?", &links.rule(&issue.rule)),
        link("View in SonarQube", &links.issue(&issue.key))
    )
}

/// A link whose text is Markdown already made inert (escaped figures), and whose URL we built.
fn raw_link(inert_text: &str, url: &str) -> String {
    format!("[{inert_text}]({})", safe_destination(url))
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
pub(crate) fn build_summary(analyses: &[Analysis], not_a_pr: Option<&str>, notices: &[String]) -> String {
    let mut md = String::from("# SonarQube quality gate\n\n");
    for notice in notices {
        let _ = writeln!(md, "> ⚠️ {}\n", escape_md(notice));
    }
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
            AnalysisOutcome::Failed { message, .. }
            | AnalysisOutcome::TimedOut { message, .. }
            | AnalysisOutcome::NotThisBuild { message } => {
                let _ = writeln!(md, "{}", escape_md(message));
            }
        }
        let _ = writeln!(md, "\n{}\n", link("Open the analysis in SonarQube", &a.dashboard_url));
    }
    md
}

/// What a dry run prints for one planned write.
pub(crate) fn dry_run_lines(write: &Write) -> Vec<String> {
    match write {
        Write::Status(s) => vec![format!("[dry run] would post {}", describe_status(s))],
        Write::CreateThread { thread, what } => vec![format!("[dry run] would create {what}:"), thread.content().to_string()],
        Write::ThreadStatus { thread, status, what, why } => {
            vec![format!("[dry run] would set thread {thread}, {what}, to {} ({why})", status.as_str())]
        }
        Write::UpdateComment { thread, content, what, .. } => {
            vec![format!("[dry run] would update {what} in thread {thread}:"), content.clone()]
        }
        Write::Reply { thread, content, what } => vec![format!("[dry run] would reply in thread {thread}, {what}: {content}")],
    }
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
