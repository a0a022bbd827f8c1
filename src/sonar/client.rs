//! Calls to the SonarQube web API (Server 8.9 to 2026.x, Community Build, Cloud) and the meaning
//! of their failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::SonarNames;
use super::analysis::IssueSet;
use super::branch::Scope;
use super::connection::SonarCredential;
use super::model::*;
use crate::error::{Error, Service, TransportError};
use crate::net::url::{Origin, encode};
use crate::net::{Auth, Client, Request, Response};
use crate::secret::Secret;

/// SonarQube Cloud hosts, EU and US.
const CLOUD_HOSTS: [&str; 2] = ["sonarcloud.io", "sonarqube.us"];

/// Whether a base URL is SonarQube Cloud.
pub(crate) fn is_cloud_url(url: &str) -> bool {
    let Some(origin) = Origin::parse(url) else { return false };
    let host = origin.host();
    CLOUD_HOSTS.iter().any(|c| host == *c || host.ends_with(&format!(".{c}")))
}

/// The most issues the search API returns for one query (`p * ps` may not pass 10 000).
pub(crate) const ISSUE_RESULT_CAP: u64 = 10_000;
pub(crate) const ISSUE_PAGE_SIZE: u64 = 500;
/// Files named in one issue query: their keys go into the URL, and SonarQube caps each query's
/// results, so a handful at a time.
const FILES_PER_QUERY: usize = 25;
/// Issue keys asked for in one query (`issues=`): about 20 characters each, so the URL stays
/// near 2 KB.
const KEYS_PER_QUERY: usize = 100;
/// Issue pages read at once after the first: as many as the client keeps connections to one
/// How marking an issue went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dismissed {
    /// Done, with this transition.
    Done(&'static str),
    /// The token may not: it needs 'Administer Issues' on the project.
    Forbidden,
}

/// server (20 pages at most exist).
const PAGE_CONCURRENCY: usize = crate::net::MAX_CONNECTIONS_PER_HOST;

#[derive(Clone)]
pub(crate) struct SonarClient {
    http: Arc<Client>,
    /// When every request of this client must be over.
    deadline: Option<Instant>,
    /// The names the user knows the settings by (where the URL came from, where the token is set).
    names: SonarNames,
    base: String,
    auth: Auth,
    organization: Option<String>,
    cloud: bool,
    /// The server's version (major, minor) once `api/server/version` has said it, shared by the
    /// clones: parameters renamed in 10.2 take their new names from then on.
    version: Arc<std::sync::OnceLock<(u32, u32)>>,
    /// Answers read ahead of need (`read_ahead`), shared by the clones.
    ahead: Arc<super::ahead::Ahead>,
}

/// How waiting for the compute engine ended.
#[derive(Debug)]
pub(crate) enum CeOutcome {
    Finished(CeTask),
    TimedOut { task_id: String, last_status: Option<CeStatus>, waited: Duration },
}

impl SonarClient {
    /// Server takes the token as Basic (token, empty password), which every version since 8.9
    /// accepts; Cloud documents Bearer. An organization means Cloud too: only Cloud has them, and
    /// it is how a Cloud instance behind another host name (a proxy, a test fake) is recognised.
    /// A login and password go as Basic `login:password`, wherever they go.
    pub(crate) fn new(http: Arc<Client>, base: &str, credential: &SonarCredential, organization: Option<String>) -> Self {
        let cloud = is_cloud_url(base) || organization.is_some();
        let auth = match credential {
            SonarCredential::Token(token) if cloud => Auth::bearer(base, token),
            SonarCredential::Token(token) => Auth::basic(base, token, &Secret::new("")),
            SonarCredential::Login { user, password } => Auth::basic(base, user, password),
        };
        Self {
            http,
            deadline: None,
            names: SonarNames::default(),
            base: base.trim_end_matches('/').to_string(),
            auth,
            organization,
            cloud,
            version: Arc::default(),
            ahead: Arc::default(),
        }
    }

    /// Starts the reads no finished analysis changes, for the analyses `reports` name: the
    /// server's metric names and the gate of each project analysed as a pull request. They go out
    /// now, beside the first poll, on threads of their own; `metric_names` and `gate_definition`
    /// take their answers (or read again if a read failed). Nothing waits for them here.
    pub(crate) fn read_ahead(&self, reports: &[super::report_task::ReportTask]) {
        if reports.is_empty() {
            return;
        }
        let client = self.clone();
        self.ahead.put_metric_names(crate::parallel::start_detached(move || client.read_metric_names()));
        for report in reports.iter().filter(|r| r.pull_request.is_some()) {
            let (client, project) = (self.clone(), report.project_key.clone());
            self.ahead.put_gate(&report.project_key, crate::parallel::start_detached(move || client.gate_of_project(&project)));
        }
    }

    /// The same client, with every request over by `deadline`.
    pub(crate) fn until(&self, deadline: Instant) -> Self {
        Self { deadline: Some(deadline), ..self.clone() }
    }

    /// The names the user knows the settings by, for messages (the URL's source, the token's).
    pub(crate) fn named(mut self, names: SonarNames) -> Self {
        self.names = names;
        self
    }

    pub(crate) fn names(&self) -> &SonarNames {
        &self.names
    }

