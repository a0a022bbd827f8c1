//! The one validated settings type the task runs on, built either from the agent's task inputs or
//! from command-line flags, and checked before any network call. It is the only module that knows
//! inputs and flags: it builds the lower layers' own configuration (the HTTP client's, the report
//! discovery's search paths, the decoration options, the credentials), so they never see a flag.
//!
//! Both front ends first gather plain strings into [`RawSettings`]; [`RawSettings::validate`] then
//! reports every problem at once, each naming the input (task mode) or flag (CLI mode) and the fix.

mod fields;
mod names;
mod raw;
mod validate;

use std::time::Duration;

pub(crate) use fields::Field;
pub(crate) use names::InputNames;
pub(crate) use raw::RawSettings;

use crate::azdo::{Credential, RepositoryRef};
use crate::decide::Decoration;
use crate::sonar::SonarCredential;
use crate::sonar::report_task::SearchPaths;

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Read the analysis and post the results to the pull request.
    Publish,
    /// Run every preflight check and write nothing.
    Check,
    /// Post SonarQube's current result for a pull request again, without a scanner run (after an
    /// issue was accepted in SonarQube; started by SonarQube's webhook).
    Refresh,
}

/// `refresh`: where SonarQube's webhook payload is, and how it is held to the webhook's secret.
#[derive(Clone, Debug, Default)]
pub(crate) struct RefreshSettings {
    pub(crate) payload: Option<WebhookPayloadSource>,
    /// The payload's `X-Sonar-Webhook-HMAC-SHA256` header, when a relay passes it on.
    pub(crate) signature: Option<String>,
    /// The webhook's secret: with it, a payload without the right signature is refused.
    pub(crate) secret: Option<crate::secret::Secret>,
    /// The commit SonarQube analysed, when no payload says.
    pub(crate) commit: Option<String>,
}

/// Where a webhook payload is: in the task's input (a pipeline passes the webhook's JSON), or in
/// a file (a relay saved the request's body byte for byte, as its signature needs).
#[derive(Clone, Debug)]
pub(crate) enum WebhookPayloadSource {
    Text(String),
    File(std::path::PathBuf),
}

/// `check --integration`: an Azure DevOps credential checked for the scopes an integration needs.
#[derive(Clone, Debug)]
pub(crate) struct DoctorSettings {
    pub(crate) integration: &'static crate::azdo::scopes::Integration,
    pub(crate) collection_url: String,
    /// Some probes (Release, Build, Work Items) read a project's resources.
    pub(crate) project: Option<String>,
    pub(crate) credential: Credential,
    pub(crate) format: OutputFormat,
    pub(crate) network: crate::net::Config,
    pub(crate) time_limit: std::time::Duration,
}

/// Where the settings came from; decides how an input is named in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Task,
    Cli,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// The SonarQube server and the analyses to wait for.
#[derive(Clone, Debug)]
pub(crate) struct SonarSettings {
    pub(crate) url: String,
    /// The setting the URL came from, for messages about reaching it.
    pub(crate) url_from: String,
    pub(crate) credential: SonarCredential,
    /// Where the credential came from, for the log and for messages about it.
    pub(crate) credential_from: String,
    pub(crate) organization: Option<String>,
    pub(crate) organization_from: Option<String>,
    /// `reportTaskFile`: a path or glob; discovery when absent.
    pub(crate) report_task_file: Option<String>,
    /// `projectKey`: when no report-task.txt is on this agent, the projects whose analyses of this
    /// build are found on the server (see `decide::found`).
    pub(crate) project_keys: Vec<String>,
    pub(crate) polling_timeout: Duration,
    pub(crate) search_paths: SearchPaths,
}

impl SonarSettings {
    /// Where each SonarQube setting came from, for the log: a run that found its connection by
    /// itself says which one it used.
    pub(crate) fn sources(&self) -> String {
        let what = match self.credential {
            SonarCredential::Token(_) => "token",
            SonarCredential::Login { .. } => "login and password",
        };
        let mut line = format!("SonarQube at {}: URL from {}; {what} from {}", self.url, self.url_from, self.credential_from);
        if let (Some(org), Some(from)) = (&self.organization, &self.organization_from) {
            line.push_str(&format!("; organization {org} from {from}"));
        }
        line
    }
}

/// The pull request to decorate.
#[derive(Clone, Debug)]
pub(crate) struct PullRequestTarget {
    pub(crate) repository: RepositoryRef,
    /// The setting the collection URL came from, for messages about reaching it.
    pub(crate) collection_url_from: String,
    pub(crate) id: u32,
    /// The PR's source commit the build analysed (its iteration gets the status).
    pub(crate) source_commit: Option<String>,
    /// Absent only where nothing is written (check mode, a dry run).
    pub(crate) credential: Option<Credential>,
    /// The collection is on Azure DevOps Services (the agent's `System.ServerType` is `Hosted`, or
    /// the URL is dev.azure.com's or visualstudio.com's), which takes the newest api-version: no
    /// request need wait for another to learn which version the server takes.
    pub(crate) on_services: bool,
}

/// An Azure DevOps account to verify the credential against when there is no pull request.
#[derive(Clone, Debug)]
pub(crate) struct AzureDevOpsAccess {
    pub(crate) repository: RepositoryRef,
    pub(crate) credential: Credential,
}

/// Where the result goes: a pull request, or nowhere (and why).
#[derive(Clone, Debug)]
pub(crate) enum Target {
    PullRequest(PullRequestTarget),
    /// No pull request; `access` is the collection and credential when both were given, so check
    /// mode still verifies the credential.
    NoPullRequest {
        reason: String,
        access: Option<AzureDevOpsAccess>,
    },
}

impl Target {
    pub(crate) fn pull_request(&self) -> Option<&PullRequestTarget> {
        match self {
            Target::PullRequest(t) => Some(t),
            Target::NoPullRequest { .. } => None,
        }
    }
}

/// Validated settings. Building one performs no I/O except checking that named files exist.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// How the user knows each setting where they are, for every message below this layer.
    pub(crate) names: InputNames,
    pub(crate) mode: Mode,
    pub(crate) dry_run: bool,
    pub(crate) format: OutputFormat,
    pub(crate) sonar: SonarSettings,
    pub(crate) target: Target,
    /// The commit the pipeline built and analysed (`Build.SourceVersion`; a merge commit for PRs).
    pub(crate) analysed_commit: Option<String>,
    /// When the pipeline run started (`System.PipelineStartTime`), when the agent says.
    pub(crate) pipeline_started: Option<std::time::SystemTime>,
    pub(crate) decoration: Decoration,
    pub(crate) fail_on_quality_gate_error: bool,
    /// Where to write the pull request's issues as SARIF 2.1.0, if anywhere.
    pub(crate) sarif_file: Option<std::path::PathBuf>,
    /// The HTTP client's timeouts, retries, trust roots and proxy.
    pub(crate) network: crate::net::Config,
    /// What `refresh` acts on (empty in the other modes).
    pub(crate) refresh: RefreshSettings,
}

pub(crate) const DEFAULT_POLLING_TIMEOUT_SEC: u64 = 300;
pub(crate) const DEFAULT_MAX_INLINE_COMMENTS: usize = 25;
pub(crate) const DEFAULT_STATUS_GENRE: &str = "SonarQube";
pub(crate) const DEFAULT_STATUS_NAME: &str = "quality gate";

#[cfg(test)]
mod tests;
