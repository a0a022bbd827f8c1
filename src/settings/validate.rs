//! Validation: every raw setting checked, every problem collected (each naming the input or flag
//! and the fix), and the lower layers' configuration built from the valid values.

use std::path::PathBuf;
use std::time::Duration;

use super::fields::{Field, Problem, SettingsError};
use super::raw::{RawSettings, unexpanded_macro};
use super::*;
use crate::azdo::{Credential, RepositoryRef};
use crate::decide::triage::SyncResolutions;
use crate::decide::{Decoration, DecorationMode, InlineFilter, SummaryWhen};
use crate::net::proxy::{ProxyConfig, ProxyError};
use crate::pipeline::env::parse_bool;
use crate::secret::Secret;
use crate::sonar::connection::{self, ConnectionFields, SCANNER_PARAMS_VARIABLE, SonarCredential};
use crate::sonar::present::Severity;

/// Six hours: the longest a hosted job may run; anything longer is a typo.
const MAX_POLLING_TIMEOUT_SEC: u64 = 21_600;
/// Azure DevOps allows 500 comments per thread and threads are cheap, but hundreds of inline
/// threads bury a PR; 500 is a ceiling that catches typos such as 2500.
const MAX_INLINE_COMMENTS: usize = 500;

impl RawSettings {
    /// Checks everything and builds [`Settings`], or reports every problem at once.
    pub(crate) fn validate(mut self) -> Result<Settings, SettingsError> {
        let origin = self.origin.unwrap_or(Origin::Cli);
        let mut v = Validator { origin, problems: Vec::new() };
        // First, on every value: a macro the agent left unexpanded names an undefined variable,
        // whatever the input; saying so beats any complaint about the value's shape.
        self.reject_macros(&mut v);
        let mode = v.mode(self.mode.as_deref());
        let sonar = self.sonar_settings(&mut v);
        let decoration = self.decoration(&mut v);
        let fail_on_quality_gate_error = v.boolean(Field::FailOnQualityGateError, self.fail_on_quality_gate_error.as_deref(), true);
        let network = self.network(&mut v, sonar.as_ref().map(|s| s.url.as_str()));
        let target = self.target(&mut v, mode);
        let sarif_file = self.sarif_file.clone();
        if let Some(path) = &sarif_file
            && let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            v.problem(Field::SarifFile, format!("'{path}' is in a folder that does not exist ('{}'); create it first, or write the file elsewhere, e.g. $(Build.ArtifactStagingDirectory)/sonarqube.sarif", parent.display()));
        }
        if let Some(commit) = &self.source_commit
            && !crate::decide::refresh::is_commit_id(commit)
        {
            v.problem(
                Field::SourceCommit,
                format!("'{commit}' is not a commit id; give the full hexadecimal id of the pull request's source commit"),
            );
        }
        let refresh = self.refresh_settings(&mut v, mode, sonar.as_ref(), &target);
        match (v.problems.is_empty(), sonar) {
            (true, Some(sonar)) => Ok(Settings {
                names: input_names(origin, &sonar, &target),
                mode,
                dry_run: self.dry_run,
                format: self.format,
                sonar,
                target,
                pipeline_started: self.pipeline_start_time.as_deref().and_then(crate::pipeline::time::parse_agent_time),
                analysed_commit: self.analysed_commit,
                decoration,
                fail_on_quality_gate_error,
                network,
                sarif_file: sarif_file.map(PathBuf::from),
                refresh,
            }),
            _ => Err(SettingsError { problems: v.problems }),
        }
    }

    /// `check --integration`: only what the scope doctor needs (no SonarQube): the integration,
    /// the collection URL, the credential, the network.
    pub(crate) fn validate_doctor(mut self) -> Result<DoctorSettings, SettingsError> {
        let origin = self.origin.unwrap_or(Origin::Cli);
        let mut v = Validator { origin, problems: Vec::new() };
        self.reject_macros(&mut v);
        let name = self.integration.clone().unwrap_or_default();
        let integration = crate::azdo::scopes::integration(&name);
        if integration.is_none() {
            let known: Vec<&str> = crate::azdo::scopes::INTEGRATIONS.iter().map(|i| i.key).collect();
            v.problem_named("--integration", format!("'{name}' is not an integration this check knows; use one of: {}", known.join(", ")));
        }
        let collection_url = match self.collection_url.as_deref() {
            Some(url) => v.url(Field::CollectionUrl, url),
            None => {
                v.problem(
                    Field::CollectionUrl,
                    "is needed to check a PAT: give the organization's URL, e.g. --collection-url https://dev.azure.com/fabrikam".into(),
                );
                None
            }
        };
        let credential = match (&self.azure_devops_pat, &self.job_access_token) {
            (Some(pat), _) => v.token(Field::AzureDevOpsPat, pat).map(Credential::Pat),
            (None, Some(job)) => v.token(Field::AzureDevOpsPat, job).map(Credential::JobToken),
            (None, None) => {
                v.problem(
                    Field::AzureDevOpsPat,
                    "no credential to check; export AZURE_DEVOPS_EXT_PAT with the PAT the integration uses".into(),
                );
                None
            }
        };
        let time_limit = v.number(Field::PollingTimeoutSec, self.polling_timeout_sec.as_deref(), 60, 1, MAX_POLLING_TIMEOUT_SEC as usize);
        let network = self.network(&mut v, None);
        match (v.problems.is_empty(), integration, collection_url, credential) {
            (true, Some(integration), Some(collection_url), Some(credential)) => Ok(DoctorSettings {
                integration,
                collection_url: collection_url.trim_end_matches('/').to_string(),
                project: self.project.clone(),
                credential,
                format: self.format,
                network,
                time_limit: Duration::from_secs(time_limit as u64),
            }),
            _ => Err(SettingsError { problems: v.problems }),
        }
    }

    /// Takes out every value holding an unexpanded `$(…)` macro, with a problem naming the macro.
    fn reject_macros(&mut self, v: &mut Validator) {
        let origin = v.origin;
        let fields: [(Field, &mut Option<String>); 33] = [
            (Field::Mode, &mut self.mode),
            (Field::SonarService, &mut self.sonar_service),
            (Field::SonarCloudService, &mut self.sonar_cloud_service),
            (Field::SonarUrl, &mut self.sonar_url),
            (Field::SonarToken, &mut self.sonar_token),
            (Field::SonarOrganization, &mut self.sonar_organization),
            (Field::ReportTaskFile, &mut self.report_task_file),
            (Field::PollingTimeoutSec, &mut self.polling_timeout_sec),
            (Field::AzureDevOpsPat, &mut self.azure_devops_pat),
            (Field::FailOnQualityGateError, &mut self.fail_on_quality_gate_error),
            (Field::PostStatus, &mut self.post_status),
            (Field::PostSummaryComment, &mut self.post_summary_comment),
            (Field::PostInlineComments, &mut self.post_inline_comments),
            (Field::MaxInlineComments, &mut self.max_inline_comments),
            (Field::StatusGenre, &mut self.status_genre),
            (Field::StatusName, &mut self.status_name),
            (Field::CaCertFile, &mut self.ca_cert_file),
            (Field::DecorationMode, &mut self.decoration_mode),
            (Field::FailOnNewIssues, &mut self.fail_on_new_issues),
            (Field::ProjectBaseDir, &mut self.project_base_dir),
            (Field::InlineMinSeverity, &mut self.inline_min_severity),
            (Field::InlineSoftwareQualities, &mut self.inline_software_qualities),
            (Field::SummaryWhen, &mut self.summary_when),
            (Field::PendingStatus, &mut self.pending_status),
            (Field::AllowTokenToSonarUrl, &mut self.allow_token_to_sonar_url),
            (Field::SarifFile, &mut self.sarif_file),
            (Field::ProjectKey, &mut self.project_key),
            (Field::MinChangedLinesCoverage, &mut self.min_changed_lines_coverage),
            (Field::FailOnDependencyRisks, &mut self.fail_on_dependency_risks),
            (Field::CollectionUrl, &mut self.collection_url),
            (Field::Project, &mut self.project),
            (Field::RepositoryId, &mut self.repository_id),
            (Field::SourceCommit, &mut self.source_commit),
        ];
        for (field, slot) in fields {
            let Some(name) = slot.as_deref().and_then(unexpanded_macro) else { continue };
            let fix = match (origin, field) {
                (Origin::Task, Field::SonarToken | Field::AzureDevOpsPat) => {
                    format!("define {name} as a secret variable of the pipeline (or link the variable group that has it)")
                }
                (Origin::Task, _) => {
                    format!("define {name} in the pipeline (or link the variable group that has it), or write the value itself")
                }
                (Origin::Cli, _) => {
                    format!("define the pipeline variable {name} (or link its variable group), or give {} the value itself", field.flag())
                }
            };
            v.problem(field, format!("the value is the unexpanded macro $({name}): no variable {name} is defined for this job; {fix}"));
            *slot = None;
        }
        if self.job_access_token.as_deref().is_some_and(|t| unexpanded_macro(t).is_some()) {
            self.job_access_token = None;
        }
    }

    /// SonarQube URL, credential and organization: explicit settings first, then the service
    /// connection, then (when neither is given) what SonarSource's Prepare task left in the job.
    fn sonar_settings(&self, v: &mut Validator) -> Option<SonarSettings> {
        let origin = v.origin;
        let problems_before = v.problems.len();
        let found = self.found_connection(v);
        // A connection that could not be read has said so; "missing" would only repeat it.
        let connection_reported = v.problems.len() > problems_before;
        if let (Some(_), Some(f)) = (&self.sonar_token, &found)
            && f.fields.credential().is_some()
        {
            v.problem(
                Field::SonarToken,
                format!(
                    "both {} and {} give a SonarQube token; set only one (keep the service connection and clear {}, or the other way round)",
                    Field::SonarToken.name(origin),
                    f.field.name(origin),
                    Field::SonarToken.name(origin)
                ),
            );
        }
        let url = match (&self.sonar_url, found.as_ref().and_then(|f| Some((f, f.fields.url.as_deref()?)))) {
            (Some(url), _) => v.url(Field::SonarUrl, url).map(|u| (u, Field::SonarUrl.name(origin).to_string())),
            (None, Some((f, url))) => v.url(f.field, url).map(|u| (u, f.from.clone())),
            (None, None) => {
                if !(connection_reported || v.has_problem(Field::SonarUrl)) {
                    let message = match &found {
                        Some(f) => format!("{} has no server URL; {}", f.from, f.field.fix_connection()),
                        None => format!("the SonarQube URL is missing; {}", missing_connection_hint(origin)),
                    };
                    v.problem(found.as_ref().map_or(Field::SonarUrl, |f| f.field), message);
                }
                None
            }
        };
        let credential = match (&self.sonar_token, found.as_ref().and_then(|f| Some((f, f.fields.credential()?)))) {
            (Some(token), _) => {
                v.token(Field::SonarToken, token).map(|t| (SonarCredential::Token(t), Field::SonarToken.name(origin).to_string()))
            }
            (None, Some((f, credential))) => {
                self.token_stays_with_its_host(v, f);
                v.credential(f.field, credential).map(|c| (c, f.from.clone()))
            }
            (None, None) => {
                if !(connection_reported || v.has_problem(Field::SonarToken)) {
                    let message = match &found {
                        Some(f) => format!("{} holds no token; {}", f.from, f.field.fix_connection()),
                        None => format!("the SonarQube token is missing; {}", missing_token_hint(origin)),
                    };
                    v.problem(found.as_ref().map_or(Field::SonarToken, |f| f.field), message);
                }
                None
            }
        };
        let organization = self.organization(v, found.as_ref(), url.as_ref().map(|(u, _)| u.as_str()));
        let polling_secs = v.number(
            Field::PollingTimeoutSec,
            self.polling_timeout_sec.as_deref(),
            DEFAULT_POLLING_TIMEOUT_SEC as usize,
            1,
            MAX_POLLING_TIMEOUT_SEC as usize,
        );
        let project_keys = project_keys(v, self.project_key.as_deref());
        let (url, url_from) = url?;
        let (credential, credential_from) = credential?;
        let (organization, organization_from) = organization.unzip();
        Some(SonarSettings {
            url,
            url_from,
            credential,
            credential_from,
            organization,
            organization_from,
            report_task_file: self.report_task_file.clone(),
            project_keys,
            polling_timeout: Duration::from_secs(polling_secs as u64),
            search_paths: self.paths.clone(),
        })
    }

    /// A connection's token goes to the connection's own host: when `sonarUrl` names another (or
    /// downgrades https to http), the run stops unless `allowTokenToSonarUrl` says it is the same
    /// server. Prepare's variables are used only when no URL is given, so they follow this already.
    fn token_stays_with_its_host(&self, v: &mut Validator, f: &FoundConnection) {
        use crate::net::url::Origin;
        let (Some(given), Some(own)) = (self.sonar_url.as_deref(), f.fields.url.as_deref()) else { return };
        let (Some(to), Some(home)) = (Origin::parse(given.trim()), Origin::parse(own.trim())) else { return };
        let same_host = to.host().eq_ignore_ascii_case(home.host());
        let downgraded = crate::net::url::is_https(own) && !crate::net::url::is_https(given);
        let allowed = v.boolean(Field::AllowTokenToSonarUrl, self.allow_token_to_sonar_url.as_deref(), false);
        if (same_host && !downgraded) || allowed {
            return;
        }
        let origin = v.origin;
        let why = if same_host { "over plain http, where the connection uses https" } else { "to another host than the connection's own" };
        v.problem(
            Field::SonarUrl,
            format!(
                "{} ({to}) would send the token of {} {why} ({home}); the token goes only where its connection points. Clear {} to use the connection's URL, or, if {to} is the same server reached by another address, set {} to true",
                Field::SonarUrl.name(origin),
                f.from,
                Field::SonarUrl.name(origin),
                Field::AllowTokenToSonarUrl.name(origin)
            ),
        );
    }

    /// The connection named by an input, or, when no connection, URL or token is given at all,
    /// the one SonarSource's Prepare task used.
    fn found_connection(&self, v: &mut Validator) -> Option<FoundConnection> {
        let origin = v.origin;
        if let (Some(_), Some(_)) = (&self.sonar_service, &self.sonar_cloud_service) {
            v.problem(
                Field::SonarCloudService,
                format!(
                    "both {} and {} name a service connection; keep one: {} for SonarQube Server, {} for SonarQube Cloud",
                    Field::SonarService.name(origin),
                    Field::SonarCloudService.name(origin),
                    Field::SonarService.name(origin),
                    Field::SonarCloudService.name(origin)
                ),
            );
            return None;
        }
        let services = [
            (Field::SonarService, &self.sonar_service, &self.sonar_service_resolved, "SonarQube Server"),
            (Field::SonarCloudService, &self.sonar_cloud_service, &self.sonar_cloud_service_resolved, "SonarQube Cloud"),
        ];
        for (field, id, resolved, kind) in services {
            let Some(id) = id else { continue };
            let Some(fields) = resolved else {
                v.problem(
                    field,
                    format!(
                        "service connection '{id}' is not available to this job; check that it exists, that it is of type {kind}, and that this pipeline is allowed to use it (Project settings > Service connections > Security)"
                    ),
                );
                return None;
            };
            return Some(FoundConnection {
                fields: fields.clone(),
                field,
                from: format!("the service connection {id} in {}", field.name(origin)),
            });
        }
        if self.sonar_url.is_some() || self.sonar_token.is_some() {
            return None;
        }
        self.prepared_connection().unwrap_or_else(|(field, message)| {
            v.problem(field, message);
            None
        })
    }

    /// The connection SonarSource's Prepare task recorded: its endpoint, or else the scanner
    /// properties it wrote. An error names the variable that could not be read (never its value).
    fn prepared_connection(&self) -> Result<Option<FoundConnection>, (Field, String)> {
        let endpoint = self.prepare_endpoint.as_ref().map(|(name, json)| (*name, connection::parse_prepare_endpoint(json)));
        let params = self.scanner_params.as_deref().map(connection::parse_scanner_params);
        let unreadable = |name: &str, why: &str| {
            format!(
                "{name} cannot be read ({why}). SonarSource's Prepare task sets it: check that no other step sets a variable of that name, or give this task its own connection ({})",
                missing_connection_hint(Origin::Task)
            )
        };
        match (endpoint, params) {
            (Some((name, Ok(fields))), _) => {
                Ok(Some(FoundConnection { fields, field: Field::PrepareEndpoint, from: format!("SonarSource's Prepare task ({name})") }))
            }
            (_, Some(Ok(fields))) => Ok(Some(FoundConnection {
                fields,
                field: Field::ScannerParams,
                from: format!("SonarSource's Prepare task ({SCANNER_PARAMS_VARIABLE})"),
            })),
            (Some((name, Err(e))), _) => Err((Field::PrepareEndpoint, unreadable(name, e.0))),
            (None, Some(Err(e))) => Err((Field::ScannerParams, unreadable(SCANNER_PARAMS_VARIABLE, e.0))),
            (None, None) => Ok(None),
        }
    }

    /// `sonarOrganization`, else the one recorded with the connection, else the Prepare task's
    /// when it used the same server. SonarQube Cloud cannot be read without one.
    fn organization(&self, v: &mut Validator, found: Option<&FoundConnection>, url: Option<&str>) -> Option<(String, String)> {
        let origin = v.origin;
        if let Some(org) = &self.sonar_organization {
            if !org.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                v.problem(
                    Field::SonarOrganization,
                    format!("'{org}' is not an organization key; use the key shown in SonarQube Cloud's URL (letters, digits, - and _)"),
                );
                return None;
            }
            return Some((org.clone(), Field::SonarOrganization.name(origin).to_string()));
        }
        let same_server = |f: &FoundConnection| {
            let origin_of = |u: &str| crate::net::url::Origin::parse(u);
            f.fields.url.as_deref().and_then(origin_of).is_some_and(|o| url.and_then(origin_of) == Some(o))
        };
        let recorded = found.and_then(|f| Some((f.fields.organization.clone()?, f.from.clone())));
        let prepared = || {
            let f = self.prepared_connection().ok().flatten().filter(same_server)?;
            Some((f.fields.organization.clone()?, f.from))
        };
        let organization = recorded.or_else(prepared);
        if organization.is_none() && found.is_some_and(|f| f.fields.cloud) && url.is_some() {
            v.problem(
                Field::SonarOrganization,
                format!(
                    "SonarQube Cloud needs the organization key; set {} to the key shown in SonarQube Cloud's URL (sonarcloud.io/organizations/<key>)",
                    Field::SonarOrganization.name(origin)
                ),
            );
        }
        organization
    }

    /// How the pull request is decorated.
    fn decoration(&self, v: &mut Validator) -> Decoration {
        let max_inline_comments =
            v.number(Field::MaxInlineComments, self.max_inline_comments.as_deref(), DEFAULT_MAX_INLINE_COMMENTS, 0, MAX_INLINE_COMMENTS);
        let post_status = v.boolean(Field::PostStatus, self.post_status.as_deref(), true);
        let pending_status = v.boolean(Field::PendingStatus, self.pending_status.as_deref(), false);
        let post_summary_comment = v.boolean(Field::PostSummaryComment, self.post_summary_comment.as_deref(), true);
        let post_inline_comments = v.boolean(Field::PostInlineComments, self.post_inline_comments.as_deref(), true);
        let status_genre = v.label(Field::StatusGenre, self.status_genre.as_deref(), DEFAULT_STATUS_GENRE, true);
        let status_name = v.label(Field::StatusName, self.status_name.as_deref(), DEFAULT_STATUS_NAME, false);
        let mode = match self.decoration_mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
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
            Some(s) => match Severity::parse(s).filter(|_| ["info", "minor", "major", "critical", "blocker"].contains(&s)) {
                Some(sev) => Some(sev),
                None => {
                    v.problem(
                        Field::FailOnNewIssues,
                        format!("'{s}' is not a severity; use none, info, minor, major, critical or blocker"),
                    );
                    None
                }
            },
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
        let min_severity = match self.inline_min_severity.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("none") => None,
            Some(s) => Severity::parse(s).or_else(|| {
                v.problem(
                    Field::InlineMinSeverity,
                    format!("'{s}' is not a severity; use none, info, low, medium, high or blocker (SonarQube 10.2 and later), or info, minor, major, critical or blocker (earlier servers)"),
                );
                None
            }),
        };
        let qualities = self.inline_software_qualities.as_deref().map(|list| {
            let mut wanted = Vec::new();
            for q in list.split([',', ';', ' ']).map(str::trim).filter(|q| !q.is_empty()) {
                match q.to_ascii_uppercase().as_str() {
                    known @ ("RELIABILITY" | "SECURITY" | "MAINTAINABILITY") => wanted.push(known.to_string()),
                    _ => v.problem(
                        Field::InlineSoftwareQualities,
                        format!("'{q}' is not a software quality; use a comma-separated list of reliability, security and maintainability, like security,reliability"),
                    ),
                }
            }
            wanted
        });
        let summary_when = match self.summary_when.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("always") => SummaryWhen::Always,
            Some("failing") => SummaryWhen::Failing,
            Some(other) => {
                v.problem(Field::SummaryWhen, format!("'{other}' is not a choice; use always (the default) or failing (a summary only when the pull request does not pass)"));
                SummaryWhen::Always
            }
        };
        let inline_filter = InlineFilter { cap: max_inline_comments, min_severity, qualities };
        let min_changed_lines_coverage =
            self.min_changed_lines_coverage.as_deref().map(str::trim).filter(|s| !s.is_empty()).and_then(|s| {
                match s.trim_end_matches('%').trim().parse::<f64>() {
                    Ok(p) if (0.0..=100.0).contains(&p) => Some(p),
                    _ => {
                        v.problem(
                        Field::MinChangedLinesCoverage,
                        format!(
                            "'{s}' is not a percentage; give a number from 0 to 100, like 80 (or leave it empty for no coverage condition)"
                        ),
                    );
                        None
                    }
                }
            });
        let fail_on_dependency_risks = match self.fail_on_dependency_risks.as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref()
        {
            None | Some("") | Some("none") => None,
            Some(s @ ("info" | "low" | "medium" | "high" | "blocker")) => Some(s.to_string()),
            Some(other) => {
                v.problem(
                    Field::FailOnDependencyRisks,
                    format!("'{other}' is not a dependency-risk severity; use none, info, low, medium, high or blocker"),
                );
                None
            }
        };
        let (sync_resolutions, allow_author_resolutions) = self.triage(v);
        Decoration {
            sync_resolutions,
            allow_author_resolutions,
            fail_on_dependency_risks,
            min_changed_lines_coverage,
            inline_filter,
            summary_when,
            pending_status,
            mode,
            fail_on_new_issues,
            project_base_dir,
            post_status,
            post_summary_comment,
            post_inline_comments,
            status_genre,
            status_name,
        }
    }

    /// `syncResolutions` and `allowAuthorResolutions`.
    fn triage(&self, v: &mut Validator) -> (SyncResolutions, bool) {
        let sync = match self.sync_resolutions.as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("none") => SyncResolutions::None,
            Some("tosonarqube") | Some("to-sonarqube") => SyncResolutions::ToSonarQube,
            Some(other) => {
                v.problem(
                    Field::SyncResolutions,
                    format!("'{other}' is not a choice; use none (the default) or toSonarQube (a reviewer's Won't fix or By design marks the issue in SonarQube)"),
                );
                SyncResolutions::None
            }
        };
        (sync, v.boolean(Field::AllowAuthorResolutions, self.allow_author_resolutions.as_deref(), false))
    }

    /// The HTTP client's configuration: trust roots, certificate checks and the proxy.
    fn network(&self, v: &mut Validator, sonar_url: Option<&str>) -> crate::net::Config {
        let mut ca_cert_files: Vec<PathBuf> = Vec::new();
        if let Some(path) = self.ca_cert_file.as_deref() {
            let p = PathBuf::from(path);
            if p.is_file() {
                ca_cert_files.push(p);
            } else {
                v.problem(Field::CaCertFile, format!("'{path}' is not a readable file; give the path of a PEM file with your CA certificates (for example $(Agent.TempDirectory)/corp-ca.pem from a secure file)"));
            }
        }
        if let Some(path) = self.agent_ca_info.as_deref() {
            let p = PathBuf::from(path);
            if p.is_file() {
                ca_cert_files.push(p);
            } else {
                v.problem(Field::AgentCaInfo, format!("the agent's CA bundle '{path}' is not a readable file; fix the agent's --sslcacert setting or the file's permissions"));
            }
        }
        let client_cert = self.client_cert_config(v);
        let proxy = match v.origin {
            Origin::Task => self.agent_proxy_url.as_deref().and_then(|url| {
                ProxyConfig::from_agent(
                    url,
                    self.agent_proxy_username.as_deref(),
                    self.agent_proxy_password.as_deref(),
                    self.agent_proxy_bypass.as_deref(),
                )
                .map_err(|e| match e {
                    ProxyError::Url(m) => v.problem(Field::Proxy, m),
                    ProxyError::BypassList(m) => v.problem(Field::ProxyBypass, m),
                })
                .ok()
            }),
            Origin::Cli => {
                let https = self.proxy_flag.as_deref().or(self.https_proxy.as_deref());
                let http = self.proxy_flag.as_deref().or(self.http_proxy.as_deref());
                if https.is_none() && http.is_none() {
                    None
                } else {
                    ProxyConfig::from_env_vars(https, http, self.no_proxy.as_deref()).map_err(|e| v.problem(Field::Proxy, e)).ok()
                }
            }
        };
        let is_https = |u: &Option<String>| u.as_deref().is_some_and(crate::net::url::is_https);
        let mut config = crate::net::Config {
            needs_tls: sonar_url.is_some_and(crate::net::url::is_https) || is_https(&self.sonar_url) || is_https(&self.collection_url),
            ca_cert_files,
            client_cert,
            skip_cert_validation: self.skip_cert_validation.as_deref().and_then(parse_bool).unwrap_or(false),
            proxy,
            names: network_names(v.origin),
            ..crate::net::Config::default()
        };
        if let Some(ms) = self.first_retry_delay_ms {
            config.retry.first_backoff = Duration::from_millis(ms);
        }
        config
    }

    /// The client certificate's files, each checked to be a readable file; read (and its password
    /// tried) when the client is built, which names the setting of whatever fails.
    fn client_cert_config(&self, v: &mut Validator) -> Option<crate::net::client_cert::ClientCertConfig> {
        let origin = v.origin;
        let mut file = |field: Field, value: &Option<String>| {
            let path = PathBuf::from(value.as_deref()?);
            if path.is_file() {
                Some(path)
            } else {
                let fix = match origin {
                    Origin::Task => {
                        "fix the agent's client certificate settings (config --sslclientcert, --sslclientcertkey, --sslclientcertarchive) or the file's permissions"
                    }
                    Origin::Cli => "give the path of a readable file",
                };
                v.problem(field, format!("'{}' is not a readable file; {fix}", path.display()));
                None
            }
        };
        let cert = file(Field::ClientCert, &self.client_cert);
        let key = file(Field::ClientCertKey, &self.client_cert_key);
        let archive = file(Field::ClientCertArchive, &self.client_cert_archive);
        if cert.is_none() && key.is_none() && archive.is_none() {
            return None;
        }
        let names = match origin {
            Origin::Task => crate::net::client_cert::ClientCertNames {
                cert: "Agent.ClientCert (the agent's --sslclientcert)".into(),
                key: "Agent.ClientCertKey (the agent's --sslclientcertkey)".into(),
                password: "Agent.ClientCertPassword (the agent's --sslclientcertpassword)".into(),
            },
            Origin::Cli => crate::net::client_cert::ClientCertNames {
                cert: Field::ClientCert.flag().into(),
                key: Field::ClientCertKey.flag().into(),
                password: Field::ClientCertPassword.flag().into(),
            },
        };
        Some(crate::net::client_cert::ClientCertConfig {
            cert,
            key,
            archive,
            password: self.client_cert_password.as_deref().filter(|p| !p.is_empty()).map(Secret::new),
            names,
        })
    }

    /// `refresh`: a webhook payload, or the project and pull request named by flags; the
    /// repository to post in either way. Nothing here in the other modes.
    fn refresh_settings(&self, v: &mut Validator, mode: Mode, sonar: Option<&SonarSettings>, target: &Target) -> RefreshSettings {
        let secret = self.webhook_secret.as_deref().filter(|s| !s.is_empty()).map(crate::secret::Secret::new);
        let signature = self.webhook_signature.clone();
        if mode != Mode::Refresh {
            for (field, given) in [(Field::WebhookPayload, self.webhook_payload.is_some()), (Field::WebhookSignature, signature.is_some())]
            {
                if given {
                    v.problem(field, "is read only when refreshing (mode refresh): remove it, or run refresh".into());
                }
            }
            return RefreshSettings::default();
        }
        let payload = self.webhook_payload.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(|p| match v.origin {
            Origin::Task => WebhookPayloadSource::Text(p.to_string()),
            Origin::Cli => WebhookPayloadSource::File(PathBuf::from(p)),
        });
        if let Some(WebhookPayloadSource::File(path)) = &payload
            && !path.is_file()
        {
            v.problem(
                Field::WebhookPayload,
                format!("'{}' is not a file; give the file the webhook's request body was saved to", path.display()),
            );
        }
        if signature.is_some() && secret.is_none() {
            v.problem(
                Field::WebhookSecret,
                format!("is needed to check {}: export it with the secret set on SonarQube's webhook", Field::WebhookSignature.flag()),
            );
        }
        if (signature.is_some() || secret.is_some()) && payload.is_none() {
            v.problem(
                Field::WebhookPayload,
                "is needed with a webhook signature or secret: give the file the webhook's body was saved to".into(),
            );
        }
        let commit = self.refresh_commit.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        if let Some(c) = commit.as_deref().filter(|c| !crate::decide::refresh::is_commit_id(c)) {
            v.problem(Field::RefreshCommit, format!("'{c}' is not a commit id; give the hexadecimal id of the commit SonarQube analysed"));
        }
        if payload.is_none() {
            let keys = sonar.map_or(0, |s| s.project_keys.len());
            if keys != 1 && !v.has_problem(Field::ProjectKey) {
                v.problem(
                    Field::ProjectKey,
                    format!(
                        "refresh needs exactly one project (given {keys}), or a webhook payload that names it ({})",
                        Field::WebhookPayload.name(v.origin)
                    ),
                );
            }
            if target.pull_request().is_none() && !v.has_problem(Field::PullRequestId) {
                v.problem(
                    Field::PullRequestId,
                    format!(
                        "refresh needs the pull request to post to, or a webhook payload that names it ({})",
                        Field::WebhookPayload.name(v.origin)
                    ),
                );
            }
        }
        if let Target::NoPullRequest { .. } = target {
            // `target` names a missing credential only for a pull request it knows of.
            let no_credential = self.azure_devops_pat.is_none() && self.job_access_token.is_none();
            if no_credential && !self.dry_run && !v.has_problem(Field::AzureDevOpsPat) {
                let hint = InputNames::for_origin(v.origin == Origin::Task).provide_credential;
                v.problem(Field::AzureDevOpsPat, format!("no Azure DevOps credential to post with; {hint}"));
            }
            let missing = [
                (Field::CollectionUrl, self.collection_url.is_none()),
                (Field::Project, self.project.is_none()),
                (Field::RepositoryId, self.repository_id.is_none()),
            ];
            for (field, missing) in missing {
                if missing && !v.has_problem(field) {
                    let hint = match v.origin {
                        Origin::Task => "the agent sets it on every run; run the task in an Azure Pipelines job".to_string(),
                        Origin::Cli => format!("pass {}", field.flag()),
                    };
                    v.problem(field, format!("is needed to post the refreshed result; {hint}"));
                }
            }
        }
        RefreshSettings { payload, signature, secret, commit }
    }

    /// The pull request to decorate: the PAT when given, else the job token.
    fn target(&self, v: &mut Validator, mode: Mode) -> Target {
        let credential = match (&self.azure_devops_pat, &self.job_access_token) {
            (Some(pat), _) => v.token(Field::AzureDevOpsPat, pat).map(Credential::Pat),
            (None, Some(job)) => v.token(Field::AzureDevOpsPat, job).map(Credential::JobToken),
            (None, None) => None,
        };
        let collection_url = self.collection_url.as_deref().and_then(|u| v.url(Field::CollectionUrl, u));
        let access = match (&collection_url, &credential) {
            (Some(url), Some(credential)) => Some(AzureDevOpsAccess {
                repository: RepositoryRef {
                    collection_url: url.clone(),
                    project: self.project.clone().unwrap_or_default(),
                    repository: self.repository_id.clone().unwrap_or_default(),
                },
                credential: credential.clone(),
            }),
            _ => None,
        };
        let Some(id) = self.pull_request_id.as_deref() else {
            let reason = match self.build_reason.as_deref() {
                Some(reason) => format!("this build was not triggered by a pull request (Build.Reason is {reason})"),
                None => match v.origin {
                    Origin::Task => "no pull request id was given".to_string(),
                    Origin::Cli => format!("no pull request id was given ({})", Field::PullRequestId.flag()),
                },
            };
            return Target::NoPullRequest { reason, access };
        };
        let id = match id.parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => {
                v.problem(Field::PullRequestId, format!("'{id}' is not a pull request id; it must be a positive whole number, like 42"));
                return Target::NoPullRequest { reason: "the pull request id is not valid".to_string(), access };
            }
        };
        if let Some(provider) = self.repository_provider.as_deref().filter(|p| *p != "TfsGit") {
            return Target::NoPullRequest {
                reason: format!(
                    "the repository is hosted on {provider}, not Azure Repos, so there is no Azure DevOps pull request to decorate"
                ),
                access,
            };
        }
        let needed = [
            (Field::CollectionUrl, collection_url.is_none() && !v.has_problem(Field::CollectionUrl)),
            (Field::Project, self.project.is_none()),
            (Field::RepositoryId, self.repository_id.is_none()),
        ];
        for (field, missing) in needed {
            if missing {
                let hint = match v.origin {
                    Origin::Task => "the agent sets it on every build; run the task in an Azure Pipelines job".to_string(),
                    Origin::Cli => format!("pass {}", field.flag()),
                };
                v.problem(field, format!("is needed to post to pull request {id}; {hint}"));
            }
        }
        if credential.is_none() && mode != Mode::Check && !self.dry_run && !v.has_problem(Field::AzureDevOpsPat) {
            let hint = InputNames::for_origin(v.origin == Origin::Task).provide_credential;
            v.problem(Field::AzureDevOpsPat, format!("no Azure DevOps credential to post with; {hint}"));
        }
        let repository = RepositoryRef {
            collection_url: collection_url.unwrap_or_default(),
            project: self.project.clone().unwrap_or_default(),
            repository: self.repository_id.clone().unwrap_or_default(),
        };
        let collection_url_from = Field::CollectionUrl.name(v.origin).to_string();
        let on_services = self.server_type.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case("hosted"))
            || crate::azdo::is_services_url(&repository.collection_url);
        Target::PullRequest(PullRequestTarget {
            repository,
            collection_url_from,
            id,
            source_commit: self.source_commit.clone(),
            credential,
            on_services,
        })
    }
}

