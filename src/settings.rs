//! The one validated settings type the core runs on, built either from the agent's task inputs or
//! from command-line flags, and checked before any network call.
//!
//! Both front ends first gather plain strings into [`RawSettings`]; [`RawSettings::validate`] then
//! reports every problem at once, each naming the input (task mode) or flag (CLI mode) and the fix.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::pipeline::env::{AgentEnv, parse_bool};
use crate::secret::Secret;

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read the analysis and post the results to the pull request.
    Publish,
    /// Run every preflight check and write nothing.
    Check,
}

/// Where the settings came from; decides how an input is named in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Task,
    Cli,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Every setting, with its task input (or pipeline variable) name and its flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Mode,
    SonarService,
    SonarUrl,
    SonarToken,
    SonarOrganization,
    ReportTaskFile,
    PollingTimeoutSec,
    AzureDevOpsPat,
    FailOnQualityGateError,
    PostStatus,
    PostSummaryComment,
    PostInlineComments,
    MaxInlineComments,
    StatusGenre,
    StatusName,
    CaCertFile,
    CollectionUrl,
    Project,
    RepositoryId,
    PullRequestId,
    SourceCommit,
    Proxy,
    ProxyBypass,
    AgentCaInfo,
    DecorationMode,
    FailOnNewIssues,
    ProjectBaseDir,
}

impl Field {
    /// The name a user of this origin knows the setting by.
    pub fn name(self, origin: Origin) -> &'static str {
        match origin {
            Origin::Task => self.task_name(),
            Origin::Cli => self.flag(),
        }
    }

    /// The task input name (a public contract: task.json declares exactly these), or for pipeline
    /// context the predefined variable.
    pub fn task_name(self) -> &'static str {
        match self {
            Field::Mode => "mode",
            Field::SonarService => "sonarQubeService",
            Field::SonarUrl => "sonarUrl",
            Field::SonarToken => "sonarToken",
            Field::SonarOrganization => "sonarOrganization",
            Field::ReportTaskFile => "reportTaskFile",
            Field::PollingTimeoutSec => "pollingTimeoutSec",
            Field::AzureDevOpsPat => "azureDevOpsPat",
            Field::FailOnQualityGateError => "failOnQualityGateError",
            Field::PostStatus => "postStatus",
            Field::PostSummaryComment => "postSummaryComment",
            Field::PostInlineComments => "postInlineComments",
            Field::MaxInlineComments => "maxInlineComments",
            Field::StatusGenre => "statusGenre",
            Field::StatusName => "statusName",
            Field::CaCertFile => "caCertFile",
            Field::CollectionUrl => "System.CollectionUri",
            Field::Project => "System.TeamProject",
            Field::RepositoryId => "Build.Repository.ID",
            Field::PullRequestId => "System.PullRequest.PullRequestId",
            Field::SourceCommit => "System.PullRequest.SourceCommitId",
            Field::Proxy => "Agent.ProxyUrl",
            Field::ProxyBypass => "Agent.ProxyBypassList",
            Field::AgentCaInfo => "Agent.CAInfo",
            Field::DecorationMode => "decorationMode",
            Field::FailOnNewIssues => "failOnNewIssues",
            Field::ProjectBaseDir => "projectBaseDir",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Field::Mode => "the command (check or publish)",
            Field::SonarService => "sonarQubeService",
            Field::SonarUrl => "--sonar-url (or SONAR_HOST_URL)",
            Field::SonarToken => "SONAR_TOKEN",
            Field::SonarOrganization => "--organization",
            Field::ReportTaskFile => "--report-task-file",
            Field::PollingTimeoutSec => "--polling-timeout-sec",
            Field::AzureDevOpsPat => "AZURE_DEVOPS_EXT_PAT",
            Field::FailOnQualityGateError => "--fail-on-quality-gate-error",
            Field::PostStatus => "--post-status",
            Field::PostSummaryComment => "--post-summary-comment",
            Field::PostInlineComments => "--post-inline-comments",
            Field::MaxInlineComments => "--max-inline-comments",
            Field::StatusGenre => "--status-genre",
            Field::StatusName => "--status-name",
            Field::CaCertFile => "--ca-cert-file",
            Field::CollectionUrl => "--collection-url",
            Field::Project => "--project",
            Field::RepositoryId => "--repository",
            Field::PullRequestId => "--pull-request",
            Field::SourceCommit => "--source-commit",
            Field::Proxy => "--proxy (or HTTPS_PROXY / HTTP_PROXY)",
            Field::ProxyBypass => "NO_PROXY",
            Field::AgentCaInfo => "AGENT_CAINFO",
            Field::DecorationMode => "--decoration-mode",
            Field::FailOnNewIssues => "--fail-on-new-issues",
            Field::ProjectBaseDir => "--project-base-dir",
        }
    }
}

/// One problem with the settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub input: String,
    pub message: String,
}

