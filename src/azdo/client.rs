//! Calls to the Azure DevOps REST API for one repository's pull requests, on Services and Server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::failure::{self, Context, CredentialKind};
use super::model::*;
use crate::error::{Error, Service};
use crate::http::{Auth, HttpClient, Method, Request, Response};
use crate::settings::AzdoCredential;

/// api-versions from newest to oldest: (general, PR statuses). Statuses stayed `-preview` until 7.0.
const API_VERSIONS: [(&str, &str); 5] =
    [("7.1", "7.1"), ("7.0", "7.0"), ("6.0", "6.0-preview.1"), ("5.1", "5.1-preview.1"), ("5.0", "5.0-preview.1")];

pub struct AzdoClient {
    http: Arc<HttpClient>,
    collection: String,
    project: String,
    repository: String,
    auth: Auth,
    kind: CredentialKind,
    /// Index into `API_VERSIONS`; lowered once when the server says a version is out of range.
    api: AtomicUsize,
}

impl AzdoClient {
    pub fn new(http: Arc<HttpClient>, collection_url: &str, project: &str, repository: &str, credential: &AzdoCredential) -> Self {
        let collection = collection_url.trim_end_matches('/').to_string();
        let (auth, kind) = match credential {
            AzdoCredential::JobToken(t) => (Auth::bearer(&collection, t), CredentialKind::JobToken),
            AzdoCredential::Pat(p) => (Auth::basic(&collection, "", p), CredentialKind::Pat),
        };
        Self { http, collection, project: project.to_string(), repository: repository.to_string(), auth, kind, api: AtomicUsize::new(0) }
    }

    pub fn credential_kind(&self) -> CredentialKind {
        self.kind
    }

