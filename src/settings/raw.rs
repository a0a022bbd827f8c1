//! Settings as gathered, before validation: the task front end reads the agent's inputs and
//! predefined variables, the CLI front end its flags and environment, both into plain strings.

use std::path::PathBuf;

use super::fields::Field;
use super::{Origin, OutputFormat};
use crate::net::proxy::parse_proxy_url;
use crate::pipeline::env::AgentEnv;
use crate::secret::Secret;
use crate::sonar::connection::{self, ConnectionFields, PREPARE_ENDPOINT_VARIABLES, SCANNER_PARAMS_VARIABLE};
use crate::sonar::report_task::SearchPaths;

/// Settings as gathered, before validation: everything is an optional, trimmed string.
#[derive(Clone, Default)]
pub(crate) struct RawSettings {
    pub(crate) origin: Option<Origin>,
    pub(crate) mode: Option<String>,
    pub(crate) sonar_service: Option<String>,
    /// `sonarCloudService`: a SonarQube Cloud service connection's id.
    pub(crate) sonar_cloud_service: Option<String>,
    pub(crate) sonar_url: Option<String>,
    pub(crate) sonar_token: Option<String>,
    pub(crate) sonar_organization: Option<String>,
    pub(crate) report_task_file: Option<String>,
    pub(crate) polling_timeout_sec: Option<String>,
    pub(crate) azure_devops_pat: Option<String>,
    pub(crate) job_access_token: Option<String>,
    pub(crate) fail_on_quality_gate_error: Option<String>,
    pub(crate) post_status: Option<String>,
    pub(crate) post_summary_comment: Option<String>,
    pub(crate) post_inline_comments: Option<String>,
    pub(crate) max_inline_comments: Option<String>,
    pub(crate) status_genre: Option<String>,
    pub(crate) status_name: Option<String>,
    pub(crate) ca_cert_file: Option<String>,
    pub(crate) collection_url: Option<String>,
    pub(crate) project: Option<String>,
    pub(crate) repository_id: Option<String>,
    pub(crate) pull_request_id: Option<String>,
    pub(crate) source_commit: Option<String>,
    pub(crate) build_reason: Option<String>,
    pub(crate) repository_provider: Option<String>,
    /// `System.ServerType`: `Hosted` on Azure DevOps Services, `OnPremises` on a Server.
    pub(crate) server_type: Option<String>,
    /// Task mode: the agent's proxy.
    pub(crate) agent_proxy_url: Option<String>,
    pub(crate) agent_proxy_username: Option<String>,
    pub(crate) agent_proxy_password: Option<String>,
    pub(crate) agent_proxy_bypass: Option<String>,
    /// CLI mode: `--proxy`, then curl's variables.
    pub(crate) proxy_flag: Option<String>,
    pub(crate) https_proxy: Option<String>,
    pub(crate) http_proxy: Option<String>,
    pub(crate) no_proxy: Option<String>,
    /// The agent's CA bundle (`Agent.CAInfo`).
    pub(crate) agent_ca_info: Option<String>,
    /// The client certificate: the agent's `Agent.ClientCert*` in a pipeline, `--client-cert`,
    /// `--client-key` and SONAR_PR_GATE_CLIENT_CERT_PASSWORD on the command line.
    pub(crate) client_cert: Option<String>,
    pub(crate) client_cert_key: Option<String>,
    pub(crate) client_cert_archive: Option<String>,
    pub(crate) client_cert_password: Option<String>,
    /// The agent's `Agent.SkipCertValidation`.
    pub(crate) skip_cert_validation: Option<String>,
    pub(crate) decoration_mode: Option<String>,
    pub(crate) fail_on_new_issues: Option<String>,
    pub(crate) project_base_dir: Option<String>,
    pub(crate) inline_min_severity: Option<String>,
    pub(crate) inline_software_qualities: Option<String>,
    pub(crate) summary_when: Option<String>,
    pub(crate) pending_status: Option<String>,
    pub(crate) allow_token_to_sonar_url: Option<String>,
    /// `sarifFile` / `--sarif`: where to write the PR's issues as SARIF 2.1.0.
    pub(crate) sarif_file: Option<String>,
    /// `projectKey` / `--project-key`: projects to find on the server when no report is here.
    pub(crate) project_key: Option<String>,
    /// `minChangedLinesCoverage` / `--min-changed-lines-coverage`: a percentage.
    pub(crate) min_changed_lines_coverage: Option<String>,
    /// `failOnDependencyRisks` / `--fail-on-dependency-risks`: a dependency-risk severity.
    pub(crate) fail_on_dependency_risks: Option<String>,
    /// `check --integration NAME`: the scope doctor for another integration's PAT.
    pub(crate) integration: Option<String>,
    /// The commit the pipeline built and analysed (`Build.SourceVersion`; a merge commit for PRs).
    pub(crate) analysed_commit: Option<String>,
    /// `refresh`: SonarQube's webhook payload (task mode: the JSON; CLI: a file's path), its
    /// signature and the secret it is checked against, and the analysed commit when no payload
    /// says (never `Build.SourceVersion`: a webhook's run builds the pipeline's own commit).
    pub(crate) webhook_payload: Option<String>,
    pub(crate) sync_resolutions: Option<String>,
    pub(crate) allow_author_resolutions: Option<String>,
    pub(crate) webhook_signature: Option<String>,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) refresh_commit: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) format: OutputFormat,
    pub(crate) debug: bool,
    pub(crate) paths: SearchPaths,
    /// The agent's service connections, resolved by the task front end.
    pub(crate) sonar_service_resolved: Option<ConnectionFields>,
    pub(crate) sonar_cloud_service_resolved: Option<ConnectionFields>,
    /// What SonarSource's Prepare task left in the job: its connection (the variable's name and
    /// its JSON) and the scanner properties (JSON). Used when no connection is given.
    pub(crate) prepare_endpoint: Option<(&'static str, String)>,
    pub(crate) scanner_params: Option<String>,
    /// `System.PipelineStartTime`: a report-task.txt older than this was left by an earlier build.
    pub(crate) pipeline_start_time: Option<String>,
    /// The first retry's delay in milliseconds: a test seam (a hidden flag), so tests exercise
    /// retries without waiting seconds for each.
    pub(crate) first_retry_delay_ms: Option<u64>,
}

