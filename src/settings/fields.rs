//! The names of every setting: the task input (or predefined variable) a pipeline author knows it
//! by, and the flag (or environment variable) a CLI user knows it by. Messages name settings
//! through this, so each names what the user can change where they are.

use super::Origin;

/// Every setting, with its task input (or pipeline variable) name and its flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    Mode,
    SonarService,
    SonarCloudService,
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
    /// The client certificate (mutual TLS): the agent's, or the CLI's flags.
    ClientCert,
    ClientCertKey,
    ClientCertArchive,
    ClientCertPassword,
    DecorationMode,
    FailOnNewIssues,
    ProjectBaseDir,
    InlineMinSeverity,
    InlineSoftwareQualities,
    SummaryWhen,
    PendingStatus,
    /// `allowTokenToSonarUrl`: a connection's token may go to another host named by `sonarUrl`.
    AllowTokenToSonarUrl,
    /// `sarifFile`: where to write the pull request's issues as SARIF.
    SarifFile,
    /// `projectKey`: projects whose analyses are found on the server when no report-task.txt is
    /// on this agent (the analysis ran in another job or stage).
    ProjectKey,
    /// `minChangedLinesCoverage`: the PR's own coverage condition on the lines it changed.
    MinChangedLinesCoverage,
    /// `failOnDependencyRisks`: the PR's own condition on dependency risks (Advanced Security).
    FailOnDependencyRisks,
    /// `syncResolutions`: reviewers' resolutions carried over to SonarQube.
    SyncResolutions,
    /// `allowAuthorResolutions`: the pull request's author's resolutions count too.
    AllowAuthorResolutions,
    /// `webhookPayload`: SonarQube's webhook payload a `refresh` run acts on (the JSON itself in
    /// task mode, a file in the CLI).
    WebhookPayload,
    /// `--webhook-signature`: the payload's `X-Sonar-Webhook-HMAC-SHA256` header (CLI only).
    WebhookSignature,
    /// The webhook's secret, which the signature is checked against (CLI only, from the environment).
    WebhookSecret,
    /// `refresh --commit`: the commit SonarQube analysed, when no payload says.
    RefreshCommit,
    /// SonarSource's Prepare task's record of its connection (`SONAR_ENDPOINT`).
    PrepareEndpoint,
    /// SonarSource's Prepare task's scanner properties (`SONARQUBE_SCANNER_PARAMS`).
    ScannerParams,
}

impl Field {
    /// The task's inputs: exactly what task.json declares (a test holds the two together), and
    /// the only names `RawSettings::from_task_env` reads inputs by.
    pub(crate) const INPUTS: [Field; 32] = [
        Field::Mode,
        Field::SonarService,
        Field::SonarCloudService,
        Field::SonarUrl,
        Field::SonarToken,
        Field::SonarOrganization,
        Field::ReportTaskFile,
        Field::PollingTimeoutSec,
        Field::AzureDevOpsPat,
        Field::FailOnQualityGateError,
        Field::PostStatus,
        Field::PostSummaryComment,
        Field::PostInlineComments,
        Field::MaxInlineComments,
        Field::StatusGenre,
        Field::StatusName,
        Field::CaCertFile,
        Field::DecorationMode,
        Field::FailOnNewIssues,
        Field::ProjectBaseDir,
        Field::InlineMinSeverity,
        Field::InlineSoftwareQualities,
        Field::SummaryWhen,
        Field::PendingStatus,
        Field::AllowTokenToSonarUrl,
        Field::SarifFile,
        Field::ProjectKey,
        Field::MinChangedLinesCoverage,
        Field::FailOnDependencyRisks,
        Field::WebhookPayload,
        Field::SyncResolutions,
        Field::AllowAuthorResolutions,
    ];