    /// The api-version in use, e.g. "7.1".
    pub fn api_version(&self) -> &'static str {
        API_VERSIONS[self.api.load(Ordering::Relaxed)].0
    }

    fn repo_base(&self) -> String {
        format!(
            "{}/{}/_apis/git/repositories/{}",
            self.collection,
            crate::percent::encode(&self.project),
            crate::percent::encode(&self.repository)
        )
    }

    fn pr_base(&self, pr: u32) -> String {
        format!("{}/pullRequests/{pr}", self.repo_base())
    }

    fn context(&self, action: String, pr: Option<u32>) -> Context {
        Context {
            action,
            organization: organization_of(&self.collection),
            project: self.project.clone(),
            repository: self.repository.clone(),
            pull_request: pr,
        }
    }

    /// Sends with the current api-version, stepping down once per out-of-range answer.
    fn send(&self, method: Method, url: &str, status_api: bool, body: Option<&Value>, ctx: Context) -> Result<Response, Error> {
        loop {
            let index = self.api.load(Ordering::Relaxed);
            let version = if status_api { API_VERSIONS[index].1 } else { API_VERSIONS[index].0 };
            let sep = if url.contains('?') { '&' } else { '?' };
            let full = format!("{url}{sep}api-version={version}");
            let mut request = Request::get(full, Some(&self.auth)).header("X-TFS-FedAuthRedirect", "Suppress");
            if let Some(body) = body {
                request = request.with_json(method, body);
            }
            let resp = self.http.send(&request).map_err(|source| Error::Transport { service: Service::AzureDevOps, source })?;
            if resp.status == 400 && is_version_out_of_range(&resp) && index + 1 < API_VERSIONS.len() {
                // Another thread may have stepped down already; only move forward from what we used.
                let _ = self.api.compare_exchange(index, index + 1, Ordering::Relaxed, Ordering::Relaxed);
                continue;
            }
            if (200..300).contains(&resp.status) && (resp.is_json() || resp.status == 204) {
                return Ok(resp);
            }
            return Err(failure::explain(
                resp.status,
                resp.content_type.as_deref(),
                &resp.body,
                resp.header("x-tfs-serviceerror"),
                resp.header("location"),
                self.kind,
                &ctx,
            ));
        }
    }

    fn get_json<T: DeserializeOwned>(&self, url: &str, ctx: Context) -> Result<T, Error> {
        let action = ctx.action.clone();
        let resp = self.send(Method::Get, url, false, None, ctx)?;
        resp.json()
            .map_err(|e| Error::Api { service: Service::AzureDevOps, message: format!("could not read the answer to '{action}': {e}") })
    }

    /// Who the credential is: the cheapest authenticated call, used by check mode.
    pub fn connection_data(&self) -> Result<ConnectionData, Error> {
        let url = format!("{}/_apis/connectionData?connectOptions=none&lastChangeId=-1", self.collection);
        let index = self.api.load(Ordering::Relaxed);
        let full = format!("{url}&api-version={}-preview.1", API_VERSIONS[index].0);
        let request = Request::get(full, Some(&self.auth)).header("X-TFS-FedAuthRedirect", "Suppress");
        let resp = self.http.send(&request).map_err(|source| Error::Transport { service: Service::AzureDevOps, source })?;
        let ctx = self.context("check who the credential is".to_string(), None);
        if resp.status == 200 && resp.is_json() {
            return resp
                .json()
                .map_err(|e| Error::Api { service: Service::AzureDevOps, message: format!("could not read connectionData: {e}") });
        }
        Err(failure::explain(
            resp.status,
            resp.content_type.as_deref(),
            &resp.body,
            resp.header("x-tfs-serviceerror"),
            resp.header("location"),
            self.kind,
            &ctx,
        ))
    }

    /// The repository (and so the project): the first read that needs Code (Read).
    pub fn repository(&self) -> Result<Repository, Error> {
        self.get_json(&self.repo_base(), self.context(format!("read repository {}", self.repository), None))
    }

    pub fn pull_request(&self, pr: u32) -> Result<PullRequest, Error> {
        self.get_json(&self.pr_base(pr), self.context(format!("read pull request {pr}"), Some(pr)))
    }

    pub fn iterations(&self, pr: u32) -> Result<Vec<Iteration>, Error> {
        let list: ValueList<Iteration> = self.get_json(
            &format!("{}/iterations", self.pr_base(pr)),
            self.context(format!("list the iterations of pull request {pr}"), Some(pr)),
        )?;
        Ok(list.value)
    }

    /// Every file the PR changes at an iteration, against the merge base, paging through them.
    pub fn iteration_changes(&self, pr: u32, iteration: u32) -> Result<Vec<ChangeEntry>, Error> {
        let mut all = Vec::new();
        let mut skip = 0u32;
        loop {
            let url = format!("{}/iterations/{iteration}/changes?$top=2000&$skip={skip}&$compareTo=0", self.pr_base(pr));
            let page: IterationChanges =
                self.get_json(&url, self.context(format!("list the files pull request {pr} changes"), Some(pr)))?;
            let got = page.change_entries.len() as u32;
            all.extend(page.change_entries);
            // The service says where the next page starts; 0 (or an empty page) means the end.
            if page.next_skip == 0 || got == 0 {
                break;
            }
            skip = page.next_skip;
        }
        Ok(all)
    }

    /// Line diffs of files between two commits, 100 files a request.
    pub fn file_diffs(
        &self,
        base: &str,
        target: &str,
        paths: &[(String, Option<String>)],
    ) -> Result<std::collections::BTreeMap<String, crate::changes::FileDiff>, Error> {
        let mut out = std::collections::BTreeMap::new();
        for chunk in paths.chunks(100) {
            let params: Vec<Value> =
                chunk.iter().map(|(p, o)| serde_json::json!({"path": p, "originalPath": o.as_deref().unwrap_or(p)})).collect();
            let body = serde_json::json!({"baseVersionCommit": base, "targetVersionCommit": target, "fileDiffParams": params});
            let resp = self.send(
                Method::Post,
                &format!("{}/FileDiffs", self.repo_base()),
                false,
                Some(&body),
                self.context("read the pull request's line diffs".to_string(), None),
            )?;
            // The service answers a bare array; accept a {count, value} wrapper too.
            let value: Value = resp
                .json()
                .map_err(|e| Error::Api { service: Service::AzureDevOps, message: format!("could not read the file diffs: {e}") })?;
            let list = value.get("value").cloned().unwrap_or(value);
            let diffs: Vec<FileDiffResponse> = serde_json::from_value(list)
                .map_err(|e| Error::Api { service: Service::AzureDevOps, message: format!("could not read the file diffs: {e}") })?;
            for d in diffs {
                let Some(path) = d.path else { continue };
                let blocks = d
                    .line_diff_blocks
                    .iter()
                    .filter(|b| b.change_type != "none" && b.change_type != 0)
                    .map(|b| crate::changes::Block {
                        original_start: b.original_line_number_start,
                        original_count: b.original_lines_count,
                        modified_start: b.modified_line_number_start,
                        modified_count: b.modified_lines_count,
                    })
                    .collect();
                let path = if path.starts_with('/') { path } else { format!("/{path}") };
                out.insert(path, crate::changes::FileDiff { blocks });
            }
        }
        Ok(out)
    }

    pub fn threads(&self, pr: u32) -> Result<Vec<Thread>, Error> {
        let list: ValueList<Thread> = self.get_json(
            &format!("{}/threads", self.pr_base(pr)),
            self.context(format!("list the comment threads of pull request {pr}"), Some(pr)),
        )?;
        Ok(list.value)
    }

    /// The PR's statuses, to check whether a status POST that failed was applied after all.
    pub fn statuses(&self, pr: u32) -> Result<Vec<Value>, Error> {
        let list: ValueList<Value> = self.get_json(
            &format!("{}/statuses", self.pr_base(pr)),
            self.context(format!("list the statuses of pull request {pr}"), Some(pr)),
        )?;
        Ok(list.value)
    }

    pub fn post_status(&self, pr: u32, body: &Value) -> Result<(), Error> {
        self.send(
            Method::Post,
            &format!("{}/statuses", self.pr_base(pr)),
            true,
            Some(body),
            self.context(format!("post a status on pull request {pr}"), Some(pr)),
        )?;
        Ok(())
    }

    pub fn create_thread(&self, pr: u32, body: &Value) -> Result<Thread, Error> {
        let resp = self.send(
            Method::Post,
            &format!("{}/threads", self.pr_base(pr)),
            false,
            Some(body),
            self.context(format!("create a comment thread on pull request {pr}"), Some(pr)),
        )?;
        resp.json().map_err(|e| Error::Api { service: Service::AzureDevOps, message: format!("could not read the created thread: {e}") })
    }

    pub fn set_thread_status(&self, pr: u32, thread: u64, status: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "status": status });
        self.send(
            Method::Patch,
            &format!("{}/threads/{thread}", self.pr_base(pr)),
            false,
            Some(&body),
            self.context(format!("update thread {thread} on pull request {pr}"), Some(pr)),
        )?;
        Ok(())
    }

    pub fn update_comment(&self, pr: u32, thread: u64, comment: u64, content: &str) -> Result<(), Error> {
        // Only the content: echoing read-only fields back fails ("An author of a comment cannot be updated").
        let body = serde_json::json!({ "content": content });
        self.send(
            Method::Patch,
            &format!("{}/threads/{thread}/comments/{comment}", self.pr_base(pr)),
            false,
            Some(&body),
            self.context(format!("update the summary comment on pull request {pr}"), Some(pr)),
        )?;
        Ok(())
    }

    pub fn add_comment(&self, pr: u32, thread: u64, content: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "content": content, "parentCommentId": 1, "commentType": 1 });
        self.send(
            Method::Post,
            &format!("{}/threads/{thread}/comments", self.pr_base(pr)),
            false,
            Some(&body),
            self.context(format!("reply in thread {thread} on pull request {pr}"), Some(pr)),
        )?;
        Ok(())
    }
}