impl RawSettings {
    /// Every secret-looking value as given, valid or not, with the Basic-header forms derived from
    /// it: registered with the agent before anything (even a validation error) is printed.
    pub(crate) fn secret_candidates(&self) -> Vec<Secret> {
        let raw: Vec<&str> =
            [&self.sonar_token, &self.azure_devops_pat, &self.job_access_token].into_iter().flatten().map(|s| s.trim()).collect();
        let mut out = Vec::new();
        // Every credential a connection holds, whether or not it ends up used: the service
        // connections' and the Prepare task's (its scanner properties hold the token in plain text).
        let endpoint = self.prepare_endpoint.as_ref().and_then(|(_, json)| connection::parse_prepare_endpoint(json).ok());
        // A login's user name is what Prepare writes as `sonar.token` for a user-and-password
        // connection, and what stays there alone once SonarSource's Analyze task has deleted
        // `sonar.password` (its `sanitizeScannerParams`): that lone value is the name, no secret.
        let logins: Vec<String> = [self.sonar_service_resolved.clone(), self.sonar_cloud_service_resolved.clone(), endpoint.clone()]
            .into_iter()
            .flatten()
            .filter_map(|f| match f.credential()? {
                crate::sonar::connection::SonarCredential::Login { user, .. } => Some(user.expose().to_string()),
                crate::sonar::connection::SonarCredential::Token(_) => None,
            })
            .collect();
        let params = self
            .scanner_params
            .as_deref()
            .and_then(|json| connection::parse_scanner_params(json).ok())
            .filter(|p| p.password.is_some() || !p.username.as_ref().is_some_and(|u| logins.contains(u)));
        let prepared = [endpoint, params];
        let connections =
            [self.sonar_service_resolved.clone(), self.sonar_cloud_service_resolved.clone()].into_iter().chain(prepared).flatten();
        for fields in connections {
            // A login's user name is no secret (masking it would hide every word like it); its
            // password is, even beside a token that wins over it.
            out.extend(fields.credential().map(|c| c.secret_forms()).unwrap_or_default());
            out.extend(fields.password.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(Secret::new));
        }
        if let Some(secret) = self.webhook_secret.as_deref().filter(|s| !s.is_empty()) {
            out.push(Secret::new(secret));
        }
        // The client certificate's password (the log also masks each line of a multi-line one).
        if let Some(pw) = self.client_cert_password.as_deref().filter(|p| !p.is_empty()) {
            out.push(Secret::new(pw));
        }
        // Proxy passwords, given alone or inside a proxy URL, with their Basic form.
        if let Some(pw) = &self.agent_proxy_password {
            let pw = pw.trim();
            out.push(Secret::basic(self.agent_proxy_username.as_deref().unwrap_or(""), pw));
            out.push(Secret::new(pw));
        }
        for url in [&self.proxy_flag, &self.https_proxy, &self.http_proxy, &self.agent_proxy_url].into_iter().flatten() {
            if let Ok(p) = parse_proxy_url(url)
                && let Some(pw) = p.password
            {
                out.push(Secret::basic(p.username.as_deref().unwrap_or(""), pw.expose()));
                out.push(pw);
            }
        }
        // A value rejected as an unexpanded macro is no secret: masking `$(SONAR_TOKEN)` would hide
        // the name of the missing variable in this step's message and every later step's log.
        for value in raw.into_iter().filter(|v| !v.is_empty() && unexpanded_macro(v).is_none()) {
            let [secret, as_password, as_user] = Secret::new(value).token_forms();
            out.push(as_password);
            out.push(as_user);
            // Each line of a multi-line paste is masked by the log (`Log::register_secrets`).
            out.push(secret);
        }
        out
    }

