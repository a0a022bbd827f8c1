//! `refresh`: what to refresh, and whether SonarQube's result is of the pull request as it is now.
//! A webhook's payload (or the flags) only point at a project and a pull request; everything posted
//! is read again from SonarQube with the task's own token. What a payload may decide is therefore
//! only whether to do anything at all, and a refresh goes ahead only when the analysis SonarQube
//! holds is of the pull request's latest push: a result posted on a newer push would vouch for
//! code SonarQube never saw.

use crate::azdo::model::{Iteration, PullRequest};
use crate::pipeline::time::parse_agent_time;
use crate::sonar::Scope;
use crate::sonar::webhook::WebhookPayload;

/// What a refresh is asked for, from the flags or a webhook's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Asked {
    pub(crate) project_key: String,
    pub(crate) scope: Scope,
    /// The Azure DevOps pull request (a SonarQube pull request's key is its id).
    pub(crate) pull_request: Option<u32>,
    /// The analysed commit, when known (the payload's `revision`, or the analysed-commit flag).
    pub(crate) revision: Option<String>,
    /// When SonarQube analysed it (the payload's `analysedAt`).
    pub(crate) analysed_at: Option<String>,
}

/// Reads what a webhook asks for; `Err` says why it asks for nothing this task does (the run then
/// does nothing, and says so). `projects` are the keys this pipeline refreshes (`projectKey`);
/// empty means any.
pub(crate) fn asked_by_webhook(payload: &WebhookPayload, projects: &[String]) -> Result<Asked, String> {
    let key = payload.project.as_ref().map(|p| p.key.trim()).unwrap_or_default();
    if key.is_empty() {
        return Err("the webhook's payload names no project".into());
    }
    if !crate::sonar::is_project_key(key) {
        return Err(format!("the webhook names '{}', which is not a SonarQube project key", crate::text::visible(key)));
    }
    if !projects.is_empty() && !projects.iter().any(|p| p == key) {
        return Err(format!(
            "the webhook is for project '{key}', which this pipeline does not refresh (it refreshes {})",
            projects.join(", ")
        ));
    }
    if let Some(status) = payload.status.as_deref().filter(|s| *s != "SUCCESS") {
        return Err(format!(
            "SonarQube says the analysis of '{key}' ended {}: there is no new result to post (the pipeline that ran it reports the failure)",
            crate::text::visible(status)
        ));
    }
    let (scope, pull_request) = match &payload.branch {
        Some(b) if b.kind == "PULL_REQUEST" => match b.name.trim().parse::<u32>() {
            Ok(id) if id > 0 => (Scope::PullRequest(id.to_string()), Some(id)),
            _ => {
                return Err(format!(
                    "the webhook is for SonarQube pull request '{}' of '{key}', which is not an Azure DevOps pull request id (the analysis was not of an Azure Repos pull request)",
                    crate::text::visible(&b.name)
                ));
            }
        },
        Some(b) if b.is_main => (Scope::Main, None),
        Some(b) if !b.name.trim().is_empty() => (Scope::Branch(b.name.trim().to_string()), None),
        _ => (Scope::Main, None),
    };
    let revision = payload.revision.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = revision.filter(|r| !is_commit_id(r)) {
        return Err(format!("the webhook's revision '{}' is not a commit id", crate::text::visible(r)));
    }
    Ok(Asked {
        project_key: key.to_string(),
        scope,
        pull_request,
        revision: revision.map(str::to_ascii_lowercase),
        analysed_at: payload.analysed_at.clone(),
    })
}

/// A full or abbreviated hexadecimal commit id (SHA-1 or SHA-256).
pub(crate) fn is_commit_id(text: &str) -> bool {
    (7..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// The pull request a branch or main-branch analysis of `revision` was of: the active one whose
/// merge commit (a PR build analyses `refs/pull/N/merge`) or source commit is that commit. `Err`
/// says why there is none, or that several are (nothing is guessed).
pub(crate) fn pull_request_of_commit(revision: Option<&str>, active: &[PullRequest], scope: &Scope) -> Result<u32, String> {
    let Some(revision) = revision else {
        return Err(format!("the analysis of {} names no commit, so no pull request can be told to be its", scope_words(scope)));
    };
    let same = |c: &Option<crate::azdo::model::CommitRef>| c.as_ref().is_some_and(|c| c.commit_id.eq_ignore_ascii_case(revision));
    let found: Vec<u32> =
        active.iter().filter(|p| same(&p.last_merge_commit) || same(&p.last_merge_source_commit)).map(|p| p.pull_request_id).collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "no active pull request of this repository is at commit {revision} (the analysis of {}): it was not a pull request build's, or the pull request has moved on",
            scope_words(scope)
        )),
        many => Err(format!("{} active pull requests are at commit {revision}; give the one to post to", many.len())),
    }
}

/// The pull request's latest push, which a refreshed result goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Current {
    pub(crate) iteration: u32,
    pub(crate) source_commit: String,
    /// Why the analysis is taken to be of it, for the log.
    pub(crate) why: String,
}

