//! How a run ends: the task result, the message, the CLI exit code and the `qualityGateStatus`
//! output variable, from the analyses and the PR's own gate. A failing gate fails the task when
//! failOnQualityGateError is set; a failed or unfinished analysis is never a success.

use super::verdict::{Verdict, failed_conditions};
use crate::checklist::{Check, CheckState, tally};
use crate::error::exit_code;
use crate::pipeline::commands::TaskResult;
use crate::sonar::model::GateStatus;
use crate::sonar::present::describe_condition;
use crate::sonar::{Analysis, AnalysisOutcome};

/// How the message is shown besides `task.complete`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Report {
    Nothing,
    Error(String),
    Warning(String),
}

/// How a run ended, for `task.complete` and the CLI exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) result: TaskResult,
    pub(crate) message: String,
    pub(crate) exit_code: i32,
    pub(crate) report: Report,
}

impl Outcome {
    pub(crate) fn passed(result: TaskResult, message: String) -> Self {
        Self { result, message, exit_code: exit_code::PASSED, report: Report::Nothing }
    }
}

/// The `qualityGateStatus` output variable: the worst verdict's gate, NONE without a gate.
pub(crate) fn quality_gate_status(analyses: &[Analysis]) -> &'static str {
    Verdict::worst(analyses.iter().map(Verdict::of)).unwrap_or(Verdict::Gate(GateStatus::None)).output_value()
}

/// Why each analysis does not pass, in the words of the error line.
fn problems(analyses: &[Analysis]) -> Vec<String> {
    analyses
        .iter()
        .filter_map(|a| match &a.outcome {
            AnalysisOutcome::Completed(d) if matches!(d.gate.status, GateStatus::Error | GateStatus::Warn) => {
                let conds: Vec<String> = failed_conditions(a).into_iter().map(describe_condition).collect();
                Some(format!(
                    "quality gate of '{}' failed: {}",
                    a.project_key(),
                    if conds.is_empty() { "no condition details".to_string() } else { conds.join("; ") }
                ))
            }
            AnalysisOutcome::Failed { message, .. } | AnalysisOutcome::TimedOut { message, .. } => Some(message.clone()),
            AnalysisOutcome::NotThisBuild { .. } | AnalysisOutcome::Completed(_) => None,
        })
        .collect()
}

/// Analyses that are not this build's: they fail the task whatever failOnQualityGateError says,
/// since their gate says nothing about this pull request.
fn foreign(analyses: &[Analysis]) -> Vec<String> {
    analyses
        .iter()
        .filter_map(|a| match &a.outcome {
            AnalysisOutcome::NotThisBuild { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// The outcome of a publish run. `new_issue_failures` are the PR's own gate's failures, which fail
/// the task whatever failOnQualityGateError says: it is its own switch; so does an analysis that is
/// not this build's.
/// `fail_on_name` is how the user knows failOnQualityGateError where they are.
pub(crate) fn outcome(
    analyses: &[Analysis],
    new_issue_failures: &[String],
    fail_on_quality_gate_error: bool,
    fail_on_name: &str,
) -> Outcome {
    let mut problems = problems(analyses);
    let failed = |message: String| Outcome {
        result: TaskResult::Failed,
        message: message.clone(),
        exit_code: exit_code::GATE_FAILED,
        report: Report::Error(message),
    };
    let always_fail: Vec<String> = foreign(analyses).into_iter().chain(new_issue_failures.iter().cloned()).collect();
    if !always_fail.is_empty() {
        problems.extend(always_fail);
        return failed(problems.join(" | "));
    }
    if problems.is_empty() {
        let worst = Verdict::worst(analyses.iter().map(Verdict::of));
        let message = match worst {
            None | Some(Verdict::Gate(GateStatus::None)) => "no quality gate is associated with the project(s)".to_string(),
            _ => format!("quality gate passed ({} analys{})", analyses.len(), if analyses.len() == 1 { "is" } else { "es" }),
        };
        return Outcome::passed(TaskResult::Succeeded, message);
    }
    let message = problems.join(" | ");
    if fail_on_quality_gate_error {
        failed(message)
    } else {
        Outcome {
            result: TaskResult::SucceededWithIssues,
            report: Report::Warning(format!("{message} ({fail_on_name} is false, so the run succeeds with issues)")),
            message,
            exit_code: exit_code::PASSED,
        }
    }
}

/// The outcome of `check`: failed when any check failed (with the exit code of the first failure's
/// kind), succeeded with issues when one warned; the message counts only what was checked.
/// `what` names the checklist in the closing line ("preflight checks", "scope checks").
pub(crate) fn checklist_outcome(checks: &[Check], failure_exit_code: Option<i32>, what: &str) -> Outcome {
    let tally = tally(checks);
    let failed = checks.iter().any(|c| c.state == CheckState::Fail);
    let warned = checks.iter().any(|c| c.state == CheckState::Warn);
    if failed {
        // Each failed check was logged as an error already; the message sums up.
        return Outcome {
            result: TaskResult::Failed,
            message: format!("{what} failed: {tally}"),
            exit_code: failure_exit_code.unwrap_or(exit_code::CONFIGURATION),
            report: Report::Nothing,
        };
    }
    let result = if warned { TaskResult::SucceededWithIssues } else { TaskResult::Succeeded };
    Outcome::passed(result, format!("{what} passed: {tally}"))
}