    /// Gathers task inputs and predefined variables from the agent's environment.
    pub(crate) fn from_task_env(env: &AgentEnv) -> Self {
        let input = |field: Field| env.input(field.task_name());
        let mut raw = RawSettings {
            origin: Some(Origin::Task),
            mode: input(Field::Mode),
            sonar_service: input(Field::SonarService),
            sonar_cloud_service: input(Field::SonarCloudService),
            sonar_url: input(Field::SonarUrl),
            sonar_token: input(Field::SonarToken),
            sonar_organization: input(Field::SonarOrganization),
            report_task_file: input(Field::ReportTaskFile),
            polling_timeout_sec: input(Field::PollingTimeoutSec),
            azure_devops_pat: input(Field::AzureDevOpsPat),
            job_access_token: env.job_access_token(),
            fail_on_quality_gate_error: input(Field::FailOnQualityGateError),
            post_status: input(Field::PostStatus),
            post_summary_comment: input(Field::PostSummaryComment),
            post_inline_comments: input(Field::PostInlineComments),
            max_inline_comments: input(Field::MaxInlineComments),
            status_genre: input(Field::StatusGenre),
            status_name: input(Field::StatusName),
            ca_cert_file: input(Field::CaCertFile),
            agent_proxy_url: env.variable("Agent.ProxyUrl"),
            agent_proxy_username: env.variable("Agent.ProxyUsername"),
            agent_proxy_password: env.variable("Agent.ProxyPassword"),
            agent_proxy_bypass: env.variable("Agent.ProxyBypassList"),
            agent_ca_info: env.variable("Agent.CAInfo"),
            client_cert: env.variable("Agent.ClientCert"),
            client_cert_key: env.variable("Agent.ClientCertKey"),
            client_cert_archive: env.variable("Agent.ClientCertArchive"),
            // A secret variable: the agent passes it as SECRET_AGENT_CLIENTCERTPASSWORD.
            client_cert_password: env.variable("Agent.ClientCertPassword"),
            skip_cert_validation: env.variable("Agent.SkipCertValidation"),
            decoration_mode: input(Field::DecorationMode),
            fail_on_new_issues: input(Field::FailOnNewIssues),
            project_base_dir: input(Field::ProjectBaseDir),
            inline_min_severity: input(Field::InlineMinSeverity),
            inline_software_qualities: input(Field::InlineSoftwareQualities),
            summary_when: input(Field::SummaryWhen),
            pending_status: input(Field::PendingStatus),
            allow_token_to_sonar_url: input(Field::AllowTokenToSonarUrl),
            sarif_file: input(Field::SarifFile),
            project_key: input(Field::ProjectKey),
            min_changed_lines_coverage: input(Field::MinChangedLinesCoverage),
            fail_on_dependency_risks: input(Field::FailOnDependencyRisks),
            webhook_payload: input(Field::WebhookPayload),
            sync_resolutions: input(Field::SyncResolutions),
            allow_author_resolutions: input(Field::AllowAuthorResolutions),
            debug: env.debug(),
            ..RawSettings::default()
        };
        raw.fill_pipeline_context(env);
        // A connection's parameters are read as SonarSource's tasks read them (`getEndpoint`):
        // `apitoken`, `username` and `password`, whatever the scheme. `sonarqube` connections
        // (scheme UsernamePassword) keep the token in `username`; `sonarcloud` ones (scheme Token)
        // in `apitoken`.
        let resolve = |id: &Option<String>, cloud: bool| {
            let ep = env.endpoint(id.as_deref()?)?;
            let param = |key: &str| ep.auth_parameter(key).map(str::to_string);
            Some(ConnectionFields {
                url: ep.url.clone(),
                token: param("apitoken"),
                username: param("username"),
                password: param("password"),
                organization: None,
                cloud,
            })
        };
        raw.sonar_service_resolved = resolve(&raw.sonar_service, false);
        raw.sonar_cloud_service_resolved = resolve(&raw.sonar_cloud_service, true);
        raw
    }

