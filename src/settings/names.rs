//! How the user knows each setting where they are: task inputs and pipeline variables under the
//! agent, flags and environment variables in a shell.

use crate::azdo::failure::AzdoNames;
use crate::sonar::SonarNames;

/// The names a user knows the settings by where they are (task inputs and pipeline variables
/// under the agent, flags and environment variables in a shell), so every message names what the
/// user can change. Each service gets its own part (`sonar`, `azdo`) and never sees the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InputNames {
    pub(crate) sonar_url: String,
    pub(crate) sonar_token: String,
    pub(crate) polling_timeout: String,
    pub(crate) report_task_file: String,
    /// How to point at a report in a non-standard place, as a user would write it.
    pub(crate) report_task_example: String,
    /// The projects whose analyses are found on the server when no report is on this agent.
    pub(crate) project_key: String,
    pub(crate) pat: String,
    pub(crate) collection_url: String,
    /// How to provide the job's access token.
    pub(crate) job_token: String,
    /// How to fall back on the job's access token instead of a PAT.
    pub(crate) use_job_token: String,
    /// How to give a credential for Azure DevOps when there is none.
    pub(crate) provide_credential: String,
    pub(crate) fail_on_quality_gate_error: String,
    pub(crate) fail_on_new_issues: String,
    pub(crate) min_changed_lines_coverage: String,
    pub(crate) fail_on_dependency_risks: String,
    /// Where the run's own report goes.
    pub(crate) summary: String,
    pub(crate) sarif_file: String,
    /// `refresh`: the webhook payload, and the pull request when none names it.
    pub(crate) webhook_payload: String,
    pub(crate) pull_request_id: String,
    pub(crate) sync_resolutions: String,
    /// Whether these are the task's names (an agent runs it).
    pub(crate) origin_is_task: bool,
}

impl InputNames {
    /// Under the agent: task inputs and pipeline variables.
    pub(crate) fn task() -> Self {
        Self {
            sonar_url: "sonarUrl".into(),
            sonar_token: "sonarToken or the service connection".into(),
            polling_timeout: "pollingTimeoutSec".into(),
            report_task_file: "reportTaskFile".into(),
            report_task_example: "reportTaskFile: '$(Build.SourcesDirectory)/app/.scannerwork/report-task.txt'".into(),
            project_key: "projectKey".into(),
            pat: "azureDevOpsPat".into(),
            collection_url: "System.CollectionUri".into(),
            job_token: "map it with `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` (or leave azureDevOpsPat empty so the task uses the system connection), and check that the job's authorization scope includes this project".into(),
            use_job_token: "use the job's access token by leaving azureDevOpsPat empty".into(),
            provide_credential: "the job's access token was not found; map it with `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` or set azureDevOpsPat".into(),
            fail_on_quality_gate_error: "failOnQualityGateError".into(),
            fail_on_new_issues: "failOnNewIssues".into(),
            min_changed_lines_coverage: "minChangedLinesCoverage".into(),
            fail_on_dependency_risks: "failOnDependencyRisks".into(),
            summary: "the build summary".into(),
            sarif_file: "sarifFile".into(),
            webhook_payload: "webhookPayload".into(),
            sync_resolutions: "syncResolutions".into(),
            pull_request_id: "a pull request analysis (SonarQube's webhook for a pull request names it)".into(),
            origin_is_task: true,
        }
    }

    /// In a shell: flags and environment variables.
    pub(crate) fn cli() -> Self {
        Self {
            sonar_url: "--sonar-url (or SONAR_HOST_URL)".into(),
            sonar_token: "SONAR_TOKEN".into(),
            polling_timeout: "--polling-timeout-sec".into(),
            report_task_file: "--report-task-file".into(),
            report_task_example: "--report-task-file app/.scannerwork/report-task.txt".into(),
            project_key: "--project-key".into(),
            pat: "AZURE_DEVOPS_EXT_PAT".into(),
            collection_url: "--collection-url".into(),
            job_token: "export SYSTEM_ACCESSTOKEN (in a pipeline script step: env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)), and check that the job's authorization scope includes this project".into(),
            use_job_token: "use a job's access token instead: unset AZURE_DEVOPS_EXT_PAT and export SYSTEM_ACCESSTOKEN".into(),
            provide_credential: "export AZURE_DEVOPS_EXT_PAT (a PAT) or SYSTEM_ACCESSTOKEN (a job's access token)".into(),
            fail_on_quality_gate_error: "--fail-on-quality-gate-error".into(),
            fail_on_new_issues: "--fail-on-new-issues".into(),
            min_changed_lines_coverage: "--min-changed-lines-coverage".into(),
            fail_on_dependency_risks: "--fail-on-dependency-risks".into(),
            summary: "the summary file".into(),
            sarif_file: "--sarif".into(),
            webhook_payload: "--webhook-payload".into(),
            sync_resolutions: "--sync-resolutions".into(),
            pull_request_id: "--pull-request".into(),
            origin_is_task: false,
        }
    }
}

impl InputNames {
    pub(crate) fn for_origin(task: bool) -> Self {
        if task { Self::task() } else { Self::cli() }
    }

    /// What SonarQube's messages name.
    pub(crate) fn sonar(&self) -> SonarNames {
        SonarNames {
            url: self.sonar_url.clone(),
            token: self.sonar_token.clone(),
            polling_timeout: self.polling_timeout.clone(),
            report_task_file: self.report_task_file.clone(),
            report_task_example: self.report_task_example.clone(),
            project_key: self.project_key.clone(),
        }
    }

    /// What Azure DevOps' messages name.
    pub(crate) fn azdo(&self) -> AzdoNames {
        AzdoNames {
            pat: self.pat.clone(),
            collection_url: self.collection_url.clone(),
            job_token: self.job_token.clone(),
            use_job_token: self.use_job_token.clone(),
        }
    }
}

impl Default for InputNames {
    fn default() -> Self {
        Self::task()
    }
}
