//! `refresh`: SonarQube's current result for a pull request posted again, without a scanner run —
//! after someone accepts an issue or marks it a false positive in SonarQube, which re-evaluates the
//! pull request's gate and calls its webhooks. What to refresh comes from the webhook's payload (or
//! the flags); whether to post at all is `decide::refresh`; the posting is `publish`'s own, from the
//! scope's gate as it is now instead of a scanner's task.

use std::path::PathBuf;
use std::sync::Arc;

use super::publish::{Source, publish_from};
use super::{Clock, azdo_client, sonar_client};
use crate::decide::Outcome;
use crate::decide::refresh::{Asked, asked_by_webhook, current_push, pull_request_of_commit, scope_words};
use crate::error::Error;
use crate::net::Client;
use crate::parallel;
use crate::pipeline::Log;
use crate::pipeline::commands::TaskResult;
use crate::settings::{Field, PullRequestTarget, Settings, Target, WebhookPayloadSource};
use crate::sonar::links::Links;
use crate::sonar::model::{CeStatus, CeTask};
use crate::sonar::report_task::ReportTask;
use crate::sonar::webhook::{self, MAX_PAYLOAD_BYTES};
use crate::sonar::{Scope, SonarClient, Waited};

pub(super) fn refresh(settings: &Settings, http: &Arc<Client>, log: &Arc<Log>, clock: Clock) -> Result<Outcome, Error> {
    log.group("What to refresh");
    let asked = asked(settings, log);
    log.end_group();
    let asked = match asked? {
        Ok(asked) => asked,
        Err(why) => return Ok(nothing_to_do(log, &why)),
    };
    // The repository's client, for any pull request of it (the id is set below).
    let Some(repository) = pull_request_target(settings, 0) else {
        return Err(Error::Webhook(format!("no Azure DevOps repository and credential to post with ({})", settings.names.collection_url)));
    };
    let Some(azdo) = azdo_client(settings, &repository, http, clock.run_by) else {
        return Err(Error::Webhook("no Azure DevOps credential to post with".into()));
    };
    // The payload's pull request wins over a build's own (a refresh started from a PR build).
    let pull_request = match asked.pull_request.or(settings.target.pull_request().map(|t| t.id)) {
        Some(id) => id,
        // A branch or main-branch analysis (Community Build decorates those): the pull request
        // whose build analysed that commit.
        None => {
            let branch = match &asked.scope {
                Scope::Branch(name) => Some(name.as_str()),
                _ => None,
            };
            match pull_request_of_commit(asked.revision.as_deref(), &azdo.active_pull_requests(branch)?, &asked.scope) {
                Ok(id) => id,
                Err(why) => return Ok(nothing_to_do(log, &why)),
            }
        }
    };
    let target = PullRequestTarget { id: pull_request, ..repository };
    let sonar = sonar_client(settings, http, clock.analyses_by);
    // The pull request as it is now, and (when no commit is known) when SonarQube analysed it.
    let (pr, iterations, analysed) = parallel::scope(|s| {
        let pr = s.start(|| azdo.pull_request(target.id));
        let date = s.start(|| match (&asked.revision, &asked.scope) {
            (None, Scope::PullRequest(key)) => sonar.pull_request_analysis_date(&asked.project_key, key),
            _ => Ok(None),
        });
        // The PR before its iterations, as in the early reads: its answer settles an older
        // server's api-version once, rather than two requests racing to step down.
        (pr.wait(), azdo.iterations(target.id), date.wait())
    });
    let pr = match pr {
        // Not a pull request of this repository (or not one the credential may see): said, and
        // no failure, as for any webhook this pipeline has nothing to do with.
        Err(Error::Api { message, .. }) => {
            return Ok(nothing_to_do(log, &format!("pull request {} could not be read in this repository: {message}", target.id)));
        }
        other => other?,
    };
    let analysed = analysed?.or_else(|| asked.analysed_at.clone());
    let current = match current_push(&asked, &pr, &iterations?, analysed.as_deref()) {
        Ok(current) => current,
        Err(why) => return Ok(nothing_to_do(log, &why)),
    };
    log.info(&format!("Refreshing pull request {} (iteration {}): {}", target.id, current.iteration, current.why));
    let mut refreshed = settings.clone();
    refreshed.target = Target::PullRequest(PullRequestTarget { source_commit: Some(current.source_commit), ..target });
    refreshed.sonar.project_keys = vec![asked.project_key.clone()];
    // The run's start says nothing about an analysis made before it; the commit does (above).
    refreshed.pipeline_started = None;
    refreshed.analysed_commit = asked.revision.clone();
    refreshed.decoration.pending_status = false;
    publish_from(&refreshed, http, log, clock, &Source::Current { project_key: asked.project_key, scope: asked.scope })
}

