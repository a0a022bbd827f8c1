//! The command line: the one place that knows clap. It turns arguments into [`RawSettings`].

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::pipeline::AgentEnv;
use crate::settings::{Origin, OutputFormat, RawSettings};

const EXIT_CODES: &str = "\
Exit status (check, publish and refresh):
  0  passed (or --fail-on-quality-gate-error false)
  1  quality gate failed, or the analysis failed or did not finish in time
  2  configuration error: a flag, variable or the scanner's report-task.txt is missing or wrong
  3  a service could not be reached, or refused the credentials

In `task` mode the outcome is reported to the agent with ##vso[task.complete result=...] and the
process exits 0; a non-zero exit there means the task itself crashed.

Secrets are read from the environment only, never from flags (command lines are visible to other
processes): SONAR_TOKEN, AZURE_DEVOPS_EXT_PAT, SYSTEM_ACCESSTOKEN, SONAR_PR_GATE_WEBHOOK_SECRET.";

// Examples in help are pasted into shells: every line stays well under 80 columns, so no terminal
// wraps one and moves a `\` continuation onto a line of its own (a test holds this).
const CHECK_EXAMPLE: &str = "\
Example:
  export SONAR_TOKEN=squ_... AZURE_DEVOPS_EXT_PAT=...
  sonar-pr-gate check \\
    --sonar-url https://sonar.example.com \\
    --collection-url https://dev.azure.com/fabrikam \\
    --project Web --repository web --pull-request 42
";

const PUBLISH_EXAMPLE: &str = "\
Example:
  export SONAR_TOKEN=squ_... AZURE_DEVOPS_EXT_PAT=...
  sonar-pr-gate publish \\
    --sonar-url https://sonar.example.com \\
    --collection-url https://dev.azure.com/fabrikam \\
    --project Web --repository web --pull-request 42 \\
    --report-task-file .scannerwork/report-task.txt
";

const REFRESH_EXAMPLE: &str = "\
Examples:
  export SONAR_TOKEN=squ_... AZURE_DEVOPS_EXT_PAT=...
  sonar-pr-gate refresh \\
    --sonar-url https://sonar.example.com \\
    --collection-url https://dev.azure.com/fabrikam \\
    --project Web --repository web \\
    --project-key shop --pull-request 42

  # A relay that saved SonarQube's webhook request:
  export SONAR_PR_GATE_WEBHOOK_SECRET=...
  sonar-pr-gate refresh --webhook-payload body.json \\
    --webhook-signature \"$SIGNATURE\" \\
    --sonar-url https://sonar.example.com \\
    --collection-url https://dev.azure.com/fabrikam \\
    --project Web --repository web
";

