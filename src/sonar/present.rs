//! How SonarQube's raw values read to a person: metric names, percentages and ratings as the
//! SonarQube UI shows them, conditions as "actual against threshold", and one severity scale for
//! both issue models (the older `severity`/`type` and the 10.2+ `impacts`).

use super::model::{Condition, Issue};

/// A metric key's name as SonarQube's UI shows it.
pub(crate) fn metric_name(key: &str) -> String {
    let known = match key {
        "new_coverage" => "Coverage on New Code",
        "coverage" => "Coverage",
        "new_line_coverage" => "Line Coverage on New Code",
        "new_branch_coverage" => "Condition Coverage on New Code",
        "new_duplicated_lines_density" => "Duplicated Lines (%) on New Code",
        "duplicated_lines_density" => "Duplicated Lines (%)",
        "new_violations" => "New Issues",
        "violations" => "Issues",
        "new_bugs" => "New Bugs",
        "new_vulnerabilities" => "New Vulnerabilities",
        "new_code_smells" => "New Code Smells",
        "new_security_hotspots" => "New Security Hotspots",
        "new_security_hotspots_reviewed" => "Security Hotspots Reviewed on New Code",
        "security_hotspots_reviewed" => "Security Hotspots Reviewed",
        "new_reliability_rating" => "Reliability Rating on New Code",
        "new_security_rating" => "Security Rating on New Code",
        "new_maintainability_rating" | "new_sqale_rating" => "Maintainability Rating on New Code",
        "new_security_review_rating" => "Security Review Rating on New Code",
        "reliability_rating" => "Reliability Rating",
        "security_rating" => "Security Rating",
        "sqale_rating" => "Maintainability Rating",
        "security_review_rating" => "Security Review Rating",
        "new_blocker_violations" => "New Blocker Issues",
        "new_critical_violations" => "New Critical Issues",
        "new_major_violations" => "New Major Issues",
        "new_accepted_issues" => "New Accepted Issues",
        "pull_request_fixed_issues" => "Fixed Issues",
        "new_software_quality_reliability_rating" => "Reliability Rating on New Code",
        "new_software_quality_security_rating" => "Security Rating on New Code",
        "new_software_quality_maintainability_rating" => "Maintainability Rating on New Code",
        "new_lines" => "New Lines",
        "new_bugs_severity" => "Severity of New Bugs",
        "new_vulnerabilities_severity" => "Severity of New Vulnerabilities",
        "new_code_smells_severity" => "Severity of New Code Smells",
        "new_software_quality_reliability_severity" => "Severity of New Reliability Issues",
        "new_software_quality_security_severity" => "Severity of New Security Issues",
        "new_software_quality_maintainability_severity" => "Severity of New Maintainability Issues",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    // Unknown metrics (plugins, future versions): "new_foo_bar" reads "New foo bar".
    let words = key.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn is_rating(key: &str) -> bool {
    key.ends_with("_rating")
}

fn is_percent(key: &str) -> bool {
    key.contains("coverage") || key.ends_with("_density") || key.ends_with("_reviewed")
}

/// A metric value as SonarQube shows it: ratings as letters, percentages with one decimal.
pub(crate) fn format_value(key: &str, value: &str) -> String {
    if is_rating(key)
        && let Ok(n) = value.parse::<f64>()
    {
        let letter = match n.round() as i64 {
            1 => "A",
            2 => "B",
            3 => "C",
            4 => "D",
            5 => "E",
            _ => return value.to_string(),
        };
        return letter.to_string();
    }
    if is_percent(key)
        && let Ok(n) = value.parse::<f64>()
    {
        return format!("{n:.1}%");
    }
    value.to_string()
}

/// Whether a metric's value is a severity: the worst new issue of a kind, as an integer on the
/// scale 5 (Info) … 25 (Blocker), 0 when there is none (SonarQube web's `ISSUE_SEVERITY_METRICS`:
/// `new_bugs_severity`, `new_vulnerabilities_severity`, `new_code_smells_severity` and the
/// `new_software_quality_*_severity` of MQR mode; dependency risks' `new_sca_severity_*` likewise).
pub(crate) fn is_severity_metric(key: &str) -> bool {
    matches!(key, "new_bugs_severity" | "new_vulnerabilities_severity" | "new_code_smells_severity")
        || (key.starts_with("new_software_quality_") && key.ends_with("_severity"))
        || key.starts_with("new_sca_severity")
}

/// A severity value in the words of the metric's mode: Standard Experience metrics speak of
/// Minor/Major/Critical, MQR ones (software qualities, dependency risks) of Low/Medium/High.
/// `None` for a value off the scale.
pub(crate) fn severity_value_word(key: &str, value: f64) -> Option<&'static str> {
    let standard = matches!(key, "new_bugs_severity" | "new_vulnerabilities_severity" | "new_code_smells_severity");
    let step = (value / 5.0).floor();
    Some(match (step as i64, standard) {
        (0, _) => "none",
        (1, _) => "Info",
        (2, true) => "Minor",
        (2, false) => "Low",
        (3, true) => "Major",
        (3, false) => "Medium",
        (4, true) => "Critical",
        (4, false) => "High",
        (5, _) => "Blocker",
        _ => return None,
    })
    .filter(|_| value >= 0.0 && value.is_finite())
}

/// A severity condition's actual value and requirement in words: the threshold is stored one below
/// the first severity that fails (GT 14 fails from 15, Major), so "none worse than Minor".
pub(crate) fn severity_condition_words(c: &Condition) -> Option<(String, String)> {
    if !is_severity_metric(&c.metric_key) {
        return None;
    }
    let actual: f64 = c.actual_value.as_deref()?.parse().ok()?;
    let threshold: f64 = c.error_threshold.as_deref()?.parse().ok()?;
    let actual = match severity_value_word(&c.metric_key, actual)? {
        "none" => "no issue".to_string(),
        word => format!("{word} issue"),
    };
    let required = match severity_value_word(&c.metric_key, threshold)? {
        "none" => "no issue at all".to_string(),
        word => format!("none worse than {word}"),
    };
    Some((actual, required))
}

/// What a failed condition takes to pass, where arithmetic allows: "cover 7 more of the 40 new
/// lines to reach 80.0%" (line coverage from `new_lines_to_cover` and `new_uncovered_lines`; for
/// overall new-code coverage only when no conditions count, since branches weigh in then), "fix 2
/// more new Critical issues" (counts). `measure` reads a measure of the analysis.
pub(crate) fn to_pass(c: &Condition, measure: &dyn Fn(&str) -> Option<f64>) -> Option<String> {
    let threshold: f64 = c.error_threshold.as_deref()?.parse().ok()?;
    let actual: f64 = c.actual_value.as_deref()?.parse().ok()?;
    match (c.metric_key.as_str(), c.comparator.as_deref()) {
        ("new_line_coverage" | "new_coverage", Some("LT")) => {
            if c.metric_key == "new_coverage" && measure("new_conditions_to_cover").is_none_or(|n| n > 0.0) {
                return None;
            }
            let (to_cover, uncovered) = (measure("new_lines_to_cover")?, measure("new_uncovered_lines")?);
            if !(to_cover >= 1.0 && uncovered >= 0.0 && uncovered <= to_cover && to_cover < 1e9 && (0.0..=100.0).contains(&threshold)) {
                return None;
            }
            let needed = (threshold * to_cover / 100.0 - 1e-9).ceil();
            let more = (needed - (to_cover - uncovered)).max(0.0) as u64;
            (more > 0).then(|| {
                let lines = if to_cover as u64 == 1 { "line" } else { "lines" };
                format!(
                    "cover {more} more of the {} new {lines} to reach {}",
                    to_cover as u64,
                    format_value(&c.metric_key, &threshold.to_string())
                )
            })
        }
        (key, Some("GT")) => {
            let (one, many) = match key {
                "new_violations" => ("new issue", "new issues"),
                "new_bugs" => ("new bug", "new bugs"),
                "new_vulnerabilities" => ("new vulnerability", "new vulnerabilities"),
                "new_code_smells" => ("new code smell", "new code smells"),
                "new_blocker_violations" => ("new Blocker issue", "new Blocker issues"),
                "new_critical_violations" => ("new Critical issue", "new Critical issues"),
                "new_major_violations" => ("new Major issue", "new Major issues"),
                _ => return None,
            };
            let more = actual - threshold;
            ((1.0..1e9).contains(&more) && more.fract() == 0.0)
                .then(|| format!("fix {} more {}", more as u64, if more == 1.0 { one } else { many }))
        }
        _ => None,
    }
}

/// "Coverage on New Code is 45.0%, needs at least 80.0%": actual against threshold, in words that
/// match the comparator (a GT condition fails when the value is greater than the threshold).
pub(crate) fn describe_condition(c: &Condition) -> String {
    let name = metric_name(&c.metric_key);
    let actual = c.actual_value.as_deref().map(|v| format_value(&c.metric_key, v)).unwrap_or_else(|| "no value".to_string());
    let threshold = c.error_threshold.as_deref().or(c.warning_threshold.as_deref()).map(|v| format_value(&c.metric_key, v));
    let requirement = match (c.comparator.as_deref(), threshold) {
        (_, None) => String::new(),
        (Some("GT"), Some(t)) if is_rating(&c.metric_key) => format!(", needs {t} or better"),
        (Some("GT"), Some(t)) => format!(", needs at most {t}"),
        (Some("LT"), Some(t)) => format!(", needs at least {t}"),
        (Some("EQ"), Some(t)) => format!(", must not be {t}"),
        (Some("NE"), Some(t)) => format!(", must be {t}"),
        (_, Some(t)) => format!(", threshold {t}"),
    };
    format!("{name} is {actual}{requirement}")
}

/// One severity scale for both issue models, most severe last so `max` finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Severity {
    Info,
    Minor,
    Major,
    Critical,
    Blocker,
}

