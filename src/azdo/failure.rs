//! What an Azure DevOps failure means and what to do about it. A pure function of the response, so
//! every case is tested without a server.
//!
//! Azure DevOps answers a bad credential in several ways: 203 with an HTML sign-in page (GET/POST
//! without redirect suppression), 401 with `TF400813` or "Personal Access Token used has expired",
//! 403 `TF401027` when the identity lacks a repository permission, and 404s whose `typeKey` names
//! what was not found.

use serde::Deserialize;

use crate::error::{Error, Service};
use crate::net::Response;

/// How the user knows the Azure DevOps settings where they are; the settings layer fills it, and
/// messages put it into words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AzdoNames {
    pub(crate) pat: String,
    pub(crate) collection_url: String,
    /// How to provide the job's access token.
    pub(crate) job_token: String,
    /// How to fall back on the job's access token instead of a PAT.
    pub(crate) use_job_token: String,
}

/// Which credential was sent, since the fix differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CredentialKind {
    JobToken,
    Pat,
}

/// What was being done, for the message.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub(crate) action: String,
    /// The organization (Services) or collection (Server), for the build service identity's name.
    pub(crate) organization: String,
    pub(crate) project: String,
    pub(crate) repository: String,
    pub(crate) pull_request: Option<u32>,
    /// Which credential was sent, since the fix differs.
    pub(crate) kind: CredentialKind,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    type_key: Option<String>,
}

/// The least-privilege PAT scopes, as the PAT page names them.
pub(crate) const PAT_SCOPES: &str =
    "Code (Read), Code (Status) and Pull Request Threads (Read & write); on Azure DevOps Server 2019/2020, Code (Read & write)";

/// Explains a response that did not succeed (or "succeeded" with a sign-in page).
pub(crate) fn explain(resp: &Response, ctx: &Context, names: &AzdoNames) -> Error {
    let (status, content_type, body) = (resp.status, resp.content_type.as_deref(), resp.body.as_slice());
    let (service_error_header, location) = (resp.header("x-tfs-serviceerror"), resp.header("location"));
    let kind = ctx.kind;
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let header_msg = service_error_header.map(|h| crate::net::url::decode(h, true));
    // One line: it lands in messages whose own line breaks separate list items.
    let message = crate::text::visible(&parsed.message.clone().or(header_msg).unwrap_or_default());
    let type_key = parsed.type_key.clone().unwrap_or_default();
    let is_json = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    let credentials = |message: String| Error::Credentials { service: Service::AzureDevOps, message };
    let api = |message: String| Error::Api { service: Service::AzureDevOps, message };
    let action = &ctx.action;

    if (200..300).contains(&status) && !is_json {
        return credentials(match kind {
            CredentialKind::Pat => format!(
                "Azure DevOps answered with a sign-in page instead of data (HTTP {status}) while trying to {action}: the PAT in {} is invalid, expired or revoked. PATs stop working on the expiry date chosen when they were created, and Azure DevOps revokes the PATs of users who have not signed in for 30 days. Create a new PAT with the scopes {PAT_SCOPES}, store it as a secret and update {}",
                names.pat, names.pat
            ),
            CredentialKind::JobToken => format!(
                "Azure DevOps answered with a sign-in page instead of data (HTTP {status}) while trying to {action}: the job's access token was not accepted. To provide it, {}",
                names.job_token
            ),
        });
    }
    let unavailable = |message: String| Error::Unavailable { service: Service::AzureDevOps, message };
    match status {
        300..=399 => api(format!(
            "Azure DevOps redirected the request to {} (HTTP {status}) while trying to {action}: the collection URL is not the one the server answers on, or a sign-in page is in the way. Use the collection URL exactly as the agent gives it, e.g. https://dev.azure.com/<organization>/, in {}",
            location.unwrap_or("another address"),
            names.collection_url
        )),
        401 if message.to_ascii_lowercase().contains("expired") => credentials(format!(
            "the PAT has expired (HTTP 401 while trying to {action}: {message}). Create a new PAT with the scopes {PAT_SCOPES}, or extend this one (User settings > Personal access tokens > Edit), and update {}",
            names.pat
        )),
        401 => credentials(match kind {
            CredentialKind::Pat => format!(
                "the PAT was not authorized to {action} (HTTP 401{}). It lacks a scope, or it belongs to another organization. Give it {PAT_SCOPES}, or {}",
                suffix(&message),
                names.use_job_token
            ),
            CredentialKind::JobToken => format!(
                "the job's access token was not authorized to {action} (HTTP 401{}). If this pipeline's job authorization scope is limited to the current project, the repository must be in the same project, or set {}",
                suffix(&message),
                names.pat
            ),
        }),
        403 => {
            let permission = if message.contains("TF401027") || message.contains("PullRequestContribute") {
                "the 'Contribute to pull requests' permission on the repository"
            } else {
                "a permission this action needs"
            };
            credentials(match kind {
                CredentialKind::JobToken => format!(
                    "the job's access token lacks {permission} (HTTP 403 while trying to {action}{}). Grant 'Contribute to pull requests' to the '{} Build Service ({})' identity (or 'Project Collection Build Service ({})' when the job's authorization scope is the collection): Project settings > Repositories > {} > Security",
                    suffix(&message),
                    ctx.project,
                    ctx.organization,
                    ctx.organization,
                    ctx.repository
                ),
                CredentialKind::Pat => format!(
                    "the PAT's account lacks {permission} (HTTP 403 while trying to {action}{}). Grant the account 'Contribute to pull requests' on repository {} (Project settings > Repositories > Security); an account with Stakeholder access has no access to code at all and needs a Basic access level",
                    suffix(&message),
                    ctx.repository
                ),
            })
        }
        404 => {
            let what = if type_key.contains("PullRequestNotFound") || message.contains("TF401180") {
                format!(
                    "pull request {} was not found in repository {}",
                    ctx.pull_request.map_or("?".to_string(), |p| p.to_string()),
                    ctx.repository
                )
            } else if type_key.contains("GitRepositoryNotFound") || message.contains("TF401019") {
                format!("repository {} was not found in project {} (or the credential may not see it)", ctx.repository, ctx.project)
            } else if type_key.contains("ProjectDoesNotExist") || message.contains("VS800075") || message.contains("TF200016") {
                format!("project {} was not found (or the credential may not see it)", ctx.project)
            } else {
                format!("the resource was not found{}", suffix(&message))
            };
            api(format!(
                "{what} (HTTP 404 while trying to {action}). Check {}, the project and repository, and that the credential has access to them",
                names.collection_url
            ))
        }
        429 => unavailable(format!(
            "Azure DevOps is rate-limiting this pipeline (HTTP 429 while trying to {action}{}); it kept refusing after the retries. Run again later",
            suffix(&message)
        )),
        500..=599 => unavailable(format!(
            "Azure DevOps failed to {action} (HTTP {status}{}) and kept failing after the retries; see https://status.dev.azure.com, or run again later",
            suffix(&message)
        )),
        _ => api(format!("could not {action}: HTTP {status}{}", suffix(&message))),
    }
}

