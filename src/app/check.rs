//! `check`: every preflight check (SonarQube server and token, report-task.txt, Azure DevOps
//! credential and pull request), printed as a checklist; nothing is written.

use std::sync::Arc;

use serde_json::json;

use super::{Clock, azdo_client, log_checks, sonar_client};
use crate::checklist::{Check, CheckState};
use crate::decide::Outcome;
use crate::error::{Error, Service};
use crate::net::Client;
use crate::pipeline::{Log, TaskResult};
use crate::settings::{OutputFormat, Settings, Target};
use crate::sonar::{self, report_task};

pub fn check(settings: &Settings, http: &Arc<Client>, log: &Log, clock: Clock) -> Result<Outcome, Error> {
    let mut checks = Vec::new();
    // The reports first: a credential found in one is registered before anything is printed.
    let found = report_task::discover(settings.sonar.report_task_file.as_deref(), &settings.sonar.search_paths)
        .and_then(|p| report_task::load_all(&p));
    if let Ok(reports) = &found {
        super::register_report_credentials(log, reports);
    }
    let sonar = sonar_client(settings, http, clock.analyses_by);
    let sonar_result = sonar::preflight(&sonar, &mut checks);
    if sonar_result.is_ok() {
        match found {
            Ok(reports) => {
                for r in &reports {
                    checks.push(Check::pass(
                        "report-task.txt found",
                        format!("{} (project '{}', task {})", r.path.display(), r.project_key, r.ce_task_id),
                    ));
                    sonar::check_report_server_url(r, sonar.base_url(), &mut checks);
                }
            }
            Err(e) => checks.push(Check::warn(
                "report-task.txt found",
                e.to_string(),
                "expected when this check runs before the analysis step; otherwise set reportTaskFile".to_string(),
            )),
        }
    }
    let azdo_result = check_azdo(settings, http, &mut checks, clock);
    match settings.format {
        OutputFormat::Json => log.info(&serde_json::to_string_pretty(&json!({ "checks": checks })).unwrap_or_default()),
        OutputFormat::Text => {
            log.group("Preflight checks");
            log_checks(log, &checks);
            log.end_group();
        }
    }
    let failed = checks.iter().filter(|c| c.state == CheckState::Fail).count();
    let warned = checks.iter().filter(|c| c.state == CheckState::Warn).count();
    sonar_result?;
    azdo_result?;
    let message = format!("{} checks: {} passed, {warned} warnings, {failed} failed", checks.len(), checks.len() - warned - failed);
    Ok(Outcome::passed(if warned > 0 { TaskResult::SucceededWithIssues } else { TaskResult::Succeeded }, message))
}

fn check_azdo(settings: &Settings, http: &Arc<Client>, checks: &mut Vec<Check>, clock: Clock) -> Result<(), Error> {
    let target = match &settings.target {
        Target::PullRequest(t) => t,
        Target::NoPullRequest { reason } => {
            checks.push(Check::pass("Azure DevOps pull request", format!("nothing to check: {reason}")));
            return Ok(());
        }
    };
    let (Some(credential), Some(client)) = (&target.credential, azdo_client(target, http, clock.run_by)) else {
        let detail =
            "no credential: map the job token with `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` or set azureDevOpsPat".to_string();
        checks.push(Check::fail("Azure DevOps credential", detail.clone()));
        return Err(Error::Credentials { service: Service::AzureDevOps, message: detail });
    };
    crate::azdo::preflight::check(&client, credential, target.id, checks)
}
