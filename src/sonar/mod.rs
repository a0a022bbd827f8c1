//! SonarQube: checking the server and token, finding the scanner's analyses, waiting for the
//! compute engine, and reading each analysis's gate, measures, issues and hotspots.

pub(crate) mod ahead;
pub(crate) mod analysis;
pub(crate) mod branch;
pub(crate) mod client;
pub(crate) mod collect;
pub(crate) mod connection;
pub(crate) mod discover;
pub(crate) mod links;
pub(crate) mod model;
pub(crate) mod preflight;
pub(crate) mod present;
pub(crate) mod report_task;
pub(crate) mod webhook;

pub(crate) use analysis::{Analysis, AnalysisOutcome, Completed, Ended, EndedHow, Flavour, IssueSet, Issues, Waited};
pub(crate) use branch::Scope;
pub(crate) use client::SonarClient;
pub(crate) use collect::{IssueQuery, ReadHooks};
pub(crate) use connection::SonarCredential;
pub(crate) use preflight::{check_report_server_url, preflight};

/// Whether `key` may be a SonarQube project key: letters, digits, '-', '_', '.' and ':', not only
/// digits, at most 400 characters (`ComponentKeys.java`).
pub(crate) fn is_project_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 400
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        && !key.chars().all(|c| c.is_ascii_digit())
}

/// How the user knows the SonarQube settings where they are; the settings layer fills it, and
/// messages put it into words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SonarNames {
    pub(crate) url: String,
    pub(crate) token: String,
    pub(crate) polling_timeout: String,
    pub(crate) report_task_file: String,
    /// How to point at a report in a non-standard place, as a user would write it.
    pub(crate) report_task_example: String,
    /// The projects found on the server when no report-task.txt is on the agent.
    pub(crate) project_key: String,
}