/// Whether SonarQube's result is of the pull request as it is now: its analysed commit is the
/// latest iteration's source commit or the PR's current merge commit (what a PR build checks
/// out); or, with no commit known, it was analysed after the latest push. `analysis_date` is
/// SonarQube's date of the scope's latest analysis, read when the request names no commit.
pub(crate) fn current_push(
    asked: &Asked,
    pull_request: &PullRequest,
    iterations: &[Iteration],
    analysis_date: Option<&str>,
) -> Result<Current, String> {
    let id = pull_request.pull_request_id;
    if let Some(status) = pull_request.status.as_deref().filter(|s| *s != "active") {
        return Err(format!("pull request {id} is {}: nothing to refresh", crate::text::visible(status)));
    }
    let Some(latest) = iterations.iter().max_by_key(|i| i.id) else {
        return Err(format!("pull request {id} has no iterations yet"));
    };
    let Some(source) = latest.source_ref_commit.as_ref().map(|c| c.commit_id.to_ascii_lowercase()) else {
        return Err(format!("iteration {} of pull request {id} names no source commit", latest.id));
    };
    let merge = pull_request.last_merge_commit.as_ref().map(|c| c.commit_id.to_ascii_lowercase());
    let current = |why: String| Ok(Current { iteration: latest.id, source_commit: source.clone(), why });
    if let Some(revision) = &asked.revision {
        let same = |commit: &str| commit.starts_with(revision.as_str()) || revision.starts_with(commit);
        if same(&source) {
            return current(format!(
                "SonarQube's analysis is of {revision}, the source commit of iteration {}, the latest push",
                latest.id
            ));
        }
        if merge.as_deref().is_some_and(same) {
            return current(format!(
                "SonarQube's analysis is of {revision}, the pull request's merge commit for iteration {}, the latest push",
                latest.id
            ));
        }
        return Err(format!(
            "SonarQube's analysis of '{}' is of commit {revision}, but pull request {id} is now at iteration {} (source {source}{}): the result is not of the pull request as it is now, so nothing is posted. The build of the latest push posts its own result (if the target branch moved since, a new build of the pull request brings SonarQube up to date)",
            asked.project_key,
            latest.id,
            merge.map(|m| format!(", merge commit {m}")).unwrap_or_default()
        ));
    }
    let pushed = latest.created_date.as_deref().and_then(parse_agent_time);
    let analysed = analysis_date.and_then(parse_agent_time);
    match (analysed, pushed) {
        (Some(a), Some(p)) if a >= p => current(format!(
            "SonarQube analysed it at {} (its clock), after iteration {}, the latest push, at {}",
            crate::text::visible(analysis_date.unwrap_or_default()),
            latest.id,
            crate::text::visible(latest.created_date.as_deref().unwrap_or_default())
        )),
        (Some(_), Some(_)) => Err(format!(
            "SonarQube's latest analysis of {} was at {}, before iteration {} was pushed at {}: it is not of the pull request as it is now, so nothing is posted. The build of that push posts its own result",
            scope_words(&asked.scope),
            crate::text::visible(analysis_date.unwrap_or_default()),
            latest.id,
            crate::text::visible(latest.created_date.as_deref().unwrap_or_default())
        )),
        _ => Err(format!(
            "SonarQube does not say when {} was analysed, and no analysed commit was given, so it cannot be told to be of the latest push (iteration {}); give the analysed commit",
            scope_words(&asked.scope),
            latest.id
        )),
    }
}

