//! SonarQube: checking the server and token, finding the scanner's analyses, waiting for the
//! compute engine, and reading each analysis's gate, measures, issues and hotspots.

pub mod client;
pub mod collect;
pub mod connection;
pub mod links;
pub mod model;
pub mod preflight;
pub mod present;
pub mod report_task;

pub use client::{Scope, SonarClient};
pub use collect::{Analysis, AnalysisOutcome, Completed, Finished, IssueQuery, Issues, Waited};
pub use connection::{ConnectionFields, SonarCredential};
pub use links::Links;
pub use preflight::{Flavour, ServerFacts, check_report_server_url, preflight};
