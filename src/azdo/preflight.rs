//! The Azure DevOps half of the preflight: who the credential is, and whether it can read the pull
//! request, its iterations and its threads. Check mode writes nothing, so write scopes are never
//! tried: that check is listed as skipped, with why.

use super::client::{AzdoClient, Credential};
use super::failure::PAT_SCOPES;
use crate::checklist::Check;
use crate::error::Error;

/// Verifies the credential, then (given a pull request) each read the task makes, in order. Each
/// needs the one before, so after a failure the rest are listed as skipped, saying why.
pub(crate) fn check(client: &AzdoClient, credential: &Credential, pr: Option<u32>, checks: &mut Vec<Check>) -> Result<(), Error> {
    let identity = match client.connection_data() {
        Ok(cd) => {
            let who = cd
                .authenticated_user
                .as_ref()
                .and_then(|u| u.custom_display_name.clone().or(u.provider_display_name.clone()))
                .unwrap_or_else(|| "an unnamed identity".into());
            let deployment = cd.deployment_type.as_deref().unwrap_or("unknown deployment");
            let mut detail = format!("{} acting as {who} on {} ({deployment})", credential_kind(credential), client.collection_url());
            if matches!(credential, Credential::Pat(_)) {
                detail.push_str(&pat_advice(deployment == "hosted", &client.names().use_job_token));
            }
            checks.push(Check::pass("azdo.credential", "Azure DevOps credential accepted", detail));
            Ok(())
        }
        Err(e) => {
            checks.push(Check::fail("azdo.credential", "Azure DevOps credential rejected", e.detail()));
            Err(e)
        }
    };
    // Without a pull request the caller says why; there is nothing more to read.
    let Some(pr) = pr else { return identity };
    let reads: [(&'static str, &str, &str, ReadStep); 3] = [
        ("azdo.pullRequest", "Pull request readable", "Pull request not readable", &|c, pr| {
            c.pull_request(pr).map(|p| {
                format!(
                    "#{} '{}' ({})",
                    p.pull_request_id,
                    crate::text::visible(&p.title.unwrap_or_default()),
                    p.status.unwrap_or_default()
                )
            })
        }),
        ("azdo.iterations", "Iterations readable", "Iterations not readable", &|c, pr| {
            c.iterations(pr).map(|i| format!("{} iteration(s)", i.len()))
        }),
        ("azdo.threads", "Comment threads readable", "Comment threads not readable", &|c, pr| {
            c.threads(pr).map(|t| format!("{} thread(s)", t.len()))
        }),
    ];
    let mut result = identity;
    for (id, passed, failed, read) in reads {
        if result.is_err() {
            checks.push(Check::skip(id, passed, "not checked: an earlier Azure DevOps check failed".into()));
            continue;
        }
        match read(client, pr) {
            Ok(detail) => checks.push(Check::pass(id, passed, detail)),
            Err(e) => {
                checks.push(Check::fail(id, failed, e.detail()));
                result = Err(e);
            }
        }
    }
    checks.push(Check::skip(
        "azdo.write",
        "Permission to post",
        match credential {
            Credential::Pat(_) => format!("check mode writes nothing, so posting is not tried; the PAT needs {PAT_SCOPES}"),
            Credential::JobToken(_) => {
                "check mode writes nothing, so posting is not tried; the job's identity needs 'Contribute to pull requests' on the repository".into()
            }
        },
    ));
    result
}

type ReadStep<'a> = &'a dyn Fn(&AzdoClient, u32) -> Result<String, Error>;

/// What a PAT user should know, said once by `check`: when it expires cannot be read with the PAT
/// itself (the token lifecycle API takes a Microsoft Entra token, not a PAT), where to see it, that
/// on Azure DevOps Services it must be scoped to this organization (PATs for all accessible
/// organizations stopped working on 2026-12-01: Microsoft's "Retirement of global personal access
/// tokens"), and that the job's access token needs no rotation at all.
fn pat_advice(hosted: bool, use_job_token: &str) -> String {
    let scope = if hosted {
        " It must be scoped to this organization: PATs for all accessible organizations stopped working on 2026-12-01."
    } else {
        ""
    };
    format!(
        ". When it expires cannot be read with the PAT itself: its owner sees it under User settings > Personal access tokens, and should renew it before then.{scope} Or, with nothing to rotate, {use_job_token} (the build service needs Contribute to pull requests)"
    )
}

fn credential_kind(credential: &Credential) -> &'static str {
    match credential {
        Credential::JobToken(_) => "the job's access token",
        Credential::Pat(_) => "a PAT",
    }
}

#[cfg(test)]
mod tests {
    use super::pat_advice;

    /// The organization-scoped PAT is an Azure DevOps Services rule; a server has none of it.
    #[test]
    fn pat_advice_names_the_organization_scope_only_on_azure_devops_services() {
        let hosted = pat_advice(true, "leave azureDevOpsPat empty");
        assert!(hosted.contains("PATs for all accessible organizations stopped working on 2026-12-01"), "{hosted}");
        assert!(
            hosted
                .ends_with("Or, with nothing to rotate, leave azureDevOpsPat empty (the build service needs Contribute to pull requests)")
        );
        let server = pat_advice(false, "leave azureDevOpsPat empty");
        assert!(!server.contains("2026-12-01") && server.contains("User settings > Personal access tokens"), "{server}");
    }
}