impl Severity {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "INFO" => Severity::Info,
            "MINOR" | "LOW" => Severity::Minor,
            "MAJOR" | "MEDIUM" => Severity::Major,
            "CRITICAL" | "HIGH" => Severity::Critical,
            "BLOCKER" => Severity::Blocker,
            _ => return None,
        })
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Minor => "Minor",
            Severity::Major => "Major",
            Severity::Critical => "Critical",
            Severity::Blocker => "Blocker",
        }
    }
}

/// An issue's severity: the highest impact severity on 10.2+ (mapped onto the older five-step
/// scale: LOW→Minor, MEDIUM→Major, HIGH→Critical), else the older `severity` field.
pub(crate) fn issue_severity(issue: &Issue) -> Severity {
    let from_impacts = issue.impacts.iter().filter_map(|i| Severity::parse(&i.severity)).max();
    from_impacts.or_else(|| issue.severity.as_deref().and_then(Severity::parse)).unwrap_or(Severity::Major)
}

/// An issue's severity in the words of the model the server speaks: on 10.2+ (software-quality
/// impacts) the highest impact's ("High", "Medium", "Low"; 10.8 adds "Blocker" and "Info"), before
/// that the issue's own ("Blocker", "Critical", "Major", "Minor", "Info"). One finding, one word.
pub(crate) fn severity_word(issue: &Issue) -> (Severity, &'static str) {
    let from_impacts = issue.impacts.iter().filter_map(|i| Some((Severity::parse(&i.severity)?, impact_word(&i.severity)?))).max();
    from_impacts.unwrap_or_else(|| {
        let rank = issue_severity(issue);
        (rank, rank.label())
    })
}

