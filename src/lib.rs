//! sonar-pr-gate: an Azure Pipelines task (and CLI) that waits for the SonarQube analysis a scanner
//! just submitted, reads its quality gate, issues and measures, and decorates the Azure DevOps pull
//! request with a status, one summary comment and inline comments.
//!
//! Layers, each importing only the ones below it (a test holds the code to this):
//! - entry: this file, `cli` (flags) and `settings` (inputs and flags, validated);
//! - orchestration: `app` (read, plan, write, report);
//! - pure decisions and text: `decide`, `render`;
//! - services: `sonar`, `azdo`, `git` (the local clone);
//! - transport and the agent's world: `net`, `pipeline`, and the pure `changes`, `checklist`;
//! - bottom: `secret`, `error`, `parallel`, `text`.
//!
//! The public surface is small: what the binary, the demo, the tests and the fuzz targets use (the
//! entry points, the agent's environment and log, the logging-command parser, and `probe`). Every
//! other item is crate-private, so the compiler reports what nothing uses.

mod app;
mod azdo;
mod changes;
mod checklist;
mod cli;
mod decide;
mod error;
mod git;
mod net;
mod parallel;
mod pipeline;
pub mod probe;
mod render;
mod secret;
mod settings;
mod sonar;
mod text;

#[cfg(test)]
mod hostile;

pub use crate::net::client::MAX_CONNECTIONS_PER_HOST;
pub use crate::pipeline::commands::{Command, ParsedCommand, TaskResult, neutralize, parse_line};
pub use crate::pipeline::env::AgentEnv;
pub use crate::pipeline::log::{Log, Style};

use std::ffi::OsString;
use std::sync::Arc;

use clap::Parser;

use crate::cli::{Cli, Invocation};
use crate::decide::Report;
use crate::error::exit_code;
use crate::settings::{OutputFormat, RawSettings};

/// Parses the command line and runs; returns the process exit code.
pub fn main_with(args: impl IntoIterator<Item = OsString>, env: AgentEnv) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.into_invocation(&env) {
        Invocation::Task { first_retry_delay_ms } => {
            let log = Arc::new(Log::stdio(Style::Agent, env.debug(), true));
            let mut raw = RawSettings::from_task_env(&env);
            raw.first_retry_delay_ms = first_retry_delay_ms;
            run_task_with(raw, log);
            // Under the agent the outcome travels in task.complete; exit 0 unless we crashed.
            0
        }
        Invocation::Cli(raw) => {
            let log = Log::stdio(Style::Plain, raw.debug, env.is_agent());
            // A JSON document is for tools: it is all stdout carries.
            let log = Arc::new(if raw.format == OutputFormat::Json { log.with_document_on_stdout() } else { log });
            if raw.integration.is_some() { run_doctor(*raw, log) } else { run_cli(*raw, log) }
        }
    }
}

/// Runs as an Azure Pipelines task against an agent environment, reporting the outcome with
/// `task.complete`. Returns the result for callers that want it (the demo, tests).
pub fn run_task(env: &AgentEnv, log: Arc<Log>) -> TaskResult {
    run_task_with(RawSettings::from_task_env(env), log)
}

fn run_task_with(raw: RawSettings, log: Arc<Log>) -> TaskResult {
    // Before anything else is printed, even a validation error.
    log.register_secrets(&raw.secret_candidates());
    let settings = match raw.validate() {
        Ok(s) => s,
        Err(e) => {
            for p in &e.problems {
                log.error(&format!("{}: {}", p.input, p.message));
            }
            log.complete(TaskResult::Failed, &e.to_string());
            return TaskResult::Failed;
        }
    };
    match app::run(&settings, log.clone()) {
        Ok(outcome) => {
            log.complete(outcome.result, &outcome.message);
            outcome.result
        }
        Err(e) => {
            log.error(&e.to_string());
            log.complete(TaskResult::Failed, &e.to_string());
            TaskResult::Failed
        }
    }
}

/// `check --integration`: the scope doctor, with its own settings (no SonarQube).
fn run_doctor(raw: RawSettings, log: Arc<Log>) -> i32 {
    log.register_secrets(&raw.secret_candidates());
    let settings = match raw.validate_doctor() {
        Ok(s) => s,
        Err(e) => {
            log.error(&e.to_string());
            return exit_code::CONFIGURATION;
        }
    };
    cli_exit(app::doctor::doctor(&settings, log.clone()), settings.format, &log)
}

fn run_cli(raw: RawSettings, log: Arc<Log>) -> i32 {
    log.register_secrets(&raw.secret_candidates());
    let settings = match raw.validate() {
        Ok(s) => s,
        Err(e) => {
            log.error(&e.to_string());
            return exit_code::CONFIGURATION;
        }
    };
    cli_exit(app::run(&settings, log.clone()), settings.format, &log)
}

/// A CLI run's exit status. The last line says how it ended, unless the run already said so (a
/// reported error or warning) or the output is JSON for a tool.
fn cli_exit(result: Result<decide::Outcome, error::Error>, format: OutputFormat, log: &Log) -> i32 {
    match result {
        Ok(outcome) => {
            if outcome.report == Report::Nothing && format == OutputFormat::Text {
                if outcome.exit_code == exit_code::PASSED {
                    log.info(&format!("sonar-pr-gate: {}", outcome.message));
                } else {
                    log.error(&outcome.message);
                }
            }
            outcome.exit_code
        }
        Err(e) => {
            log.error(&e.to_string());
            e.exit_code()
        }
    }
}
