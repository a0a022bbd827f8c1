//! The orchestrator: builds the clients from validated settings, then runs `check` or `publish` —
//! read, plan, write, report — and says how the run ended. The decisions are in `decide`, the text
//! in `render`, the calls in `sonar` and `azdo`; this layer only puts them in order and logs.

mod changed_lines;
mod check;
pub(crate) mod doctor;
mod early_inline;
mod early_reads;
mod early_status;
mod early_writes;
mod found;
mod publish;
mod refresh;
mod thread_issues;
mod triage;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::azdo::AzdoClient;
use crate::checklist::{Check, CheckState};
use crate::decide::Outcome;
use crate::error::Error;
use crate::net::{Client, Event, Observer};
use crate::pipeline::{Log, Style};
use crate::settings::{Mode, PullRequestTarget, Settings};
use crate::sonar::SonarClient;

/// After the analyses, reading their results and posting to the pull request get this long.
pub(crate) const AFTER_ANALYSIS: Duration = Duration::from_secs(120);

/// When each part of a run must be over: the server checks and the wait for the analyses share
/// pollingTimeoutSec from the run's start; reading the results and posting get `AFTER_ANALYSIS`
/// more. So a run ends within pollingTimeoutSec + 120 s, whatever the servers do.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub(crate) started: Instant,
    pub(crate) analyses_by: Instant,
    pub(crate) run_by: Instant,
}

impl Clock {
    pub(crate) fn start(settings: &Settings) -> Self {
        let started = Instant::now();
        let analyses_by = started + settings.sonar.polling_timeout;
        Self { started, analyses_by, run_by: analyses_by + AFTER_ANALYSIS }
    }
}

/// Runs `check` or `publish`.
pub(crate) fn run(settings: &Settings, log: Arc<Log>) -> Result<Outcome, Error> {
    let clock = Clock::start(settings);
    let observer: Arc<dyn Observer> = Arc::new(NetLog(log.clone()));
    let http = Arc::new(Client::new(settings.network.clone(), observer).map_err(Error::NetworkSetup)?);
    match settings.mode {
        Mode::Check => check::check(settings, &http, &log, clock),
        Mode::Publish => publish::publish(settings, &http, &log, clock),
        Mode::Refresh => refresh::refresh(settings, &http, &log, clock),
    }
}

/// The SonarQube client, its requests over by `deadline`.
fn sonar_client(settings: &Settings, http: &Arc<Client>, deadline: Instant) -> SonarClient {
    SonarClient::new(http.clone(), &settings.sonar.url, &settings.sonar.credential, settings.sonar.organization.clone())
        .named(settings.names.sonar())
        .until(deadline)
}

/// The Azure DevOps client of the pull request, when there is a credential to post with.
fn azdo_client(settings: &Settings, target: &PullRequestTarget, http: &Arc<Client>, deadline: Instant) -> Option<AzdoClient> {
    let credential = target.credential.as_ref()?;
    Some(
        AzdoClient::new(http.clone(), &target.repository, credential)
            .named(settings.names.azdo())
            .on_services(target.on_services)
            .until(deadline),
    )
}

/// The analysed project's folder in the repository.
fn project_folder(settings: &Settings, a: &crate::sonar::Analysis) -> String {
    let sources = settings.sonar.search_paths.sources_directory.as_deref();
    crate::decide::pull_request::project_folder(settings.decoration.project_base_dir.as_deref(), &a.report.path, sources)
}

/// Registers the credentials found in report-task.txt URLs (`user:password@`) with the masker,
/// before anything about those reports is printed: the whole pair, and the password alone (as
/// written and decoded).
fn register_report_credentials(log: &Log, reports: &[crate::sonar::report_task::ReportTask]) {
    let mut secrets = Vec::new();
    for found in reports.iter().filter_map(|r| r.credentials.as_ref()) {
        secrets.push(found.clone());
        if let Some((_, password)) = found.expose().split_once(':') {
            secrets.push(crate::secret::Secret::new(password));
            secrets.push(crate::secret::Secret::new(crate::net::url::decode(password, false)));
        }
    }
    log.register_secrets(&secrets);
}

/// How a failed check is told.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failures {
    /// As an error of its own (check mode: the checklist is the result).
    Report,
    /// Not here: the run ends with that failure's error (publish), which says it once.
    EndTheRun,
}

