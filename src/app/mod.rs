//! The orchestrator: builds the clients from validated settings, then runs `check` or `publish` —
//! read, plan, write, report — and says how the run ended. The decisions are in `decide`, the text
//! in `render`, the calls in `sonar` and `azdo`; this layer only puts them in order and logs.

mod changes;
mod check;
mod publish;

use std::sync::Arc;

use crate::checklist::{Check, CheckState};
use crate::decide::Outcome;
use crate::error::{Error, Service};
use crate::net::{Client, Event, Observer};
use crate::pipeline::Log;
use crate::settings::{Mode, Settings};
use crate::sonar::SonarClient;

/// Runs `check` or `publish`.
pub fn run(settings: &Settings, log: Arc<Log>) -> Result<Outcome, Error> {
    let observer: Arc<dyn Observer> = Arc::new(NetLog(log.clone()));
    let http = Arc::new(
        Client::new(settings.network.clone(), observer).map_err(|source| Error::Transport { service: Service::SonarQube, source })?,
    );
    match settings.mode {
        Mode::Check => check::check(settings, &http, &log),
        Mode::Publish => publish::publish(settings, &http, &log),
    }
}

fn sonar_client(settings: &Settings, http: &Arc<Client>) -> SonarClient {
    SonarClient::new(http.clone(), &settings.sonar.url, &settings.sonar.token, settings.sonar.organization.clone())
}

fn log_checks(log: &Log, checks: &[Check]) {
    for check in checks {
        log.info(&check.render());
        if check.state == CheckState::Warn {
            log.warning(&format!("{}: {}. Fix: {}", check.name, check.detail, check.fix.as_deref().unwrap_or("")));
        }
    }
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
            Event::CredentialWithheld { target, owner } => {
                log.warning(&format!("not sending credentials to {target}: they belong to {owner}"))
            }
            Event::CertificateValidationOff => log.warning("certificate validation is OFF because the agent is configured with --sslskipcertvalidation (Agent.SkipCertValidation): connections can be intercepted and tokens stolen. Give the agent the CA instead (--sslcacert) and turn this off"),
            Event::SystemCertificatesUnreadable { errors } => log.debug(&format!("some system certificates could not be read: {errors:?}")),
            Event::TrustedCertificates { count, path } => log.debug(&format!("trusting {count} certificate(s) from {}", path.display())),
        }
    }
}