/// How the HTTP client's messages name the network settings.
fn network_names(origin: Origin) -> crate::net::SettingNames {
    let ca_file = match origin {
        Origin::Task => format!("{} (or the agent's --sslcacert)", Field::CaCertFile.name(origin)),
        Origin::Cli => Field::CaCertFile.name(origin).to_string(),
    };
    let proxy_credentials = match origin {
        Origin::Task => "the agent's proxy settings (Agent.ProxyUsername and Agent.ProxyPassword)".to_string(),
        Origin::Cli => "user:password@ in --proxy or HTTPS_PROXY".to_string(),
    };
    let client_cert = match origin {
        Origin::Task => "the agent's client certificate (config --sslclientcert, --sslclientcertkey, --sslclientcertarchive and --sslclientcertpassword; read as Agent.ClientCert*)".to_string(),
        Origin::Cli => "--client-cert (PEM with --client-key, or a .pfx alone) and SONAR_PR_GATE_CLIENT_CERT_PASSWORD".to_string(),
    };
    crate::net::SettingNames {
        client_cert,
        time_limit: Field::PollingTimeoutSec.name(origin).to_string(),
        proxy: Field::Proxy.name(origin).to_string(),
        proxy_credentials,
        proxy_bypass: Field::ProxyBypass.name(origin).to_string(),
        ca_file,
    }
}