/// Prints each check once. In a shell the checklist is the output: one `[state]` line each. Under
/// the agent a warning or failure is an issue (shown in the run's summary, in colour) and the rest
/// plain lines.
fn log_checks(log: &Log, checks: &[Check], failures: Failures) {
    for check in checks {
        if failures == Failures::EndTheRun && matches!(check.state, CheckState::Fail | CheckState::Skip) {
            continue;
        }
        match (log.style(), check.state) {
            (Style::Agent, CheckState::Warn) => log.warning(&check.as_issue()),
            (Style::Agent, CheckState::Fail) => log.error(&check.as_issue()),
            _ => log.info(&check.render()),
        }
    }
}

/// What a run waiting on a silent server says: what, for how long, and until when (clock times in
/// UTC, as the agent's log stamps its lines).
fn waiting_notice(
    origin: &str,
    requests: &[String],
    waited: std::time::Duration,
    attempt_left: std::time::Duration,
    run_left: Option<std::time::Duration>,
    retries: u32,
    time_limit: &str,
) -> String {
    let at = |left: std::time::Duration| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        crate::text::clock_time((now + left.as_secs_f64()).round() as i64)
    };
    let secs = |d: std::time::Duration| d.as_secs_f64().round() as u64;
    let what = match requests {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more request(s)", rest.len()),
        [] => "a request".to_string(),
    };
    let mut line = format!(
        "Waiting for {origin} to answer {what}: no answer for {} s. This attempt gives up at {} (in {} s)",
        secs(waited),
        at(attempt_left),
        secs(attempt_left)
    );
    match run_left {
        Some(left) => line.push_str(&format!(
            ", and failed attempts are retried up to {retries} times; nothing waits past {} (in {} s), the limit {time_limit} sets",
            at(left),
            secs(left)
        )),
        None => line.push_str(&format!(", and failed attempts are retried up to {retries} times")),
    }
    line
}

/// What the HTTP client reports, in the log's words.
struct NetLog(Arc<Log>);

impl Observer for NetLog {
    fn note(&self, event: &Event<'_>) {
        let log = &self.0;
        match event {
            Event::Sent { method, url, outcome, elapsed } => {
                log.debug(&format!("{} {url} -> {outcome} ({} ms)", method.as_str(), elapsed.as_millis()))
            }
            Event::Retrying { method, url, reason, wait, attempt, attempts } => log.info(&format!(
                "{} {url} failed ({reason}); retrying in {:.1} s (attempt {attempt} of {attempts})",
                method.as_str(),
                wait.as_secs_f64()
            )),
            Event::SlowDown { resource, wait } => log.info(&format!(
                "Azure DevOps asks this pipeline to slow down (rate limit: {resource}); waiting {:.1} s before the next request",
                wait.as_secs_f64()
            )),
            Event::WaitCapped { url, asked, waiting } => {
                let asked = if *asked == std::time::Duration::MAX { "a wait that is not a number of seconds".to_string() } else { format!("{} s", asked.as_secs()) };
                log.info(&format!("{url} asked for {asked}; waiting {:.1} s at most", waiting.as_secs_f64()))
            }
            Event::CredentialWithheld { target, owner } => {
                log.warning(&format!("not sending credentials to {target}: they belong to {owner}"))
            }
            Event::CertificateValidationOff => log.warning("certificate validation is OFF because the agent is configured with --sslskipcertvalidation (Agent.SkipCertValidation): connections can be intercepted and tokens stolen. Give the agent the CA instead (--sslcacert) and turn this off"),
            Event::SystemCertificatesUnreadable { errors } => log.debug(&format!("some system certificates could not be read: {errors:?}")),
            Event::TrustedCertificates { count, path } => log.debug(&format!("trusting {count} certificate(s) from {}", path.display())),
            Event::Waiting { origin, requests, waited, attempt_left, run_left, retries, time_limit } => {
                log.info(&waiting_notice(origin, requests, *waited, *attempt_left, *run_left, *retries, time_limit))
            }
            Event::ClientCertificate { source, expires } => match expires {
                Some((date, days)) if *days <= 14 => log.warning(&format!(
                    "the client certificate in {source} expires on {date} ({}); renew it before then, or every server that requires it will refuse this agent",
                    crate::text::in_days(*days)
                )),
                Some((date, _)) => log.info(&format!("Presenting the client certificate in {source} to servers that ask for one (valid until {date})")),
                None => log.info(&format!("Presenting the client certificate in {source} to servers that ask for one")),
            },
        }
    }
}

/// Says which results of other projects this build posted earlier the status combines with.
fn say_earlier_results(log: &Log, earlier: &[crate::decide::statuses::EarlierResult], status_name: &str) {
    for e in earlier {
        log.info(&format!(
            "This build already posted the result of '{}' on this iteration ({}): the status '{status_name}' combines it with this run's",
            e.project_key, e.state
        ));
    }
}
