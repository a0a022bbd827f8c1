//! The PAT scopes the integrations a team sets up with Azure DevOps PATs document, one harmless GET
//! per scope that shows whether a PAT has it, and the PAT owner's access level (Basic or
//! Stakeholder): the "Validate connection" of `check --integration`.
//!
//! Scopes are the PAT page's names (Microsoft's `scopes.md`: `vso.code`, `vso.project`, …). A
//! missing scope is answered 401 (community reports: `pulumi/pulumi-azuredevops#68`,
//! `MicrosoftDocs/vsts-rest-api-specs#441`); a scope held by an identity without the permission,
//! 403. No API lets a PAT read its own scopes, so each is shown by a read that needs it.

use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;

use super::client::Credential;
use crate::error::{Error, Service};
use crate::net::{Auth, Client, Request, Response};
use crate::secret::Secret;

/// A PAT scope, as the PAT page names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Scope {
    CodeRead,
    /// Code (Read & write): its read part is probed; writes are never tried.
    CodeReadWrite,
    CodeStatus,
    PullRequestThreads,
    ProjectAndTeamRead,
    GraphRead,
    AnalyticsRead,
    ReleaseRead,
    BuildRead,
    WorkItemsRead,
    MemberEntitlementManagementRead,
}

impl Scope {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Scope::CodeRead => "Code (Read)",
            Scope::CodeReadWrite => "Code (Read & write)",
            Scope::CodeStatus => "Code (Status)",
            Scope::PullRequestThreads => "Pull Request Threads (Read & write)",
            Scope::ProjectAndTeamRead => "Project and Team (Read)",
            Scope::GraphRead => "Graph (Read)",
            Scope::AnalyticsRead => "Analytics (Read)",
            Scope::ReleaseRead => "Release (Read)",
            Scope::BuildRead => "Build (Read)",
            Scope::WorkItemsRead => "Work Items (Read)",
            Scope::MemberEntitlementManagementRead => "Member Entitlement Management (Read)",
        }
    }

    /// The read that shows the scope, or `None` for a scope only writes use (no harmless request
    /// proves it).
    pub(crate) fn probe(self) -> Option<Probe> {
        let p = |host, path: &'static str, needs_project| Some(Probe { host, path, needs_project });
        // api-version 5.0 (and its previews): what Azure DevOps Server 2019 and every later server
        // and the service all take.
        match self {
            Scope::CodeRead | Scope::CodeReadWrite => p(Host::Collection, "/_apis/git/repositories?api-version=5.0", false),
            Scope::ProjectAndTeamRead => p(Host::Collection, "/_apis/projects?$top=1&api-version=5.0", false),
            Scope::GraphRead => p(Host::Identity, "/_apis/graph/descriptors/{user}?api-version=5.0-preview.1", false),
            Scope::AnalyticsRead => p(Host::Analytics, "/_odata/v4.0-preview/Projects?$select=ProjectName&$top=1", false),
            Scope::ReleaseRead => p(Host::Release, "/{project}/_apis/release/definitions?$top=1&api-version=5.0", true),
            Scope::BuildRead => p(Host::Collection, "/{project}/_apis/build/builds?$top=1&api-version=5.0", true),
            Scope::WorkItemsRead => p(Host::Collection, "/{project}/_apis/wit/workitemtypes?api-version=5.0", true),
            Scope::MemberEntitlementManagementRead => {
                p(Host::Entitlements, "/_apis/userentitlements/{user}?api-version=5.0-preview.2", false)
            }
            Scope::CodeStatus | Scope::PullRequestThreads => None,
        }
    }
}

/// Where a probe goes: on Azure DevOps Services some APIs live on their own host of the same
/// organization (`vssps.dev.azure.com/{org}`, …); on Azure DevOps Server all are under the
/// collection URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Host {
    Collection,
    Identity,
    Entitlements,
    Analytics,
    Release,
}

