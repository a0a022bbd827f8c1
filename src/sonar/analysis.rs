//! What the task knows of an analysis and its server, as values: the scope it covers, how waiting
//! for it ended, its gate, measures and issues. Types only (no I/O), so the decisions and the
//! rendering can name them; `collect` fills them.

use super::branch::Scope;
use super::links::Links;
use super::model::{CeTask, Component, Issue, Measure, ProjectStatus};
use super::report_task::ReportTask;

/// What the server is, as far as decoration is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavour {
    Cloud,
    /// Developer, Enterprise or Data Center: analyses pull requests itself.
    Commercial,
    /// Community Build (or Community Edition): no branch or pull request analysis.
    Community,
    Unknown,
}

/// Open issues as far as the API lets us read them.
#[derive(Clone, Debug, Default)]
pub(crate) struct IssueSet {
    pub(crate) issues: Vec<Issue>,
    pub(crate) components: Vec<Component>,
    /// What the server counted, which may exceed what could be read.
    pub(crate) total: u64,
    /// True when the total passed the API's 10 000-result cap.
    pub(crate) capped: bool,
    /// Only the first page, most severe first, was read: what the run decides (the inline
    /// comments, `failOnNewIssues`) was settled by it, and the rest is counted (`counts`), not
    /// listed. A thread's issue missing from `issues` is then closed only if it is in `checked`.
    pub(crate) first_page_only: bool,
    /// The server's count of open issues by severity word, most severe first (its facet), when
    /// only the first page was read. On 10.2+ these are impact severities: an issue with two
    /// impacts is counted under each.
    pub(crate) counts: Vec<(String, u64)>,
    /// Issues asked for by key (this task's threads' issues the first page did not hold): those
    /// still open were added to `issues`, so one asked for and absent is known to be closed.
    pub(crate) checked: std::collections::BTreeSet<String>,
}

impl IssueSet {
    /// Whether the issue `key` is known to be closed: absent from a list that holds every open
    /// issue, or asked for by key and not found open.
    pub(crate) fn known_closed(&self, key: &str) -> bool {
        let absent = !self.issues.iter().any(|i| i.key == key);
        absent && ((!self.capped && !self.first_page_only) || self.checked.contains(key))
    }
}

/// Everything known about one analysis.
pub(crate) struct Analysis {
    pub(crate) report: ReportTask,
    pub(crate) scope: Scope,
    pub(crate) dashboard_url: String,
    /// The analysis's pages on the server, for the comments.
    pub(crate) links: Links,
    pub(crate) outcome: AnalysisOutcome,
    /// What could not be read and what that costs the report, for the log.
    pub(crate) warnings: Vec<String>,
}