/// What is asked: the webhook's payload, read and held to its secret when there is one, or the
/// flags. `Ok(Err(why))` when there is nothing to refresh.
fn asked(settings: &Settings, log: &Log) -> Result<Result<Asked, String>, Error> {
    let refresh = &settings.refresh;
    let Some(source) = &refresh.payload else {
        let Some((key, target)) = settings.sonar.project_keys.first().zip(settings.target.pull_request()) else {
            return Ok(Err("no project and pull request to refresh were given".into()));
        };
        return Ok(Ok(Asked {
            project_key: key.clone(),
            scope: Scope::PullRequest(target.id.to_string()),
            pull_request: Some(target.id),
            revision: refresh.commit.as_ref().map(|c| c.to_ascii_lowercase()),
            analysed_at: None,
        }));
    };
    let body = read_payload(source, &settings.names.webhook_payload)?;
    match (&refresh.secret, refresh.signature.as_deref()) {
        (Some(secret), Some(signature)) => {
            if !webhook::signature_matches(secret.expose().as_bytes(), &body, signature) {
                return Err(Error::Webhook(format!(
                    "the webhook's payload is refused: its signature ({}) is not the HMAC-SHA256 of the payload with the webhook's secret ({}). It was not sent by SonarQube with that secret, or it was changed on the way (a relay must pass the request's body on byte for byte). If the secret was changed in SonarQube's webhook settings, change it here too",
                    Field::WebhookSignature.flag(),
                    Field::WebhookSecret.flag()
                )));
            }
            log.info("The webhook's signature matches its secret: the payload is SonarQube's");
        }
        (Some(_), None) => {
            return Err(Error::Webhook(format!(
                "the webhook's payload is refused: it is not signed, and a secret is set ({}). Set the same secret on SonarQube's webhook (Project settings > Webhooks), and pass the request's X-Sonar-Webhook-HMAC-SHA256 header in {}",
                Field::WebhookSecret.flag(),
                Field::WebhookSignature.flag()
            )));
        }
        (None, _) => log.info(&format!(
            "The payload is not held to a secret{}: it only names what to refresh. Everything posted is read from SonarQube with this task's own token, and only when SonarQube's analysis is of the pull request's latest push",
            if settings.names.origin_is_task { " (Azure Pipelines' incoming webhooks cannot check SonarQube's signature)" } else { "" }
        )),
    }
    let payload = match webhook::parse(&body) {
        Ok(p) => p,
        Err(why) => {
            return Err(Error::Webhook(format!("the webhook's payload ({}) cannot be read: {why}", settings.names.webhook_payload)));
        }
    };
    log.info(&payload.event_words());
    Ok(asked_by_webhook(&payload, &settings.sonar.project_keys))
}

/// The payload's bytes, as received: the signature is over them.
fn read_payload(source: &WebhookPayloadSource, named: &str) -> Result<Vec<u8>, Error> {
    match source {
        WebhookPayloadSource::Text(text) => Ok(text.as_bytes().to_vec()),
        WebhookPayloadSource::File(path) => {
            read_bounded(path).map_err(|e| Error::Webhook(format!("{named} ({}) cannot be read: {e}", path.display())))
        }
    }
}

fn read_bounded(path: &PathBuf) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut body = Vec::new();
    std::fs::File::open(path)?.take(MAX_PAYLOAD_BYTES as u64 + 1).read_to_end(&mut body)?;
    Ok(body)
}

/// The pull request to post to, in the repository the settings name.
fn pull_request_target(settings: &Settings, id: u32) -> Option<PullRequestTarget> {
    match &settings.target {
        Target::PullRequest(t) => Some(PullRequestTarget { id, ..t.clone() }),
        Target::NoPullRequest { access: Some(access), .. } => Some(PullRequestTarget {
            repository: access.repository.clone(),
            collection_url_from: settings.names.collection_url.clone(),
            id,
            source_commit: None,
            credential: Some(access.credential.clone()),
            on_services: crate::azdo::is_services_url(&access.repository.collection_url),
        }),
        Target::NoPullRequest { access: None, .. } => None,
    }
}

/// A refresh that does nothing: said, and a success (a webhook for another project is no failure).
fn nothing_to_do(log: &Log, why: &str) -> Outcome {
    let message = format!("Nothing refreshed: {why}");
    log.info(&message);
    Outcome::passed(TaskResult::Succeeded, message)
}

/// The scope's result as SonarQube holds it now, as if its analysis had just finished.
pub(super) fn current_result(settings: &Settings, sonar: &SonarClient, project_key: &str, scope: &Scope, link_base: &str) -> Waited {
    let (pull_request, branch) = match scope {
        Scope::PullRequest(id) => (Some(id.clone()), None),
        Scope::Branch(name) => (None, Some(name.clone())),
        Scope::Main => (None, None),
    };
    let report = ReportTask {
        path: PathBuf::from(format!("(refresh: SonarQube's current result of {})", scope_words(scope))),
        project_key: project_key.to_string(),
        server_url: settings.sonar.url.clone(),
        server_version: None,
        organization: settings.sonar.organization.clone(),
        branch: branch.clone(),
        dashboard_url: None,
        ce_task_id: String::new(),
        pull_request: pull_request.clone(),
        credentials: None,
    };
    let task = CeTask {
        id: String::new(),
        status: CeStatus::Success,
        analysis_id: None,
        error_message: None,
        branch,
        branch_type: None,
        pull_request,
        submitted_at: None,
        warnings: Vec::new(),
    };
    let links = Links::new(link_base, project_key, scope, sonar.organization());
    Waited::Succeeded(Box::new(crate::sonar::analysis::Finished {
        report,
        task,
        analysis_id: None,
        scope: scope.clone(),
        dashboard_url: links.dashboard(),
        links,
    }))
}