/// A severity facet's counts (`severities` or `impactSeverities`) in the words `severity_word`
/// uses, most severe first, without the severities no issue has.
pub(crate) fn facet_counts(values: &[super::model::FacetValue]) -> Vec<(String, u64)> {
    let mut counts: Vec<(Severity, &'static str, u64)> = values
        .iter()
        .filter(|v| v.count > 0)
        .filter_map(|v| {
            let rank = Severity::parse(&v.val)?;
            Some((rank, impact_word(&v.val).unwrap_or(rank.label()), v.count))
        })
        .collect();
    counts.sort_by_key(|(rank, _, _)| std::cmp::Reverse(*rank));
    counts.into_iter().map(|(_, word, n)| (word.to_string(), n)).collect()
}

fn impact_word(severity: &str) -> Option<&'static str> {
    Some(match severity.to_ascii_uppercase().as_str() {
        "BLOCKER" => "Blocker",
        "HIGH" => "High",
        "MEDIUM" => "Medium",
        "LOW" => "Low",
        "INFO" => "Info",
        _ => return None,
    })
}

/// What the issue is about: the legacy type ("Code Smell") before 10.2; on 10.2+ the software
/// qualities it impacts, most severely first ("Maintainability", "Security, Reliability").
pub(crate) fn issue_about(issue: &Issue) -> String {
    if issue.impacts.is_empty() {
        return issue_kind(issue);
    }
    let mut impacts: Vec<(Severity, String)> =
        issue.impacts.iter().map(|i| (Severity::parse(&i.severity).unwrap_or(Severity::Info), quality_word(&i.software_quality))).collect();
    impacts.sort_by_key(|i| std::cmp::Reverse(i.0));
    let mut names: Vec<String> = impacts.into_iter().map(|(_, q)| q).collect();
    names.dedup();
    names.join(", ")
}

fn quality_word(quality: &str) -> String {
    match quality {
        "RELIABILITY" => "Reliability".to_string(),
        "SECURITY" => "Security".to_string(),
        "MAINTAINABILITY" => "Maintainability".to_string(),
        other => other.to_string(),
    }
}