/// A GET that needs one scope; `{user}` and `{project}` are filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Probe {
    pub(crate) host: Host,
    pub(crate) path: &'static str,
    pub(crate) needs_project: bool,
}

/// The base URL of `host` for a collection: `https://dev.azure.com/{org}` has its own hosts per
/// API family (Microsoft's REST reference lists each API's host); an `{org}.visualstudio.com`
/// organization `{org}.vssps.visualstudio.com` and the like; anything else is a server, where
/// everything is under the collection URL.
pub(crate) fn host_url(collection_url: &str, host: Host) -> String {
    let collection = collection_url.trim_end_matches('/');
    let prefix = match host {
        Host::Collection => return collection.to_string(),
        Host::Identity => "vssps",
        Host::Entitlements => "vsaex",
        Host::Analytics => "analytics",
        Host::Release => "vsrm",
    };
    let Some((scheme, rest)) = collection.split_once("://") else { return collection.to_string() };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    if authority.eq_ignore_ascii_case("dev.azure.com") {
        return format!("{scheme}://{prefix}.dev.azure.com/{path}");
    }
    if let Some(org) = authority.to_ascii_lowercase().strip_suffix(".visualstudio.com") {
        let tail = if path.is_empty() { String::new() } else { format!("/{path}") };
        return format!("{scheme}://{org}.{prefix}.visualstudio.com{tail}");
    }
    collection.to_string()
}

/// An integration whose PAT the doctor checks: what its vendor documents.
#[derive(Debug)]
pub(crate) struct Integration {
    pub(crate) key: &'static str,
    pub(crate) name: &'static str,
    pub(crate) scopes: &'static [Scope],
    /// The PAT's owner needs Basic access (Stakeholders cannot read code in private projects).
    pub(crate) needs_basic: bool,
    /// Where the list comes from.
    pub(crate) source: &'static str,
    /// What else its setup asks that no probe shows, and the fix.
    pub(crate) caveat: Option<&'static str>,
    pub(crate) fix: &'static str,
}

/// The integrations, with the scopes each vendor's documentation lists (README "Credentials"
/// cites the same pages).
pub(crate) const INTEGRATIONS: [Integration; 5] = [
    Integration {
        key: "sonar-pr-gate",
        name: "sonar-pr-gate (this task)",
        scopes: &[Scope::CodeRead, Scope::CodeStatus, Scope::PullRequestThreads],
        needs_basic: true,
        source: "this task's README: Code (Read), Code (Status), Pull Request Threads (Read & write); or Code (Read & write), which also covers Azure DevOps Server 2019/2020",
        caveat: None,
        fix: "",
    },
    Integration {
        key: "sonarqube",
        name: "SonarQube Server pull request decoration",
        scopes: &[Scope::CodeReadWrite],
        needs_basic: true,
        source: "docs.sonarsource.com, SonarQube Server, DevOps platform integration > Azure DevOps: a PAT with Code (Read & write), of a user with Basic access",
        caveat: None,
        fix: "",
    },
    Integration {
        key: "sonarcloud",
        name: "SonarQube Cloud pull request decoration",
        scopes: &[Scope::CodeReadWrite],
        needs_basic: true,
        source: "docs.sonarsource.com, SonarQube Cloud, Azure DevOps integration: a PAT with Code (Read & write), of a user with Basic access",
        caveat: None,
        fix: "",
    },
    Integration {
        key: "snyk",
        name: "Snyk (Azure Repos integration and Snyk Essentials)",
        scopes: &[
            Scope::CodeReadWrite,
            Scope::ProjectAndTeamRead,
            Scope::GraphRead,
            Scope::AnalyticsRead,
            Scope::ReleaseRead,
            Scope::MemberEntitlementManagementRead,
        ],
        needs_basic: true,
        source: "docs.snyk.io: SCM integrations > User permissions and access scopes > Azure Repositories (TFS), and Group-level integrations > Azure DevOps for Snyk Essentials",
        caveat: None,
        fix: "",
    },
    Integration {
        key: "harness-sei",
        name: "Harness SEI (Azure DevOps Services integration)",
        scopes: &[Scope::CodeRead, Scope::BuildRead, Scope::WorkItemsRead, Scope::ProjectAndTeamRead, Scope::ReleaseRead],
        needs_basic: true,
        source: "developer.harness.io: SEI > Azure DevOps: Basic access, Reader on every project, and read scopes for the services it ingests (Azure Repos, Pipelines, Boards)",
        caveat: Some(
            "Harness's documentation asks for a PAT for all accessible organizations, and Azure DevOps stopped accepting those on 2026-12-01 (global PATs were retired)",
        ),
        fix: "create a PAT scoped to this organization, and confirm with Harness that the integration takes one",
    },
];

