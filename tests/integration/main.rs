//! The integration tests: the built binary run as a subprocess, with an agent-like environment,
//! against the sandbox's fakes of SonarQube and Azure DevOps.

/// The shape of the code: layers, pure decisions, function length.
mod architecture;
/// Misbehaving servers: every wait has a deadline.
mod bounded;
/// Commands from a shell: flags, exit codes, help.
mod cli;
/// Client certificates (mutual TLS) to both services.
mod client_certs;
/// Community Build: issues scoped to the lines the PR changed, with a real git repository.
mod community;
/// Where the SonarQube connection comes from: service connections of each kind, and SonarSource's
/// Prepare task's variables alone.
mod connections;
/// The pipeline decorator: its template's YAML and expressions, its manifest.
mod decorator;
/// `check --integration`: a PAT's scopes for another integration.
mod doctor;
/// The extension: manifests, launcher, the unpacked .vsix run through node.
mod extension;
/// Every failure a user can meet, and what they are told.
mod failures;
/// Fault injection and hostile answers.
mod faults;
/// Each supported server version and edition.
mod flavours;
/// The comments a reviewer reads, byte for byte, against reviewed golden files.
mod golden;
/// Only the issues the decisions need: the first page, and this task's threads' issues by key.
mod issue_reads;
/// Figures the closing notes quote: detection delay, requests per endpoint.
mod measure;
/// Proxies, certificates and the network in between.
mod network;
/// Runs that overlap, and a run killed half-way.
mod overlap;
/// Publishing to a pull request: statuses, threads, re-runs.
mod publish;
/// `refresh`: SonarQube's current result posted again, by hand or from SonarQube's webhook.
mod refresh;
/// `syncResolutions`: reviewers' resolutions carried over to SonarQube.
mod triage;
/// Shared helpers: environments, runs, the secret check.
mod util;