/// The organization in `https://dev.azure.com/{org}` or `https://{org}.visualstudio.com`, or the
/// collection in an Azure DevOps Server URL (`https://host/tfs/{collection}`).
pub fn organization_of(collection_url: &str) -> String {
    let rest = collection_url.split_once("://").map_or(collection_url, |(_, r)| r);
    let mut parts = rest.split('/').filter(|s| !s.is_empty());
    let host = parts.next().unwrap_or("").to_ascii_lowercase();
    let last = rest.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if host == "dev.azure.com" {
        parts.next().unwrap_or("").to_string()
    } else if let Some(org) = host.strip_suffix(".visualstudio.com") {
        org.to_string()
    } else if last.contains('.') || last.contains(':') || last.is_empty() {
        host
    } else {
        last.to_string()
    }
}

fn is_version_out_of_range(resp: &Response) -> bool {
    let text = resp.text();
    text.contains("VssVersionOutOfRangeException") || text.contains("is out of range for this server")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organization_from_every_url_form() {
        assert_eq!(organization_of("https://dev.azure.com/fabrikam/"), "fabrikam");
        assert_eq!(organization_of("https://fabrikam.visualstudio.com/"), "fabrikam");
        assert_eq!(organization_of("https://tfs.corp.example/tfs/DefaultCollection/"), "DefaultCollection");
        assert_eq!(organization_of("https://ado.corp.example/Main"), "Main");
    }
}
