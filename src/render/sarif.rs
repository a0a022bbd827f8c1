//! The pull request's issues as SARIF 2.1.0 (OASIS, errata 01), for GitHub Advanced Security for
//! Azure DevOps' third-party upload (`AdvancedSecurity-Publish@1`) and the SARIF viewer tab: one
//! run per analysis, rules with links to their descriptions, levels from severities, locations
//! relative to the repository's root, and fingerprints that stay the same from run to run
//! (SonarQube's issue key follows the issue across analyses).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::decide::InlineCandidate;
use crate::sonar::Analysis;
use crate::sonar::present::Severity;

/// GitHub Advanced Security for Azure DevOps takes at most 5 000 results per run
/// (MicrosoftDocs azure-devops-docs, `github-advanced-security-code-scanning-third-party.md`).
pub(crate) const MAX_RESULTS_PER_RUN: usize = 5_000;

/// The repository root, as SARIF consumers resolve `%SRCROOT%`.
const SRCROOT: &str = "%SRCROOT%";

/// A SARIF log: for each analysis, its PR issues (the candidates the task matched to the pull
/// request, so on a Community Build only those on changed lines). Returns the log and how many
/// results were left out by the per-run cap, most severe kept.
pub(crate) fn sarif(runs: &[(&Analysis, &[InlineCandidate<'_>])]) -> (String, usize) {
    let mut left_out = 0;
    let runs: Vec<Value> = runs
        .iter()
        .map(|(analysis, candidates)| {
            let mut sorted: Vec<&InlineCandidate> = candidates.iter().collect();
            // Most severe first, then by place: a stable order, and the cap keeps what matters.
            sorted
                .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| (&a.file_path, a.start_line).cmp(&(&b.file_path, b.start_line))));
            left_out += sorted.len().saturating_sub(MAX_RESULTS_PER_RUN);
            sorted.truncate(MAX_RESULTS_PER_RUN);
            run(analysis, &sorted)
        })
        .collect();
    let log = json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    });
    (serde_json::to_string_pretty(&log).unwrap_or_default(), left_out)
}

fn run(analysis: &Analysis, candidates: &[&InlineCandidate]) -> Value {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    for c in candidates {
        let next = rule_index.len();
        rule_index.entry(c.issue.rule.as_str()).or_insert(next);
    }
    let mut rules: Vec<(&str, usize)> = rule_index.iter().map(|(r, i)| (*r, *i)).collect();
    rules.sort_by_key(|(_, i)| *i);
    let rules: Vec<Value> = rules
        .iter()
        .map(|(rule, _)| {
            json!({
                "id": rule,
                "name": rule,
                "shortDescription": {"text": format!("SonarQube rule {rule}")},
                "helpUri": analysis.links.rule(rule),
            })
        })
        .collect();
    let results: Vec<Value> = candidates.iter().map(|c| result(analysis, c, rule_index[c.issue.rule.as_str()])).collect();
    json!({
        "tool": {"driver": {
            "name": "SonarQube",
            "informationUri": "https://www.sonarsource.com/products/sonarqube/",
            "rules": rules,
        }},
        // One category per project, so two projects' uploads of one build never replace each other.
        "automationDetails": {"id": format!("sonarqube/{}/", analysis.project_key())},
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository's root."}}},
        "results": results,
        "properties": {"sonarqube": {"projectKey": analysis.project_key(), "dashboard": analysis.dashboard_url}},
    })
}

fn result(analysis: &Analysis, c: &InlineCandidate, rule_index: usize) -> Value {
    let mut region = json!({"startLine": c.start_line.max(1), "endLine": c.end_line.max(c.start_line).max(1)});
    // SonarQube's offsets are 0-based with an exclusive end; SARIF's columns are 1-based, its end
    // column one past the last character. 0 and 0 mean whole lines: no columns then.
    if c.start_offset != 0 || c.end_offset != 0 {
        region["startColumn"] = json!(c.start_offset + 1);
        region["endColumn"] = json!(c.end_offset.max(c.start_offset) + 1);
    }
    json!({
        "ruleId": c.issue.rule,
        "ruleIndex": rule_index,
        "level": level(c.severity),
        "message": {"text": crate::text::visible(&c.issue.message)},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(&c.file_path), "uriBaseId": SRCROOT},
            "region": region,
        }}],
        "fingerprints": {"sonarqubeIssueKey/v1": c.issue.key},
        "partialFingerprints": {"sonarqubeIssueKey/v1": c.issue.key},
        "hostedViewerUri": analysis.links.issue(&c.issue.key),
        "properties": {"severity": c.severity.label()},
    })
}

/// SARIF's levels: a Blocker or Critical (High) issue is an error, a Major (Medium) one a warning,
/// the rest notes.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Blocker | Severity::Critical => "error",
        Severity::Major => "warning",
        Severity::Minor | Severity::Info => "note",
    }
}

/// A repository path (`/src/Cart.java`) as a relative URI reference: no leading `/`, and every
/// character a URI does not allow percent-encoded (spaces, `#`, `%`, non-ASCII).
fn uri(path: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(path.trim_start_matches('/'), KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_uri_references() {
        assert_eq!(uri("/src/main/java/Cart.java"), "src/main/java/Cart.java");
        assert_eq!(uri("/docs/my file#1 ü.md"), "docs/my%20file%231%20%C3%BC.md");
    }

    #[test]
    fn severities_map_to_levels() {
        assert_eq!(
            [Severity::Blocker, Severity::Critical, Severity::Major, Severity::Minor, Severity::Info].map(level),
            ["error", "error", "warning", "note", "note"]
        );
    }
}
