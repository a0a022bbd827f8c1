//! The SonarQube half of the preflight: is the server reachable and UP, is the token valid, which
//! edition is it, and is its public base URL set; each answer a check with the fix.

use super::SonarNames;
use super::analysis::Flavour;
use super::client::SonarClient;
use super::report_task::ReportTask;
use crate::checklist::Check;
use crate::error::{Error, Service};
use crate::net::url::Origin;
use crate::parallel;

/// What the preflight learnt about the server.
pub(crate) struct ServerFacts {
    pub(crate) flavour: Flavour,
    /// `sonar.core.serverBaseURL`, when set and readable.
    pub(crate) public_base_url: Option<String>,
}

/// Runs the server and token checks. A failed check that makes every later call pointless
/// (unreachable server, rejected token) ends the run with its error; the others become warnings.
/// The five calls do not depend on each other, so they go out together: one round trip.
pub(crate) fn preflight(client: &SonarClient, checks: &mut Vec<Check>) -> Result<ServerFacts, Error> {
    let (version, status, valid, flavour, base_url) = parallel::scope(|s| {
        let status = s.start(|| client.system_status());
        let valid = s.start(|| client.validate_token());
        let edition = s.start(|| if client.is_cloud() { Flavour::Cloud } else { edition(client) });
        let base_url = s.start(|| if client.is_cloud() { Ok(None) } else { client.server_base_url() });
        let version = client.server_version();
        (version, status.wait(), valid.wait(), edition.wait(), base_url.wait())
    });
    let version = match version {
        Ok(v) => v,
        Err(e) => {
            checks.push(Check::fail("sonar.server", "SonarQube server not reachable", e.detail()));
            skip_rest(checks, &["sonar.token", "sonar.edition", "sonar.baseUrl"], "the server could not be reached");
            return Err(e);
        }
    };
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            checks.push(Check::fail("sonar.server", "SonarQube server status unreadable", e.detail()));
            skip_rest(checks, &["sonar.token", "sonar.edition", "sonar.baseUrl"], "the server's status could not be read");
            return Err(e);
        }
    };
    if status.status != "UP" {
        let msg = format!("SonarQube at {} reports status {}: {}", client.base_url(), status.status, status_meaning(&status.status));
        checks.push(Check::fail("sonar.server", "SonarQube server not ready", msg.clone()));
        skip_rest(checks, &["sonar.token", "sonar.edition", "sonar.baseUrl"], "the server is not ready");
        return Err(Error::Api { service: Service::SonarQube, message: msg });
    }
    checks.push(Check::pass(
        "sonar.server",
        "SonarQube server reachable",
        format!("{} answers, version {version}, status UP", client.base_url()),
    ));

    let valid = match valid {
        Ok(valid) => valid,
        Err(e) => {
            checks.push(Check::fail("sonar.token", "SonarQube token not verified", e.detail()));
            skip_rest(checks, &["sonar.edition", "sonar.baseUrl"], "the token could not be verified");
            return Err(e);
        }
    };
    if !valid {
        let msg = format!(
            "the token is not valid for this server: api/authentication/validate answered valid=false. It is mistyped, expired or revoked, or it was created on another server; create a new token (My Account > Security) and update {}",
            client.names().token
        );
        checks.push(Check::fail("sonar.token", "SonarQube token rejected", msg.clone()));
        skip_rest(checks, &["sonar.edition", "sonar.baseUrl"], "the token was rejected");
        return Err(Error::Credentials { service: Service::SonarQube, message: msg });
    }
    checks.push(Check::pass("sonar.token", "SonarQube token valid", "api/authentication/validate says valid=true".to_string()));
    checks.push(Check::pass("sonar.edition", flavour_title(flavour), flavour_detail(flavour).to_string()));

    let public_base_url = if client.is_cloud() {
        None
    } else {
        // Reading settings needs an authenticated user; a token that cannot is not fatal here.
        base_url.ok().and_then(|url| check_base_url(client.base_url(), url, checks))
    };
    Ok(ServerFacts { flavour, public_base_url })
}

/// The checks that need an earlier one that failed, listed as not checked.
fn skip_rest(checks: &mut Vec<Check>, ids: &[&'static str], because: &str) {
    for &id in ids {
        let title = match id {
            "sonar.token" => "SonarQube token",
            "sonar.edition" => "SonarQube edition",
            _ => "sonar.core.serverBaseURL",
        };
        checks.push(Check::skip(id, title, format!("not checked: {because}")));
    }
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

fn flavour_title(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Cloud => "SonarQube Cloud",
        Flavour::Commercial => "SonarQube commercial edition",
        Flavour::Community => "SonarQube Community Build",
        Flavour::Unknown => "SonarQube edition unknown",
    }
}

fn flavour_detail(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Cloud => "pull request analysis supported",
        Flavour::Commercial => "Developer, Enterprise or Data Center: pull request analysis supported",
        Flavour::Community => {
            "no branch or pull request analysis: results are those of the analysed branch, scoped to the lines the pull request changed"
        }
        Flavour::Unknown => {
            "api/navigation/global did not say which edition this is; the decoration mode follows what the analysis reports"
        }
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
            "sonar.baseUrl",
            "sonar.core.serverBaseURL not an http(s) URL",
            format!("the server's base URL is set to '{shown}', which is not an http(s) URL; links in the pull request use {base} instead"),
            "an administrator corrects it in Administration > Configuration > General Settings > General > Server base URL, e.g. https://sonarqube.example.com".to_string(),
        ));
        return None;
    }
    let Some(url) = setting.and_then(|s| crate::net::url::link_target(&s)) else {
        checks.push(Check::warn(
            "sonar.baseUrl",
            "sonar.core.serverBaseURL not set",
            "the server's base URL is not set, so links that SonarQube builds (in report-task.txt, e-mails, its own PR decoration) point at http://localhost:9000".to_string(),
            format!("an administrator sets it in Administration > Configuration > General Settings > General > Server base URL, to the URL people use, e.g. {base}"),
        ));
        return None;
    };
    let url = url.trim_end_matches('/').to_string();
    if Origin::parse(&url) != Origin::parse(base) {
        checks.push(Check::warn(
            "sonar.baseUrl",
            "sonar.core.serverBaseURL differs from the URL this task uses",
            format!("the server's base URL is {url}, but this pipeline reaches it at {base}; links in the PR use {url}"),
            "if people cannot open that URL, correct the setting in Administration > Configuration > General Settings > Server base URL; if the agent needs an internal address, that is fine".to_string(),
        ));
    } else {
        checks.push(Check::pass("sonar.baseUrl", "sonar.core.serverBaseURL set", url.clone()));
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
pub(crate) fn check_report_server_url(report: &ReportTask, base_url: &str, names: &SonarNames, checks: &mut Vec<Check>) {
    if Origin::parse(&report.server_url) != Origin::parse(base_url) {
        checks.push(Check::warn(
            "report.server",
            "report-task.txt names another server",
            format!("{} names the server {} but this task calls {}", report.path.display(), report.server_url, base_url),
            format!(
                "the task keeps calling the URL it was given; if that is a different server, set {} to the server the scanner used",
                names.url
            ),
        ));
    }
}
