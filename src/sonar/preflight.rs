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
    /// When the token stops working, if it expires.
    pub(crate) token_expiry: Option<TokenExpiry>,
}

/// When the token stops working, as SonarQube announces it on answers to an expiring token
/// (`SonarQube-Authentication-Token-Expiration`, `yyyy-MM-dd'T'HH:mm:ssZ`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenExpiry {
    /// "December 10, 2026" (UTC), as SonarSource's scanner words it.
    pub(crate) date: String,
    /// Whole days left (0 on the last day; negative once past).
    pub(crate) days_left: i64,
}

impl TokenExpiry {
    /// SonarSource's scanner warns from a week before; so does this task.
    pub(crate) const WARN_DAYS: i64 = 7;

    pub(crate) fn is_near(&self) -> bool {
        self.days_left <= Self::WARN_DAYS
    }

    /// "the SonarQube token expires on December 10, 2026 (UTC), which is in 3 days: …".
    pub(crate) fn detail(&self) -> String {
        let when = match self.days_left {
            ..0 => "has passed".to_string(),
            0 => "is today".to_string(),
            1 => "is tomorrow".to_string(),
            n => format!("is in {n} days"),
        };
        format!("the SonarQube token expires on {} (UTC), which {when}: runs after that fail", self.date)
    }

    /// How to rotate the token without a failed run in between.
    pub(crate) fn rotation(token_setting: &str) -> String {
        format!(
            "create a new token in SonarQube (My Account > Security, with a later expiry date), put it in {token_setting}, and revoke the old one once a run has passed with the new one"
        )
    }

    /// The whole warning: when, and how to rotate.
    pub(crate) fn warning(&self, token_setting: &str) -> String {
        format!("{}. Rotate it without downtime: {}", self.detail(), Self::rotation(token_setting))
    }
}

/// Reads the header's date (`2026-12-10T00:00:00+0000`; `Z` and `+00:00` too) against `now`
/// (seconds since the Unix epoch). `None` for anything else: a header this task cannot read is
/// not a reason to fail a run.
pub(crate) fn token_expiry(header: &str, now: i64) -> Option<TokenExpiry> {
    let h = header.trim();
    let num = |range: std::ops::Range<usize>| h.get(range)?.parse::<i64>().ok();
    let (y, mo, d, hh, mi, ss) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if h.get(4..5) != Some("-")
        || h.get(7..8) != Some("-")
        || h.get(10..11) != Some("T")
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let offset = match h.get(19..)? {
        "Z" => 0,
        zone => {
            let sign = match zone.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            sign * (digits[0..2].parse::<i64>().ok()? * 3600 + digits[2..4].parse::<i64>().ok()? * 60)
        }
    };
    let at = crate::text::days_from_civil(y, mo, d) * 86_400 + hh * 3600 + mi * 60 + ss - offset;
    Some(TokenExpiry { date: crate::text::long_date(at), days_left: (at - now).div_euclid(86_400) })
}

/// Runs the server and token checks. A failed check that makes every later call pointless
/// (unreachable server, rejected token) ends the run with its error; the others become warnings.
/// Three calls that do not depend on each other, so they go out together: one round trip, and
/// only three of the server's six connections (the analyses' first polls and the reads no
/// analysis changes take the others). `api/system/status` says whether the server is UP and its
/// version; on a Server, `api/navigation/global` checks the token (401 for one SonarQube does not
/// accept) and says the edition; `api/settings/values` the public base URL. SonarQube Cloud's
/// token is checked by `api/authentication/validate`.
pub(crate) fn preflight(client: &SonarClient, checks: &mut Vec<Check>) -> Result<ServerFacts, Error> {
    let (status, token, base_url) = parallel::scope(|s| {
        let token = s.start(|| if client.is_cloud() { client.validate_token() } else { client.navigation_global() });
        let base_url = s.start(|| if client.is_cloud() { Ok(None) } else { client.server_base_url() });
        let status = client.system_status();
        (status, token.wait(), base_url.wait())
    });
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            checks.push(Check::fail("sonar.server", "SonarQube server not reachable", e.detail()));
            skip_rest(checks, &["sonar.token", "sonar.edition", "sonar.baseUrl"], "the server could not be reached");
            return Err(e);
        }
    };
    if status.status != "UP" {
        let msg = format!(
            "SonarQube at {} reports status {}: {}",
            client.base_url(),
            crate::text::visible(&status.status),
            status_meaning(&status.status)
        );
        checks.push(Check::fail("sonar.server", "SonarQube server not ready", msg.clone()));
        skip_rest(checks, &["sonar.token", "sonar.edition", "sonar.baseUrl"], "the server is not ready");
        return Err(Error::Api { service: Service::SonarQube, message: msg });
    }
    let token = match token {
        Ok(answer) => answer,
        Err(e) => {
            checks.push(server_reachable(client, status.version.as_deref(), client.known_version()));
            checks.push(Check::fail("sonar.token", "SonarQube token not verified", e.detail()));
            skip_rest(checks, &["sonar.edition", "sonar.baseUrl"], "the token could not be verified");
            return Err(e);
        }
    };
    // The status and the token's answer say the version; a server that said it in neither is
    // asked the old way (parameters renamed in 10.2, features from 2025.4 depend on it).
    let mut said = status.version.clone();
    if client.known_version().is_none() && !client.is_cloud() && token.accepted {
        said = client.learn_version_from_server();
    }
    checks.push(server_reachable(client, said.as_deref(), client.known_version()));
    let token_expiry = check_token(client, &token, checks)?;
    let flavour = if client.is_cloud() { Flavour::Cloud } else { edition(token.edition.as_deref()) };
    checks.push(Check::pass("sonar.edition", flavour_title(flavour), flavour_detail(flavour).to_string()));

    let public_base_url = if client.is_cloud() {
        None
    } else {
        // Reading settings needs an authenticated user; a token that cannot is not fatal here.
        base_url.ok().and_then(|url| check_base_url(client.base_url(), url, checks))
    };
    Ok(ServerFacts { flavour, public_base_url, token_expiry })
}