/// Every problem found, reported together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{n} setting{} need{} fixing:", if n == 1 { "" } else { "s" }, if n == 1 { "s" } else { "" })?;
        for p in &self.problems {
            write!(f, "\n  - {}: {}", p.input, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

/// Settings as gathered, before validation: everything is an optional, trimmed string.
#[derive(Clone, Default)]
pub struct RawSettings {
    pub origin: Option<Origin>,
    pub mode: Option<String>,
    pub sonar_service: Option<String>,
    pub sonar_url: Option<String>,
    pub sonar_token: Option<String>,
    pub sonar_organization: Option<String>,
    pub report_task_file: Option<String>,
    pub polling_timeout_sec: Option<String>,
    pub azure_devops_pat: Option<String>,
    pub job_access_token: Option<String>,
    pub fail_on_quality_gate_error: Option<String>,
    pub post_status: Option<String>,
    pub post_summary_comment: Option<String>,
    pub post_inline_comments: Option<String>,
    pub max_inline_comments: Option<String>,
    pub status_genre: Option<String>,
    pub status_name: Option<String>,
    pub ca_cert_file: Option<String>,
    pub collection_url: Option<String>,
    pub project: Option<String>,
    pub repository_id: Option<String>,
    pub pull_request_id: Option<String>,
    pub source_commit: Option<String>,
    pub build_reason: Option<String>,
    pub repository_provider: Option<String>,
    /// Task mode: the agent's proxy.
    pub agent_proxy_url: Option<String>,
    pub agent_proxy_username: Option<String>,
    pub agent_proxy_password: Option<String>,
    pub agent_proxy_bypass: Option<String>,
    /// CLI mode: `--proxy`, then curl's variables.
    pub proxy_flag: Option<String>,
    pub https_proxy: Option<String>,
    pub http_proxy: Option<String>,
    pub no_proxy: Option<String>,
    /// The agent's CA bundle (`Agent.CAInfo`).
    pub agent_ca_info: Option<String>,
    /// The agent's `Agent.SkipCertValidation`.
    pub skip_cert_validation: Option<String>,
    pub decoration_mode: Option<String>,
    pub fail_on_new_issues: Option<String>,
    pub project_base_dir: Option<String>,
    /// The commit the pipeline built and analysed (`Build.SourceVersion`; a merge commit for PRs).
    pub analysed_commit: Option<String>,
    pub dry_run: bool,
    pub format: OutputFormat,
    pub debug: bool,
    pub paths: SearchPaths,
    /// The agent's service connection, resolved by the task front end (URL, token).
    pub sonar_service_resolved: Option<(Option<String>, Option<String>)>,
}

/// Directories that report-task.txt discovery looks in.
#[derive(Clone, Debug, Default)]
pub struct SearchPaths {
    pub sources_directory: Option<PathBuf>,
    pub agent_temp_directory: Option<PathBuf>,
    pub agent_build_directory: Option<PathBuf>,
    pub build_id: Option<String>,
    pub report_task_variable: Option<String>,
    pub legacy_report_task_variable: Option<String>,
    pub working_directory: Option<PathBuf>,
}

/// How the task authenticates to Azure DevOps.
#[derive(Clone, Debug)]
pub enum AzdoCredential {
    /// The job's access token, sent as Bearer.
    JobToken(Secret),
    /// A personal access token, sent as Basic with an empty user name.
    Pat(Secret),
}

impl AzdoCredential {
    pub fn secret(&self) -> &Secret {
        match self {
            AzdoCredential::JobToken(s) | AzdoCredential::Pat(s) => s,
        }
    }
}

/// The pull request to decorate; absent when the build is not a pull request build.
#[derive(Clone, Debug)]
pub struct PullRequestTarget {
    pub id: u32,
    pub source_commit: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SonarSettings {
    pub url: String,
    pub token: Option<Secret>,
    pub organization: Option<String>,
    pub report_task_file: Option<String>,
    pub polling_timeout: Duration,
}

#[derive(Clone, Debug)]
pub struct AzdoSettings {
    pub collection_url: Option<String>,
    pub project: Option<String>,
    pub repository_id: Option<String>,
    pub pull_request: Option<PullRequestTarget>,
    pub credential: Option<AzdoCredential>,
    pub analysed_commit: Option<String>,
    /// Why there is no pull request, for the one line that says so.
    pub not_a_pr_reason: Option<String>,
}

/// How issues are matched to the pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecorationMode {
    /// From the server's capabilities: its own PR analysis on commercial editions and Cloud, the
    /// PR's changed lines on Community Build.
    Auto,
    /// SonarQube's pull request analysis: its issues are the PR's.
    PullRequest,
    /// Any analysis, scoped by this task to the lines the PR changed.
    ChangedLines,
}

#[derive(Clone, Debug)]
pub struct Decoration {
    pub mode: DecorationMode,
    /// Fail the status and the task when issues at or above this severity sit on changed lines.
    pub fail_on_new_issues: Option<crate::sonar::present::Severity>,
    /// Where the analysed project sits in the repository (a monorepo's subfolder), when given.
    pub project_base_dir: Option<String>,
    pub post_status: bool,
    pub post_summary_comment: bool,
    pub post_inline_comments: bool,
    pub max_inline_comments: usize,
    pub status_genre: String,
    pub status_name: String,
}

/// Validated settings. Building one performs no I/O except checking that named files exist.
#[derive(Clone, Debug)]
pub struct Settings {
    pub origin: Origin,
    pub mode: Mode,
    pub dry_run: bool,
    pub format: OutputFormat,
    pub debug: bool,
    pub sonar: SonarSettings,
    pub azdo: AzdoSettings,
    pub decoration: Decoration,
    pub fail_on_quality_gate_error: bool,
    /// PEM files whose certificates are trusted besides the system's and the bundled roots:
    /// caCertFile and the agent's CA bundle.
    pub ca_cert_files: Vec<PathBuf>,
    /// The agent's operator turned certificate checks off (`Agent.SkipCertValidation`).
    pub skip_cert_validation: bool,
    pub proxy: Option<crate::proxy::ProxyConfig>,
    pub paths: SearchPaths,
}

pub const DEFAULT_POLLING_TIMEOUT_SEC: u64 = 300;
pub const DEFAULT_MAX_INLINE_COMMENTS: usize = 25;
pub const DEFAULT_STATUS_GENRE: &str = "SonarQube";
pub const DEFAULT_STATUS_NAME: &str = "quality gate";
/// Six hours: the longest a hosted job may run; anything longer is a typo.
const MAX_POLLING_TIMEOUT_SEC: u64 = 21_600;
/// Azure DevOps allows 500 comments per thread and threads are cheap, but hundreds of inline
/// threads bury a PR; 500 is a ceiling that catches typos such as 2500.
const MAX_INLINE_COMMENTS: usize = 500;

impl Settings {
    /// Every secret the run holds, and the forms derived from them that will be sent on the wire,
    /// so they can be registered with the agent before anything is printed.
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out = Vec::new();
        if let Some(token) = &self.sonar.token {
            out.push(token.clone());
            out.push(crate::http::basic_value("", token));
            out.push(crate::http::basic_value(token.expose(), &Secret::new("")));
        }
        if let Some(cred) = &self.azdo.credential {
            out.push(cred.secret().clone());
            out.push(crate::http::basic_value("", cred.secret()));
        }
        if let Some(proxy) = &self.proxy {
            out.extend(proxy.secrets());
        }
        out
    }
}

impl RawSettings {
    /// Every secret-looking value as given, valid or not, with the Basic-header forms derived from
    /// it: registered with the agent before anything (even a validation error) is printed.
    pub fn secret_candidates(&self) -> Vec<Secret> {
        let mut raw: Vec<&str> =
            [&self.sonar_token, &self.azure_devops_pat, &self.job_access_token].into_iter().flatten().map(|s| s.trim()).collect();
        if let Some((_, Some(token))) = &self.sonar_service_resolved {
            raw.push(token.trim());
        }
        let mut out = Vec::new();
        // Proxy passwords, given alone or inside a proxy URL, with their Basic form.
        if let Some(pw) = &self.agent_proxy_password {
            let pw = Secret::new(pw.trim());
            out.push(crate::http::basic_value(self.agent_proxy_username.as_deref().unwrap_or(""), &pw));
            out.push(pw);
        }
        for url in [&self.proxy_flag, &self.https_proxy, &self.http_proxy, &self.agent_proxy_url].into_iter().flatten() {
            if let Ok(p) = crate::proxy::parse_proxy_url(url)
                && let Some(pw) = p.password
            {
                out.push(crate::http::basic_value(p.username.as_deref().unwrap_or(""), &pw));
                out.push(pw);
            }
        }
        for value in raw.into_iter().filter(|v| !v.is_empty()) {
            let secret = Secret::new(value);
            out.push(crate::http::basic_value("", &secret));
            out.push(crate::http::basic_value(value, &Secret::new("")));
            // Each line of a multi-line paste is masked on its own, as the agent's masker works per line.
            out.extend(value.lines().map(str::trim).filter(|l| !l.is_empty()).map(Secret::new));
            out.push(secret);
        }
        out
    }

    /// Gathers task inputs and predefined variables from the agent's environment.
    pub fn from_task_env(env: &AgentEnv) -> Self {
        let mut raw = RawSettings {
            origin: Some(Origin::Task),
            mode: env.input("mode"),
            sonar_service: env.input("sonarQubeService"),
            sonar_url: env.input("sonarUrl"),
            sonar_token: env.input("sonarToken"),
            sonar_organization: env.input("sonarOrganization"),
            report_task_file: env.input("reportTaskFile"),
            polling_timeout_sec: env.input("pollingTimeoutSec"),
            azure_devops_pat: env.input("azureDevOpsPat"),
            job_access_token: env.job_access_token(),
            fail_on_quality_gate_error: env.input("failOnQualityGateError"),
            post_status: env.input("postStatus"),
            post_summary_comment: env.input("postSummaryComment"),
            post_inline_comments: env.input("postInlineComments"),
            max_inline_comments: env.input("maxInlineComments"),
            status_genre: env.input("statusGenre"),
            status_name: env.input("statusName"),
            ca_cert_file: env.input("caCertFile"),
            agent_proxy_url: env.variable("Agent.ProxyUrl"),
            agent_proxy_username: env.variable("Agent.ProxyUsername"),
            agent_proxy_password: env.variable("Agent.ProxyPassword"),
            agent_proxy_bypass: env.variable("Agent.ProxyBypassList"),
            agent_ca_info: env.variable("Agent.CAInfo"),
            skip_cert_validation: env.variable("Agent.SkipCertValidation"),
            decoration_mode: env.input("decorationMode"),
            fail_on_new_issues: env.input("failOnNewIssues"),
            project_base_dir: env.input("projectBaseDir"),
            debug: env.debug(),
            ..RawSettings::default()
        };
        raw.fill_pipeline_context(env);
        if let Some(id) = &raw.sonar_service {
            raw.sonar_service_resolved = env.endpoint(id).map(|ep| {
                // SonarSource's `sonarqube` connection keeps the token in the username field
                // (scheme UsernamePassword); a Token-scheme connection keeps it in `apitoken`.
                let token = ep.auth_parameter("username").or_else(|| ep.auth_parameter("apitoken")).map(str::to_string);
                (ep.url.clone(), token)
            });
        }
        raw
    }

    /// Predefined variables that say where to post and where the scanner wrote its files; used in
    /// task mode and as CLI fallbacks when the CLI runs in a pipeline script step.
    pub fn fill_pipeline_context(&mut self, env: &AgentEnv) {
        let fill = |slot: &mut Option<String>, value: Option<String>| {
            if slot.is_none() {
                *slot = value;
            }
        };
        fill(&mut self.collection_url, env.variable("System.CollectionUri").or_else(|| env.variable("System.TeamFoundationCollectionUri")));
        // The name reads better in messages ("<project> Build Service") and works in URLs once encoded.
        fill(&mut self.project, env.variable("System.TeamProject").or_else(|| env.variable("System.TeamProjectId")));
        fill(&mut self.repository_id, env.variable("Build.Repository.ID"));
        fill(&mut self.pull_request_id, env.variable("System.PullRequest.PullRequestId"));
        fill(&mut self.source_commit, env.variable("System.PullRequest.SourceCommitId"));
        fill(&mut self.build_reason, env.variable("Build.Reason"));
        fill(&mut self.analysed_commit, env.variable("Build.SourceVersion"));
        fill(&mut self.repository_provider, env.variable("Build.Repository.Provider"));
        let path = |name: &str| env.variable(name).map(PathBuf::from);
        let p = &mut self.paths;
        p.sources_directory = p.sources_directory.take().or_else(|| path("Build.SourcesDirectory"));
        p.agent_temp_directory = p.agent_temp_directory.take().or_else(|| path("Agent.TempDirectory"));
        p.agent_build_directory = p.agent_build_directory.take().or_else(|| path("Agent.BuildDirectory"));
        p.build_id = p.build_id.take().or_else(|| env.variable("Build.BuildId"));
        p.report_task_variable = p.report_task_variable.take().or_else(|| env.variable("SONAR_SCANNER_REPORTTASKFILE"));
        p.legacy_report_task_variable = p.legacy_report_task_variable.take().or_else(|| env.variable("SONARQUBE_SCANNER_REPORTTASKFILE"));
    }

    /// Checks everything and builds [`Settings`], or reports every problem at once.
    pub fn validate(self) -> Result<Settings, SettingsError> {
        let origin = self.origin.unwrap_or(Origin::Cli);
        let mut v = Validator { origin, problems: Vec::new() };

        let mode = match self.mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("publish") => Mode::Publish,
            Some("check") => Mode::Check,
            Some(other) => {
                v.problem(
                    Field::Mode,
                    format!("'{other}' is not a mode; use publish (post the result) or check (preflight checks only, writes nothing)"),
                );
                Mode::Publish
            }
        };

        // SonarQube URL and token: explicit settings first, then the service connection.
        let (service_url, service_token) = match (&self.sonar_service, &self.sonar_service_resolved) {
            (Some(id), None) => {
                v.problem(
                    Field::SonarService,
                    format!(
                        "service connection '{id}' is not available to this job; check that it exists, that it is of type SonarQube, and that this pipeline is allowed to use it (Project settings > Service connections > Security)"
                    ),
                );
                (None, None)
            }
            (_, Some((url, token))) => (url.clone(), token.clone()),
            _ => (None, None),
        };
        if self.sonar_token.is_some() && service_token.is_some() {
            v.problem(
                Field::SonarToken,
                format!(
                    "both {} and {} give a SonarQube token; set only one (keep the service connection and clear {}, or the other way round)",
                    Field::SonarToken.name(origin),
                    Field::SonarService.name(origin),
                    Field::SonarToken.name(origin)
                ),
            );
        }
        let sonar_url = match self.sonar_url.clone().or(service_url) {
            Some(url) => v.url(Field::SonarUrl, &url).unwrap_or_default(),
            None => {
                let hint = match origin {
                    Origin::Task => {
                        "set sonarUrl (for example https://sonarqube.example.com) or choose a SonarQube service connection in sonarQubeService"
                    }
                    Origin::Cli => "pass --sonar-url https://sonarqube.example.com or set SONAR_HOST_URL",
                };
                v.problem(Field::SonarUrl, format!("the SonarQube URL is missing; {hint}"));
                String::new()
            }
        };
        let sonar_token = self.sonar_token.clone().or(service_token).and_then(|t| v.token(Field::SonarToken, &t));
        if sonar_token.is_none() && !v.has_problem(Field::SonarToken) {
            let hint = match origin {
                Origin::Task => "set sonarToken to a secret variable, e.g. $(SONAR_TOKEN), or use a SonarQube service connection",
                Origin::Cli => "export SONAR_TOKEN=<token> (a user token of an account with Browse and Execute Analysis on the project)",
            };
            v.problem(Field::SonarToken, format!("the SonarQube token is missing; {hint}"));
        }
        let organization = self.sonar_organization.clone();
        if let Some(org) = &organization
            && !org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            v.problem(
                Field::SonarOrganization,
                format!("'{org}' is not an organization key; use the key shown in SonarQube Cloud's URL (letters, digits, - and _)"),
            );
        }

        let polling_secs = v.number(
            Field::PollingTimeoutSec,
            self.polling_timeout_sec.as_deref(),
            DEFAULT_POLLING_TIMEOUT_SEC as usize,
            1,
            MAX_POLLING_TIMEOUT_SEC as usize,
        );
        let max_inline =
            v.number(Field::MaxInlineComments, self.max_inline_comments.as_deref(), DEFAULT_MAX_INLINE_COMMENTS, 0, MAX_INLINE_COMMENTS);
        let fail_on_gate = v.boolean(Field::FailOnQualityGateError, self.fail_on_quality_gate_error.as_deref(), true);
        let post_status = v.boolean(Field::PostStatus, self.post_status.as_deref(), true);
        let post_summary = v.boolean(Field::PostSummaryComment, self.post_summary_comment.as_deref(), true);
        let post_inline = v.boolean(Field::PostInlineComments, self.post_inline_comments.as_deref(), true);
        let status_genre = v.label(Field::StatusGenre, self.status_genre.as_deref(), DEFAULT_STATUS_GENRE, true);
        let status_name = v.label(Field::StatusName, self.status_name.as_deref(), DEFAULT_STATUS_NAME, false);

        let decoration_mode = match self.decoration_mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("auto") => DecorationMode::Auto,
            Some("pullrequest") | Some("pull-request") => DecorationMode::PullRequest,
            Some("changedlines") | Some("changed-lines") => DecorationMode::ChangedLines,
            Some(other) => {
                v.problem(Field::DecorationMode, format!("'{other}' is not a decoration mode; use auto, pullRequest (SonarQube's own pull request analysis) or changedLines (scope any analysis to the lines the PR changed)"));
                DecorationMode::Auto
            }
        };
        let fail_on_new_issues = match self.fail_on_new_issues.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("none") => None,
            Some(s) => {
                match crate::sonar::present::Severity::parse(s).filter(|_| ["info", "minor", "major", "critical", "blocker"].contains(&s)) {
                    Some(sev) => Some(sev),
                    None => {
                        v.problem(
                            Field::FailOnNewIssues,
                            format!("'{s}' is not a severity; use none, info, minor, major, critical or blocker"),
                        );
                        None
                    }
                }
            }
        };
        let project_base_dir =
            self.project_base_dir.as_deref().map(|d| d.replace('\\', "/").trim_matches('/').to_string()).filter(|d| !d.is_empty());
        if let Some(d) = &project_base_dir
            && (d.split('/').any(|part| part == "..") || std::path::Path::new(d).is_absolute())
        {
            v.problem(
                Field::ProjectBaseDir,
                format!("'{d}' must be a folder inside the repository, relative to its root, like services/api"),
            );
        }

        let ca_cert_file = self.ca_cert_file.as_deref().and_then(|path| {
            let p = PathBuf::from(path);
            if p.is_file() {
                Some(p)
            } else {
                v.problem(Field::CaCertFile, format!("'{path}' is not a readable file; give the path of a PEM file with your CA certificates (for example $(Agent.TempDirectory)/corp-ca.pem from a secure file)"));
                None
            }
        });

        let mut ca_cert_files: Vec<PathBuf> = ca_cert_file.into_iter().collect();
        if let Some(path) = self.agent_ca_info.as_deref() {
            let p = PathBuf::from(path);
            if p.is_file() {
                ca_cert_files.push(p);
            } else {
                v.problem(Field::AgentCaInfo, format!("the agent's CA bundle '{path}' is not a readable file; fix the agent's --sslcacert setting or the file's permissions"));
            }
        }
        let skip_cert_validation = self.skip_cert_validation.as_deref().and_then(parse_bool).unwrap_or(false);

        let proxy = match origin {
            Origin::Task => self.agent_proxy_url.as_deref().and_then(|url| {
                crate::proxy::ProxyConfig::from_agent(
                    url,
                    self.agent_proxy_username.as_deref(),
                    self.agent_proxy_password.as_deref(),
                    self.agent_proxy_bypass.as_deref(),
                )
                .map_err(|e| {
                    let field = if e.starts_with("is not a JSON") || e.starts_with("entry") { Field::ProxyBypass } else { Field::Proxy };
                    v.problem(field, e);
                })
                .ok()
            }),
            Origin::Cli => {
                let https = self.proxy_flag.as_deref().or(self.https_proxy.as_deref());
                let http = self.proxy_flag.as_deref().or(self.http_proxy.as_deref());
                if https.is_none() && http.is_none() {
                    None
                } else {
                    crate::proxy::ProxyConfig::from_env_vars(https, http, self.no_proxy.as_deref())
                        .map_err(|e| v.problem(Field::Proxy, e))
                        .ok()
                }
            }
        };

        // Azure DevOps: the PAT when given, else the job token.
        let credential = match (&self.azure_devops_pat, &self.job_access_token) {
            (Some(pat), _) => v.token(Field::AzureDevOpsPat, pat).map(AzdoCredential::Pat),
            (None, Some(job)) => v.token(Field::AzureDevOpsPat, job).map(AzdoCredential::JobToken),
            (None, None) => None,
        };
        let collection_url = self.collection_url.as_deref().and_then(|u| v.url(Field::CollectionUrl, u));
        let project = self.project.clone();
        let repository_id = self.repository_id.clone();
        let mut not_a_pr_reason = None;
        let pull_request = match self.pull_request_id.as_deref() {
            None => {
                not_a_pr_reason = Some(match self.build_reason.as_deref() {
                    Some(reason) => format!("this build was not triggered by a pull request (Build.Reason is {reason})"),
                    None => "no pull request id was given".to_string(),
                });
                None
            }
            Some(id) => match id.parse::<u32>() {
                Ok(n) if n > 0 => Some(PullRequestTarget { id: n, source_commit: self.source_commit.clone() }),
                _ => {
                    v.problem(
                        Field::PullRequestId,
                        format!("'{id}' is not a pull request id; it must be a positive whole number, like 42"),
                    );
                    None
                }
            },
        };
        if let Some(provider) = &self.repository_provider
            && pull_request.is_some()
            && provider != "TfsGit"
        {
            not_a_pr_reason = Some(format!(
                "the repository is hosted on {provider}, not Azure Repos, so there is no Azure DevOps pull request to decorate"
            ));
        }
        let pull_request = if not_a_pr_reason.is_some() { None } else { pull_request };
        if pull_request.is_some() {
            let needed = [
                (Field::CollectionUrl, collection_url.is_none() && !v.has_problem(Field::CollectionUrl)),
                (Field::Project, project.is_none()),
                (Field::RepositoryId, repository_id.is_none()),
            ];
            for (field, missing) in needed {
                if missing {
                    let hint = match origin {
                        Origin::Task => "the agent sets it on every build; run the task in an Azure Pipelines job".to_string(),
                        Origin::Cli => format!("pass {}", field.flag()),
                    };
                    v.problem(
                        field,
                        format!("is needed to post to pull request {}; {hint}", self.pull_request_id.as_deref().unwrap_or("")),
                    );
                }
            }
            if credential.is_none() && mode == Mode::Publish && !self.dry_run && !v.has_problem(Field::AzureDevOpsPat) {
                let hint = match origin {
                    Origin::Task => {
                        "the job's access token was not found; map it with `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` or set azureDevOpsPat"
                    }
                    Origin::Cli => "export SYSTEM_ACCESSTOKEN or AZURE_DEVOPS_EXT_PAT",
                };
                v.problem(Field::AzureDevOpsPat, format!("no Azure DevOps credential to post with; {hint}"));
            }
        }

        if let Some(commit) = &self.source_commit
            && !(commit.len() >= 7 && commit.len() <= 64 && commit.chars().all(|c| c.is_ascii_hexdigit()))
        {
            v.problem(
                Field::SourceCommit,
                format!("'{commit}' is not a commit id; give the full hexadecimal id of the pull request's source commit"),
            );
        }

        if !v.problems.is_empty() {
            return Err(SettingsError { problems: v.problems });
        }
        Ok(Settings {
            origin,
            mode,
            dry_run: self.dry_run,
            format: self.format,
            debug: self.debug,
            sonar: SonarSettings {
                url: sonar_url,
                token: sonar_token,
                organization,
                report_task_file: self.report_task_file,
                polling_timeout: Duration::from_secs(polling_secs as u64),
            },
            azdo: AzdoSettings {
                collection_url,
                project,
                repository_id,
                pull_request,
                credential,
                not_a_pr_reason,
                analysed_commit: self.analysed_commit.clone(),
            },
            decoration: Decoration {
                mode: decoration_mode,
                fail_on_new_issues,
                project_base_dir,
                post_status,
                post_summary_comment: post_summary,
                post_inline_comments: post_inline,
                max_inline_comments: max_inline,
                status_genre,
                status_name,
            },
            fail_on_quality_gate_error: fail_on_gate,
            ca_cert_files,
            skip_cert_validation,
            proxy,
            paths: self.paths,
        })
    }
}