/// The names messages below this layer use: the task's or the CLI's, with the URLs' and the
/// SonarQube credential's actual sources.
fn input_names(origin: Origin, sonar: &SonarSettings, target: &Target) -> InputNames {
    let mut names = InputNames::for_origin(origin == Origin::Task);
    names.sonar_url = sonar.url_from.clone();
    names.sonar_token = sonar.credential_from.clone();
    if let Target::PullRequest(t) = target {
        names.collection_url = t.collection_url_from.clone();
    }
    names
}

/// A SonarQube connection found in the job, with the setting it is named by in problems and how
/// the log names where it came from.
struct FoundConnection {
    fields: ConnectionFields,
    field: Field,
    from: String,
}

/// Where a SonarQube URL can come from, said when there is none.
fn missing_connection_hint(origin: Origin) -> &'static str {
    match origin {
        Origin::Task => {
            "set sonarUrl (for example https://sonarqube.example.com) and sonarToken, choose a service connection in sonarQubeService (SonarQube Server) or sonarCloudService (SonarQube Cloud), or run SonarSource's Prepare task before this one in the same job"
        }
        Origin::Cli => "pass --sonar-url https://sonarqube.example.com or set SONAR_HOST_URL",
    }
}

fn missing_token_hint(origin: Origin) -> &'static str {
    match origin {
        Origin::Task => "set sonarToken to a secret variable, e.g. $(SONAR_TOKEN), or use a SonarQube service connection",
        Origin::Cli => "export SONAR_TOKEN=<token> (a user token of an account with Browse and Execute Analysis on the project)",
    }
}