#[derive(Parser)]
#[command(
    name = "sonar-pr-gate",
    version,
    about = "Waits for the SonarQube analysis a scanner just submitted, reads its quality gate, issues and measures, and posts the result to the Azure DevOps pull request.",
    after_help = EXIT_CODES
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// The first retry's delay in milliseconds (default 500). A test seam, hidden from help: the
    /// integration tests exercise retries without waiting seconds for each.
    #[arg(long, global = true, hide = true, value_name = "MS")]
    pub(crate) first_retry_delay_ms: Option<u64>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run as an Azure Pipelines task: every setting comes from the agent's environment
    /// (INPUT_*, ENDPOINT_*, predefined variables). This is what the extension's launcher calls.
    Task,
    /// Run every preflight check (SonarQube server, token, base URL, report-task.txt, Azure DevOps
    /// credential, pull request) and write nothing.
    #[command(after_help = CHECK_EXAMPLE)]
    Check {
        #[command(flatten)]
        common: CommonArgs,
        /// Output format of the checklist: text for people, json for tools.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Check an Azure DevOps PAT (AZURE_DEVOPS_EXT_PAT) for an integration instead: the scopes
        /// its vendor documents, one harmless GET each, and the owner's access level. NAME is
        /// sonar-pr-gate, sonarqube, sonarcloud, snyk or harness-sei, e.g.
        /// --integration snyk --collection-url https://dev.azure.com/fabrikam --project Web
        #[arg(long, value_name = "NAME")]
        integration: Option<String>,
    },
    /// Wait for the analysis, read the quality gate and post the PR status, summary comment and
    /// inline comments.
    #[command(after_help = PUBLISH_EXAMPLE)]
    Publish {
        #[command(flatten)]
        common: CommonArgs,
        /// Read everything and print what would be posted, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Post SonarQube's current result for a pull request again, without a scanner run: after an
    /// issue was accepted or marked false positive in SonarQube. Started by hand (--project-key
    /// and --pull-request) or from SonarQube's webhook (--webhook-payload).
    #[command(after_help = REFRESH_EXAMPLE)]
    Refresh {
        #[command(flatten)]
        common: CommonArgs,
        /// The body of SonarQube's webhook request, saved to a file byte for byte; it names the
        /// project, the pull request and the analysed commit, e.g. --webhook-payload body.json.
        #[arg(long, value_name = "FILE")]
        webhook_payload: Option<String>,
        /// The request's X-Sonar-Webhook-HMAC-SHA256 header, checked against the secret in
        /// SONAR_PR_GATE_WEBHOOK_SECRET (with that variable set, an unsigned payload is refused).
        #[arg(long, value_name = "HEX")]
        webhook_signature: Option<String>,
        /// The commit SonarQube analysed, when no payload says: the result is posted only when it
        /// is the pull request's latest push (its source or merge commit), e.g. --commit 3f2a9c1.
        #[arg(long, value_name = "SHA")]
        commit: Option<String>,
        /// Read everything and print what would be posted, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub(crate) struct CommonArgs {
    /// SonarQube base URL, e.g. --sonar-url https://sonar.example.com (SonarQube Cloud:
    /// https://sonarcloud.io). Falls back to SONAR_HOST_URL.
    #[arg(long, value_name = "URL")]
    pub(crate) sonar_url: Option<String>,
    /// SonarQube Cloud organization key, e.g. --organization fabrikam. Falls back to SONAR_ORGANIZATION.
    #[arg(long, value_name = "KEY")]
    pub(crate) organization: Option<String>,
    /// Path or glob of the scanner's report-task.txt, e.g. --report-task-file 'services/*/.scannerwork/report-task.txt'.
    /// Without it the usual places are searched (see README).
    #[arg(long, value_name = "PATH")]
    pub(crate) report_task_file: Option<String>,
    /// When no report-task.txt is here (the analysis ran in another job or stage): the projects
    /// whose analyses of this pull request since the pipeline run started are found on the
    /// server, e.g. --project-key shop-api,shop-web.
    #[arg(long, value_name = "KEYS")]
    pub(crate) project_key: Option<String>,
    /// How long to wait for the analysis, in seconds, e.g. --polling-timeout-sec 600. Default 300.
    // A negative value is taken as a value (and refused as out of range), not as a flag.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub(crate) polling_timeout_sec: Option<String>,
    /// Azure DevOps collection URL, e.g. --collection-url https://dev.azure.com/fabrikam.
    /// Falls back to SYSTEM_COLLECTIONURI.
    #[arg(long, value_name = "URL")]
    pub(crate) collection_url: Option<String>,
    /// Azure DevOps project name or id, e.g. --project Web. Falls back to SYSTEM_TEAMPROJECTID.
    #[arg(long, value_name = "PROJECT")]
    pub(crate) project: Option<String>,
    /// Repository name or id, e.g. --repository web. Falls back to BUILD_REPOSITORY_ID.
    #[arg(long, value_name = "REPO")]
    pub(crate) repository: Option<String>,
    /// Pull request id, e.g. --pull-request 42. Falls back to SYSTEM_PULLREQUEST_PULLREQUESTID;
    /// without one nothing is posted to a pull request.
    #[arg(long, value_name = "ID")]
    pub(crate) pull_request: Option<String>,
    /// The analysed source commit, so the status lands on its iteration, e.g. --source-commit 3f2a9c1...
    /// Falls back to SYSTEM_PULLREQUEST_SOURCECOMMITID.
    #[arg(long, value_name = "SHA")]
    pub(crate) source_commit: Option<String>,
    /// Exit 1 when the quality gate fails: --fail-on-quality-gate-error false to only report it. Default true.
    #[arg(long, value_name = "BOOL")]
    pub(crate) fail_on_quality_gate_error: Option<String>,
    /// Post a PR status a branch policy can require: --post-status false to skip. Default true.
    #[arg(long, value_name = "BOOL")]
    pub(crate) post_status: Option<String>,
    /// Keep one summary comment on the PR up to date: --post-summary-comment false to skip. Default true.
    #[arg(long, value_name = "BOOL")]
    pub(crate) post_summary_comment: Option<String>,
    /// Comment on the changed lines that have issues: --post-inline-comments false to skip. Default true.
    #[arg(long, value_name = "BOOL")]
    pub(crate) post_inline_comments: Option<String>,
    /// Most inline comments per run, most severe first, e.g. --max-inline-comments 10. Default 25.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub(crate) max_inline_comments: Option<String>,
    /// Genre of the PR status context, e.g. --status-genre SonarQube (the default).
    #[arg(long, value_name = "GENRE")]
    pub(crate) status_genre: Option<String>,
    /// Name of the PR status context, e.g. --status-name "quality gate" (the default).
    #[arg(long, value_name = "NAME")]
    pub(crate) status_name: Option<String>,
    /// How issues are matched to the PR: auto (the default), pullRequest (SonarQube's own PR
    /// analysis) or changedLines (any analysis, scoped to the lines the PR changed), e.g.
    /// --decoration-mode changedLines.
    #[arg(long, value_name = "MODE")]
    pub(crate) decoration_mode: Option<String>,
    /// Fail when issues at or above this severity sit on lines the PR changed:
    /// none (the default), info, minor, major, critical or blocker, e.g. --fail-on-new-issues major.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) fail_on_new_issues: Option<String>,
    /// With changed-lines decoration (Community Build): fail the pull request when less than this
    /// percentage of the lines it changed is covered by tests, e.g. --min-changed-lines-coverage 80.
    #[arg(long, value_name = "PERCENT")]
    pub(crate) min_changed_lines_coverage: Option<String>,
    /// Fail when the pull request has dependency risks (SonarQube Advanced Security) at or above
    /// this severity: none (the default), info, low, medium, high or blocker.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) fail_on_dependency_risks: Option<String>,
    /// The analysed project's folder in the repository, for monorepos, e.g. --project-base-dir services/api.
    /// Without it, it is derived from where report-task.txt was written.
    #[arg(long, value_name = "DIR")]
    pub(crate) project_base_dir: Option<String>,
    /// Inline comments only for issues at or above this severity, in the server's words:
    /// info, low/minor, medium/major, high/critical or blocker, e.g. --inline-min-severity high.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) inline_min_severity: Option<String>,
    /// Inline comments only for issues that affect these software qualities, comma-separated:
    /// reliability, security, maintainability, e.g. --inline-software-qualities security,reliability.
    #[arg(long, value_name = "QUALITIES")]
    pub(crate) inline_software_qualities: Option<String>,
    /// When to post the summary comment: always (the default) or failing (only when the pull
    /// request does not pass; a passing run resolves an earlier one).
    #[arg(long, value_name = "WHEN")]
    pub(crate) summary_when: Option<String>,
    /// Post a `pending` status while the analysis is still being processed, replaced by the
    /// result: true or false (the default).
    #[arg(long, value_name = "BOOL")]
    pub(crate) pending_status: Option<String>,
    /// Carry reviewers' resolutions over to SonarQube: none (the default) or toSonarQube (a thread
    /// resolved as Won't fix marks its issue accepted, By design a false positive; the token needs
    /// 'Administer Issues'), e.g. --sync-resolutions toSonarQube.
    #[arg(long, value_name = "WHERE")]
    pub(crate) sync_resolutions: Option<String>,
    /// With --sync-resolutions: also carry over the pull request's author's resolutions, and those
    /// made without a reply: true or false (the default).
    #[arg(long, value_name = "BOOL")]
    pub(crate) allow_author_resolutions: Option<String>,
    /// Also write the pull request's issues as SARIF 2.1.0 to this file (for GitHub Advanced
    /// Security for Azure DevOps' AdvancedSecurity-Publish@1 or a SARIF viewer), e.g.
    /// --sarif out/sonarqube.sarif.
    #[arg(long, value_name = "FILE")]
    pub(crate) sarif: Option<String>,
    /// The commit the pipeline analysed (a PR build's merge commit), e.g. --analysed-commit 39f52d2...
    /// Falls back to BUILD_SOURCEVERSION.
    #[arg(long, value_name = "SHA")]
    pub(crate) analysed_commit: Option<String>,
    /// Proxy for every request, e.g. --proxy http://proxy.corp.example:8080 (user:password@ allowed).
    /// Without it HTTPS_PROXY (https targets) and HTTP_PROXY (http targets) are used, with NO_PROXY
    /// read as curl does: comma-separated, domains match their subdomains, IPv4 CIDR blocks.
    #[arg(long, value_name = "URL")]
    pub(crate) proxy: Option<String>,
    /// Extra CA certificates (PEM) to trust, e.g. --ca-cert-file /etc/ssl/corp-ca.pem.
    #[arg(long, value_name = "PATH")]
    pub(crate) ca_cert_file: Option<String>,
    /// A client certificate for servers that require one (mutual TLS): PEM with --client-key, or a
    /// PKCS#12 archive (.pfx/.p12) alone. A password (encrypted key or archive) is read from
    /// SONAR_PR_GATE_CLIENT_CERT_PASSWORD.
    #[arg(long, value_name = "PATH")]
    pub(crate) client_cert: Option<String>,
    /// The client certificate's private key (PEM), e.g. --client-key /etc/ssl/private/agent-key.pem.
    #[arg(long, value_name = "PATH")]
    pub(crate) client_key: Option<String>,
    /// Print every request (without credentials) and other detail.
    #[arg(long)]
    pub(crate) debug: bool,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// What the command line asks for.
pub(crate) enum Invocation {
    Task { first_retry_delay_ms: Option<u64> },
    Cli(Box<RawSettings>),
}

impl Cli {
    /// Builds raw settings: flags first, then the conventional environment variables and, when the
    /// CLI runs in a pipeline script step, the agent's predefined variables.
    pub(crate) fn into_invocation(self, env: &AgentEnv) -> Invocation {
        let first_retry_delay_ms = self.first_retry_delay_ms;
        let mut integration_flag = None;
        let mut refresh = (None, None, None);
        let (common, mode, format, dry_run) = match self.command {
            Command::Task => return Invocation::Task { first_retry_delay_ms },
            Command::Check { common, format, integration } => {
                integration_flag = nonempty(integration);
                (common, "check", format, false)
            }
            Command::Publish { common, dry_run } => (common, "publish", Format::Text, dry_run),
            Command::Refresh { common, webhook_payload, webhook_signature, commit, dry_run } => {
                refresh = (nonempty(webhook_payload), nonempty(webhook_signature), nonempty(commit));
                (common, "refresh", Format::Text, dry_run)
            }
        };
        let (webhook_payload, webhook_signature, refresh_commit) = refresh;
        let mut raw = RawSettings {
            origin: Some(Origin::Cli),
            mode: Some(mode.to_string()),
            sonar_url: nonempty(common.sonar_url).or_else(|| env.raw("SONAR_HOST_URL")),
            sonar_token: env.raw("SONAR_TOKEN"),
            sonar_organization: nonempty(common.organization).or_else(|| env.raw("SONAR_ORGANIZATION")),
            report_task_file: nonempty(common.report_task_file),
            polling_timeout_sec: nonempty(common.polling_timeout_sec),
            azure_devops_pat: env.raw("AZURE_DEVOPS_EXT_PAT"),
            job_access_token: env.job_access_token(),
            fail_on_quality_gate_error: nonempty(common.fail_on_quality_gate_error),
            post_status: nonempty(common.post_status),
            post_summary_comment: nonempty(common.post_summary_comment),
            post_inline_comments: nonempty(common.post_inline_comments),
            max_inline_comments: nonempty(common.max_inline_comments),
            status_genre: nonempty(common.status_genre),
            status_name: nonempty(common.status_name),
            ca_cert_file: nonempty(common.ca_cert_file),
            client_cert: nonempty(common.client_cert),
            client_cert_key: nonempty(common.client_key),
            client_cert_password: env.raw("SONAR_PR_GATE_CLIENT_CERT_PASSWORD"),
            proxy_flag: nonempty(common.proxy),
            decoration_mode: nonempty(common.decoration_mode),
            fail_on_new_issues: nonempty(common.fail_on_new_issues),
            min_changed_lines_coverage: nonempty(common.min_changed_lines_coverage),
            fail_on_dependency_risks: nonempty(common.fail_on_dependency_risks),
            project_base_dir: nonempty(common.project_base_dir),
            inline_min_severity: nonempty(common.inline_min_severity),
            inline_software_qualities: nonempty(common.inline_software_qualities),
            summary_when: nonempty(common.summary_when),
            pending_status: nonempty(common.pending_status),
            sync_resolutions: nonempty(common.sync_resolutions),
            allow_author_resolutions: nonempty(common.allow_author_resolutions),
            analysed_commit: nonempty(common.analysed_commit),
            sarif_file: nonempty(common.sarif),
            project_key: nonempty(common.project_key),
            https_proxy: env
                .raw("HTTPS_PROXY")
                .or_else(|| env.raw("https_proxy"))
                .or_else(|| env.raw("ALL_PROXY"))
                .or_else(|| env.raw("all_proxy")),
            http_proxy: env
                .raw("HTTP_PROXY")
                .or_else(|| env.raw("http_proxy"))
                .or_else(|| env.raw("ALL_PROXY"))
                .or_else(|| env.raw("all_proxy")),
            no_proxy: env.raw("NO_PROXY").or_else(|| env.raw("no_proxy")),
            collection_url: nonempty(common.collection_url),
            project: nonempty(common.project),
            repository_id: nonempty(common.repository),
            pull_request_id: nonempty(common.pull_request),
            source_commit: nonempty(common.source_commit),
            dry_run,
            format: match format {
                Format::Text => OutputFormat::Text,
                Format::Json => OutputFormat::Json,
            },
            debug: common.debug || env.debug(),
            first_retry_delay_ms,
            integration: integration_flag,
            webhook_payload,
            webhook_signature,
            webhook_secret: env.raw("SONAR_PR_GATE_WEBHOOK_SECRET"),
            refresh_commit,
            ..RawSettings::default()
        };
        raw.paths.working_directory = std::env::current_dir().ok();
        raw.fill_pipeline_context(env);
        Invocation::Cli(Box::new(raw))
    }
}