pub(crate) fn integration(key: &str) -> Option<&'static Integration> {
    INTEGRATIONS.iter().find(|i| i.key.eq_ignore_ascii_case(key.trim()))
}

/// What a probe's answer says about a scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Finding {
    Granted,
    /// 401: the PAT lacks the scope.
    Missing,
    /// 403: the scope is there, the owner's permission is not.
    NoPermission(String),
    /// 404: this server has no such API, or the project does not exist.
    NotAvailable,
    /// 203 with a sign-in page, or a body that is not JSON: the credential itself was refused.
    CredentialRefused,
    Unexpected(u16),
}

/// Reads an answer (pure: tested without a server).
pub(crate) fn finding(response: &Response) -> Finding {
    let json = response.content_type.as_deref().is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    match response.status {
        200..=299 if response.status != 203 && json => Finding::Granted,
        200..=299 => Finding::CredentialRefused,
        401 => Finding::Missing,
        403 => Finding::NoPermission(
            serde_json::from_slice::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|v| v.get("message")?.as_str().map(crate::text::visible))
                .unwrap_or_default(),
        ),
        404 => Finding::NotAvailable,
        other => Finding::Unexpected(other),
    }
}

/// The owner's access level, from `userentitlements/{id}`: `accessLevel.licenseDisplayName`
/// ("Basic", "Stakeholder", "Basic + Test Plans", "Visual Studio Enterprise"…), else the
/// `accountLicenseType` code (`express` is Basic).
pub(crate) fn access_level(body: &[u8]) -> Option<AccessLevel> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Entitlement {
        access_level: Option<Level>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Level {
        license_display_name: Option<String>,
        account_license_type: Option<String>,
    }
    let level = serde_json::from_slice::<Entitlement>(body).ok()?.access_level?;
    let code = level.account_license_type.unwrap_or_default().to_ascii_lowercase();
    let name = level.license_display_name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| match code.as_str() {
        "express" => "Basic".to_string(),
        "stakeholder" => "Stakeholder".to_string(),
        "advanced" => "Basic + Test Plans".to_string(),
        other => other.to_string(),
    });
    let stakeholder = code == "stakeholder" || name.eq_ignore_ascii_case("stakeholder");
    Some(AccessLevel { name: crate::text::visible(&name), stakeholder })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AccessLevel {
    pub(crate) name: String,
    pub(crate) stakeholder: bool,
}

/// Sends the probes with the credential, each to its own host of the same organization: the
/// credential is bound to that host for that request only.
pub(crate) struct Prober {
    pub(crate) http: Arc<Client>,
    pub(crate) collection_url: String,
    pub(crate) credential: Credential,
    pub(crate) deadline: Instant,
}

impl Prober {
    /// The probe's URL, or `None` when it needs a project and none was given.
    pub(crate) fn url(&self, probe: &Probe, user: &str, project: Option<&str>) -> Option<String> {
        if probe.needs_project && project.is_none() {
            return None;
        }
        let path = probe
            .path
            .replace("{user}", &crate::net::url::encode(user))
            .replace("{project}", &crate::net::url::encode(project.unwrap_or_default()));
        Some(format!("{}{path}", host_url(&self.collection_url, probe.host)))
    }