    /// Whether this client's time is up.
    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base
    }

    pub(crate) fn is_cloud(&self) -> bool {
        self.cloud
    }

    /// SonarQube Cloud's organization (`None` on a server).
    pub(crate) fn organization(&self) -> Option<&str> {
        self.organization.as_deref().filter(|_| self.cloud)
    }

    fn url(&self, path: &str, params: &[(&str, String)]) -> String {
        let mut url = format!("{}/{}", self.base, path);
        for (i, (k, v)) in params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    fn post(&self, path: &str, params: &[(&str, String)]) -> Result<Response, Error> {
        let url = self.url(path, params);
        self.http
            .send(&Request::post(url, Some(&self.auth)).until(self.deadline))
            .map_err(|source| Error::transport(Service::SonarQube, source, &self.names.url))
    }

    fn get(&self, path: &str, params: &[(&str, String)], authenticated: bool) -> Result<Response, Error> {
        let url = self.url(path, params);
        let auth = authenticated.then_some(&self.auth);
        self.http
            .send(&Request::get(url, auth).until(self.deadline))
            .map_err(|source| Error::transport(Service::SonarQube, source, &self.names.url))
    }

    /// `api/system/status` (no authentication): whether the server is UP, and its version, which
    /// it gives beside the status (SonarSource's SonarLint reads both from this one call,
    /// `ServerVersionAndStatusChecker`). Anything but SonarQube's JSON means the URL is not a
    /// SonarQube server.
    pub(crate) fn system_status(&self) -> Result<SystemStatus, Error> {
        let resp = self.get("api/system/status", &[], false)?;
        // A redirect, a rate limit or a server error says nothing about what is at the URL: each
        // is named as itself (429 and 5xx only after the HTTP layer's retries).
        if matches!(resp.status, 300..=399 | 429 | 500..=599) {
            return Err(self.api_error(&resp, "read the server status"));
        }
        let status = (resp.status == 200).then(|| resp.json::<SystemStatus>().ok()).flatten().filter(|s| !s.status.trim().is_empty());
        let Some(status) = status else {
            return Err(Error::Api {
                service: Service::SonarQube,
                message: format!(
                    "{}/api/system/status answered HTTP {} with {}, not SonarQube's status: the URL does not point at a SonarQube server. Check the base URL, including any context path (for example https://host/sonarqube)",
                    self.base,
                    resp.status,
                    if resp.is_json() {
                        "other JSON"
                    } else if resp.text().trim_start().starts_with('<') {
                        "an HTML page"
                    } else {
                        "unexpected text"
                    }
                ),
            });
        };
        if let Some(version) = &status.version {
            self.learn_version(version);
        }
        Ok(status)
    }

    /// Keeps the server's (major, minor) from a version it gave ("2025.4.2.112048", "10.8.1"):
    /// parameters renamed in 10.2 take their new names from then on. The first one said stands.
    fn learn_version(&self, version: &str) {
        let mut parts = version.trim().split('.').map(|p| p.parse::<u32>().ok());
        if let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) {
            let _ = self.version.set((major, minor));
        }
    }

    /// The server's version as it was learnt ("2025.4"), for the check's line.
    pub(crate) fn known_version(&self) -> Option<(u32, u32)> {
        self.version.get().copied()
    }

    /// `api/navigation/global` with the token: the token's check and the edition in one call. A
    /// token SonarQube does not accept gets 401 on every call but the few its session init skips
    /// (`UserSessionInitializer`), so this answer says whether the token is valid; an expiring
    /// token's answer says when (`SonarQube-Authentication-Token-Expiration`, on every answer to
    /// it); the edition and the version are in the body.
    pub(crate) fn navigation_global(&self) -> Result<TokenCheck, Error> {
        let resp = self.get("api/navigation/global", &[], true)?;
        let expiry = resp.header("sonarqube-authentication-token-expiration").map(str::to_string);
        match resp.status {
            200 => {
                // Read leniently: a body this task cannot read leaves the edition unknown.
                let body: Option<serde_json::Value> = resp.json().ok();
                let field = |name: &str| body.as_ref()?.get(name)?.as_str().map(str::to_string);
                if let Some(version) = field("version") {
                    self.learn_version(&version);
                }
                Ok(TokenCheck {
                    accepted: true,
                    asked: TokenCall::Navigation,
                    edition: field("edition").map(|e| e.to_ascii_lowercase()),
                    expiry,
                })
            }
            401 => Ok(TokenCheck { accepted: false, asked: TokenCall::Navigation, edition: None, expiry: None }),
            // An internal call a server (or a proxy in front of it) may not answer: the token is
            // checked the documented way instead, and the edition stays unknown.
            _ => self.validate_token(),
        }
    }

    /// `api/server/version` (plain text), for a server whose status and navigation did not say
    /// its version: the version as it said it, or nothing when it does not answer one either.
    pub(crate) fn learn_version_from_server(&self) -> Option<String> {
        let resp = self.get("api/server/version", &[], false).ok()?;
        let text = resp.text();
        let version = text.trim();
        (resp.status == 200 && version.len() < 64).then(|| {
            self.learn_version(version);
            version.to_string()
        })
    }

    /// `api/authentication/validate` answers 200 either way; the `valid` boolean is the answer,
    /// and an expiring token's answer says when (`SonarQube-Authentication-Token-Expiration`).
    /// SonarQube Cloud's token check (it has no `api/navigation/global` for this task to read).
    pub(crate) fn validate_token(&self) -> Result<TokenCheck, Error> {
        let resp = self.get("api/authentication/validate", &[], true)?;
        if resp.status != 200 {
            return Err(self.api_error(&resp, "validate the token"));
        }
        let expiry = resp.header("sonarqube-authentication-token-expiration").map(str::to_string);
        let accepted = resp.json::<Validate>().map_err(|e| self.bad_json("api/authentication/validate", e))?.valid;
        Ok(TokenCheck { accepted, asked: TokenCall::Validate, edition: None, expiry })
    }

    /// The server's own `sonar.core.serverBaseURL`, `None` when unset.
    pub(crate) fn server_base_url(&self) -> Result<Option<String>, Error> {
        let resp = self.get("api/settings/values", &[("keys", "sonar.core.serverBaseURL".to_string())], true)?;
        if resp.status != 200 {
            return Err(self.api_error(&resp, "read the setting sonar.core.serverBaseURL"));
        }
        let values = resp.json::<SettingsValues>().map_err(|e| self.bad_json("api/settings/values", e))?;
        Ok(values.settings.into_iter().find(|s| s.key == "sonar.core.serverBaseURL").and_then(|s| s.value))
    }

    pub(crate) fn ce_task(&self, id: &str, project_key: &str) -> Result<CeTask, Error> {
        let resp = self.get("api/ce/task", &[("id", id.to_string())], true)?;
        match resp.status {
            200 => Ok(resp.json::<CeTaskResponse>().map_err(|e| self.bad_json("api/ce/task", e))?.task),
            403 => Err(Error::Credentials {
                service: Service::SonarQube,
                message: format!(
                    "the token may not read the analysis task {id} (HTTP 403). Give the token's account the 'Execute Analysis' permission on project '{project_key}' (Project Settings > Permissions), or use a token of an account that has it; 'Browse' alone is not enough to read background tasks"
                ),
            }),
            _ => Err(self.api_error(&resp, &format!("read the analysis task {id}"))),
        }
    }

    /// A project's tasks in the queue and its latest finished one (`api/ce/component`, 'Browse'
    /// on the project): where an analysis of an earlier stage is found without its report-task.txt.
    pub(crate) fn ce_component(&self, project_key: &str) -> Result<CeComponent, Error> {
        let resp = self.get("api/ce/component", &[("component", project_key.to_string())], true)?;
        match resp.status {
            200 => resp.json::<CeComponent>().map_err(|e| self.bad_json("api/ce/component", e)),
            403 => Err(Error::Credentials {
                service: Service::SonarQube,
                message: format!(
                    "the token may not list the analysis tasks of project '{project_key}' (HTTP 403). Give the token's account 'Browse' on the project"
                ),
            }),
            404 => Err(Error::ReportTask(format!(
                "SonarQube has no project '{project_key}' (HTTP 404 from api/ce/component): check the project key in {}",
                self.names().project_key
            ))),
            _ => Err(self.api_error(&resp, &format!("list the analysis tasks of '{project_key}'"))),
        }
    }

    /// A project's report tasks submitted since `since` (`api/ce/activity`), or `Ok(None)` when
    /// the token may not list them: SonarQube asks for 'Administer' on the project for this one
    /// (`ce/ws/ActivityAction.java`).
    pub(crate) fn ce_activity(&self, project_key: &str, since: &str) -> Result<Option<Vec<CeTask>>, Error> {
        let params = [
            ("component", project_key.to_string()),
            ("type", "REPORT".to_string()),
            ("status", "SUCCESS,FAILED,CANCELED,PENDING,IN_PROGRESS".to_string()),
            ("minSubmittedAt", since.to_string()),
            ("ps", "100".to_string()),
        ];
        let resp = self.get("api/ce/activity", &params, true)?;
        match resp.status {
            200 => Ok(Some(resp.json::<CeActivity>().map_err(|e| self.bad_json("api/ce/activity", e))?.tasks)),
            401 | 403 => Ok(None),
            _ => Err(self.api_error(&resp, &format!("list the analysis tasks of '{project_key}'"))),
        }
    }

    /// Polls the compute engine until the task ends or this client's deadline passes, on the grid
    /// of [`next_poll_at`]. A poll the server does not answer before the deadline ends the wait
    /// like a task that did not finish. `started` is when the wait's time began, for messages.
    /// Polls the task until it ends or the time is up. `first` is an answer already read (the
    /// first poll goes out beside the server checks), used instead of polling at once.
    pub(crate) fn wait_for_task(
        &self,
        id: &str,
        project_key: &str,
        started: Instant,
        mut first: Option<CeTask>,
        mut on_status: impl FnMut(&CeTask),
    ) -> Result<CeOutcome, Error> {
        let waiting = Instant::now();
        let mut last_status = None;
        loop {
            let polled = match first.take() {
                Some(task) => Ok(task),
                None => self.ce_task(id, project_key),
            };
            let task = match polled {
                Ok(task) => task,
                Err(Error::Transport { source: TransportError::Timeout { .. } | TransportError::OutOfTime { .. }, .. })
                    if self.out_of_time() =>
                {
                    return Ok(CeOutcome::TimedOut { task_id: id.to_string(), last_status, waited: started.elapsed() });
                }
                Err(e) => return Err(e),
            };
            if last_status != Some(task.status) {
                on_status(&task);
            }
            last_status = Some(task.status);
            if task.status.is_terminal() {
                return Ok(CeOutcome::Finished(task));
            }
            let left = self.deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Ok(CeOutcome::TimedOut { task_id: id.to_string(), last_status, waited: started.elapsed() });
            }
            let due = waiting + next_poll_at(waiting.elapsed());
            std::thread::sleep(due.saturating_duration_since(Instant::now()).min(left));
        }
    }

    /// The quality gate of one analysis (`analysis_id`), or, with `None`, the scope's gate as it is
    /// now: SonarQube re-evaluates a branch's or pull request's gate when an issue on it is
    /// accepted or marked false positive (live measures), which an analysis's own gate never shows.
    pub(crate) fn project_status(&self, analysis_id: Option<&str>, project_key: &str, scope: &Scope) -> Result<ProjectStatus, Error> {
        let params = match analysis_id {
            Some(id) => vec![("analysisId", id.to_string())],
            None => {
                let mut params = vec![("projectKey", project_key.to_string())];
                params.extend(scope.params());
                params
            }
        };
        let resp = self.get("api/qualitygates/project_status", &params, true)?;
        match resp.status {
            200 => {
                Ok(resp.json::<ProjectStatusResponse>().map_err(|e| self.bad_json("api/qualitygates/project_status", e))?.project_status)
            }
            403 => Err(Error::Credentials {
                service: Service::SonarQube,
                message: format!(
                    "the token may not read the quality gate of project '{project_key}' (HTTP 403). Give the token's account 'Browse' on the project (SonarQube 9.5+ also accepts 'Execute Analysis')"
                ),
            }),
            _ => {
                let what = match analysis_id {
                    Some(id) => format!("read the quality gate of analysis {id}"),
                    None => format!("read the quality gate of '{project_key}'"),
                };
                Err(self.api_error(&resp, &what))
            }
        }
    }

    /// Marks an issue as a reviewer resolved it (`api/issues/do_transition`, POST): accepted
    /// (`accept` on SonarQube Cloud and Server 10.4+; `wontfix` before) or a false positive. The
    /// plugin API's `DefaultTransitions.java` adds `ACCEPT` and deprecates `WONT_FIX` in its 10.3,
    /// the API SonarQube 10.4 ships, which renamed Won't fix to Accept. The token needs
    /// 'Administer Issues' on the project.
    pub(crate) fn dismiss_issue(&self, issue: &str, dismissal: super::model::Dismissal) -> Result<Dismissed, Error> {
        use super::model::Dismissal;
        let transition = match dismissal {
            Dismissal::Accepted if self.cloud || self.version.get().is_some_and(|v| *v >= (10, 4)) => "accept",
            Dismissal::Accepted => "wontfix",
            Dismissal::FalsePositive => "falsepositive",
        };
        let resp = self.post("api/issues/do_transition", &[("issue", issue.to_string()), ("transition", transition.to_string())])?;
        match resp.status {
            200 | 204 => Ok(Dismissed::Done(transition)),
            401 | 403 => Ok(Dismissed::Forbidden),
            _ => Err(self.api_error(&resp, &format!("mark issue {issue} ({transition})"))),
        }
    }

    /// Adds a comment to an issue (`api/issues/add_comment`, POST, Markdown).
    pub(crate) fn comment_issue(&self, issue: &str, text: &str) -> Result<(), Error> {
        let resp = self.post("api/issues/add_comment", &[("issue", issue.to_string()), ("text", text.to_string())])?;
        match resp.status {
            200 | 204 => Ok(()),
            _ => Err(self.api_error(&resp, &format!("comment on issue {issue}"))),
        }
    }

    /// When SonarQube last analysed a pull request (`api/project_pull_requests/list`, 'Browse'):
    /// `Ok(None)` when it does not say or does not know the pull request.
    pub(crate) fn pull_request_analysis_date(&self, project_key: &str, pull_request: &str) -> Result<Option<String>, Error> {
        let mut params = vec![("project", project_key.to_string())];
        if let Some(org) = self.organization() {
            params.push(("organization", org.to_string()));
        }
        let resp = self.get("api/project_pull_requests/list", &params, true)?;
        match resp.status {
            200 => {
                let body = resp.json::<super::model::PullRequests>().map_err(|e| self.bad_json("api/project_pull_requests/list", e))?;
                Ok(body.pull_requests.into_iter().find(|p| p.key == pull_request).and_then(|p| p.analysis_date))
            }
            403 | 404 => Ok(None),
            _ => Err(self.api_error(&resp, &format!("read the pull requests of '{project_key}'"))),
        }
    }

    /// Measures; `Ok(None)` when the token may not read them (analysis tokens before 2025.2).
    /// Metrics the server does not know (older versions) are dropped and the call repeated once.
    pub(crate) fn measures(&self, project_key: &str, scope: &Scope, metric_keys: &[&str]) -> Result<Option<Vec<Measure>>, Error> {
        let mut keys: Vec<&str> = metric_keys.to_vec();
        for _ in 0..2 {
            let mut params = vec![("component", project_key.to_string()), ("metricKeys", keys.join(","))];
            params.extend(scope.params());
            let resp = self.get("api/measures/component", &params, true)?;
            match resp.status {
                200 => {
                    return Ok(Some(
                        resp.json::<MeasuresResponse>().map_err(|e| self.bad_json("api/measures/component", e))?.component.measures,
                    ));
                }
                403 => return Ok(None),
                404 => {
                    if let Some(missing) = unknown_metrics(&resp) {
                        keys.retain(|k| !missing.iter().any(|m| m == k));
                        if !keys.is_empty() {
                            continue;
                        }
                    }
                    return Err(self.api_error(&resp, &format!("read the measures of '{project_key}'")));
                }
                _ => return Err(self.api_error(&resp, &format!("read the measures of '{project_key}'"))),
            }
        }
        Ok(Some(Vec::new()))
    }

    /// The conditions of the project's gate as defined (`api/qualitygates/get_by_project`, then
    /// `show`): those on overall code SonarQube does not apply to a pull request, and those it
    /// ignored for a small change, which the summary names. Empty when the token may not read it.
    /// The gate's name comes from `read_ahead` when it was read there.
    pub(crate) fn gate_definition(&self, project_key: &str) -> Result<Vec<GateConditionDef>, Error> {
        let gate = match self.ahead.gate(project_key) {
            Some(gate) => gate,
            None => self.gate_of_project(project_key)?,
        };
        let Some(name) = gate else { return Ok(Vec::new()) };
        let mut params = vec![("name", name)];
        params.extend(self.organization_param());
        let resp = self.get("api/qualitygates/show", &params, true)?;
        if resp.status != 200 {
            return Ok(Vec::new());
        }
        let definition = resp.json::<GateDefinition>().map_err(|e| self.bad_json("api/qualitygates/show", e))?;
        Ok(definition.conditions)
    }

    /// The name of the gate `project_key` uses (`api/qualitygates/get_by_project`); `None` when
    /// the token may not read it.
    fn gate_of_project(&self, project_key: &str) -> Result<Option<String>, Error> {
        let mut params = vec![("project", project_key.to_string())];
        params.extend(self.organization_param());
        let resp = self.get("api/qualitygates/get_by_project", &params, true)?;
        if resp.status != 200 {
            return Ok(None);
        }
        Ok(Some(resp.json::<GateOfProject>().map_err(|e| self.bad_json("api/qualitygates/get_by_project", e))?.quality_gate.name))
    }

    /// SonarQube Cloud's `organization`, which its gate calls need; nothing on a Server.
    fn organization_param(&self) -> Option<(&'static str, String)> {
        self.organization.clone().filter(|_| self.cloud).map(|o| ("organization", o))
    }

    /// A scope's dependency risks (`api/v2/sca/issues-releases`), on servers that can have them
    /// (SonarQube Server 2025.4 and later; SonarQube Cloud keeps this API on another host and is
    /// not asked). `Ok(None)`, silently, when the server has no such API or the feature is off.
    pub(crate) fn dependency_risks(&self, project_key: &str, scope: &Scope) -> Result<Option<DependencyRisks>, Error> {
        if self.cloud || self.version.get().is_none_or(|v| *v < (2025, 4)) {
            return Ok(None);
        }
        let mut params = vec![("projectKey", project_key.to_string()), ("pageSize", "500".to_string())];
        match scope {
            Scope::PullRequest(pr) => params.push(("pullRequestKey", pr.clone())),
            Scope::Branch(b) => params.push(("branchKey", b.clone())),
            Scope::Main => {}
        }
        let resp = self.get("api/v2/sca/issues-releases", &params, true)?;
        if resp.status != 200 {
            return Ok(None);
        }
        let body = resp.json::<IssuesReleases>().map_err(|e| self.bad_json("api/v2/sca/issues-releases", e))?;
        let order = ["BLOCKER", "HIGH", "MEDIUM", "LOW", "INFO"];
        let mut by_severity: Vec<(String, u64)> = Vec::new();
        for r in &body.issues_releases {
            // Only the scale's words reach the summary: anything else the server says is counted
            // as "OTHER", never copied into Markdown.
            let said = r.severity.as_deref().unwrap_or("INFO").trim().to_ascii_uppercase();
            let sev = if order.contains(&said.as_str()) { said } else { "OTHER".to_string() };
            match by_severity.iter_mut().find(|(s, _)| *s == sev) {
                Some((_, n)) => *n += 1,
                None => by_severity.push((sev, 1)),
            }
        }
        by_severity.sort_by_key(|(s, _)| order.iter().position(|o| o == s).unwrap_or(order.len()));
        let total = body.page.map_or(body.issues_releases.len() as u64, |p| p.total);
        Ok(Some(DependencyRisks { total, by_severity }))
    }

    /// The server's metric names (`api/metrics/search`, public), to name each condition in the
    /// server's own words. Empty when the server does not answer it: the built-in names are used.
    /// Taken from `read_ahead` when it was read there.
    pub(crate) fn metric_names(&self) -> Result<std::collections::BTreeMap<String, String>, Error> {
        match self.ahead.metric_names() {
            Some(names) => Ok(names),
            None => self.read_metric_names(),
        }
    }

    fn read_metric_names(&self) -> Result<std::collections::BTreeMap<String, String>, Error> {
        let resp = self.get("api/metrics/search", &[("ps", "500".to_string())], true)?;
        if resp.status != 200 {
            return Ok(Default::default());
        }
        let page = resp.json::<MetricsPage>().map_err(|e| self.bad_json("api/metrics/search", e))?;
        Ok(page.metrics.into_iter().filter_map(|m| Some((m.key, m.name.filter(|n| !n.trim().is_empty())?))).collect())
    }

    /// A pull request's measures and its files with new lines that tests do not cover, most first,
    /// in one read (`api/measures/component_tree`): the base component carries the project's own
    /// measures for every metric asked (SonarQube `measure/ws/ComponentTreeAction.java` fills
    /// `baseComponent` from the same measure rows as `api/measures/component`), so the summary's
    /// measures cost no request of their own. `Ok(None)` when the token may not read measures.
    /// Metrics the server does not know (older versions) are dropped and the call repeated once,
    /// as for `measures`; the server takes at most 15 metric keys (25 from 10.7).
    pub(crate) fn pull_request_measures(
        &self,
        project_key: &str,
        scope: &Scope,
        metric_keys: &[&str],
    ) -> Result<Option<PullRequestMeasures>, Error> {
        const SORTED_BY: [&str; 2] = ["new_uncovered_lines", "new_uncovered_conditions"];
        let mut keys: Vec<&str> = SORTED_BY.to_vec();
        keys.extend(metric_keys.iter().filter(|k| !SORTED_BY.contains(k)));
        for _ in 0..2 {
            let mut params = vec![
                ("component", project_key.to_string()),
                ("metricKeys", keys.join(",")),
                ("qualifiers", "FIL,UTS".to_string()),
                ("strategy", "leaves".to_string()),
                ("s", "metric".to_string()),
                ("metricSort", "new_uncovered_lines".to_string()),
                ("metricPeriodSort", "1".to_string()),
                ("metricSortFilter", "withMeasuresOnly".to_string()),
                ("asc", "false".to_string()),
                ("ps", "100".to_string()),
            ];
            params.extend(scope.params());
            let resp = self.get("api/measures/component_tree", &params, true)?;
            match resp.status {
                200 => {
                    let tree = resp.json::<ComponentTree>().map_err(|e| self.bad_json("api/measures/component_tree", e))?;
                    let count = |c: &TreeComponent, metric: &str| -> u64 {
                        c.measures
                            .iter()
                            .find(|m| m.metric == metric)
                            .and_then(Measure::best_value)
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0)
                    };
                    let files = tree
                        .components
                        .iter()
                        .map(|c| UncoveredFile {
                            key: c.key.clone(),
                            path: c.path.clone().unwrap_or_else(|| c.key.split_once(':').map_or(c.key.clone(), |(_, p)| p.to_string())),
                            lines: count(c, "new_uncovered_lines"),
                            conditions: count(c, "new_uncovered_conditions"),
                        })
                        .filter(|f| f.lines + f.conditions > 0)
                        .collect();
                    // Only what was asked for the summary: the sort's own metrics stay out of it
                    // unless the summary asked for them too.
                    let measures = tree.base_component.map(|b| b.measures).unwrap_or_default();
                    let measures = measures.into_iter().filter(|m| metric_keys.contains(&m.metric.as_str())).collect();
                    return Ok(Some(PullRequestMeasures { measures, uncovered_files: files }));
                }
                403 => return Ok(None),
                404 => {
                    // The sort's metrics are SonarQube's own since 5.x: a server without them
                    // is not a SonarQube.
                    if let Some(missing) = unknown_metrics(&resp)
                        && !SORTED_BY.iter().any(|k| missing.iter().any(|m| m == k))
                    {
                        keys.retain(|k| !missing.iter().any(|m| m == k));
                        continue;
                    }
                    return Err(self.api_error(&resp, &format!("read the measures of '{project_key}'")));
                }
                _ => return Err(self.api_error(&resp, &format!("read the measures of '{project_key}'"))),
            }
        }
        Ok(Some(PullRequestMeasures { measures: Vec::new(), uncovered_files: Vec::new() }))
    }

    /// One file's new lines with their coverage (`api/sources/lines`, 'See Source Code' on the
    /// project); `Ok(None)` when the token may not see the code.
    pub(crate) fn new_lines(&self, file_key: &str, scope: &Scope) -> Result<Option<Vec<SourceLine>>, Error> {
        Ok(self.lines(file_key, scope)?.map(|lines| lines.into_iter().filter(|l| l.is_new).collect()))
    }

    /// One file's lines with their coverage; `Ok(None)` when the token may not see the code or the
    /// file is not in the analysis.
    pub(crate) fn lines(&self, file_key: &str, scope: &Scope) -> Result<Option<Vec<SourceLine>>, Error> {
        let mut params = vec![("key", file_key.to_string())];
        params.extend(scope.params());
        let resp = self.get("api/sources/lines", &params, true)?;
        match resp.status {
            200 => Ok(Some(resp.json::<SourceLines>().map_err(|e| self.bad_json("api/sources/lines", e))?.sources)),
            403 | 404 => Ok(None),
            _ => Err(self.api_error(&resp, &format!("read the lines of {file_key}"))),
        }
    }

    /// The open issues of the scope, 500 a page, most severe first. The first page gives the
    /// total and the counts by severity; the other pages (up to the API's 10 000-result cap) are
    /// then read in parallel, a few at a time, unless `first_page_enough` says the first settles
    /// everything the run decides. Above the cap every page is read, and the list is partial.
    /// `Ok(None)` when the token may not browse the project.
    pub(crate) fn open_issues(
        &self,
        project_key: &str,
        scope: &Scope,
        first_page_enough: &(dyn Fn(&IssueSet) -> bool + Sync),
    ) -> Result<Option<IssueSet>, Error> {
        self.search_issues(project_key, scope, project_key.to_string(), Some(first_page_enough))
    }

    /// The open issues of some files of the project (paths as SonarQube gives them, relative to
    /// the project's base folder), a few files a query so each stays well under the result cap
    /// and the URL short. `Ok(None)` when the token may not browse the project.
    pub(crate) fn open_issues_in_files(&self, project_key: &str, scope: &Scope, files: &[String]) -> Result<Option<IssueSet>, Error> {
        let batches: Vec<String> =
            files.chunks(FILES_PER_QUERY).map(|c| c.iter().map(|f| format!("{project_key}:{f}")).collect::<Vec<_>>().join(",")).collect();
        let results =
            crate::parallel::map_bounded(&batches, PAGE_CONCURRENCY, |keys| self.search_issues(project_key, scope, keys.clone(), None));
        let mut set = IssueSet::default();
        for batch in results {
            let Some(batch) = batch? else { return Ok(None) };
            set.issues.extend(batch.issues);
            set.components.extend(batch.components);
            set.total += batch.total;
            set.capped |= batch.capped;
        }
        Ok(Some(set))
    }

    /// Which of these issues are still open (`issues=`, a list of keys, with the scope: SonarQube's
    /// issue search takes both and matches their intersection), `KEYS_PER_QUERY` keys a query, all
    /// at once. `Ok(None)` when the token may not browse the project.
    pub(crate) fn open_issues_by_key(&self, project_key: &str, scope: &Scope, keys: &[String]) -> Result<Option<IssueSet>, Error> {
        let batches: Vec<String> = keys.chunks(KEYS_PER_QUERY).map(|c| c.join(",")).collect();
        let results = crate::parallel::map_bounded(&batches, PAGE_CONCURRENCY, |keys| {
            let mut params = self.issue_params(scope, project_key, 1);
            params.push(("issues", keys.clone()));
            self.issue_search(project_key, &params)
        });
        let mut set = IssueSet::default();
        for batch in results {
            let Some(batch) = batch? else { return Ok(None) };
            set.total += batch.total();
            set.issues.extend(batch.issues);
            set.components.extend(batch.components);
        }
        Ok(Some(set))
    }

    /// One query (`componentKeys`: the project, or file keys), every page of it, or only the first
    /// when `first_page_enough` says so.
    fn search_issues(
        &self,
        project_key: &str,
        scope: &Scope,
        component_keys: String,
        first_page_enough: Option<&(dyn Fn(&IssueSet) -> bool + Sync)>,
    ) -> Result<Option<IssueSet>, Error> {
        let mut params = self.issue_params(scope, &component_keys, 1);
        if first_page_enough.is_some() {
            params.push(("facets", self.severity_facet().to_string()));
        }
        let Some(first) = self.issue_search(project_key, &params)? else { return Ok(None) };
        let total = first.total();
        let pages = total.min(ISSUE_RESULT_CAP).div_ceil(ISSUE_PAGE_SIZE).max(1);
        let counts = first.facets.iter().find(|f| f.property == self.severity_facet()).map(|f| super::present::facet_counts(&f.values));
        let mut set = IssueSet { total, capped: total > ISSUE_RESULT_CAP, ..IssueSet::default() };
        set.issues.extend(first.issues);
        set.components.extend(first.components);
        // Above the cap the list is partial whatever is read: the partial-list rules apply.
        if pages > 1 && !set.capped && first_page_enough.is_some_and(|enough| enough(&set)) {
            set.first_page_only = true;
            set.counts = counts.unwrap_or_default();
            return Ok(Some(set));
        }
        let rest: Vec<u64> = (2..=pages).collect();
        let results = crate::parallel::map_bounded(&rest, PAGE_CONCURRENCY, |&p| {
            self.issue_search(project_key, &self.issue_params(scope, &component_keys, p))
        });
        for page in results {
            // A later page refused while the first was allowed would be odd; treat it as an end.
            let Some(page) = page? else { break };
            set.issues.extend(page.issues);
            set.components.extend(page.components);
        }
        Ok(Some(set))
    }

    /// The facet that counts issues by severity in the server's own terms: impact severities on
    /// 10.2+ and SonarQube Cloud, the issue's severity before (issues `SearchAction`).
    fn severity_facet(&self) -> &'static str {
        if self.cloud || self.version.get().is_some_and(|v| *v >= (10, 2)) { "impactSeverities" } else { "severities" }
    }

    /// Whether the server takes the parameter names of 10.2 (`components` for issues, `project` for
    /// hotspots). Their old names (`componentKeys`, `projectKey`) stay accepted, deprecated, up to
    /// 26.7; SonarQube Cloud and servers before 10.2 know only those (issues and hotspots
    /// `SearchAction`, web-service changelogs).
    fn renamed_parameters(&self) -> bool {
        !self.cloud && self.version.get().is_some_and(|v| *v >= (10, 2))
    }

    /// The parameters of one page of open issues, most severe first: SonarQube sorts `SEVERITY`
    /// by the issue's severity, then its key (`IssueIndex.java`), so pages never overlap.
    fn issue_params(&self, scope: &Scope, component_keys: &str, page: u64) -> Vec<(&'static str, String)> {
        let components = if self.renamed_parameters() { "components" } else { "componentKeys" };
        let mut params = vec![
            (components, component_keys.to_string()),
            ("resolved", "false".to_string()),
            ("s", "SEVERITY".to_string()),
            ("asc", "false".to_string()),
            ("ps", ISSUE_PAGE_SIZE.to_string()),
            ("p", page.to_string()),
        ];
        params.extend(scope.params());
        if let Some(org) = self.organization.as_ref().filter(|_| self.cloud) {
            params.push(("organization", org.clone()));
        }
        params
    }

    fn issue_search(&self, project_key: &str, params: &[(&str, String)]) -> Result<Option<IssuesResponse>, Error> {
        let resp = self.get("api/issues/search", params, true)?;
        match resp.status {
            200 => Ok(Some(resp.json::<IssuesResponse>().map_err(|e| self.bad_json("api/issues/search", e))?)),
            403 => Ok(None),
            _ => Err(self.api_error(&resp, &format!("search the issues of '{project_key}'"))),
        }
    }

    /// The revision (commit) an analysis was of, from `api/project_analyses/search`; `Ok(None)`
    /// when the server does not say (older versions, no SCM data, a token that may not browse).
    ///
    /// Never asked for a pull request analysis: the web service has no `pullRequest` parameter
    /// (SonarQube's `projectanalysis/ws/SearchAction.java` defines `project`, `branch` (internal,
    /// 6.6+), `category`, `from`, `to`, `status`; so do the 2026.3 and Community Build 26.7
    /// web-service lists) and ignores one it is sent, answering for the main branch. Neither
    /// `api/ce/task` nor `api/project_pull_requests/list` gives a revision either (`ws-ce.proto`,
    /// `ws-projectpullrequests.proto`): a pull request analysis is held to this build by its pull
    /// request and by when it was submitted instead (`decide::provenance`).
    pub(crate) fn analysis_revision(&self, project_key: &str, scope: &Scope, analysis_id: Option<&str>) -> Result<Option<String>, Error> {
        // The scope as it is now (`refresh`): its analysed commit is given by the caller.
        let Some(analysis_id) = analysis_id else { return Ok(None) };
        let mut params = vec![("project", project_key.to_string()), ("ps", "20".to_string())];
        match scope {
            Scope::PullRequest(_) => return Ok(None),
            Scope::Branch(branch) => params.push(("branch", branch.clone())),
            Scope::Main => {}
        }
        if let Some(org) = self.organization.as_ref().filter(|_| self.cloud) {
            params.push(("organization", org.clone()));
        }
        let resp = self.get("api/project_analyses/search", &params, true)?;
        match resp.status {
            200 => {
                let body = resp.json::<ProjectAnalyses>().map_err(|e| self.bad_json("api/project_analyses/search", e))?;
                Ok(body.analyses.into_iter().find(|a| a.key == analysis_id).and_then(|a| a.revision))
            }
            // Not readable or not known here: the check is skipped, never a failure of its own.
            403 | 404 => Ok(None),
            _ => Err(self.api_error(&resp, &format!("read the analyses of '{project_key}'"))),
        }
    }

    /// Security hotspots still to review: the count and the first page. `Ok(None)` when the server
    /// or token cannot list them.
    pub(crate) fn hotspots_to_review(&self, project_key: &str, scope: &Scope) -> Result<Option<u64>, Error> {
        let project = if self.renamed_parameters() { "project" } else { "projectKey" };
        let mut params = vec![(project, project_key.to_string()), ("status", "TO_REVIEW".to_string()), ("ps", "100".to_string())];
        params.extend(scope.params());
        let resp = self.get("api/hotspots/search", &params, true)?;
        match resp.status {
            200 => {
                let body = resp.json::<HotspotsResponse>().map_err(|e| self.bad_json("api/hotspots/search", e))?;
                let total = body.paging.as_ref().map_or(body.hotspots.len() as u64, |p| p.total);
                Ok(Some(total))
            }
            403 | 404 => Ok(None),
            _ => Err(self.api_error(&resp, &format!("list the security hotspots of '{project_key}'"))),
        }
    }

    /// The page that lists this project's background tasks, for messages about the CE.
    pub(crate) fn background_tasks_url(&self, project_key: &str) -> String {
        format!("{}/project/background_tasks?id={}", self.base, encode(project_key))
    }

    fn bad_json(&self, path: &str, e: serde_json::Error) -> Error {
        Error::Api {
            service: Service::SonarQube,
            message: format!("{}/{path} answered with JSON this task cannot read ({e}); is the URL a SonarQube server?", self.base),
        }
    }

    /// Explains a failed call: 401 is always the token; otherwise SonarQube's own messages.
    fn api_error(&self, resp: &Response, what: &str) -> Error {
        let server_says = error_messages(resp);
        match resp.status {
            300..=399 => Error::Api {
                service: Service::SonarQube,
                message: format!(
                    "{} redirected the request to {} (HTTP {}) while trying to {what}; redirects are not followed, so the token never goes to another address. The URL is not the server's own address (often http:// where the server wants https://, or a missing or extra context path): set {} to the address it redirects to",
                    self.base,
                    resp.header("location").unwrap_or("another address"),
                    resp.status,
                    self.names.url
                ),
            },
            401 => Error::Credentials {
                service: Service::SonarQube,
                message: format!(
                    "the token was rejected while trying to {what} (HTTP 401): it is invalid, expired or revoked, or it belongs to another server. Create a new token in SonarQube (My Account > Security) and update {}{}",
                    self.names.token,
                    if self.cloud { " (SonarQube Cloud tokens are personal or scoped organization tokens)" } else { "" }
                ),
            },
            403 => Error::Credentials {
                service: Service::SonarQube,
                message: format!(
                    "the token may not {what} (HTTP 403{}). Give the token's account 'Browse' and 'Execute Analysis' on the project",
                    server_says.map(|m| format!(": {m}")).unwrap_or_default()
                ),
            },
            429 => Error::Unavailable {
                service: Service::SonarQube,
                message: format!(
                    "the server kept refusing to {what} with HTTP 429 (too many requests) after the retries{}: it, or a gateway in front of it, limits how often this agent may call it. Run the pipeline again later, or ask its administrator to raise the limit for the pipeline's address",
                    server_says.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()
                ),
            },
            503 => Error::Unavailable {
                service: Service::SonarQube,
                message: format!(
                    "the server is not ready to {what} (HTTP 503; it answers so while it starts or re-indexes). Run the pipeline again in a few minutes"
                ),
            },
            status @ 500..=599 => Error::Unavailable {
                service: Service::SonarQube,
                message: format!(
                    "the server failed to {what} (HTTP {status}{}) and kept failing after the retries; its administrator can see why in the server logs",
                    server_says.map(|m| format!(": {m}")).unwrap_or_default()
                ),
            },
            status => Error::Api {
                service: Service::SonarQube,
                message: match server_says {
                    Some(msg) => format!("could not {what}: {msg} (HTTP {status})"),
                    None => format!("could not {what}: HTTP {status}"),
                },
            },
        }
    }
}