/// The token's check: rejected ends the run; accepted says when it expires, and warns within the
/// week before.
fn check_token(client: &SonarClient, token: &super::model::TokenCheck, checks: &mut Vec<Check>) -> Result<Option<TokenExpiry>, Error> {
    if !token.accepted {
        let why = token.asked.rejected();
        let msg = format!(
            "the token is not valid for this server: {why}. It is mistyped, expired or revoked, or it was created on another server; create a new token (My Account > Security) and update {}",
            client.names().token
        );
        checks.push(Check::fail("sonar.token", "SonarQube token rejected", msg.clone()));
        skip_rest(checks, &["sonar.edition", "sonar.baseUrl"], "the token was rejected");
        return Err(Error::Credentials { service: Service::SonarQube, message: msg });
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let token_expiry = token.expiry.as_deref().and_then(|h| token_expiry(h, now));
    let expires = token_expiry.as_ref().map(|e| format!("; it expires on {} (UTC)", e.date)).unwrap_or_default();
    let said = token.asked.accepted();
    checks.push(Check::pass("sonar.token", "SonarQube token valid", format!("{said}{expires}")));
    if let Some(expiry) = token_expiry.as_ref().filter(|e| e.is_near()) {
        checks.push(Check::warn(
            "sonar.tokenExpiry",
            "SonarQube token expires soon",
            expiry.detail(),
            TokenExpiry::rotation(&client.names().token),
        ));
    }
    Ok(token_expiry)
}

/// "https://sonar answers, version 2025.4.2.112048, status UP": the version as the server said
/// it, or as it was learnt from the token check's answer.
fn server_reachable(client: &SonarClient, said: Option<&str>, learnt: Option<(u32, u32)>) -> Check {
    // Only what looks like a version reaches the log: the server's text is not trusted.
    let said = said.map(str::trim).filter(|v| {
        !v.is_empty()
            && v.len() < 64
            && v.starts_with(|c: char| c.is_ascii_digit())
            && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
    });
    let version = match (said, learnt) {
        (Some(v), _) => format!("version {v}, "),
        (_, Some((major, minor))) => format!("version {major}.{minor}, "),
        _ => String::new(),
    };
    Check::pass("sonar.server", "SonarQube server reachable", format!("{} answers, {version}status UP", client.base_url()))
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

fn edition(said: Option<&str>) -> Flavour {
    match said {
        Some("community") => Flavour::Community,
        Some(e) if ["developer", "enterprise", "datacenter"].contains(&e) => Flavour::Commercial,
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

#[cfg(test)]
mod expiry_tests {
    use super::*;

    /// 2026-12-03T12:00:00Z.
    const NOW: i64 = 1_796_299_200;

    #[test]
    fn the_header_is_read_as_sonarqube_writes_it_and_in_utc() {
        let e = token_expiry("2026-12-10T00:00:00+0000", NOW).unwrap();
        assert_eq!(e, TokenExpiry { date: "December 10, 2026".into(), days_left: 6 });
        assert!(e.is_near());
        // An offset moves the instant: 01:00 at +0200 is 23:00 the day before in UTC.
        assert_eq!(token_expiry("2027-01-01T01:00:00+0200", NOW).unwrap().date, "December 31, 2026");
        assert_eq!(token_expiry("2027-03-01T00:00:00Z", NOW).unwrap().date, "March 01, 2027");
        assert_eq!(token_expiry("2027-03-01T00:00:00-05:00", NOW).unwrap().days_left, 87);
        assert_eq!(token_expiry("2026-12-01T00:00:00+0000", NOW).unwrap().days_left, -3);
        assert!(!token_expiry("2027-01-03T12:00:00+0000", NOW).unwrap().is_near());
        for junk in
            ["", "tomorrow", "2026-13-01T00:00:00+0000", "2026-12-10 00:00:00", "2026-12-10T00:00:00+00", "２０２６-12-10T00:00:00Z"]
        {
            assert_eq!(token_expiry(junk, NOW), None, "{junk:?}");
        }
    }

    #[test]
    fn the_warning_says_when_and_how_to_rotate() {
        let e = TokenExpiry { date: "December 04, 2026".into(), days_left: 1 };
        assert_eq!(
            e.warning("sonarToken"),
            "the SonarQube token expires on December 04, 2026 (UTC), which is tomorrow: runs after that fail. Rotate it without downtime: create a new token in SonarQube (My Account > Security, with a later expiry date), put it in sonarToken, and revoke the old one once a run has passed with the new one"
        );
    }
}