/// The software qualities an issue affects, as SonarQube names them (`RELIABILITY`, `SECURITY`,
/// `MAINTAINABILITY`): its impacts on 10.2+, else its type (a bug is reliability, a vulnerability
/// security, a code smell maintainability).
pub(crate) fn issue_qualities(issue: &Issue) -> Vec<&str> {
    if !issue.impacts.is_empty() {
        return issue.impacts.iter().map(|i| i.software_quality.as_str()).collect();
    }
    match issue.issue_type.as_deref() {
        Some("BUG") => vec!["RELIABILITY"],
        Some("VULNERABILITY") => vec!["SECURITY"],
        Some("CODE_SMELL") => vec!["MAINTAINABILITY"],
        _ => Vec::new(),
    }
}

/// The issue's kind as a person reads it: "Bug", "Vulnerability", "Code Smell", or with the 10.2+
/// model the first software quality ("Reliability", "Security", "Maintainability").
pub(crate) fn issue_kind(issue: &Issue) -> String {
    if let Some(t) = issue.issue_type.as_deref() {
        return match t {
            "BUG" => "Bug",
            "VULNERABILITY" => "Vulnerability",
            "CODE_SMELL" => "Code Smell",
            "SECURITY_HOTSPOT" => "Security Hotspot",
            other => other,
        }
        .to_string();
    }
    match issue.impacts.first().map(|i| i.software_quality.as_str()) {
        Some("RELIABILITY") => "Reliability".to_string(),
        Some("SECURITY") => "Security".to_string(),
        Some("MAINTAINABILITY") => "Maintainability".to_string(),
        Some(other) => other.to_string(),
        None => "Issue".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sonar::model::{GateStatus, Impact};

    fn cond(key: &str, cmp: &str, threshold: &str, actual: &str) -> Condition {
        Condition {
            status: GateStatus::Error,
            metric_key: key.into(),
            comparator: Some(cmp.into()),
            error_threshold: Some(threshold.into()),
            warning_threshold: None,
            actual_value: Some(actual.into()),
        }
    }

    #[test]
    fn conditions_read_like_sonarqube() {
        assert_eq!(describe_condition(&cond("new_coverage", "LT", "80", "45")), "Coverage on New Code is 45.0%, needs at least 80.0%");
        assert_eq!(
            describe_condition(&cond("new_reliability_rating", "GT", "1", "3")),
            "Reliability Rating on New Code is C, needs A or better"
        );
        assert_eq!(
            describe_condition(&cond("new_duplicated_lines_density", "GT", "3", "12.345")),
            "Duplicated Lines (%) on New Code is 12.3%, needs at most 3.0%"
        );
        assert_eq!(describe_condition(&cond("new_violations", "GT", "0", "4")), "New Issues is 4, needs at most 0");
        assert_eq!(metric_name("new_custom_metric"), "New custom metric");
    }

    #[test]
    fn one_severity_word_per_issue_in_the_servers_vocabulary() {
        let legacy: Issue = serde_json::from_str(r#"{"key":"k","severity":"MAJOR","type":"CODE_SMELL"}"#).unwrap();
        assert_eq!((severity_word(&legacy), issue_about(&legacy).as_str()), ((Severity::Major, "Major"), "Code Smell"));
        // 10.2+: the legacy fields are still sent, but the impacts are what the server shows.
        let mqr: Issue = serde_json::from_str(
            r#"{"key":"k","severity":"MAJOR","type":"CODE_SMELL","impacts":[{"softwareQuality":"MAINTAINABILITY","severity":"LOW"},{"softwareQuality":"SECURITY","severity":"HIGH"}]}"#,
        )
        .unwrap();
        assert_eq!((severity_word(&mqr), issue_about(&mqr).as_str()), ((Severity::Critical, "High"), "Security, Maintainability"));
        let blocker: Issue =
            serde_json::from_str(r#"{"key":"k","impacts":[{"softwareQuality":"RELIABILITY","severity":"BLOCKER"}]}"#).unwrap();
        assert_eq!(severity_word(&blocker), (Severity::Blocker, "Blocker"));
    }

    #[test]
    fn severities_from_both_models() {
        let mut issue: Issue = serde_json::from_str(r#"{"key":"k","severity":"CRITICAL","type":"BUG"}"#).unwrap();
        assert_eq!(issue_severity(&issue), Severity::Critical);
        assert_eq!(issue_kind(&issue), "Bug");
        issue.impacts = vec![Impact { software_quality: "SECURITY".into(), severity: "BLOCKER".into() }];
        assert_eq!(issue_severity(&issue), Severity::Blocker);
        issue.issue_type = None;
        assert_eq!(issue_kind(&issue), "Security");
    }

    #[test]
    fn what_a_failed_condition_takes_to_pass() {
        let cond = |metric: &str, comparator: &str, threshold: &str, actual: &str| Condition {
            status: GateStatus::Error,
            metric_key: metric.into(),
            comparator: Some(comparator.into()),
            error_threshold: Some(threshold.into()),
            warning_threshold: None,
            actual_value: Some(actual.into()),
        };
        let measures = |pairs: &'static [(&'static str, f64)]| move |k: &str| pairs.iter().find(|(m, _)| *m == k).map(|(_, v)| *v);
        // 40 new lines, 15 uncovered: 25 covered; 80 % of 40 is 32, so 7 more.
        let lines = measures(&[("new_lines_to_cover", 40.0), ("new_uncovered_lines", 15.0), ("new_conditions_to_cover", 0.0)]);
        assert_eq!(
            to_pass(&cond("new_coverage", "LT", "80", "62.5"), &lines).as_deref(),
            Some("cover 7 more of the 40 new lines to reach 80.0%")
        );
        assert_eq!(
            to_pass(&cond("new_line_coverage", "LT", "80", "62.5"), &lines).as_deref(),
            Some("cover 7 more of the 40 new lines to reach 80.0%")
        );
        // Branches count in overall coverage: no line arithmetic then.
        let branches = measures(&[("new_lines_to_cover", 40.0), ("new_uncovered_lines", 15.0), ("new_conditions_to_cover", 6.0)]);
        assert_eq!(to_pass(&cond("new_coverage", "LT", "80", "60.0"), &branches), None);
        assert_eq!(
            to_pass(&cond("new_line_coverage", "LT", "80", "62.5"), &branches).as_deref(),
            Some("cover 7 more of the 40 new lines to reach 80.0%")
        );
        // Exactly at the threshold after rounding up: 80 % of 41 is 32.8, so 33 lines.
        let odd = measures(&[("new_lines_to_cover", 41.0), ("new_uncovered_lines", 9.0)]);
        assert_eq!(
            to_pass(&cond("new_line_coverage", "LT", "80", "78.0"), &odd).as_deref(),
            Some("cover 1 more of the 41 new lines to reach 80.0%")
        );
        let none = measures(&[]);
        assert_eq!(to_pass(&cond("new_line_coverage", "LT", "80", "62.5"), &none), None, "without the line counts, nothing is guessed");
        assert_eq!(to_pass(&cond("new_critical_violations", "GT", "0", "2"), &none).as_deref(), Some("fix 2 more new Critical issues"));
        assert_eq!(to_pass(&cond("new_violations", "GT", "3", "4"), &none).as_deref(), Some("fix 1 more new issue"));
        assert_eq!(to_pass(&cond("new_reliability_rating", "GT", "1", "3"), &none), None, "a rating has no count to give");
        assert_eq!(to_pass(&cond("new_violations", "GT", "x", "4"), &none), None);
        assert_eq!(
            to_pass(&cond("new_line_coverage", "LT", "1e308", "62.5"), &lines),
            None,
            "a threshold off the percent scale gives no arithmetic"
        );
        assert_eq!(to_pass(&cond("new_violations", "GT", "0", "1e300"), &none), None, "nor does an absurd count");
    }

    #[test]
    fn severity_conditions_read_as_severities_in_the_metrics_mode() {
        let cond = |metric: &str, threshold: &str, actual: &str| Condition {
            status: GateStatus::Error,
            metric_key: metric.into(),
            comparator: Some("GT".into()),
            error_threshold: Some(threshold.into()),
            warning_threshold: None,
            actual_value: Some(actual.into()),
        };
        // Observed on SonarQube Cloud gates: new_bugs_severity GT 9, new_code_smells_severity GT 14.
        assert_eq!(
            severity_condition_words(&cond("new_bugs_severity", "9", "15")),
            Some(("Major issue".into(), "none worse than Info".into()))
        );
        assert_eq!(
            severity_condition_words(&cond("new_code_smells_severity", "14", "20")),
            Some(("Critical issue".into(), "none worse than Minor".into()))
        );
        assert_eq!(
            severity_condition_words(&cond("new_software_quality_reliability_severity", "14", "20")),
            Some(("High issue".into(), "none worse than Low".into()))
        );
        assert_eq!(
            severity_condition_words(&cond("new_vulnerabilities_severity", "4", "0")),
            Some(("no issue".into(), "no issue at all".into()))
        );
        assert_eq!(severity_condition_words(&cond("new_bugs_severity", "9", "99")), None, "off the scale: shown as the server gave it");
        assert_eq!(severity_condition_words(&cond("new_violations", "0", "3")), None);
    }
}