/// The metrics a measures call's 404 names as unknown ("The following metric keys are not found:
/// a, b", `ComponentAction` and `ComponentTreeAction` alike); `None` for any other 404.
fn unknown_metrics(resp: &Response) -> Option<Vec<String>> {
    let msg = error_messages(resp)?;
    let list = msg.split("not found:").nth(1)?;
    Some(list.split(',').map(|s| s.trim().to_string()).collect())
}

/// SonarQube's `{"errors":[{"msg":…}]}` joined, if the body is that.
pub(crate) fn error_messages(resp: &Response) -> Option<String> {
    let body: ErrorBody = serde_json::from_slice(&resp.body).ok()?;
    let msgs: Vec<String> = body.errors.into_iter().map(|e| e.msg).collect();
    // One line: it lands in messages whose own line breaks separate list items.
    (!msgs.is_empty()).then(|| crate::text::visible(&msgs.join("; ")))
}

/// When the next compute-engine poll is due, counted from the first poll: on a 200 ms grid for
/// the first three seconds (a small analysis ends there, noticed about 100 ms after), on a 500 ms
/// grid to ten seconds, then on a 1 s grid, as SonarSource's own task polls. Start times on a
/// grid, not a pause after each answer, so a slow answer does not push the schedule back. The
/// server gets 30 polls in the first ten seconds (it was 51 on a 200 ms grid throughout: an 8.4 s
/// analysis cost 43 polls, now 27), then 60 a minute: each a small read of one task by id.
pub(crate) fn next_poll_at(elapsed: Duration) -> Duration {
    const QUICK: Duration = Duration::from_secs(3);
    const EARLY: Duration = Duration::from_secs(10);
    let step: u128 = if elapsed < QUICK {
        200
    } else if elapsed < EARLY {
        500
    } else {
        1_000
    };
    let next = (elapsed.as_millis() / step + 1) * step;
    Duration::from_millis(u64::try_from(next).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_is_recognised_by_host() {
        assert!(is_cloud_url("https://sonarcloud.io"));
        assert!(is_cloud_url("https://sonarqube.us/"));
        assert!(!is_cloud_url("https://sonarcloud.io.evil.example"));
        assert!(!is_cloud_url("https://sonar.example.com"));
    }

    #[test]
    fn polls_follow_a_200_ms_grid_then_500_ms_then_1_s() {
        let ms = Duration::from_millis;
        assert_eq!(next_poll_at(Duration::ZERO), ms(200));
        assert_eq!(next_poll_at(ms(230)), ms(400), "a slow answer does not push the grid back");
        assert_eq!(next_poll_at(ms(2_950)), ms(3_000));
        assert_eq!(next_poll_at(ms(3_000)), ms(3_500));
        assert_eq!(next_poll_at(ms(9_950)), ms(10_000));
        assert_eq!(next_poll_at(ms(10_000)), ms(11_000));
        assert_eq!(next_poll_at(ms(3_600_400)), ms(3_601_000));
        assert_eq!(next_poll_at(Duration::MAX), Duration::from_millis(u64::MAX), "no overflow");
    }
}