    /// Predefined variables that say where to post and where the scanner wrote its files; used in
    /// task mode and as CLI fallbacks when the CLI runs in a pipeline script step.
    pub(crate) fn fill_pipeline_context(&mut self, env: &AgentEnv) {
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
        fill(&mut self.server_type, env.variable("System.ServerType"));
        fill(&mut self.pipeline_start_time, env.variable("System.PipelineStartTime"));
        let path = |name: &str| env.variable(name).map(PathBuf::from);
        let p = &mut self.paths;
        p.sources_directory = p.sources_directory.take().or_else(|| path("Build.SourcesDirectory"));
        p.agent_temp_directory = p.agent_temp_directory.take().or_else(|| path("Agent.TempDirectory"));
        p.agent_build_directory = p.agent_build_directory.take().or_else(|| path("Agent.BuildDirectory"));
        p.build_id = p.build_id.take().or_else(|| env.variable("Build.BuildId"));
        p.build_number = p.build_number.take().or_else(|| env.variable("Build.BuildNumber"));
        p.report_task_variable = p.report_task_variable.take().or_else(|| env.variable("SONAR_SCANNER_REPORTTASKFILE"));
        p.legacy_report_task_variable = p.legacy_report_task_variable.take().or_else(|| env.variable("SONARQUBE_SCANNER_REPORTTASKFILE"));
        // What SonarSource's Prepare task left: the endpoint is a secret variable (found as
        // SECRET_SONAR_ENDPOINT by `variable`), the scanner properties a plain one.
        if self.prepare_endpoint.is_none() {
            self.prepare_endpoint = PREPARE_ENDPOINT_VARIABLES.into_iter().find_map(|name| Some((name, env.variable(name)?)));
        }
        fill(&mut self.scanner_params, env.variable(SCANNER_PARAMS_VARIABLE));
        if self.paths.prepare_metadata_file.is_none() {
            self.paths.prepare_metadata_file = self.scanner_params.as_deref().and_then(connection::metadata_file_path);
        }
    }
}