    /// The name a user of this origin knows the setting by.
    pub(crate) fn name(self, origin: Origin) -> &'static str {
        match origin {
            Origin::Task => self.task_name(),
            Origin::Cli => self.flag(),
        }
    }

    /// The task input name (a public contract: task.json declares exactly these), or for pipeline
    /// context the predefined variable.
    pub(crate) fn task_name(self) -> &'static str {
        match self {
            Field::Mode => "mode",
            Field::SonarService => "sonarQubeService",
            Field::SonarCloudService => "sonarCloudService",
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
            Field::ClientCert => "Agent.ClientCert",
            Field::ClientCertKey => "Agent.ClientCertKey",
            Field::ClientCertArchive => "Agent.ClientCertArchive",
            Field::ClientCertPassword => "Agent.ClientCertPassword",
            Field::DecorationMode => "decorationMode",
            Field::FailOnNewIssues => "failOnNewIssues",
            Field::ProjectBaseDir => "projectBaseDir",
            Field::InlineMinSeverity => "inlineMinSeverity",
            Field::InlineSoftwareQualities => "inlineSoftwareQualities",
            Field::SummaryWhen => "summaryWhen",
            Field::PendingStatus => "pendingStatus",
            Field::AllowTokenToSonarUrl => "allowTokenToSonarUrl",
            Field::SarifFile => "sarifFile",
            Field::ProjectKey => "projectKey",
            Field::MinChangedLinesCoverage => "minChangedLinesCoverage",
            Field::FailOnDependencyRisks => "failOnDependencyRisks",
            Field::WebhookPayload => "webhookPayload",
            Field::SyncResolutions => "syncResolutions",
            Field::AllowAuthorResolutions => "allowAuthorResolutions",
            Field::WebhookSignature => "X-Sonar-Webhook-HMAC-SHA256",
            Field::WebhookSecret => "the webhook's secret",
            Field::RefreshCommit => "the webhook's revision",
            Field::PrepareEndpoint => "SONAR_ENDPOINT",
            Field::ScannerParams => "SONARQUBE_SCANNER_PARAMS",
        }
    }

    pub(crate) fn flag(self) -> &'static str {
        match self {
            Field::Mode => "the command (check, publish or refresh)",
            Field::SonarService => "sonarQubeService",
            Field::SonarCloudService => "sonarCloudService",
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
            Field::ClientCert => "--client-cert",
            Field::ClientCertKey => "--client-key",
            Field::ClientCertArchive => "--client-cert",
            Field::ClientCertPassword => "SONAR_PR_GATE_CLIENT_CERT_PASSWORD",
            Field::DecorationMode => "--decoration-mode",
            Field::FailOnNewIssues => "--fail-on-new-issues",
            Field::ProjectBaseDir => "--project-base-dir",
            Field::InlineMinSeverity => "--inline-min-severity",
            Field::InlineSoftwareQualities => "--inline-software-qualities",
            Field::SummaryWhen => "--summary-when",
            Field::PendingStatus => "--pending-status",
            Field::AllowTokenToSonarUrl => "allowTokenToSonarUrl",
            Field::SarifFile => "--sarif",
            Field::ProjectKey => "--project-key",
            Field::MinChangedLinesCoverage => "--min-changed-lines-coverage",
            Field::FailOnDependencyRisks => "--fail-on-dependency-risks",
            Field::WebhookPayload => "--webhook-payload",
            Field::SyncResolutions => "--sync-resolutions",
            Field::AllowAuthorResolutions => "--allow-author-resolutions",
            Field::WebhookSignature => "--webhook-signature",
            Field::WebhookSecret => "SONAR_PR_GATE_WEBHOOK_SECRET",
            Field::RefreshCommit => "--commit",
            Field::PrepareEndpoint => "SONAR_ENDPOINT",
            Field::ScannerParams => "SONARQUBE_SCANNER_PARAMS",
        }
    }

    /// How to mend a connection that lacks a URL or token, for the setting that named it.
    pub(crate) fn fix_connection(self) -> &'static str {
        match self {
            Field::PrepareEndpoint | Field::ScannerParams => {
                "edit the service connection chosen in SonarSource's Prepare task, or give this task sonarUrl and sonarToken"
            }
            _ => "edit the service connection (Project settings > Service connections) and fill in the server URL and token",
        }
    }
}

/// One problem with the settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) input: String,
    pub(crate) message: String,
}

/// Every problem found, reported together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SettingsError {
    pub(crate) problems: Vec<Problem>,
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.problems.len();
        write!(f, "{n} setting{} need{} fixing:", if n == 1 { "" } else { "s" }, if n == 1 { "s" } else { "" })?;
        for p in &self.problems {
            write!(f, "\n  - {}: {}", p.input, p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}