struct Validator {
    origin: Origin,
    problems: Vec<Problem>,
}

impl Validator {
    fn mode(&mut self, raw: Option<&str>) -> Mode {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("publish") => Mode::Publish,
            Some("check") => Mode::Check,
            Some("refresh") => Mode::Refresh,
            Some(other) => {
                self.problem(
                    Field::Mode,
                    format!("'{other}' is not a mode; use publish (post the result), check (preflight checks only, writes nothing) or refresh (post SonarQube's current result again, e.g. from SonarQube's webhook)"),
                );
                Mode::Publish
            }
        }
    }

    fn problem(&mut self, field: Field, message: String) {
        self.problems.push(Problem { input: field.name(self.origin).to_string(), message });
    }

    /// A problem with a flag that is no `Field` (it exists on one command only).
    fn problem_named(&mut self, input: &str, message: String) {
        self.problems.push(Problem { input: input.to_string(), message });
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
            // A SonarQube URL from any source (the input, a connection, Prepare's variables) is
            // fixed with the SonarQube token; only the collection URL's with the PAT.
            let secret_field = match field {
                Field::SonarUrl | Field::SonarService | Field::SonarCloudService | Field::PrepareEndpoint | Field::ScannerParams => {
                    Field::SonarToken
                }
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
    /// A connection's credential, its token checked as a typed one is.
    fn credential(&mut self, field: Field, credential: SonarCredential) -> Option<SonarCredential> {
        match credential {
            SonarCredential::Token(token) => self.token(field, token.expose()).map(SonarCredential::Token),
            login => Some(login),
        }
    }

    fn token(&mut self, field: Field, raw: &str) -> Option<Secret> {
        let value = raw.trim();
        if value.contains('\n') || value.contains('\r') {
            self.problem(field, "the token spans several lines; paste it again as a single line".to_string());
            None
        } else if value.chars().any(char::is_whitespace) {
            self.problem(field, "the token contains spaces; it must be the bare token, without a 'Bearer ' or 'Basic ' prefix".to_string());
            None
        } else if value.is_empty() {
            None
        } else {
            Some(Secret::new(value))
        }
    }

    fn number(&mut self, field: Field, raw: Option<&str>, default: usize, min: usize, max: usize) -> usize {
        let Some(raw) = raw else { return default };
        let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
        match raw.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => n,
            // Negative, zero when not allowed, or too many digits for any number: all out of range.
            _ if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                self.problem(field, format!("{raw} is out of range; use a number from {min} to {max}"));
                default
            }
            _ => {
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

/// `projectKey`: project keys separated by commas, semicolons or new lines, as SonarQube allows
/// them (letters, digits, `-`, `_`, `.`, `:`, and not only digits; at most 400 characters).
fn project_keys(v: &mut Validator, value: Option<&str>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for key in value.unwrap_or_default().split([',', ';', '\n', '\r']).map(str::trim).filter(|k| !k.is_empty()) {
        if !crate::sonar::is_project_key(key) {
            v.problem(
                Field::ProjectKey,
                format!(
                    "'{}' is not a SonarQube project key (letters, digits, '-', '_', '.' and ':', not only digits); give the keys of the analysed projects, e.g. shop-api,shop-web",
                    crate::text::visible(key)
                ),
            );
        } else if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    keys
}