fn suffix(message: &str) -> String {
    if message.is_empty() { String::new() } else { format!(": {message}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        with(CredentialKind::Pat)
    }

    fn with(kind: CredentialKind) -> Context {
        Context {
            action: "read pull request 7".into(),
            organization: "fabrikam".into(),
            project: "Fabrikam".into(),
            repository: "web".into(),
            pull_request: Some(7),
            kind,
        }
    }

    fn names() -> AzdoNames {
        let task = crate::settings::InputNames::task();
        task.azdo()
    }

    /// A response with these parts, explained.
    fn explain_parts(
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        service_error: Option<&str>,
        location: Option<&str>,
        ctx: &Context,
        names: &AzdoNames,
    ) -> Error {
        let headers = [("X-TFS-ServiceError", service_error), ("Location", location)];
        let headers = headers.into_iter().filter_map(|(k, v)| Some((k.to_string(), v?.to_string()))).collect();
        explain(&Response { status, content_type: content_type.map(str::to_string), headers, body: body.to_vec() }, ctx, names)
    }

    fn msg(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn sign_in_page_means_a_bad_pat() {
        let m = msg(explain_parts(203, Some("text/html; charset=utf-8"), b"<html>Sign in</html>", None, None, &ctx(), &names()));
        assert!(m.starts_with("Azure DevOps: Azure DevOps answered with a sign-in page instead of data (HTTP 203)"), "{m}");
        assert!(m.contains("invalid, expired or revoked") && m.contains("30 days"));
    }

    #[test]
    fn expired_pat_is_named() {
        let body = br#"{"message":"Access Denied: The Personal Access Token used has expired.","typeKey":"AccessCheckException"}"#;
        let m = msg(explain_parts(401, Some("application/json"), body, None, None, &ctx(), &names()));
        assert!(m.contains("the PAT has expired"), "{m}");
        // Some answers carry the reason only in X-TFS-ServiceError.
        let m = msg(explain_parts(
            401,
            Some("text/plain"),
            b"",
            Some("Access%20Denied%3A%20The%20Personal%20Access%20Token%20used%20has%20expired."),
            None,
            &ctx(),
            &names(),
        ));
        assert!(m.contains("the PAT has expired"), "{m}");
    }

    #[test]
    fn plain_401_names_scopes() {
        let body =
            br#"{"message":"TF400813: The user '' is not authorized to access this resource.","typeKey":"UnauthorizedRequestException"}"#;
        let m = msg(explain_parts(401, Some("application/json"), body, None, None, &ctx(), &names()));
        assert!(m.contains("Code (Read), Code (Status) and Pull Request Threads (Read & write)"), "{m}");
    }

    #[test]
    fn tf401027_tells_each_credential_what_to_grant() {
        let body = br#"{"message":"TF401027: You need the Git 'PullRequestContribute' permission to perform this action.","typeKey":"GitNeedsPermissionException"}"#;
        let job = msg(explain_parts(403, Some("application/json"), body, None, None, &with(CredentialKind::JobToken), &names()));
        assert!(job.contains("Grant 'Contribute to pull requests' to the 'Fabrikam Build Service (fabrikam)' identity"), "{job}");
        let pat = msg(explain_parts(403, Some("application/json"), body, None, None, &ctx(), &names()));
        assert!(pat.contains("Stakeholder access"), "{pat}");
    }

    #[test]
    fn not_found_names_the_missing_thing() {
        let pr = br#"{"message":"TF401180: The requested pull request was not found.","typeKey":"GitPullRequestNotFoundException"}"#;
        assert!(
            msg(explain_parts(404, Some("application/json"), pr, None, None, &ctx(), &names()))
                .contains("pull request 7 was not found in repository web")
        );
        let repo = br#"{"message":"TF401019: The Git repository with name or identifier web does not exist","typeKey":"GitRepositoryNotFoundException"}"#;
        assert!(
            msg(explain_parts(404, Some("application/json"), repo, None, None, &ctx(), &names()))
                .contains("repository web was not found in project Fabrikam")
        );
        let project = br#"{"message":"VS800075: The project with id 'x' does not exist","typeKey":"ProjectDoesNotExistWithNameException"}"#;
        assert!(
            msg(explain_parts(404, Some("application/json"), project, None, None, &ctx(), &names()))
                .contains("project Fabrikam was not found")
        );
    }
}
