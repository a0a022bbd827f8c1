//! What an analysis's result means: its verdict, the PR status that verdict gives, and the status
//! several projects give together.

use crate::sonar::model::GateStatus;
use crate::sonar::{Analysis, AnalysisOutcome};

/// One analysis's result, reduced to what decides the status and the task result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Gate(GateStatus),
    AnalysisFailed,
    TimedOut,
    /// The analysis is not this build's: nothing is posted from it.
    NotThisBuild,
}

impl Verdict {
    pub(crate) fn of(analysis: &Analysis) -> Self {
        match &analysis.outcome {
            AnalysisOutcome::Completed(c) => Verdict::Gate(c.gate.status),
            AnalysisOutcome::Failed { .. } => Verdict::AnalysisFailed,
            AnalysisOutcome::TimedOut { .. } => Verdict::TimedOut,
            AnalysisOutcome::NotThisBuild { .. } => Verdict::NotThisBuild,
        }
    }

    /// The `qualityGateStatus` output variable: OK, ERROR, WARN or NONE (a failed or unfinished
    /// analysis has no gate, and is never reported as OK).
    pub(crate) fn output_value(self) -> &'static str {
        match self {
            Verdict::Gate(g) => g.as_str(),
            Verdict::AnalysisFailed | Verdict::TimedOut | Verdict::NotThisBuild => "NONE",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Verdict::Gate(GateStatus::Ok) => 0,
            Verdict::Gate(GateStatus::None) => 1,
            Verdict::Gate(GateStatus::Warn) => 2,
            Verdict::TimedOut => 3,
            Verdict::AnalysisFailed | Verdict::NotThisBuild => 4,
            Verdict::Gate(GateStatus::Error) => 5,
        }
    }

    /// Whether this verdict lets a PR pass (a gate that is OK or absent).
    pub(crate) fn is_passing(self) -> bool {
        self.rank() < 2
    }

    /// The worst of several verdicts: what a combined status shows.
    pub(crate) fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Option<Verdict> {
        verdicts.into_iter().max_by_key(|v| v.rank())
    }
}

/// The gate's conditions that are not met.
pub(crate) fn failed_conditions(a: &Analysis) -> Vec<&crate::sonar::model::Condition> {
    match &a.outcome {
        AnalysisOutcome::Completed(d) => d.gate.conditions.iter().filter(|c| c.status != GateStatus::Ok).collect(),
        _ => Vec::new(),
    }
}

/// The body of a PR status, minus context and iteration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StatusDecision {
    /// `succeeded`, `failed`, `error` or `notApplicable`.
    pub(crate) state: &'static str,
    pub(crate) description: String,
}

/// OK → succeeded, ERROR (and the deprecated WARN, treated like ERROR as SonarSource's extension
/// does) → failed, a failed or unfinished analysis → error, NONE → notApplicable.
pub(crate) fn status_for(verdict: Verdict, failed_conditions: usize) -> StatusDecision {
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
        Verdict::NotThisBuild => ("error", "The SonarQube analysis is not of this pull request".to_string()),
        Verdict::TimedOut => ("error", "The SonarQube analysis did not finish in time".to_string()),
    };
    StatusDecision { state, description }
}

/// The status of one analysis, with the PR's own gate (`failOnNewIssues`) on top: a server gate
/// that passed does not make the status pass when the PR's own gate failed.
pub(crate) fn analysis_status(a: &Analysis, new_issues_failure: Option<&str>) -> StatusDecision {
    let decision = status_for(Verdict::of(a), failed_conditions(a).len());
    match new_issues_failure {
        Some(reason) if decision.state == "succeeded" => {
            // The verdict first, its cause right after: a description that opens with "passed"
            // reads as a pass in the pull request's status list.
            StatusDecision { state: "failed", description: format!("Failed: {reason} (SonarQube's quality gate passed)") }
        }
        _ => decision,
    }
}

/// The verdict a combined status counts for one analysis: the PR's own gate failing counts as a
/// failed gate.
pub(crate) fn effective_verdict(a: &Analysis, new_issues_failure: Option<&str>) -> Verdict {
    if new_issues_failure.is_some() { Verdict::Gate(GateStatus::Error) } else { Verdict::of(a) }
}

/// The combined status over several projects.
pub(crate) fn combined_status(verdicts: &[(String, Verdict)]) -> StatusDecision {
    let worst = Verdict::worst(verdicts.iter().map(|(_, v)| *v)).unwrap_or(Verdict::Gate(GateStatus::None));
    let failing: Vec<&str> = verdicts.iter().filter(|(_, v)| !v.is_passing()).map(|(k, _)| k.as_str()).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
