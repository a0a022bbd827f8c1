//! Calls to the Azure DevOps REST API for one repository's pull requests, on Services and Server:
//! URLs, api-versions (stepping down once on an older server), and typed request bodies.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::failure::{self, AzdoNames, Context, CredentialKind};
use super::model::*;
use crate::changes::{Block, FileDiff};
use crate::error::{Error, Service};
use crate::net::url::encode;
use crate::net::{Auth, Client, Method, Request, Response};
use crate::secret::Secret;

/// api-versions from newest to oldest: (general, PR statuses). Statuses stayed `-preview` until 7.0.
const API_VERSIONS: [(&str, &str); 5] =
    [("7.1", "7.1"), ("7.0", "7.0"), ("6.0", "6.0-preview.1"), ("5.1", "5.1-preview.1"), ("5.0", "5.0-preview.1")];

/// Which api-version a resource takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    /// The released version (`7.1`).
    General,
    /// PR statuses: released from 7.0, `-preview.1` before.
    Status,
    /// A resource that is preview-only on every version: FileDiffs, which Microsoft's own clients
    /// call with `7.1-preview.1` (7.1 era) and `7.2-preview.1` (azure-devops-node-api 17); a
    /// released version is refused with 400 VssInvalidPreviewVersionException.
    Preview,
}

/// FileDiffs takes at most 10 files a request (Azure DevOps Server's `FileDiffsControllerMaxFileDiffs`,
/// default 10; more is answered 400 "Number of file diffs requested must be between 1 and 10").
const FILE_DIFFS_PER_REQUEST: usize = 10;
/// Pages of iteration changes read at most: 2 000 files a page, so 100 000 files.
const MAX_CHANGE_PAGES: usize = 50;
/// FileDiffs requests in flight at once.
const FILE_DIFFS_CONCURRENCY: usize = 4;

/// How the task authenticates to Azure DevOps.
#[derive(Clone, Debug)]
pub(crate) enum Credential {
    /// The job's access token, sent as Bearer.
    JobToken(Secret),
    /// A personal access token, sent as Basic with an empty user name.
    Pat(Secret),
}

impl Credential {
    pub(crate) fn kind(&self) -> CredentialKind {
        match self {
            Credential::JobToken(_) => CredentialKind::JobToken,
            Credential::Pat(_) => CredentialKind::Pat,
        }
    }
}

/// One repository of one project, where the pull requests are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RepositoryRef {
    /// `https://dev.azure.com/{org}` or a server's collection URL, without a trailing `/`.
    pub(crate) collection_url: String,
    pub(crate) project: String,
    /// The repository's name or id.
    pub(crate) repository: String,
}

pub(crate) struct AzdoClient {
    http: Arc<Client>,
    /// When every request of this client must be over.
    deadline: Option<Instant>,
    /// The setting the collection URL came from, for messages about reaching it.
    names: AzdoNames,
    repo: RepositoryRef,
    auth: Auth,
    kind: CredentialKind,
    /// Index into `API_VERSIONS`; lowered once when the server says a version is out of range.
    api: AtomicUsize,
    /// Whether an answer has shown which api-version the server takes. Until then requests go one
    /// at a time (`negotiation`): several in flight together would each be refused by the same
    /// version and each step down, so a refused version would cost a request per caller.
    api_known: AtomicBool,
    negotiation: Mutex<()>,
}

impl AzdoClient {
    pub(crate) fn new(http: Arc<Client>, repo: &RepositoryRef, credential: &Credential) -> Self {
        let collection = repo.collection_url.trim_end_matches('/').to_string();
        let auth = match credential {
            Credential::JobToken(t) => Auth::bearer(&collection, t),
            Credential::Pat(p) => Auth::basic(&collection, &Secret::new(""), p),
        };
        let repo = RepositoryRef { collection_url: collection, ..repo.clone() };
        Self {
            http,
            deadline: None,
            names: AzdoNames::default(),
            repo,
            auth,
            kind: credential.kind(),
            api: AtomicUsize::new(0),
            api_known: AtomicBool::new(false),
            negotiation: Mutex::new(()),
        }
    }