struct Validator {
    origin: Origin,
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, field: Field, message: String) {
        self.problems.push(Problem { input: field.name(self.origin).to_string(), message });
    }

    fn has_problem(&self, field: Field) -> bool {
        let name = field.name(self.origin);
        self.problems.iter().any(|p| p.input == name)
    }

    /// An http(s) base URL: trimmed, no trailing slash, no credentials, query or fragment.
    fn url(&mut self, field: Field, raw: &str) -> Option<String> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once("://") else {
            let bare = raw.trim_end_matches('/');
            self.problem(field, format!("'{bare}' has no scheme; write it with one, for example https://{bare}"));
            return None;
        };
        let rest = rest.trim_end_matches('/');
        let url = format!("{scheme}://{rest}");
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            self.problem(field, format!("'{scheme}://' is not supported; use an https:// (or http://) URL"));
            return None;
        }
        if url.chars().any(char::is_whitespace) {
            self.problem(field, "the URL contains spaces; remove them (a path with spaces must be percent-encoded as %20)".to_string());
            return None;
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            let secret_field = match field {
                Field::SonarUrl => Field::SonarToken,
                _ => Field::AzureDevOpsPat,
            };
            // Never echo the URL here: the part before '@' is a credential.
            self.problem(
                field,
                format!(
                    "the URL contains a user name or password; remove the part before '@' and give the credential in {}",
                    secret_field.name(self.origin)
                ),
            );
            return None;
        }
        if url.contains('?') || url.contains('#') {
            self.problem(field, format!("'{url}' has a query or fragment; give only the base URL, such as {scheme}://{authority}"));
            return None;
        }
        // An IPv6 literal keeps its colons inside brackets; otherwise the last ':' starts the port.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((h, tail)) => (h, tail.strip_prefix(':')),
                None => ("", None),
            },
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            self.problem(field, format!("'{url}' has no host name; write it like https://sonarqube.example.com"));
            return None;
        }
        if let Some(port) = port
            && port.parse::<u16>().is_err()
        {
            self.problem(field, format!("'{port}' is not a port number; write the URL like https://host:9000"));
            return None;
        }
        if ureq::http::Uri::try_from(url.as_str()).is_err() {
            self.problem(field, format!("'{url}' is not a valid URL"));
            return None;
        }
        Some(url)
    }

    /// A token: non-empty, one line, no spaces. Never echoes the value.
    fn token(&mut self, field: Field, raw: &str) -> Option<Secret> {
        let value = raw.trim();
        if value.contains('\n') || value.contains('\r') {
            self.problem(field, "the token spans several lines; paste it again as a single line".to_string());
            None
        } else if value.chars().any(char::is_whitespace) {
            self.problem(field, "the token contains spaces; it must be the bare token, without a 'Bearer ' or 'Basic ' prefix".to_string());
            None
        } else if value.starts_with("$(") && value.ends_with(')') {
            self.problem(
                field,
                format!("the value is the unexpanded macro {value}: the variable is not defined for this job; define it (as a secret) or link its variable group"),
            );
            None
        } else if value.is_empty() {
            None
        } else {
            Some(Secret::new(value))
        }
    }

    fn number(&mut self, field: Field, raw: Option<&str>, default: usize, min: usize, max: usize) -> usize {
        let Some(raw) = raw else { return default };
        match raw.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => n,
            Ok(n) => {
                self.problem(field, format!("{n} is out of range; use a number from {min} to {max}"));
                default
            }
            Err(_) => {
                self.problem(field, format!("'{raw}' is not a whole number; use a number from {min} to {max}, like {default}"));
                default
            }
        }
    }

    fn boolean(&mut self, field: Field, raw: Option<&str>, default: bool) -> bool {
        let Some(raw) = raw else { return default };
        parse_bool(raw).unwrap_or_else(|| {
            self.problem(field, format!("'{raw}' is not a boolean; use true or false"));
            default
        })
    }

    /// A status genre or name: short, one line, no `/` in the genre (the policy UI shows genre/name).
    fn label(&mut self, field: Field, raw: Option<&str>, default: &str, is_genre: bool) -> String {
        let Some(raw) = raw else { return default.to_string() };
        if raw.len() > 200 {
            self.problem(field, "is longer than 200 characters; a branch policy shows it in one line, keep it short".to_string());
        } else if raw.contains(['\r', '\n']) {
            self.problem(field, "spans several lines; use a single line".to_string());
        } else if is_genre && raw.contains('/') {
            self.problem(
                field,
                format!("'{raw}' contains '/', which a branch policy reads as the separator between genre and name; drop the '/'"),
            );
        }
        raw.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut all: Vec<(String, String)> = vec![
            ("INPUT_SONARURL".into(), "https://sonar.example.com".into()),
            ("INPUT_SONARTOKEN".into(), "squ_0123456789abcdef".into()),
            ("SYSTEM_COLLECTIONURI".into(), "https://dev.azure.com/org/".into()),
            ("SYSTEM_TEAMPROJECT".into(), "proj".into()),
            ("BUILD_REPOSITORY_ID".into(), "repo".into()),
            ("SYSTEM_PULLREQUEST_PULLREQUESTID".into(), "7".into()),
            ("SYSTEM_ACCESSTOKEN".into(), "jobtoken".into()),
        ];
        for (k, v) in pairs {
            all.retain(|(key, _)| key != k);
            all.push((k.to_string(), v.to_string()));
        }
        RawSettings::from_task_env(&AgentEnv::from_pairs(all)).validate()
    }

    fn only_problem(pairs: &[(&str, &str)]) -> Problem {
        let err = task(pairs).expect_err("settings should be rejected");
        assert_eq!(err.problems.len(), 1, "{err}");
        err.problems.into_iter().next().unwrap()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = task(&[]).unwrap();
        assert_eq!(s.mode, Mode::Publish);
        assert_eq!(s.sonar.url, "https://sonar.example.com");
        assert_eq!(s.sonar.polling_timeout, Duration::from_secs(300));
        assert!(s.fail_on_quality_gate_error && s.decoration.post_status && s.decoration.post_inline_comments);
        assert_eq!(s.decoration.max_inline_comments, 25);
        assert_eq!((s.decoration.status_genre.as_str(), s.decoration.status_name.as_str()), ("SonarQube", "quality gate"));
        assert!(matches!(s.azdo.credential, Some(AzdoCredential::JobToken(_))));
        assert_eq!(s.azdo.pull_request.as_ref().unwrap().id, 7);
    }

    #[test]
    fn pat_overrides_job_token_and_urls_are_trimmed() {
        let s = task(&[("INPUT_AZUREDEVOPSPAT", " pat123 "), ("INPUT_SONARURL", "  https://sq.example.com:9000/sonar/  ")]).unwrap();
        assert!(matches!(&s.azdo.credential, Some(AzdoCredential::Pat(p)) if p.expose() == "pat123"));
        assert_eq!(s.sonar.url, "https://sq.example.com:9000/sonar");
    }

    #[test]
    fn service_connection_supplies_url_and_token() {
        let s = task(&[
            ("INPUT_SONARURL", ""),
            ("INPUT_SONARTOKEN", ""),
            ("INPUT_SONARQUBESERVICE", "AAAAAAAA-1111-2222-3333-444455556666"),
            ("ENDPOINT_URL_aaaaaaaa-1111-2222-3333-444455556666", "https://sq.corp/"),
            ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_USERNAME", "squ_fromconn"),
        ])
        .unwrap();
        assert_eq!(s.sonar.url, "https://sq.corp");
        assert_eq!(s.sonar.token.unwrap().expose(), "squ_fromconn");
    }

    #[test]
    fn not_a_pr_build_is_not_an_error() {
        let s = task(&[("SYSTEM_PULLREQUEST_PULLREQUESTID", ""), ("BUILD_REASON", "IndividualCI")]).unwrap();
        assert!(s.azdo.pull_request.is_none());
        assert_eq!(
            s.azdo.not_a_pr_reason.as_deref(),
            Some("this build was not triggered by a pull request (Build.Reason is IndividualCI)")
        );
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let err = task(&[("INPUT_SONARURL", "ftp://x"), ("INPUT_POLLINGTIMEOUTSEC", "abc"), ("INPUT_POSTSTATUS", "yes")]).unwrap_err();
        let inputs: Vec<_> = err.problems.iter().map(|p| p.input.as_str()).collect();
        assert_eq!(inputs, ["sonarUrl", "pollingTimeoutSec", "postStatus"]);
        assert!(err.to_string().starts_with("3 settings need fixing:\n  - sonarUrl:"));
    }

    /// Each bad value with the exact message a user sees.
    #[test]
    fn bad_settings_each_have_a_clear_message() {
        // (environment overrides, input named in the message, the message)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[("INPUT_MODE", "dryrun")],
                "mode",
                "'dryrun' is not a mode; use publish (post the result) or check (preflight checks only, writes nothing)",
            ),
            (
                &[("INPUT_SONARURL", "")],
                "sonarUrl",
                "the SonarQube URL is missing; set sonarUrl (for example https://sonarqube.example.com) or choose a SonarQube service connection in sonarQubeService",
            ),
            (
                &[("INPUT_SONARURL", "sonar.example.com")],
                "sonarUrl",
                "'sonar.example.com' has no scheme; write it with one, for example https://sonar.example.com",
            ),
            (&[("INPUT_SONARURL", "ftp://sonar.example.com")], "sonarUrl", "'ftp://' is not supported; use an https:// (or http://) URL"),
            (
                &[("INPUT_SONARURL", "https://admin:hunter2@sonar.example.com")],
                "sonarUrl",
                "the URL contains a user name or password; remove the part before '@' and give the credential in sonarToken",
            ),
            (
                &[("INPUT_SONARURL", "https://sonar.example.com/?id=x")],
                "sonarUrl",
                "'https://sonar.example.com/?id=x' has a query or fragment; give only the base URL, such as https://sonar.example.com",
            ),
            (
                &[("INPUT_SONARURL", "https://sonar.example.com/#/dashboard")],
                "sonarUrl",
                "'https://sonar.example.com/#/dashboard' has a query or fragment; give only the base URL, such as https://sonar.example.com",
            ),
            (&[("INPUT_SONARURL", "https://")], "sonarUrl", "'https://' has no host name; write it like https://sonarqube.example.com"),
            (
                &[("INPUT_SONARURL", "https://sonar.example.com:90x0")],
                "sonarUrl",
                "'90x0' is not a port number; write the URL like https://host:9000",
            ),
            (
                &[("INPUT_SONARURL", "https://sonar example.com")],
                "sonarUrl",
                "the URL contains spaces; remove them (a path with spaces must be percent-encoded as %20)",
            ),
            (
                &[("INPUT_SONARTOKEN", "")],
                "sonarToken",
                "the SonarQube token is missing; set sonarToken to a secret variable, e.g. $(SONAR_TOKEN), or use a SonarQube service connection",
            ),
            (
                &[("INPUT_SONARTOKEN", "Bearer squ_abc")],
                "sonarToken",
                "the token contains spaces; it must be the bare token, without a 'Bearer ' or 'Basic ' prefix",
            ),
            (&[("INPUT_SONARTOKEN", "squ_abc\ndef")], "sonarToken", "the token spans several lines; paste it again as a single line"),
            (
                &[("INPUT_SONARTOKEN", "$(SONAR_TOKEN)")],
                "sonarToken",
                "the value is the unexpanded macro $(SONAR_TOKEN): the variable is not defined for this job; define it (as a secret) or link its variable group",
            ),
            (
                &[("INPUT_SONARQUBESERVICE", "0000aaaa-1111-2222-3333-444455556666")],
                "sonarQubeService",
                "service connection '0000aaaa-1111-2222-3333-444455556666' is not available to this job; check that it exists, that it is of type SonarQube, and that this pipeline is allowed to use it (Project settings > Service connections > Security)",
            ),
            (
                &[("INPUT_SONARORGANIZATION", "my org")],
                "sonarOrganization",
                "'my org' is not an organization key; use the key shown in SonarQube Cloud's URL (letters, digits, - and _)",
            ),
            (
                &[("INPUT_POLLINGTIMEOUTSEC", "5m")],
                "pollingTimeoutSec",
                "'5m' is not a whole number; use a number from 1 to 21600, like 300",
            ),
            (&[("INPUT_POLLINGTIMEOUTSEC", "0")], "pollingTimeoutSec", "0 is out of range; use a number from 1 to 21600"),
            (
                &[("INPUT_POLLINGTIMEOUTSEC", "-5")],
                "pollingTimeoutSec",
                "'-5' is not a whole number; use a number from 1 to 21600, like 300",
            ),
            (&[("INPUT_POLLINGTIMEOUTSEC", "100000")], "pollingTimeoutSec", "100000 is out of range; use a number from 1 to 21600"),
            (&[("INPUT_MAXINLINECOMMENTS", "2500")], "maxInlineComments", "2500 is out of range; use a number from 0 to 500"),
            (
                &[("INPUT_MAXINLINECOMMENTS", "many")],
                "maxInlineComments",
                "'many' is not a whole number; use a number from 0 to 500, like 25",
            ),
            (&[("INPUT_FAILONQUALITYGATEERROR", "ture")], "failOnQualityGateError", "'ture' is not a boolean; use true or false"),
            (&[("INPUT_POSTINLINECOMMENTS", "1")], "postInlineComments", "'1' is not a boolean; use true or false"),
            (&[("INPUT_POSTSUMMARYCOMMENT", "no")], "postSummaryComment", "'no' is not a boolean; use true or false"),
            (
                &[("INPUT_STATUSGENRE", "sonar/qube")],
                "statusGenre",
                "'sonar/qube' contains '/', which a branch policy reads as the separator between genre and name; drop the '/'",
            ),
            (&[("INPUT_STATUSNAME", "a\nb")], "statusName", "spans several lines; use a single line"),
            (
                &[("INPUT_CACERTFILE", "/nonexistent/ca.pem")],
                "caCertFile",
                "'/nonexistent/ca.pem' is not a readable file; give the path of a PEM file with your CA certificates (for example $(Agent.TempDirectory)/corp-ca.pem from a secure file)",
            ),
            (
                &[("INPUT_AZUREDEVOPSPAT", "abc def")],
                "azureDevOpsPat",
                "the token contains spaces; it must be the bare token, without a 'Bearer ' or 'Basic ' prefix",
            ),
            (
                &[("SYSTEM_ACCESSTOKEN", "")],
                "azureDevOpsPat",
                "no Azure DevOps credential to post with; the job's access token was not found; map it with `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` or set azureDevOpsPat",
            ),
            (
                &[("SYSTEM_PULLREQUEST_PULLREQUESTID", "abc")],
                "System.PullRequest.PullRequestId",
                "'abc' is not a pull request id; it must be a positive whole number, like 42",
            ),
            (
                &[("SYSTEM_PULLREQUEST_SOURCECOMMITID", "main")],
                "System.PullRequest.SourceCommitId",
                "'main' is not a commit id; give the full hexadecimal id of the pull request's source commit",
            ),
            (
                &[("SYSTEM_COLLECTIONURI", "dev.azure.com/org")],
                "System.CollectionUri",
                "'dev.azure.com/org' has no scheme; write it with one, for example https://dev.azure.com/org",
            ),
            (
                &[("SYSTEM_TEAMPROJECT", "")],
                "System.TeamProject",
                "is needed to post to pull request 7; the agent sets it on every build; run the task in an Azure Pipelines job",
            ),
        ];
        assert!(cases.len() >= 25);
        for (pairs, input, message) in cases {
            let p = only_problem(pairs);
            assert_eq!((p.input.as_str(), p.message.as_str()), (*input, *message), "for {pairs:?}");
        }
    }

    #[test]
    fn token_and_service_connection_together_are_rejected() {
        let p = only_problem(&[
            ("INPUT_SONARQUBESERVICE", "aaaaaaaa-1111-2222-3333-444455556666"),
            ("ENDPOINT_URL_aaaaaaaa-1111-2222-3333-444455556666", "https://sq.corp/"),
            ("ENDPOINT_AUTH_PARAMETER_aaaaaaaa-1111-2222-3333-444455556666_USERNAME", "squ_fromconn"),
        ]);
        assert_eq!(p.input, "sonarToken");
        assert!(p.message.starts_with("both sonarToken and sonarQubeService give a SonarQube token"));
    }

    #[test]
    fn cli_messages_name_flags_and_never_echo_credentials() {
        let raw = RawSettings { origin: Some(Origin::Cli), sonar_url: Some("https://user:topsecret@sq".into()), ..RawSettings::default() };
        let err = raw.validate().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--sonar-url (or SONAR_HOST_URL): the URL contains a user name or password"), "{text}");
        assert!(text.contains("SONAR_TOKEN: the SonarQube token is missing; export SONAR_TOKEN=<token>"), "{text}");
        assert!(!text.contains("topsecret"));
    }
}
