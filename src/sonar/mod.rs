//! SonarQube: checking the server and token, finding the scanner's analyses, waiting for the
//! compute engine, and reading each analysis's gate, measures, issues and hotspots.

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

pub(crate) use analysis::{Analysis, AnalysisOutcome, Completed, Flavour, Issues, Waited};
pub(crate) use branch::Scope;
pub(crate) use client::SonarClient;
pub(crate) use collect::IssueQuery;
pub(crate) use connection::SonarCredential;
pub(crate) use preflight::{check_report_server_url, preflight};
