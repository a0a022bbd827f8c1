//! `check --integration NAME`: whether an Azure DevOps PAT holds what an integration's vendor
//! documents (each scope shown by one harmless GET, the owner's access level), as a checklist
//! that says for every miss how to fix it. Writes nothing.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::{Failures, NetLog, log_checks};
use crate::azdo::scopes::{self, Finding, Integration, Prober, Scope};
use crate::azdo::{AzdoClient, Credential, RepositoryRef};
use crate::checklist::{Check, tally};
use crate::decide::{self, Outcome};
use crate::error::Error;
use crate::net::{Client, Observer};
use crate::parallel;
use crate::pipeline::Log;
use crate::settings::{DoctorSettings, OutputFormat};

const EDIT_PAT: &str = "edit the PAT (User settings > Personal access tokens > Edit) and tick";

pub(crate) fn doctor(settings: &DoctorSettings, log: Arc<Log>) -> Result<Outcome, Error> {
    let deadline = Instant::now() + settings.time_limit;
    let observer: Arc<dyn Observer> = Arc::new(NetLog(log.clone()));
    let http = Arc::new(Client::new(settings.network.clone(), observer).map_err(Error::NetworkSetup)?);
    let integration = settings.integration;
    let repo = RepositoryRef {
        collection_url: settings.collection_url.clone(),
        project: settings.project.clone().unwrap_or_default(),
        repository: String::new(),
    };
    let client = AzdoClient::new(http.clone(), &repo, &settings.credential).until(deadline);
    let mut checks = Vec::new();
    match client.connection_data() {
        Ok(cd) => {
            let user = cd.authenticated_user.unwrap_or_default();
            let who = user.custom_display_name.or(user.provider_display_name).unwrap_or_else(|| "an unnamed identity".into());
            let kind = match settings.credential {
                Credential::Pat(_) => "a PAT",
                Credential::JobToken(_) => "a job's access token",
            };
            checks.push(Check::pass(
                "azdo.credential",
                "Azure DevOps credential accepted",
                format!("{kind} acting as {} on {}", crate::text::visible(&who), settings.collection_url),
            ));
            let prober =
                Prober { http, collection_url: settings.collection_url.clone(), credential: settings.credential.clone(), deadline };
            let user_id = user.id.unwrap_or_default();
            checks.extend(probe_all(&prober, integration, &user_id, settings.project.as_deref()));
        }
        Err(e) => {
            checks.push(Check::fail("azdo.credential", "Azure DevOps credential rejected", e.detail()));
            for scope in integration.scopes {
                checks.push(Check::skip("azdo.scope", scope.label(), "not checked: the credential was refused".into()));
            }
        }
    }
    if let Some(caveat) = integration.caveat {
        checks.push(Check::warn(
            "azdo.integration",
            &format!("{} setup", integration.name),
            caveat.to_string(),
            integration.fix.to_string(),
        ));
    }
    match settings.format {
        OutputFormat::Json => {
            let doc = json!({ "integration": integration.key, "source": integration.source, "checks": checks, "summary": tally(&checks) });
            log.document(&serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        OutputFormat::Text => {
            log.group(&format!("Scopes for {}", integration.name));
            log.info(&format!("What {} documents: {}", integration.name, integration.source));
            log_checks(&log, &checks, Failures::Report);
            log.end_group();
        }
    }
    Ok(decide::checklist_outcome(&checks, None, "scope checks"))
}

/// Every scope's probe, and the access level, sent together (one round trip).
fn probe_all(prober: &Prober, integration: &Integration, user: &str, project: Option<&str>) -> Vec<Check> {
    let entitlement_url = scopes::Scope::MemberEntitlementManagementRead.probe().and_then(|p| prober.url(&p, user, project));
    parallel::scope(|s| {
        let pending: Vec<_> = integration
            .scopes
            .iter()
            .map(|scope| {
                let url = scope.probe().and_then(|p| prober.url(&p, user, project));
                (*scope, s.start(move || url.map(|u| (prober.get(&u), u))))
            })
            .collect();
        let access = integration.needs_basic.then(|| s.start(|| entitlement_url.map(|u| (prober.get(&u), u))));
        let mut checks: Vec<Check> = pending.into_iter().map(|(scope, p)| scope_check(scope, p.wait(), integration)).collect();
        if let Some(access) = access {
            checks.push(access_check(access.wait(), integration));
        }
        checks
    })
}

fn scope_check(scope: Scope, answer: Option<(Result<crate::net::Response, Error>, String)>, integration: &Integration) -> Check {
    let label = scope.label();
    let Some((answer, url)) = answer else {
        return match scope.probe() {
            None => Check::skip(
                "azdo.scope",
                label,
                format!("not probed: only writes use it, and this check writes nothing; make sure the PAT shows {label}"),
            ),
            Some(_) => Check::skip("azdo.scope", label, "not checked: it reads a project's resources; give --project".into()),
        };
    };
    let response = match answer {
        Ok(r) => r,
        Err(e) => return Check::fail("azdo.scope", &format!("{label} not checked"), e.detail()),
    };
    let path = url.split_once("/_").map_or(url.as_str(), |(_, p)| p).split('?').next().unwrap_or_default();
    match scopes::finding(&response) {
        Finding::Granted if scope == Scope::CodeReadWrite => Check::warn(
            "azdo.scope",
            label,
            format!(
                "its read part is granted (GET …/_{path} answered {}); whether it may write cannot be seen without writing",
                response.status
            ),
            format!("make sure the PAT shows Code: Read & write, as {} needs", integration.name),
        ),
        Finding::Granted => Check::pass("azdo.scope", label, format!("granted: GET …/_{path} answered {}", response.status)),
        Finding::Missing => Check::fail(
            "azdo.scope",
            &format!("{label} missing"),
            format!("the PAT was refused (401) on GET {url}: it lacks this scope. Fix: {EDIT_PAT} {label}, or create a PAT with it"),
        ),
        Finding::NoPermission(message) => Check::fail(
            "azdo.scope",
            &format!("{label}: no permission"),
            format!(
                "the scope is there, but the PAT's owner lacks the permission (403 on GET {url}: {message}). Fix: give the account access to it (Project settings > Permissions, or Organization settings > Users)"
            ),
        ),
        Finding::NotAvailable => Check::warn(
            "azdo.scope",
            label,
            format!("GET {url} answered 404: this server has no such API (Azure DevOps Server), or the project does not exist"),
            "check --project and --collection-url".to_string(),
        ),
        Finding::CredentialRefused => Check::fail(
            "azdo.scope",
            &format!("{label}: credential refused"),
            format!("GET {url} answered {} with a sign-in page: the PAT was not accepted there", response.status),
        ),
        Finding::Unexpected(status) => {
            Check::fail("azdo.scope", &format!("{label} not checked"), format!("GET {url} answered HTTP {status}"))
        }
    }
}

fn access_check(answer: Option<(Result<crate::net::Response, Error>, String)>, integration: &Integration) -> Check {
    const TITLE: &str = "Access level";
    let where_to_look = "an organization administrator sees it under Organization settings > Users";
    let Some((answer, url)) = answer else {
        return Check::skip("azdo.accessLevel", TITLE, format!("not checked: {where_to_look}"));
    };
    let response = match answer {
        Ok(r) => r,
        Err(e) => return Check::warn("azdo.accessLevel", TITLE, e.detail(), where_to_look.to_string()),
    };
    match scopes::finding(&response) {
        Finding::Granted => match scopes::access_level(&response.body) {
            Some(level) if level.stakeholder => Check::fail(
                "azdo.accessLevel",
                "Access level: Stakeholder",
                format!(
                    "the PAT's owner has Stakeholder access, which cannot read code in private projects; {} needs Basic. Fix: Organization settings > Users > Change access level > Basic (or use an account that has it)",
                    integration.name
                ),
            ),
            Some(level) => Check::pass("azdo.accessLevel", &format!("Access level: {}", level.name), "not Stakeholder".into()),
            None => Check::warn("azdo.accessLevel", TITLE, format!("GET {url} answered without an access level"), where_to_look.into()),
        },
        Finding::Missing => Check::warn(
            "azdo.accessLevel",
            TITLE,
            format!("Basic or Stakeholder cannot be read: the PAT lacks {}", Scope::MemberEntitlementManagementRead.label()),
            format!("{where_to_look}; {} needs Basic", integration.name),
        ),
        Finding::NotAvailable => Check::skip(
            "azdo.accessLevel",
            TITLE,
            format!(
                "not checked: this server has no entitlement API (Azure DevOps Server: Server settings > Access levels); {} needs Basic",
                integration.name
            ),
        ),
        _ => Check::warn("azdo.accessLevel", TITLE, format!("GET {url} answered HTTP {}", response.status), where_to_look.into()),
    }
}
