//! `check`: every preflight check (SonarQube server and token, report-task.txt, Azure DevOps
//! credential and pull request), printed as a checklist; nothing is written. A check that could
//! not run is listed as skipped, with why, and is not counted as passed.

use std::sync::Arc;

use serde_json::json;

use super::{Clock, Failures, azdo_client, log_checks, sonar_client};
use crate::azdo::AzdoClient;
use crate::checklist::{Check, tally};
use crate::decide::{self, Outcome};
use crate::error::{Error, exit_code};
use crate::net::Client;
use crate::pipeline::Log;
use crate::settings::{OutputFormat, Settings, Target};
use crate::sonar::{self, discover};

pub(crate) fn check(settings: &Settings, http: &Arc<Client>, log: &Log, clock: Clock) -> Result<Outcome, Error> {
    let mut checks = Vec::new();
    // The reports first: a credential found in one is registered before anything is printed.
    let found = discover::discover(
        settings.sonar.report_task_file.as_deref(),
        &settings.sonar.search_paths,
        &settings.names.sonar(),
        clock.analyses_by,
    )
    .and_then(|p| discover::load_all(&p));
    if let Ok(reports) = &found {
        super::register_report_credentials(log, reports);
    }
    let sonar = sonar_client(settings, http, clock.analyses_by);
    let sonar_failure = sonar::preflight(&sonar, &mut checks).err();
    match found {
        Ok(reports) => {
            for r in &reports {
                checks.push(Check::pass(
                    "report.found",
                    "report-task.txt found",
                    format!("{} (project '{}', task {})", r.path.display(), r.project_key, r.ce_task_id),
                ));
                sonar::check_report_server_url(r, sonar.base_url(), sonar.names(), &mut checks);
            }
        }
        // The analysis ran in another job or stage: what publish will look for on the server.
        Err(_) if !settings.sonar.project_keys.is_empty() && sonar_failure.is_none() => {
            for key in &settings.sonar.project_keys {
                match sonar.ce_component(key) {
                    Ok(c) => checks.push(Check::pass(
                        "report.server",
                        "Analyses found by projectKey",
                        format!(
                            "no report-task.txt on this agent: the analyses of '{key}' are looked for on SonarQube ({} in its queue, latest task {})",
                            c.queue.len(),
                            c.current.as_ref().map_or("none".to_string(), |t| crate::text::visible(&t.id))
                        ),
                    )),
                    Err(e) => checks.push(Check::fail("report.server", "Analyses found by projectKey", e.to_string())),
                }
            }
        }
        Err(e) => checks.push(Check::warn(
            "report.found",
            "report-task.txt not found",
            e.to_string(),
            format!("expected when this check runs before the analysis step; otherwise set {}", settings.names.report_task_file),
        )),
    }
    let azdo_failure = check_azdo(settings, http, &mut checks, clock);
    match settings.format {
        OutputFormat::Json => {
            let sonar = &settings.sonar;
            let sources = json!({
                "url": sonar.url, "urlFrom": sonar.url_from, "credentialFrom": sonar.credential_from,
                "organization": sonar.organization, "organizationFrom": sonar.organization_from,
            });
            let doc = json!({ "sonarQube": sources, "checks": checks, "summary": tally(&checks) });
            log.document(&serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        OutputFormat::Text => {
            log.group("Preflight checks");
            log.info(&settings.sonar.sources());
            log_checks(log, &checks, Failures::Report);
            log.end_group();
        }
    }
    let failure_exit_code = sonar_failure.map(|e| e.exit_code()).or(azdo_failure);
    Ok(decide::checklist_outcome(&checks, failure_exit_code, "preflight checks"))
}

/// The Azure DevOps checks: the credential whenever there is one (with or without a pull
/// request), then the pull request's reads. Returns the exit code of a failure.
fn check_azdo(settings: &Settings, http: &Arc<Client>, checks: &mut Vec<Check>, clock: Clock) -> Option<i32> {
    let names = &settings.names;
    match &settings.target {
        Target::PullRequest(target) => {
            let (Some(credential), Some(client)) = (&target.credential, azdo_client(settings, target, http, clock.run_by)) else {
                checks.push(Check::fail(
                    "azdo.credential",
                    "No Azure DevOps credential",
                    format!("pull request {} cannot be read or posted to without one; {}", target.id, names.provide_credential),
                ));
                for (id, title) in
                    [("azdo.pullRequest", "Pull request"), ("azdo.iterations", "Iterations"), ("azdo.threads", "Comment threads")]
                {
                    checks.push(Check::skip(id, title, "not checked: there is no credential to read with".into()));
                }
                return Some(exit_code::CONFIGURATION);
            };
            crate::azdo::preflight::check(&client, credential, Some(target.id), checks).err().map(|e| e.exit_code())
        }
        Target::NoPullRequest { reason, access } => {
            let failure = match access {
                Some(access) => {
                    let client =
                        AzdoClient::new(http.clone(), &access.repository, &access.credential).named(names.azdo()).until(clock.run_by);
                    crate::azdo::preflight::check(&client, &access.credential, None, checks).err().map(|e| e.exit_code())
                }
                None => {
                    checks.push(Check::skip(
                        "azdo.credential",
                        "Azure DevOps credential",
                        format!("not checked: no credential or no collection URL was given (to check one: {})", names.provide_credential),
                    ));
                    None
                }
            };
            checks.push(Check::skip("azdo.pullRequest", "Pull request", format!("not checked: {reason}")));
            failure
        }
    }
}