/// An analysis that ended without a result, as a person reading the pull request needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ended {
    pub(crate) task_id: String,
    pub(crate) how: EndedHow,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EndedHow {
    /// FAILED, with the server's reason when it gave one.
    Failed { reason: Option<String> },
    /// CANCELED (by an administrator, or replaced in the queue).
    Canceled,
    /// Still PENDING or IN_PROGRESS when the wait ended after `waited_secs`.
    TimedOut { waited_secs: u64, last_status: &'static str },
}

/// How an analysis ended: with a result, or without one and why.
pub(crate) enum AnalysisOutcome {
    Completed(Box<Completed>),
    /// The compute engine reported FAILED or CANCELED.
    Failed {
        /// For the log and the task's result: what happened and what to do, in one line.
        message: String,
        /// For the pull request: what happened, in plain words.
        ended: Ended,
    },
    /// The compute engine did not finish in the time the settings allow (pollingTimeoutSec).
    TimedOut {
        message: String,
        ended: Ended,
    },
    /// The analysis is of another pull request, branch or commit than this build's: nothing is
    /// posted from it.
    NotThisBuild {
        message: String,
    },
}

/// The open issues, as far as they were read.
#[derive(Clone)]
pub(crate) enum Issues {
    Read(IssueSet),
    /// The token may not browse the project (analysis tokens).
    Forbidden,
    /// Not read: only the files a pull request changed are read, and those were not known.
    NotRead,
}

impl Issues {
    pub(crate) fn read(&self) -> Option<&IssueSet> {
        match self {
            Issues::Read(set) => Some(set),
            Issues::Forbidden | Issues::NotRead => None,
        }
    }
}

pub(crate) struct Completed {
    pub(crate) gate: ProjectStatus,
    /// `None` when the token may not read it (the report degrades to the gate only).
    pub(crate) measures: Option<Vec<Measure>>,
    pub(crate) issues: Issues,
    /// Security hotspots still to review, when the token may read them.
    pub(crate) hotspots: Option<u64>,
    pub(crate) ce_warnings: Vec<String>,
    /// The commit the analysis was of, when SonarQube says (never for a pull request analysis:
    /// no web service gives its revision, see `SonarClient::analysis_revision`).
    pub(crate) revision: Option<String>,
    /// When the scanner submitted it (`api/ce/task`'s `submittedAt`), as the server wrote it.
    pub(crate) submitted_at: Option<String>,
    /// A pull request's new code that tests do not cover, when read (see `collect::read`).
    pub(crate) uncovered: Option<UncoveredCode>,
    /// In changed-lines decoration: the changed files' lines with their coverage, by the PR's path
    /// (leading `/`); `None` for a file whose lines could not be read.
    pub(crate) changed_file_lines: Vec<(String, Option<Vec<super::model::SourceLine>>)>,
    /// The gate's conditions as defined, for a pull request analysis: those on overall code
    /// SonarQube does not apply to pull requests, and the small-change ones it may ignore.
    pub(crate) gate_definition: Vec<super::model::GateConditionDef>,
    /// Dependency risks (Advanced Security), where the server has them.
    pub(crate) dependency_risks: Option<super::model::DependencyRisks>,
    /// The names the server gives the gate's metrics (`api/metrics/search`, read once a run).
    pub(crate) metric_names: std::collections::BTreeMap<String, String>,
    /// Reviewers' resolutions this run carried over to SonarQube (`syncResolutions`).
    pub(crate) synced: Vec<Synced>,
}

/// A reviewer's resolution carried over to SonarQube: the issue, what it became, who resolved it
/// in the pull request, and how the pull request named the status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Synced {
    pub(crate) issue_key: String,
    /// "accepted", "won't fix" or "false positive", as SonarQube words it.
    pub(crate) became: &'static str,
    pub(crate) resolver: String,
    pub(crate) status: &'static str,
    /// Not done: a dry run only says it.
    pub(crate) dry_run: bool,
}

/// New code tests do not cover: the files, most uncovered first, and the new lines of the first
/// few (`None` for a file whose lines the token may not see).
#[derive(Clone, Debug, Default)]
pub(crate) struct UncoveredCode {
    pub(crate) files: Vec<super::model::UncoveredFile>,
    pub(crate) lines: Vec<Option<Vec<super::model::SourceLine>>>,
}

impl Analysis {
    pub(crate) fn project_key(&self) -> &str {
        &self.report.project_key
    }
}

/// A compute-engine task that succeeded: its analysis can be read.
pub(crate) struct Finished {
    pub(crate) report: ReportTask,
    pub(crate) task: CeTask,
    /// The analysis whose gate is read; `None` reads the scope's gate as it is now (`refresh`).
    pub(crate) analysis_id: Option<String>,
    pub(crate) scope: Scope,
    pub(crate) dashboard_url: String,
    pub(crate) links: Links,
}

/// How waiting for one analysis ended.
pub(crate) enum Waited {
    Succeeded(Box<Finished>),
    /// Failed, canceled, not finished in time: there is nothing more to read.
    Ended(Box<Analysis>),
}