    /// Every request of this client over by `deadline`.
    pub(crate) fn until(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The server is Azure DevOps Services, which takes `API_VERSIONS[0]`: requests need not go one
    /// at a time until a first answer shows the version (an out-of-range answer still steps down).
    pub(crate) fn on_services(self, services: bool) -> Self {
        self.api_known.store(services, Ordering::Release);
        self
    }

    /// Whether requests may go together from the start (`on_services`, or a first answer came).
    pub(crate) fn api_version_known(&self) -> bool {
        self.api_known.load(Ordering::Acquire)
    }

    /// The names the user knows the settings by, for messages (the collection URL's source, the PAT's).
    pub(crate) fn named(mut self, names: AzdoNames) -> Self {
        self.names = names;
        self
    }

    /// The names the user knows the settings by.
    pub(crate) fn names(&self) -> &AzdoNames {
        &self.names
    }

    fn transport(&self, source: crate::error::TransportError) -> Error {
        Error::transport(Service::AzureDevOps, source, &self.names.collection_url)
    }

    pub(crate) fn collection_url(&self) -> &str {
        &self.repo.collection_url
    }

    fn repo_base(&self) -> String {
        format!("{}/{}/_apis/git/repositories/{}", self.repo.collection_url, encode(&self.repo.project), encode(&self.repo.repository))
    }

    fn pr_base(&self, pr: u32) -> String {
        format!("{}/pullRequests/{pr}", self.repo_base())
    }

    fn context(&self, action: String, pr: Option<u32>) -> Context {
        Context {
            action,
            organization: organization_of(&self.repo.collection_url),
            project: self.repo.project.clone(),
            repository: self.repo.repository.clone(),
            pull_request: pr,
            kind: self.kind,
        }
    }

    /// Sends with the current api-version; anything but a success (or a 204) is explained.
    fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        status_api: bool,
        body: Option<&B>,
        ctx: Context,
    ) -> Result<Response, Error> {
        let resp = self.exchange(method, url, if status_api { Api::Status } else { Api::General }, body)?;
        if (200..300).contains(&resp.status) && (resp.is_json() || resp.status == 204) {
            return Ok(resp);
        }
        Err(self.explain(&resp, &ctx))
    }

