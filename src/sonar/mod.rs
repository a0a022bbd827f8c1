//! SonarQube: checking the server and token, finding the scanner's analyses, waiting for the
//! compute engine, and reading each analysis's gate, measures, issues and hotspots.

pub(crate) mod client;
pub(crate) mod collect;
pub(crate) mod connection;
pub(crate) mod links;
pub(crate) mod model;
pub(crate) mod preflight;
pub(crate) mod present;
pub(crate) mod report_task;

pub(crate) use client::{Scope, SonarClient};
pub(crate) use collect::{Analysis, AnalysisOutcome, Completed, IssueQuery, Issues, Waited};
pub(crate) use connection::SonarCredential;
pub(crate) use preflight::{Flavour, check_report_server_url, preflight};