/// The name of the first `$(name)` macro in a value: the agent leaves a macro as it is when no
/// variable of that name is defined (variable names are letters, digits, `.`, `_` and `-`).
pub(crate) fn unexpanded_macro(value: &str) -> Option<&str> {
    let mut rest = value;
    while let Some(start) = rest.find("$(") {
        let after = &rest[start + 2..];
        if let Some(end) = after.find(')') {
            let name = &after[..end];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
                return Some(name);
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::env::env_name;

    impl RawSettings {
        fn input_value(&self, field: Field) -> Option<&str> {
            match field {
                Field::Mode => self.mode.as_deref(),
                Field::SonarService => self.sonar_service.as_deref(),
                Field::SonarCloudService => self.sonar_cloud_service.as_deref(),
                Field::SonarUrl => self.sonar_url.as_deref(),
                Field::SonarToken => self.sonar_token.as_deref(),
                Field::SonarOrganization => self.sonar_organization.as_deref(),
                Field::ReportTaskFile => self.report_task_file.as_deref(),
                Field::PollingTimeoutSec => self.polling_timeout_sec.as_deref(),
                Field::AzureDevOpsPat => self.azure_devops_pat.as_deref(),
                Field::FailOnQualityGateError => self.fail_on_quality_gate_error.as_deref(),
                Field::PostStatus => self.post_status.as_deref(),
                Field::PostSummaryComment => self.post_summary_comment.as_deref(),
                Field::PostInlineComments => self.post_inline_comments.as_deref(),
                Field::MaxInlineComments => self.max_inline_comments.as_deref(),
                Field::StatusGenre => self.status_genre.as_deref(),
                Field::StatusName => self.status_name.as_deref(),
                Field::CaCertFile => self.ca_cert_file.as_deref(),
                Field::DecorationMode => self.decoration_mode.as_deref(),
                Field::FailOnNewIssues => self.fail_on_new_issues.as_deref(),
                Field::ProjectBaseDir => self.project_base_dir.as_deref(),
                Field::InlineMinSeverity => self.inline_min_severity.as_deref(),
                Field::InlineSoftwareQualities => self.inline_software_qualities.as_deref(),
                Field::SummaryWhen => self.summary_when.as_deref(),
                Field::PendingStatus => self.pending_status.as_deref(),
                Field::AllowTokenToSonarUrl => self.allow_token_to_sonar_url.as_deref(),
                Field::SarifFile => self.sarif_file.as_deref(),
                Field::ProjectKey => self.project_key.as_deref(),
                Field::MinChangedLinesCoverage => self.min_changed_lines_coverage.as_deref(),
                Field::FailOnDependencyRisks => self.fail_on_dependency_risks.as_deref(),
                Field::WebhookPayload => self.webhook_payload.as_deref(),
                Field::SyncResolutions => self.sync_resolutions.as_deref(),
                Field::AllowAuthorResolutions => self.allow_author_resolutions.as_deref(),
                _ => None,
            }
        }
    }

    /// Every input of `Field::INPUTS` (which a test holds against task.json) reaches its setting.
    #[test]
    fn every_declared_input_is_read() {
        let value = |f: Field| format!("value-of-{}", f.task_name());
        let env = AgentEnv::from_pairs(Field::INPUTS.iter().map(|f| (format!("INPUT_{}", env_name(f.task_name())), value(*f))));
        let raw = RawSettings::from_task_env(&env);
        for field in Field::INPUTS {
            assert_eq!(raw.input_value(field), Some(value(field).as_str()), "{field:?}");
        }
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    fn exposed(raw: &RawSettings) -> Vec<String> {
        raw.secret_candidates().iter().map(|s| s.expose().to_string()).collect()
    }

    /// SonarSource's Prepare task puts a user name in `sonar.token` (its sanitizer renames
    /// `sonar.login`) beside `sonar.password`: the name is no secret (masking it would hide every
    /// word like it, "admin" in every URL), the password and the Basic pair are.
    #[test]
    fn a_login_in_the_prepare_tasks_scanner_params_is_not_a_secret_but_its_password_is() {
        let raw = RawSettings {
            scanner_params: Some(r#"{"sonar.host.url":"https://sq","sonar.token":"admin","sonar.password":"Adm1n-Passw0rd"}"#.into()),
            ..RawSettings::default()
        };
        let secrets = exposed(&raw);
        assert!(!secrets.iter().any(|s| s == "admin"), "{secrets:?}");
        assert!(secrets.iter().any(|s| s == "Adm1n-Passw0rd"));
        assert!(secrets.contains(&crate::secret::Secret::basic("admin", "Adm1n-Passw0rd").expose().to_string()));
        // After SonarSource's Analyze task has deleted sonar.password, the name stays alone in
        // sonar.token; the Prepare endpoint says it is a login.
        let raw = RawSettings {
            scanner_params: Some(r#"{"sonar.host.url":"https://sq","sonar.token":"admin"}"#.into()),
            prepare_endpoint: Some((
                "SONAR_ENDPOINT",
                r#"{"type":"SonarQube","data":{"url":"https://sq","username":"admin","password":"Adm1n-Passw0rd"}}"#.into(),
            )),
            ..RawSettings::default()
        };
        let secrets = exposed(&raw);
        assert!(!secrets.iter().any(|s| s == "admin"), "{secrets:?}");
        assert!(secrets.iter().any(|s| s == "Adm1n-Passw0rd"));
        // A token alone in sonar.token is one, with its Basic forms.
        let raw = RawSettings {
            scanner_params: Some(r#"{"sonar.host.url":"https://sq","sonar.token":"squ_0123456789"}"#.into()),
            ..RawSettings::default()
        };
        assert!(exposed(&raw).iter().any(|s| s == "squ_0123456789"));
    }
}
