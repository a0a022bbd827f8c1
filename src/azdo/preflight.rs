//! The Azure DevOps half of the preflight: who the credential is, and whether it can read the pull
//! request, its iterations and its threads. Check mode writes nothing, so write scopes are only
//! named, never tried.

use super::client::{AzdoClient, Credential};
use super::failure::PAT_SCOPES;
use crate::checklist::Check;
use crate::error::Error;

/// Runs the checks in order; the first failure ends them (each later one needs the earlier).
pub fn check(client: &AzdoClient, credential: &Credential, pr: u32, checks: &mut Vec<Check>) -> Result<(), Error> {
    let step = |checks: &mut Vec<Check>, name: &str, r: Result<String, Error>| -> Result<(), Error> {
        match r {
            Ok(detail) => {
                checks.push(Check::pass(name, detail));
                Ok(())
            }
            Err(e) => {
                checks.push(Check::fail(name, e.to_string()));
                Err(e)
            }
        }
    };
    step(
        checks,
        "Azure DevOps credential",
        client.connection_data().map(|cd| {
            let who = cd
                .authenticated_user
                .as_ref()
                .and_then(|u| u.custom_display_name.clone().or(u.provider_display_name.clone()))
                .unwrap_or_else(|| "an unnamed identity".into());
            let kind = match credential {
                Credential::JobToken(_) => "the job's access token",
                Credential::Pat(_) => "a PAT",
            };
            let deployment = cd.deployment_type.as_deref().unwrap_or("unknown deployment");
            format!("{kind} acting as {who} on {} ({deployment})", client.collection_url())
        }),
    )?;
    step(
        checks,
        "Pull request readable",
        client
            .pull_request(pr)
            .map(|p| format!("#{} '{}' ({})", p.pull_request_id, p.title.unwrap_or_default(), p.status.unwrap_or_default())),
    )?;
    step(checks, "Iterations readable", client.iterations(pr).map(|i| format!("{} iteration(s)", i.len())))?;
    step(checks, "Threads readable", client.threads(pr).map(|t| format!("{} thread(s)", t.len())))?;
    if matches!(credential, Credential::Pat(_)) {
        checks.push(Check::pass(
            "PAT scopes needed to post",
            format!("{PAT_SCOPES} (scopes are only verified when posting; check mode writes nothing)"),
        ));
    }
    Ok(())
}