/// The scope in words for messages: "pull request 42", "branch 'feature/x'", "the main branch".
pub(crate) fn scope_words(scope: &Scope) -> String {
    match scope {
        Scope::PullRequest(id) => format!("pull request {id}"),
        Scope::Branch(name) => format!("branch '{}'", crate::text::visible(name)),
        Scope::Main => "the main branch".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sonar::webhook::parse;

    fn payload(json: &str) -> WebhookPayload {
        parse(json.as_bytes()).unwrap()
    }

    fn pr(status: &str, merge: Option<&str>) -> PullRequest {
        serde_json::from_value(serde_json::json!({"pullRequestId": 42, "status": status, "lastMergeCommit": merge.map(|m| serde_json::json!({"commitId": m}))})).unwrap()
    }

    fn iteration(id: u32, commit: &str, pushed: &str) -> Iteration {
        serde_json::from_value(serde_json::json!({"id": id, "sourceRefCommit": {"commitId": commit}, "createdDate": pushed})).unwrap()
    }

    #[test]
    fn a_webhook_names_a_project_and_a_pull_request_or_says_why_it_asks_for_nothing() {
        let pr_hook = r#"{"taskId":"T1","status":"SUCCESS","revision":"ABCDEF1234567","project":{"key":"shop"},"branch":{"name":"42","type":"PULL_REQUEST","isMain":false}}"#;
        let asked = asked_by_webhook(&payload(pr_hook), &[]).unwrap();
        assert_eq!(asked.scope, Scope::PullRequest("42".into()));
        assert_eq!((asked.pull_request, asked.revision.as_deref()), (Some(42), Some("abcdef1234567")));
        assert!(asked_by_webhook(&payload(pr_hook), &["shop".into()]).is_ok());
        let other = asked_by_webhook(&payload(pr_hook), &["web".into()]).unwrap_err();
        assert!(other.contains("project 'shop', which this pipeline does not refresh (it refreshes web)"), "{other}");
        let failed = r#"{"taskId":"T1","status":"FAILED","project":{"key":"shop"},"branch":{"name":"42","type":"PULL_REQUEST"}}"#;
        assert!(asked_by_webhook(&payload(failed), &[]).unwrap_err().contains("ended FAILED"));
        let github = r#"{"project":{"key":"shop"},"branch":{"name":"feature/x","type":"PULL_REQUEST"}}"#;
        assert!(asked_by_webhook(&payload(github), &[]).unwrap_err().contains("not an Azure DevOps pull request id"));
        let branch = r#"{"project":{"key":"shop"},"branch":{"name":"feature/x","type":"BRANCH","isMain":false}}"#;
        assert_eq!(asked_by_webhook(&payload(branch), &[]).unwrap().scope, Scope::Branch("feature/x".into()));
        let main = r#"{"project":{"key":"shop"},"branch":{"name":"main","type":"BRANCH","isMain":true}}"#;
        assert_eq!(asked_by_webhook(&payload(main), &[]).unwrap().scope, Scope::Main);
        assert!(asked_by_webhook(&payload(r#"{"project":{"key":"sh op"}}"#), &[]).unwrap_err().contains("not a SonarQube project key"));
        assert!(asked_by_webhook(&payload("{}"), &[]).unwrap_err().contains("names no project"));
        let hostile = r###"{"project":{"key":"shop"},"revision":"##vso[task.complete result=Succeeded]"}"###;
        // Refused; the log makes the quoted text inert (`Log::inert`).
        assert!(asked_by_webhook(&payload(hostile), &[]).unwrap_err().ends_with("is not a commit id"));
    }

    #[test]
    fn a_branch_analysis_belongs_to_the_one_active_pull_request_at_its_commit() {
        let active: Vec<PullRequest> = serde_json::from_value(serde_json::json!([
            {"pullRequestId": 7, "lastMergeCommit": {"commitId": "aaaa111"}, "lastMergeSourceCommit": {"commitId": "bbbb222"}},
            {"pullRequestId": 8, "lastMergeCommit": {"commitId": "cccc333"}, "lastMergeSourceCommit": {"commitId": "bbbb222"}},
        ]))
        .unwrap();
        assert_eq!(pull_request_of_commit(Some("AAAA111"), &active, &Scope::Main), Ok(7));
        assert!(
            pull_request_of_commit(Some("bbbb222"), &active, &Scope::Main)
                .unwrap_err()
                .starts_with("2 active pull requests are at commit bbbb222")
        );
        assert!(pull_request_of_commit(Some("dddd444"), &active, &Scope::Main).unwrap_err().contains("no active pull request"));
        assert!(pull_request_of_commit(None, &active, &Scope::Branch("x".into())).unwrap_err().contains("names no commit"));
    }

    #[test]
    fn a_result_goes_on_the_latest_push_only_when_it_is_of_that_push() {
        let its = [iteration(1, "aaaaaaa1", "2026-11-20T10:00:00Z"), iteration(2, "bbbbbbb2", "2026-11-20T12:00:00Z")];
        let asked = |revision: Option<&str>| Asked {
            project_key: "shop".into(),
            scope: Scope::PullRequest("42".into()),
            pull_request: Some(42),
            revision: revision.map(str::to_string),
            analysed_at: None,
        };
        let ok = current_push(&asked(Some("bbbbbbb2")), &pr("active", None), &its, None).unwrap();
        assert_eq!((ok.iteration, ok.source_commit.as_str()), (2, "bbbbbbb2"));
        let merged = current_push(&asked(Some("cccccc3")), &pr("active", Some("CCCCCC3")), &its, None).unwrap();
        assert!(merged.why.contains("merge commit"), "{}", merged.why);
        let old = current_push(&asked(Some("aaaaaaa1")), &pr("active", Some("cccccc3")), &its, None).unwrap_err();
        assert!(old.contains("is now at iteration 2 (source bbbbbbb2, merge commit cccccc3)"), "{old}");
        // No commit: SonarQube's date against the push's.
        assert!(
            current_push(&asked(None), &pr("active", None), &its, Some("2026-11-20T12:30:00+0100")).is_err(),
            "11:30Z is before the push at 12:00Z"
        );
        assert!(current_push(&asked(None), &pr("active", None), &its, Some("2026-11-20T12:30:00+0000")).is_ok());
        assert!(current_push(&asked(None), &pr("active", None), &its, None).unwrap_err().contains("give the analysed commit"));
        assert!(current_push(&asked(None), &pr("completed", None), &its, None).unwrap_err().contains("pull request 42 is completed"));
        assert!(current_push(&asked(None), &pr("active", None), &[], None).unwrap_err().contains("no iterations"));
    }
}
