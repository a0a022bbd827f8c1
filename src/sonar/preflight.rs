//! The SonarQube half of the preflight: is the server reachable and UP, is the token valid, which
//! edition is it, and is its public base URL set; each answer a check with the fix.

use super::client::SonarClient;
use super::report_task::ReportTask;
use crate::checklist::Check;
use crate::error::{Error, Service};
use crate::net::url::Origin;
use crate::parallel::join;

/// What the server is, as far as decoration is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Cloud,
    /// Developer, Enterprise or Data Center: analyses pull requests itself.
    Commercial,
    /// Community Build (or Community Edition): no branch or pull request analysis.
    Community,
    Unknown,
}

/// What the preflight learnt about the server.
pub struct ServerFacts {
    pub version: String,
    pub flavour: Flavour,
    /// `sonar.core.serverBaseURL`, when set and readable.
    pub public_base_url: Option<String>,
}

/// Runs the server and token checks. A failed check that makes every later call pointless
/// (unreachable server, rejected token) ends the run with its error; the others become warnings.
/// The five calls do not depend on each other, so they go out together: one round trip.
pub fn preflight(client: &SonarClient, checks: &mut Vec<Check>) -> Result<ServerFacts, Error> {
    let (version, status, valid, flavour, base_url) = std::thread::scope(|s| {
        let status = s.spawn(|| client.system_status());
        let valid = s.spawn(|| client.validate_token());
        let edition = s.spawn(|| if client.is_cloud() { Flavour::Cloud } else { edition(client) });
        let base_url = s.spawn(|| if client.is_cloud() { Ok(None) } else { client.server_base_url() });
        let version = client.server_version();
        (version, join(status), join(valid), join(edition), join(base_url))
    });
    let version = match version {
        Ok(v) => v,
        Err(e) => {
            checks.push(Check::fail("SonarQube server reachable", e.to_string()));
            return Err(e);
        }
    };
    let status = status?;
    if status.status != "UP" {
        let msg = format!("SonarQube at {} reports status {}: {}", client.base_url(), status.status, status_meaning(&status.status));
        checks.push(Check::fail("SonarQube server is UP", msg.clone()));
        return Err(Error::Api { service: Service::SonarQube, message: msg });
    }
    checks.push(Check::pass("SonarQube server reachable", format!("{} answers, version {version}, status UP", client.base_url())));

    if !valid? {
        let msg = "the token is not valid for this server: api/authentication/validate answered valid=false. It is mistyped, expired or revoked, or it was created on another server; create a new token (My Account > Security) and update sonarToken or the service connection".to_string();
        checks.push(Check::fail("SonarQube token valid", msg.clone()));
        return Err(Error::Credentials { service: Service::SonarQube, message: msg });
    }
    checks.push(Check::pass("SonarQube token valid", "api/authentication/validate says valid=true".to_string()));
    checks.push(Check::pass("SonarQube edition", flavour_detail(flavour).to_string()));

    let public_base_url = if client.is_cloud() {
        None
    } else {
        // Reading settings needs an authenticated user; a token that cannot is not fatal here.
        base_url.ok().and_then(|url| check_base_url(client.base_url(), url, checks))
    };
    Ok(ServerFacts { version, flavour, public_base_url })
}

fn status_meaning(status: &str) -> &'static str {
    match status {
        "STARTING" => "the server is starting; wait for it to finish and run again",
        "DOWN" => {
            "the server is down (often its database or search engine cannot be reached); ask its administrator to check the server logs"
        }
        "RESTARTING" => "the server is restarting; run again in a few minutes",
        "DB_MIGRATION_NEEDED" => {
            "the server was upgraded and waits for its database migration; an administrator must open /setup on the server"
        }
        "DB_MIGRATION_RUNNING" => "the server is migrating its database after an upgrade; run again when it is done",
        _ => "the server is not ready",
    }
}

fn flavour_detail(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Cloud => "SonarQube Cloud: pull request analysis supported",
        Flavour::Commercial => "a commercial edition: pull request analysis supported",
        Flavour::Community => "Community Build: no branch or pull request analysis; results are those of the analysed branch",
        Flavour::Unknown => "could not tell the edition (api/navigation/global did not say)",
    }
}

/// `sonar.core.serverBaseURL`: unset means every link SonarQube builds points at localhost. It
/// becomes the target of every link and of the status, so anything but a plain http(s) URL is
/// refused (and the task's own URL used).
fn check_base_url(base: &str, setting: Option<String>, checks: &mut Vec<Check>) -> Option<String> {
    let setting = setting.filter(|s| !s.trim().is_empty());
    if let Some(raw) = &setting
        && crate::net::url::link_target(raw).is_none()
    {
        let (shown, _) = crate::net::url::strip_userinfo(raw.trim());
        checks.push(Check::warn(
            "sonar.core.serverBaseURL usable",
            format!("the server's base URL is set to '{shown}', which is not an http(s) URL; links in the pull request use {base} instead"),
            "an administrator corrects it in Administration > Configuration > General Settings > General > Server base URL, e.g. https://sonarqube.example.com".to_string(),
        ));
        return None;
    }
    let Some(url) = setting.and_then(|s| crate::net::url::link_target(&s)) else {
        checks.push(Check::warn(
            "sonar.core.serverBaseURL set",
            "the server's base URL is not set, so links that SonarQube builds (in report-task.txt, e-mails, its own PR decoration) point at http://localhost:9000".to_string(),
            format!("an administrator sets it in Administration > Configuration > General Settings > General > Server base URL, to the URL people use, e.g. {base}"),
        ));
        return None;
    };
    let url = url.trim_end_matches('/').to_string();
    if Origin::parse(&url) != Origin::parse(base) {
        checks.push(Check::warn(
            "sonar.core.serverBaseURL matches",
            format!("the server's base URL is {url}, but this pipeline reaches it at {base}; links in the PR use {url}"),
            "if people cannot open that URL, correct the setting in Administration > Configuration > General Settings > Server base URL; if the agent needs an internal address, that is fine".to_string(),
        ));
    } else {
        checks.push(Check::pass("sonar.core.serverBaseURL set", url.clone()));
    }
    Some(url)
}

fn edition(client: &SonarClient) -> Flavour {
    match client.edition() {
        Some(e) if e == "community" => Flavour::Community,
        Some(e) if ["developer", "enterprise", "datacenter"].contains(&e.as_str()) => Flavour::Commercial,
        _ => Flavour::Unknown,
    }
}

/// Compares the report's `serverUrl` with the URL the task uses.
pub fn check_report_server_url(report: &ReportTask, base_url: &str, checks: &mut Vec<Check>) {
    if Origin::parse(&report.server_url) != Origin::parse(base_url) {
        checks.push(Check::warn(
            "report-task.txt serverUrl matches",
            format!("{} names the server {} but this task calls {}", report.path.display(), report.server_url, base_url),
            "the task keeps calling the URL it was given; if that is a different server, set sonarUrl (or the service connection) to the server the scanner used".to_string(),
        ));
    }
}