    /// Sends with the current api-version, stepping down once per out-of-range answer, and returns
    /// whatever came back.
    fn exchange<B: Serialize + ?Sized>(&self, method: Method, url: &str, api: Api, body: Option<&B>) -> Result<Response, Error> {
        let _one_at_a_time =
            (!self.api_known.load(Ordering::Acquire)).then(|| self.negotiation.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        loop {
            let index = self.api.load(Ordering::Acquire);
            let (general, status) = API_VERSIONS[index];
            let version = match api {
                Api::General => general.to_string(),
                Api::Status => status.to_string(),
                Api::Preview => format!("{general}-preview.1"),
            };
            let sep = if url.contains('?') { '&' } else { '?' };
            let mut request =
                Request::get(format!("{url}{sep}api-version={version}"), Some(&self.auth)).header("X-TFS-FedAuthRedirect", "Suppress");
            if let Some(body) = body {
                request = request.with_json(method, body);
            }
            let resp = self.http.send(&request.until(self.deadline)).map_err(|source| self.transport(source))?;
            if resp.status == 400 && is_version_out_of_range(&resp) && index + 1 < API_VERSIONS.len() {
                // A caller that did not wait (the version was known) may have stepped down already;
                // only move forward from what this request used.
                let _ = self.api.compare_exchange(index, index + 1, Ordering::AcqRel, Ordering::Acquire);
                continue;
            }
            // Preview-only resources (FileDiffs) answer in their own way; the general version is
            // settled by any other answer.
            if api != Api::Preview {
                self.api_known.store(true, Ordering::Release);
            }
            return Ok(resp);
        }
    }

    fn explain(&self, resp: &Response, ctx: &Context) -> Error {
        failure::explain(resp, ctx, &self.names)
    }

    fn read<T: DeserializeOwned>(&self, resp: Response, action: &str) -> Result<T, Error> {
        resp.json()
            .map_err(|e| Error::Api { service: Service::AzureDevOps, message: format!("could not read the answer to '{action}': {e}") })
    }

    fn get_json<T: DeserializeOwned>(&self, url: &str, ctx: Context) -> Result<T, Error> {
        let action = ctx.action.clone();
        let resp = self.send::<()>(Method::Get, url, false, None, ctx)?;
        self.read(resp, &action)
    }

    /// Who the credential is: the cheapest authenticated call, used by check mode.
    /// The api-version is the oldest this task supports (Azure DevOps Server 2019's), which every
    /// server since and Services accept: the call never races the others to step down.
    pub(crate) fn connection_data(&self) -> Result<ConnectionData, Error> {
        let url =
            format!("{}/_apis/connectionData?connectOptions=none&lastChangeId=-1&api-version=5.0-preview.1", self.repo.collection_url);
        let request = Request::get(url, Some(&self.auth)).header("X-TFS-FedAuthRedirect", "Suppress");
        let resp = self.http.send(&request.until(self.deadline)).map_err(|source| self.transport(source))?;
        if resp.status == 200 && resp.is_json() {
            return self.read(resp, "check who the credential is");
        }
        Err(self.explain(&resp, &self.context("check who the credential is".to_string(), None)))
    }

    pub(crate) fn pull_request(&self, pr: u32) -> Result<PullRequest, Error> {
        self.get_json(&self.pr_base(pr), self.context(format!("read pull request {pr}"), Some(pr)))
    }

    /// The repository's active pull requests (the first 100), from one source branch when given
    /// (`searchCriteria.sourceRefName`), each with its last merge commit and source commit.
    pub(crate) fn active_pull_requests(&self, source_branch: Option<&str>) -> Result<Vec<PullRequest>, Error> {
        let mut url = format!("{}/pullRequests?searchCriteria.status=active&$top=100", self.repo_base());
        if let Some(branch) = source_branch {
            url.push_str(&format!("&searchCriteria.sourceRefName={}", encode(&format!("refs/heads/{branch}"))));
        }
        let list: ValueList<PullRequest> = self.get_json(&url, self.context("list the repository's active pull requests".into(), None))?;
        Ok(list.value)
    }

    pub(crate) fn iterations(&self, pr: u32) -> Result<Vec<Iteration>, Error> {
        let list: ValueList<Iteration> = self.get_json(
            &format!("{}/iterations", self.pr_base(pr)),
            self.context(format!("list the iterations of pull request {pr}"), Some(pr)),
        )?;
        Ok(list.value)
    }

    /// Every file the PR changes at an iteration, against the merge base, paging through them.
    /// The paging ends where the service says, and also where it stops making progress (a
    /// `nextSkip` that does not move forward) or after `MAX_CHANGE_PAGES` pages.
    pub(crate) fn iteration_changes(&self, pr: u32, iteration: u32) -> Result<Vec<ChangeEntry>, Error> {
        let mut all = Vec::new();
        let mut skip = 0u32;
        for _ in 0..MAX_CHANGE_PAGES {
            let url = format!("{}/iterations/{iteration}/changes?$top=2000&$skip={skip}&$compareTo=0", self.pr_base(pr));
            let page: IterationChanges =
                self.get_json(&url, self.context(format!("list the files pull request {pr} changes"), Some(pr)))?;
            let got = page.change_entries.len();
            all.extend(page.change_entries);
            // The service says where the next page starts; 0 (or an empty page) means the end, and
            // a next page that does not start after this one would never end.
            if page.next_skip == 0 || got == 0 || page.next_skip <= skip {
                return Ok(all);
            }
            skip = page.next_skip;
        }
        Err(Error::Api {
            service: Service::AzureDevOps,
            message: format!(
                "the list of files pull request {pr} changes did not end after {MAX_CHANGE_PAGES} pages of up to 2000; the changed lines are not read from it"
            ),
        })
    }

    /// Line diffs of files between two commits, ten files a request, a few requests at once.
    pub(crate) fn file_diffs(
        &self,
        base: &str,
        target: &str,
        paths: &[(String, Option<String>)],
    ) -> Result<BTreeMap<String, FileDiff>, Error> {
        let chunks: Vec<&[(String, Option<String>)]> = paths.chunks(FILE_DIFFS_PER_REQUEST).collect();
        let results = crate::parallel::map_bounded(&chunks, FILE_DIFFS_CONCURRENCY, |chunk| self.file_diffs_chunk(base, target, chunk));
        let mut out = BTreeMap::new();
        for diffs in results {
            out.extend(diffs?);
        }
        Ok(out)
    }

    fn file_diffs_chunk(&self, base: &str, target: &str, chunk: &[(String, Option<String>)]) -> Result<Vec<(String, FileDiff)>, Error> {
        let params: Vec<Value> =
            chunk.iter().map(|(p, o)| serde_json::json!({"path": p, "originalPath": o.as_deref().unwrap_or(p)})).collect();
        let body = serde_json::json!({"baseVersionCommit": base, "targetVersionCommit": target, "fileDiffParams": params});
        let resp = self.exchange(Method::Post, &format!("{}/FileDiffs", self.repo_base()), Api::Preview, Some(&body))?;
        if resp.status == 404 && is_unregistered_resource(&resp) {
            return Err(Error::Api {
                service: Service::AzureDevOps,
                message: "this Azure DevOps Server does not offer the line-diff API (FileDiffs), so the lines the pull request changed cannot be read from it".to_string(),
            });
        }
        if !(200..300).contains(&resp.status) || !resp.is_json() {
            return Err(self.explain(&resp, &self.context("read the pull request's line diffs".to_string(), None)));
        }
        // The service answers a bare array; accept a {count, value} wrapper too.
        let value: Value = self.read(resp, "read the file diffs")?;
        let list = value.get("value").cloned().unwrap_or(value);
        let diffs: Vec<FileDiffResponse> = serde_json::from_value(list)
            .map_err(|e| Error::Api { service: Service::AzureDevOps, message: format!("could not read the file diffs: {e}") })?;
        Ok(diffs
            .into_iter()
            .filter_map(|d| {
                let path = d.path?;
                let blocks = d
                    .line_diff_blocks
                    .iter()
                    .filter(|b| b.change_type != "none" && b.change_type != 0)
                    .map(|b| Block {
                        original_start: b.original_line_number_start,
                        original_count: b.original_lines_count,
                        modified_start: b.modified_line_number_start,
                        modified_count: b.modified_lines_count,
                    })
                    .collect();
                let path = if path.starts_with('/') { path } else { format!("/{path}") };
                Some((path, FileDiff { blocks }))
            })
            .collect())
    }

    pub(crate) fn threads(&self, pr: u32) -> Result<Vec<Thread>, Error> {
        let list: ValueList<Thread> = self.get_json(
            &format!("{}/threads", self.pr_base(pr)),
            self.context(format!("list the comment threads of pull request {pr}"), Some(pr)),
        )?;
        Ok(list.value)
    }

    /// The PR's statuses, to check whether a status POST that failed was applied after all. The
    /// list takes the statuses' api-version: Azure DevOps Server 2019/2020's Git spec declares it
    /// only as `-preview.1` (5.0, 5.1, 6.0), like the POST.
    pub(crate) fn statuses(&self, pr: u32) -> Result<Vec<PrStatus>, Error> {
        let action = format!("list the statuses of pull request {pr}");
        let resp =
            self.send::<()>(Method::Get, &format!("{}/statuses", self.pr_base(pr)), true, None, self.context(action.clone(), Some(pr)))?;
        let list: ValueList<PrStatus> = self.read(resp, &action)?;
        Ok(list.value)
    }

    pub(crate) fn post_status(&self, pr: u32, status: &PrStatus) -> Result<(), Error> {
        let ctx = self.context(format!("post a status on pull request {pr}"), Some(pr));
        self.send(Method::Post, &format!("{}/statuses", self.pr_base(pr)), true, Some(status), ctx)?;
        Ok(())
    }

    pub(crate) fn create_thread(&self, pr: u32, thread: &NewThread) -> Result<Thread, Error> {
        let action = format!("create a comment thread on pull request {pr}");
        let resp =
            self.send(Method::Post, &format!("{}/threads", self.pr_base(pr)), false, Some(thread), self.context(action.clone(), Some(pr)))?;
        self.read(resp, &action)
    }

    pub(crate) fn set_thread_status(&self, pr: u32, thread: u64, status: ThreadStatus) -> Result<(), Error> {
        let body = serde_json::json!({ "status": status });
        let ctx = self.context(format!("update thread {thread} on pull request {pr}"), Some(pr));
        self.send(Method::Patch, &format!("{}/threads/{thread}", self.pr_base(pr)), false, Some(&body), ctx)?;
        Ok(())
    }

    pub(crate) fn update_comment(&self, pr: u32, thread: u64, comment: u64, content: &str) -> Result<(), Error> {
        // Only the content: echoing read-only fields back fails ("An author of a comment cannot be updated").
        let body = serde_json::json!({ "content": content });
        let ctx = self.context(format!("update the summary comment on pull request {pr}"), Some(pr));
        self.send(Method::Patch, &format!("{}/threads/{thread}/comments/{comment}", self.pr_base(pr)), false, Some(&body), ctx)?;
        Ok(())
    }

    pub(crate) fn add_comment(&self, pr: u32, thread: u64, comment: &NewComment) -> Result<(), Error> {
        let ctx = self.context(format!("reply in thread {thread} on pull request {pr}"), Some(pr));
        self.send(Method::Post, &format!("{}/threads/{thread}/comments", self.pr_base(pr)), false, Some(comment), ctx)?;
        Ok(())
    }
}

/// The organization in `https://dev.azure.com/{org}` or `https://{org}.visualstudio.com`, or the
/// collection in an Azure DevOps Server URL (`https://host/tfs/{collection}`).
/// Whether a collection URL is Azure DevOps Services' (`https://dev.azure.com/{org}`, or the older
/// `https://{org}.visualstudio.com`): those take the newest api-version this task uses.
pub(crate) fn is_services_url(collection_url: &str) -> bool {
    let rest = collection_url.split_once("://").map_or(collection_url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or("").to_ascii_lowercase();
    host == "dev.azure.com" || host.ends_with(".visualstudio.com")
}

pub(crate) fn organization_of(collection_url: &str) -> String {
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

/// A server that does not have a resource at all answers 404 VssResourceNotFoundException ("API
/// resource location … is not registered on …").
fn is_unregistered_resource(resp: &Response) -> bool {
    let text = resp.text();
    text.contains("VssResourceNotFoundException") || text.contains("is not registered on")
}

fn is_version_out_of_range(resp: &Response) -> bool {
    let text = resp.text();
    text.contains("VssVersionOutOfRangeException") || text.contains("is out of range for this server")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_urls_are_dev_azure_com_and_visualstudio_com() {
        assert!(is_services_url("https://dev.azure.com/fabrikam"));
        assert!(is_services_url("https://DEV.AZURE.COM/fabrikam/"));
        assert!(is_services_url("https://fabrikam.visualstudio.com"));
        assert!(!is_services_url("https://tfs.fabrikam.local/DefaultCollection"));
        assert!(!is_services_url("https://dev.azure.com.evil.example/fabrikam"));
        assert!(!is_services_url("http://127.0.0.1:8080/fabrikam"));
    }

    #[test]
    fn organization_from_every_url_form() {
        assert_eq!(organization_of("https://dev.azure.com/fabrikam/"), "fabrikam");
        assert_eq!(organization_of("https://fabrikam.visualstudio.com/"), "fabrikam");
        assert_eq!(organization_of("https://tfs.corp.example/tfs/DefaultCollection/"), "DefaultCollection");
        assert_eq!(organization_of("https://ado.corp.example/Main"), "Main");
    }
}