    pub(crate) fn get(&self, url: &str) -> Result<Response, Error> {
        let auth = match &self.credential {
            Credential::JobToken(t) => Auth::bearer(url, t),
            Credential::Pat(p) => Auth::basic(url, &Secret::new(""), p),
        };
        let mut request = Request::get(url, Some(&auth)).until(Some(self.deadline));
        // A PAT the service refuses is answered with a sign-in page unless this is sent (the Go
        // client sends it on every PAT connection).
        request.headers.push(("X-TFS-FedAuthRedirect", "Suppress".to_string()));
        self.http.send(&request).map_err(|source| Error::transport(Service::AzureDevOps, source, "--collection-url"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_apis_live_on_the_organizations_own_hosts() {
        let org = "https://dev.azure.com/fabrikam";
        assert_eq!(host_url(org, Host::Identity), "https://vssps.dev.azure.com/fabrikam");
        assert_eq!(host_url(&format!("{org}/"), Host::Entitlements), "https://vsaex.dev.azure.com/fabrikam");
        assert_eq!(host_url(org, Host::Analytics), "https://analytics.dev.azure.com/fabrikam");
        assert_eq!(host_url(org, Host::Release), "https://vsrm.dev.azure.com/fabrikam");
        assert_eq!(host_url(org, Host::Collection), org);
        assert_eq!(host_url("https://fabrikam.visualstudio.com", Host::Release), "https://fabrikam.vsrm.visualstudio.com");
        // A server keeps every API under its collection.
        assert_eq!(host_url("https://tfs.corp.example/DefaultCollection", Host::Identity), "https://tfs.corp.example/DefaultCollection");
    }

    fn response(status: u16, content_type: &str, body: &str) -> Response {
        Response { status, content_type: Some(content_type.into()), headers: Vec::new(), body: body.as_bytes().to_vec() }
    }

    #[test]
    fn answers_are_read_as_the_service_gives_them() {
        assert_eq!(finding(&response(200, "application/json; charset=utf-8", "{}")), Finding::Granted);
        assert_eq!(finding(&response(203, "text/html", "<html>Sign in</html>")), Finding::CredentialRefused);
        assert_eq!(finding(&response(401, "application/json", r#"{"message":"TF400813"}"#)), Finding::Missing);
        assert_eq!(
            finding(&response(403, "application/json", r#"{"message":"VS403403: no\u001b access"}"#)),
            Finding::NoPermission("VS403403: no<U+001B> access".into())
        );
        assert_eq!(finding(&response(404, "application/json", "{}")), Finding::NotAvailable);
        assert_eq!(finding(&response(500, "application/json", "{}")), Finding::Unexpected(500));
    }

    #[test]
    fn the_access_level_is_read_by_name_or_code() {
        let basic = access_level(br#"{"accessLevel":{"licenseDisplayName":"Basic","accountLicenseType":"express"}}"#).unwrap();
        assert_eq!(basic, AccessLevel { name: "Basic".into(), stakeholder: false });
        let stakeholder = access_level(br#"{"accessLevel":{"accountLicenseType":"stakeholder"}}"#).unwrap();
        assert_eq!(stakeholder, AccessLevel { name: "Stakeholder".into(), stakeholder: true });
        assert_eq!(access_level(b"not json"), None);
    }

    #[test]
    fn every_integration_has_a_unique_key_and_its_scopes_probe_or_say_why_not() {
        let mut keys: Vec<_> = INTEGRATIONS.iter().map(|i| i.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), INTEGRATIONS.len());
        assert!(integration("Snyk").is_some() && integration("gitlab").is_none());
        assert_eq!(Scope::CodeStatus.probe(), None);
        assert!(Scope::MemberEntitlementManagementRead.probe().is_some_and(|p| p.host == Host::Entitlements));
    }
}
