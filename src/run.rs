//! The two jobs, `check` and `publish`, run on validated settings: preflight, wait for the
//! analyses, read their results, decorate the pull request, and decide the outcome.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::azdo::client::AzdoClient;
use crate::azdo::failure::PAT_SCOPES;
use crate::azdo::model::{Iteration, Thread, string_property};
use crate::checklist::{Check, CheckState};
use crate::decide::{self, InlineCandidate, PROP_ISSUE, PROP_KIND, PROP_PROJECT, SummaryAction, Verdict};
use crate::error::{Error, exit_code};
use crate::http::{HttpClient, HttpConfig};
use crate::pipeline::{Log, TaskResult};
use crate::render::{self, InlineStats};
use crate::settings::{AzdoCredential, Mode, OutputFormat, Settings};
use crate::sonar::client::SonarClient;
use crate::sonar::{self, Analysis, AnalysisOutcome, report_task};

/// How a run ended, for `task.complete` and the CLI exit code.
#[derive(Debug)]
pub struct Outcome {
    pub result: TaskResult,
    pub message: String,
    pub exit_code: i32,
}

/// Runs `check` or `publish`.
pub fn run(settings: &Settings, log: Arc<Log>) -> Result<Outcome, Error> {
    let mut http_config = HttpConfig::from_settings(settings);
    if let Ok(ms) = std::env::var("SONAR_PR_GATE_TEST_BACKOFF_MS")
        && let Ok(ms) = ms.parse()
    {
        // Lets the integration tests exercise retries without waiting seconds for each.
        http_config.first_backoff = std::time::Duration::from_millis(ms);
    }
    let http = Arc::new(
        HttpClient::new(http_config, log.clone())
            .map_err(|source| Error::Transport { service: crate::error::Service::SonarQube, source })?,
    );
    match settings.mode {
        Mode::Check => check(settings, &http, &log),
        Mode::Publish => publish(settings, &http, &log),
    }
}

fn sonar_client(settings: &Settings, http: &Arc<HttpClient>) -> SonarClient {
    let token = settings.sonar.token.clone().expect("validated settings always hold a SonarQube token");
    SonarClient::new(http.clone(), &settings.sonar.url, &token, settings.sonar.organization.clone())
}

fn log_checks(log: &Log, checks: &[Check]) {
    for check in checks {
        log.info(&check.render());
        if check.state == CheckState::Warn {
            log.warning(&format!("{}: {}. Fix: {}", check.name, check.detail, check.fix.as_deref().unwrap_or("")));
        }
    }
}

/// Every preflight check, writing nothing.
fn check(settings: &Settings, http: &Arc<HttpClient>, log: &Log) -> Result<Outcome, Error> {
    let mut checks = Vec::new();
    let sonar = sonar_client(settings, http);
    let sonar_result = sonar::preflight(&sonar, &mut checks);
    if sonar_result.is_ok() {
        match report_task::discover(settings.sonar.report_task_file.as_deref(), &settings.paths).and_then(|p| report_task::load_all(&p)) {
            Ok(reports) => {
                for r in &reports {
                    checks.push(Check::pass(
                        "report-task.txt found",
                        format!("{} (project '{}', task {})", r.path.display(), r.project_key, r.ce_task_id),
                    ));
                    sonar::check_report_server_url(r, sonar.base_url(), &mut checks);
                }
            }
            Err(e) => checks.push(Check::warn(
                "report-task.txt found",
                e.to_string(),
                "expected when this check runs before the analysis step; otherwise set reportTaskFile".to_string(),
            )),
        }
    }
    let azdo_result = check_azdo(settings, http, &mut checks);
    match settings.format {
        OutputFormat::Json => log.info(&serde_json::to_string_pretty(&json!({ "checks": checks })).unwrap_or_default()),
        OutputFormat::Text => {
            log.group("Preflight checks");
            log_checks(log, &checks);
            log.end_group();
        }
    }
    let failed = checks.iter().filter(|c| c.state == CheckState::Fail).count();
    let warned = checks.iter().filter(|c| c.state == CheckState::Warn).count();
    sonar_result?;
    azdo_result?;
    let message = format!("{} checks: {} passed, {warned} warnings, {failed} failed", checks.len(), checks.len() - warned - failed);
    Ok(Outcome {
        result: if warned > 0 { TaskResult::SucceededWithIssues } else { TaskResult::Succeeded },
        message,
        exit_code: exit_code::PASSED,
    })
}

fn check_azdo(settings: &Settings, http: &Arc<HttpClient>, checks: &mut Vec<Check>) -> Result<(), Error> {
    let (Some(pr), Some(collection), Some(project), Some(repo)) =
        (&settings.azdo.pull_request, &settings.azdo.collection_url, &settings.azdo.project, &settings.azdo.repository_id)
    else {
        checks.push(Check::pass(
            "Azure DevOps pull request",
            format!("nothing to check: {}", settings.azdo.not_a_pr_reason.as_deref().unwrap_or("no pull request")),
        ));
        return Ok(());
    };
    let Some(credential) = &settings.azdo.credential else {
        let detail =
            "no credential: map the job token with `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` or set azureDevOpsPat".to_string();
        checks.push(Check::fail("Azure DevOps credential", detail.clone()));
        return Err(Error::Credentials { service: crate::error::Service::AzureDevOps, message: detail });
    };
    let client = AzdoClient::new(http.clone(), collection, project, repo, credential);
    let step = |checks: &mut Vec<Check>, name: &str, r: Result<String, Error>| -> Result<(), Error> {
        match r {
            Ok(detail) => {
                checks.push(Check::pass(name, detail));
                Ok(())
            }
            Err(e) => {
                checks.push(Check::fail(name, e.to_string()));
                Err(e)
            }
        }
    };
    step(
        checks,
        "Azure DevOps credential",
        client.connection_data().map(|cd| {
            let who = cd
                .authenticated_user
                .as_ref()
                .and_then(|u| u.custom_display_name.clone().or(u.provider_display_name.clone()))
                .unwrap_or_else(|| "an unnamed identity".into());
            let kind = match credential {
                AzdoCredential::JobToken(_) => "the job's access token",
                AzdoCredential::Pat(_) => "a PAT",
            };
            format!("{kind} acting as {who} on {} ({})", collection, cd.deployment_type.as_deref().unwrap_or("unknown deployment"))
        }),
    )?;
    step(
        checks,
        "Pull request readable",
        client
            .pull_request(pr.id)
            .map(|p| format!("#{} '{}' ({})", p.pull_request_id, p.title.unwrap_or_default(), p.status.unwrap_or_default())),
    )?;
    step(checks, "Iterations readable", client.iterations(pr.id).map(|i| format!("{} iteration(s)", i.len())))?;
    step(checks, "Threads readable", client.threads(pr.id).map(|t| format!("{} thread(s)", t.len())))?;
    if matches!(credential, AzdoCredential::Pat(_)) {
        checks.push(Check::pass(
            "PAT scopes needed to post",
            format!("{PAT_SCOPES} (scopes are only verified when posting; check mode writes nothing)"),
        ));
    }
    Ok(())
}

/// What the pull request looks like before this run writes anything.
struct PullRequestState {
    pull_request: crate::azdo::model::PullRequest,
    iterations: Vec<Iteration>,
    threads: Vec<Thread>,
}

/// Reads the PR, then its iterations and threads together. The PR read goes first and alone so the
/// api-version is settled once, not by three requests racing to step down.
fn read_pull_request(client: &AzdoClient, pr: u32) -> Result<PullRequestState, Error> {
    let pull_request = client.pull_request(pr)?;
    let (iterations, threads) = std::thread::scope(|s| {
        let threads = s.spawn(|| client.threads(pr));
        (client.iterations(pr), sonar::join(threads))
    });
    Ok(PullRequestState { pull_request, iterations: iterations?, threads: threads? })
}

/// Reads the analyses and posts the results.
fn publish(settings: &Settings, http: &Arc<HttpClient>, log: &Arc<Log>) -> Result<Outcome, Error> {
    let sonar = sonar_client(settings, http);
    let decorating = settings.azdo.pull_request.as_ref().filter(|_| settings.dry_run || settings.azdo.credential.is_some());
    let azdo = match (
        decorating,
        &settings.azdo.credential,
        &settings.azdo.collection_url,
        &settings.azdo.project,
        &settings.azdo.repository_id,
    ) {
        (Some(pr), Some(credential), Some(collection), Some(project), Some(repo)) => {
            Some((AzdoClient::new(http.clone(), collection, project, repo, credential), pr.id))
        }
        _ => None,
    };
    std::thread::scope(|s| {
        // The pull request's reads depend on nothing SonarQube says: they run while we wait for it.
        let pr_reads = azdo.as_ref().map(|(client, pr)| s.spawn(move || read_pull_request(client, *pr)));

        let mut checks = Vec::new();
        log.group("SonarQube server");
        let preflight = sonar::preflight(&sonar, &mut checks);
        log_checks(log, &checks);
        log.end_group();
        let facts = preflight?;
        let link_base = facts.public_base_url.clone().unwrap_or_else(|| settings.sonar.url.clone());

        let paths = report_task::discover(settings.sonar.report_task_file.as_deref(), &settings.paths)?;
        let reports = report_task::load_all(&paths)?;
        let mut analyses = Vec::new();
        for report in reports {
            log.group(&format!("Analysis of {}", report.project_key));
            log.info(&format!("report-task.txt: {}", report.path.display()));
            let mut url_checks = Vec::new();
            sonar::check_report_server_url(&report, sonar.base_url(), &mut url_checks);
            log_checks(log, &url_checks);
            let analysis = sonar::collect(&sonar, report, &link_base, settings.sonar.polling_timeout, log);
            log.end_group();
            let analysis = analysis?;
            report_analysis(log, &analysis);
            analyses.push(analysis);
        }

        let mut new_issue_failures = Vec::new();
        match (decorating, azdo.as_ref(), pr_reads) {
            (Some(pr), Some((client, _)), Some(reads)) => {
                log.group(&format!("Pull request {}", pr.id));
                let result =
                    sonar::join(reads).and_then(|state| decorate(settings, client, state, log, &analyses, &link_base, facts.flavour));
                log.end_group();
                new_issue_failures = result?;
            }
            (Some(pr), _, _) => {
                log.group(&format!("Pull request {}", pr.id));
                log.info("Dry run without an Azure DevOps credential: showing what would be posted without reading the pull request.");
                for a in &analyses {
                    log.info(&render::summary_comment(a, &link_base, InlineStats::default()));
                }
                log.end_group();
            }
            _ => log.info(&format!(
                "Not posting to a pull request: {}. The quality gate is still reported here and in the build summary.",
                settings.azdo.not_a_pr_reason.as_deref().unwrap_or("no pull request")
            )),
        }

        write_build_summary(settings, log, &analyses);
        Ok(outcome(settings, log, &analyses, &new_issue_failures))
    })
}

fn report_analysis(log: &Log, analysis: &Analysis) {
    let verdict = Verdict::of(analysis);
    match &analysis.outcome {
        AnalysisOutcome::Completed(done) => {
            log.info(&format!("Quality gate of '{}': {}", analysis.project_key(), done.gate.status.as_str()));
            for c in done.gate.conditions.iter().filter(|c| c.status != crate::sonar::model::GateStatus::Ok) {
                log.info(&format!("  not met: {}", crate::sonar::present::describe_condition(c)));
            }
            if let Some(issues) = &done.issues {
                log.info(&format!("Open issues: {}", issues.total));
            }
        }
        AnalysisOutcome::Failed { message } | AnalysisOutcome::TimedOut { message } => {
            log.info(&format!("'{}': {message}", analysis.project_key()))
        }
    }
    log.info(&format!("Dashboard: {}", analysis.dashboard_url));
    log.debug(&format!("verdict {verdict:?}"));
}

/// Decides every write (status, threads, replies) from the PR's state and the analyses, then
/// performs them with bounded concurrency, or in dry-run mode prints them.
fn decorate(
    settings: &Settings,
    client: &AzdoClient,
    state: PullRequestState,
    log: &Log,
    analyses: &[Analysis],
    link_base: &str,
    flavour: sonar::Flavour,
) -> Result<Vec<String>, Error> {
    let pr = settings.azdo.pull_request.as_ref().expect("decorate runs for pull request builds");
    if let Some(status) = state.pull_request.status.as_deref().filter(|s| *s != "active") {
        log.warning(&format!("pull request {} is {status}, not active; nothing is posted to it", pr.id));
        return Ok(Vec::new());
    }
    let iteration = choose_iteration(&state.iterations, pr.source_commit.as_deref(), log);
    let threads = &state.threads;
    let mut ops: Vec<WriteOp> = Vec::new();

    // How each analysis's issues meet the PR: the server's PR analysis, or this task's scoping to
    // the lines the PR changed. The PR's changes are read once, and only if some analysis needs them.
    let mut changes: Option<Result<crate::changes::PrChanges, String>> = None;
    let mut plans: Vec<AnalysisPlan> = Vec::new();
    for a in analyses {
        let prefix = settings
            .decoration
            .project_base_dir
            .clone()
            .unwrap_or_else(|| report_task::project_prefix(&a.report.path, settings.paths.sources_directory.as_deref()));
        let (scoped, why) = use_changed_lines(settings.decoration.mode, flavour, &a.scope);
        log.info(&format!("Matching the issues of '{}' to the pull request: {why}", a.project_key()));
        let (candidates, unplaced, scoping_failed) = if scoped {
            let got = changes.get_or_insert_with(|| pr_changes(settings, client, &state, iteration, log));
            match got {
                Ok(c) => {
                    let s = decide::scope_to_changes(a, c, &prefix);
                    (s.candidates, s.unplaced, None)
                }
                Err(e) => {
                    log.warning(&format!("the lines this pull request changed could not be read ({e}); '{}' gets a status and a summary but no inline comments", a.project_key()));
                    (Vec::new(), 0, Some(e.clone()))
                }
            }
        } else {
            (decide::inline_candidates(a, &prefix), 0, None)
        };
        let new_issues_failure = decide::new_issues_gate(&candidates, settings.decoration.fail_on_new_issues);
        plans.push(AnalysisPlan { candidates, unplaced, scoped, scoping_failed, new_issues_failure });
    }

    if settings.decoration.post_status {
        let status_of = |a: &Analysis, plan: &AnalysisPlan| {
            let mut decision = decide::status_for(Verdict::of(a), failed_conditions(a));
            if let Some(reason) = &plan.new_issues_failure
                && decision.state == "succeeded"
            {
                decision = decide::StatusDecision { state: "failed", description: format!("Quality gate passed, but {reason}") };
            }
            decision
        };
        let genre = &settings.decoration.status_genre;
        let name = &settings.decoration.status_name;
        if analyses.len() == 1 {
            let a = &analyses[0];
            ops.push(WriteOp::status(genre, name, &status_of(a, &plans[0]), &a.dashboard_url, iteration));
        } else {
            let mut verdicts = Vec::new();
            for (a, plan) in analyses.iter().zip(&plans) {
                let context = format!("{name}/{}", a.project_key());
                ops.push(WriteOp::status(genre, &context, &status_of(a, plan), &a.dashboard_url, iteration));
                let verdict =
                    if plan.new_issues_failure.is_some() { Verdict::Gate(crate::sonar::model::GateStatus::Error) } else { Verdict::of(a) };
                verdicts.push((a.project_key().to_string(), verdict));
            }
            let url = analyses.first().map(|a| a.dashboard_url.as_str()).unwrap_or(link_base);
            ops.push(WriteOp::status(genre, name, &decide::combined_status(&verdicts), url, iteration));
        }
    }

    for (a, plan) in analyses.iter().zip(&plans) {
        let candidates = &plan.candidates;
        let readable = matches!(&a.outcome, AnalysisOutcome::Completed(d) if d.issues.is_some());
        let mut stats = InlineStats {
            cap: settings.decoration.max_inline_comments,
            changed_lines: plan.scoped.then(|| decide::count_by_severity(candidates)),
            unplaced: plan.unplaced,
            new_issues_failure: plan.new_issues_failure.clone(),
            ..InlineStats::default()
        };
        if settings.decoration.post_inline_comments {
            let plan = decide::plan_inline(
                a.project_key(),
                candidates,
                threads,
                settings.decoration.max_inline_comments,
                readable && plan.scoping_failed.is_none(),
            );
            for c in &plan.create {
                let what = format!("inline comment on {}:{} for issue {}", c.file_path, c.start_line, c.issue.key);
                ops.push(WriteOp::CreateThread { body: inline_thread_body(c, a, link_base), what });
            }
            for id in &plan.reactivate {
                ops.push(WriteOp::ThreadStatus { thread: *id, status: "active", why: "reopen the thread of an issue that is back" });
            }
            for id in &plan.resolve {
                ops.push(WriteOp::ThreadStatus { thread: *id, status: "fixed", why: "resolve the thread of a fixed issue" });
            }
            for id in &plan.ask_to_resolve {
                ops.push(WriteOp::Reply { thread: *id, content: decide::ASK_TO_RESOLVE.to_string() });
            }
            let open_threads = threads
                .iter()
                .filter(|t| {
                    t.property(PROP_PROJECT).as_deref() == Some(a.project_key())
                        && t.property(PROP_ISSUE).is_some_and(|k| candidates.iter().any(|c| c.issue.key == k))
                })
                .count();
            stats.posted = open_threads + plan.create.len();
            stats.over_cap = plan.over_cap;
            log.info(&format!(
                "Inline comments for '{}': {} new, {} reopened, {} resolved, {} left for a person to resolve, {} over the cap",
                a.project_key(),
                plan.create.len(),
                plan.reactivate.len(),
                plan.resolve.len(),
                plan.ask_to_resolve.len(),
                plan.over_cap
            ));
        }
        if settings.decoration.post_summary_comment {
            let content = render::summary_comment(a, link_base, stats);
            let passing = matches!(Verdict::of(a), Verdict::Gate(crate::sonar::model::GateStatus::Ok));
            match decide::plan_summary(a.project_key(), &content, passing, threads) {
                SummaryAction::Create { content, status } => {
                    let what = format!("summary comment for '{}'", a.project_key());
                    ops.push(WriteOp::CreateThread { body: summary_thread_body(a.project_key(), &content, status), what });
                }
                SummaryAction::Update { thread_id, comment_id, content, status } => {
                    if let Some(content) = content {
                        ops.push(WriteOp::UpdateComment { thread: thread_id, comment: comment_id, content });
                    }
                    if let Some(status) = status {
                        ops.push(WriteOp::ThreadStatus { thread: thread_id, status, why: "set the summary thread's state" });
                    }
                }
                SummaryAction::Unchanged => log.info(&format!("Summary comment for '{}' is up to date", a.project_key())),
            }
        }
    }
    let writer = Writer { client, pr: pr.id, log };
    let failures: Vec<String> = analyses
        .iter()
        .zip(&plans)
        .filter_map(|(a, p)| p.new_issues_failure.as_ref().map(|r| format!("'{}': {r} (failOnNewIssues)", a.project_key())))
        .collect();
    if settings.dry_run {
        ops.iter().for_each(|op| writer.describe(op));
        return Ok(failures);
    }
    writer.perform_all(ops)?;
    Ok(failures)
}

/// What the run decided for one analysis before writing anything.
struct AnalysisPlan<'a> {
    candidates: Vec<InlineCandidate<'a>>,
    unplaced: usize,
    /// Whether the issues were scoped to the PR's changed lines by this task.
    scoped: bool,
    /// Why the changed lines could not be read, if they could not.
    scoping_failed: Option<String>,
    /// The PR's own gate (failOnNewIssues) failed, and why.
    new_issues_failure: Option<String>,
}

/// Whether to scope by changed lines, and the log line that says why.
fn use_changed_lines(
    mode: crate::settings::DecorationMode,
    flavour: sonar::Flavour,
    scope: &crate::sonar::client::Scope,
) -> (bool, String) {
    use crate::settings::DecorationMode;
    let pr_analysis = matches!(scope, crate::sonar::client::Scope::PullRequest(_));
    match mode {
        DecorationMode::ChangedLines => (true, "scoped to the lines the pull request changed (decorationMode: changedLines)".to_string()),
        DecorationMode::PullRequest => (false, "SonarQube's pull request analysis (decorationMode: pullRequest)".to_string()),
        DecorationMode::Auto if flavour == sonar::Flavour::Community => {
            (true, "scoped to the lines the pull request changed, because Community Build cannot analyse pull requests".to_string())
        }
        DecorationMode::Auto if !pr_analysis => {
            (true, "scoped to the lines the pull request changed, because this analysis is not a pull request analysis".to_string())
        }
        DecorationMode::Auto => (false, "SonarQube's pull request analysis (the server analyses pull requests)".to_string()),
    }
}

/// The lines the PR changed, from Azure DevOps (which works with shallow clones), else from the
/// local clone when it has the history.
fn pr_changes(
    settings: &Settings,
    client: &AzdoClient,
    state: &PullRequestState,
    iteration: Option<u32>,
    log: &Log,
) -> Result<crate::changes::PrChanges, String> {
    let it = state.iterations.iter().find(|i| Some(i.id) == iteration).ok_or("the pull request has no iteration")?;
    let (Some(source), Some(base)) = (it.source_ref_commit.as_ref(), it.common_ref_commit.as_ref()) else {
        return Err(format!("iteration {} names no source or merge-base commit", it.id));
    };
    let (source, base) = (source.commit_id.as_str(), base.commit_id.as_str());
    let analysed = settings.azdo.analysed_commit.as_deref().filter(|c| !c.eq_ignore_ascii_case(source));
    let pr = settings.azdo.pull_request.as_ref().map_or(0, |p| p.id);
    let from_api = || -> Result<crate::changes::PrChanges, Error> {
        let entries = client.iteration_changes(pr, it.id)?;
        let files: Vec<(String, Option<String>)> = entries
            .iter()
            .filter(|e| !e.is_delete() && !e.item.is_folder)
            .filter_map(|e| Some((e.item.path.clone()?, e.original_path.clone())))
            .collect();
        let pr_diffs = client.file_diffs(base, source, &files)?;
        let merge = match analysed {
            Some(m) => client.file_diffs(source, m, &files.iter().map(|(p, _)| (p.clone(), None)).collect::<Vec<_>>())?,
            None => Default::default(),
        };
        Ok(crate::changes::PrChanges { pr: pr_diffs, merge })
    };
    match from_api() {
        Ok(c) => {
            log.info(&format!("The pull request changes {} file(s) (line diffs from Azure DevOps)", c.pr.len()));
            Ok(c)
        }
        Err(api_error) => {
            let dir =
                settings.paths.sources_directory.clone().or_else(|| settings.paths.working_directory.clone()).unwrap_or_else(|| ".".into());
            log.info(&format!(
                "Azure DevOps could not give the pull request's line diffs ({api_error}); reading them from the local clone"
            ));
            crate::changes::from_git(&dir, base, source, analysed)
                .inspect(|c| log.info(&format!("The pull request changes {} file(s) (line diffs from the local clone)", c.pr.len())))
                .map_err(|git_error| format!("Azure DevOps: {api_error}; local clone: {git_error}"))
        }
    }
}

fn failed_conditions(a: &Analysis) -> usize {
    match &a.outcome {
        AnalysisOutcome::Completed(d) => d.gate.conditions.iter().filter(|c| c.status != crate::sonar::model::GateStatus::Ok).count(),
        _ => 0,
    }
}

/// The iteration whose source commit is the analysed one, so "reset status on new changes"
/// policies accept the status; else the latest, with a warning.
fn choose_iteration(iterations: &[Iteration], source_commit: Option<&str>, log: &Log) -> Option<u32> {
    let latest = iterations.iter().map(|i| i.id).max();
    let Some(commit) = source_commit else {
        return latest;
    };
    let matching = iterations
        .iter()
        .filter(|i| i.source_ref_commit.as_ref().is_some_and(|c| c.commit_id.eq_ignore_ascii_case(commit)))
        .map(|i| i.id)
        .max();
    if matching.is_none()
        && let Some(latest) = latest
    {
        log.warning(&format!(
            "no iteration of the pull request has the analysed source commit {commit}; the status goes on the latest iteration ({latest}). A push after this build started makes this status stale"
        ));
    }
    matching.or(latest)
}

fn own_properties(kind: &str, project_key: &str, issue_key: Option<&str>) -> Value {
    let mut props = json!({
        PROP_KIND: string_property(kind),
        PROP_PROJECT: string_property(project_key),
        "Microsoft.TeamFoundation.Discussion.SupportsMarkdown": {"$type": "System.Int32", "$value": 1},
    });
    if let Some(k) = issue_key {
        props[PROP_ISSUE] = string_property(k);
    }
    props
}

fn summary_thread_body(project_key: &str, content: &str, status: &str) -> Value {
    json!({
        "comments": [{"parentCommentId": 0, "content": content, "commentType": 1}],
        "status": status,
        "properties": own_properties(decide::KIND_SUMMARY, project_key, None),
    })
}

fn inline_thread_body(c: &InlineCandidate, a: &Analysis, link_base: &str) -> Value {
    // Offsets in SonarQube are 0-based; Azure DevOps' are 1-based. A range without offsets covers
    // the whole lines.
    let (start_offset, end_offset) = if c.end_offset > 0 || c.start_offset > 0 { (c.start_offset + 1, c.end_offset + 1) } else { (1, 1) };
    json!({
        "comments": [{"parentCommentId": 0, "content": render::inline_comment(c, a, link_base), "commentType": 1}],
        "status": "active",
        "threadContext": {
            "filePath": c.file_path,
            "rightFileStart": {"line": c.start_line, "offset": start_offset},
            "rightFileEnd": {"line": c.end_line, "offset": end_offset},
        },
        "properties": own_properties(decide::KIND_ISSUE, c.project_key, Some(&c.issue.key)),
    })
}

/// One write to the pull request.
enum WriteOp {
    Status { body: Value, what: String },
    CreateThread { body: Value, what: String },
    ThreadStatus { thread: u64, status: &'static str, why: &'static str },
    UpdateComment { thread: u64, comment: u64, content: String },
    Reply { thread: u64, content: String },
}

impl WriteOp {
    fn status(genre: &str, name: &str, decision: &decide::StatusDecision, target_url: &str, iteration: Option<u32>) -> Self {
        let mut body = json!({
            "state": decision.state,
            "description": decision.description,
            "context": {"genre": genre, "name": name},
            "targetUrl": target_url,
        });
        if let Some(it) = iteration {
            body["iterationId"] = json!(it);
        }
        let what = format!(
            "status {genre}/{name} = {} ({}) on iteration {}",
            decision.state,
            decision.description,
            iteration.map_or("-".to_string(), |i| i.to_string())
        );
        WriteOp::Status { body, what }
    }
}

/// Writes to the pull request: independent of each other, so several at once. Azure DevOps' own
/// clients issue a handful of requests in parallel; 16 keeps a 25-comment run to two round trips.
const WRITE_CONCURRENCY: usize = 16;

struct Writer<'a> {
    client: &'a AzdoClient,
    pr: u32,
    log: &'a Log,
}

impl Writer<'_> {
    /// Dry run: what would be sent.
    fn describe(&self, op: &WriteOp) {
        let log = self.log;
        match op {
            WriteOp::Status { what, .. } => log.info(&format!("[dry run] would post {what}")),
            WriteOp::CreateThread { body, what } => {
                log.info(&format!("[dry run] would create the {what}:"));
                log.info(body["comments"][0]["content"].as_str().unwrap_or(""));
            }
            WriteOp::ThreadStatus { thread, status, why } => log.info(&format!("[dry run] would {why}: thread {thread} -> {status}")),
            WriteOp::UpdateComment { thread, content, .. } => {
                log.info(&format!("[dry run] would update the summary comment in thread {thread}:"));
                log.info(content);
            }
            WriteOp::Reply { thread, content } => log.info(&format!("[dry run] would reply in thread {thread}: {content}")),
        }
    }

    /// Performs a write. A POST that failed in a way that may still have been applied (dropped
    /// connection, time-out, server error) is never blindly repeated: the PR is read again, and
    /// only if the status, thread or reply is not there is it sent once more.
    fn perform(&self, op: &WriteOp) -> Result<(), Error> {
        match self.perform_once(op) {
            Err(e) if e.write_may_have_applied() && !matches!(op, WriteOp::ThreadStatus { .. } | WriteOp::UpdateComment { .. }) => {
                self.log.info(&format!("A write failed ({e}); reading the pull request again to see whether it was applied"));
                if self.was_applied(op)? {
                    self.log.info("It was applied; not sending it again");
                    return Ok(());
                }
                self.perform_once(op)
            }
            other => other,
        }
    }

    fn was_applied(&self, op: &WriteOp) -> Result<bool, Error> {
        let prop = |body: &Value, key: &str| body["properties"][key]["$value"].as_str().map(str::to_string);
        Ok(match op {
            WriteOp::CreateThread { body, .. } => self
                .client
                .threads(self.pr)?
                .iter()
                .any(|t| [PROP_KIND, PROP_PROJECT, PROP_ISSUE].iter().all(|k| t.property(k) == prop(body, k)) && !t.is_deleted),
            WriteOp::Status { body, .. } => self.client.statuses(self.pr)?.iter().any(|s| {
                ["state", "description", "iterationId"].iter().all(|k| s[*k] == body[*k])
                    && s["context"]["genre"] == body["context"]["genre"]
                    && s["context"]["name"] == body["context"]["name"]
            }),
            WriteOp::Reply { thread, content } => self
                .client
                .threads(self.pr)?
                .iter()
                .any(|t| t.id == *thread && t.comments.iter().any(|c| c.content.as_deref() == Some(content.as_str()))),
            WriteOp::ThreadStatus { .. } | WriteOp::UpdateComment { .. } => false,
        })
    }

    fn perform_once(&self, op: &WriteOp) -> Result<(), Error> {
        let (client, pr, log) = (self.client, self.pr, self.log);
        match op {
            WriteOp::Status { body, what } => {
                client.post_status(pr, body)?;
                log.info(&format!("Posted {what}"));
            }
            WriteOp::CreateThread { body, what } => {
                let thread = client.create_thread(pr, body)?;
                log.info(&format!("Created the {what} (thread {})", thread.id));
            }
            WriteOp::ThreadStatus { thread, status, why } => {
                client.set_thread_status(pr, *thread, status)?;
                log.info(&format!("Thread {thread} set to {status} ({why})"));
            }
            WriteOp::UpdateComment { thread, comment, content } => {
                client.update_comment(pr, *thread, *comment, content)?;
                log.info(&format!("Updated the summary comment in thread {thread}"));
            }
            WriteOp::Reply { thread, content } => {
                client.add_comment(pr, *thread, content)?;
                log.info(&format!("Asked in thread {thread} to resolve it by hand (a person replied there)"));
            }
        }
        Ok(())
    }

    /// Every write, at most `WRITE_CONCURRENCY` at once; the first failure (in list order) is
    /// reported. A failed write is not repeated here: the HTTP layer already retried what was safe.
    fn perform_all(&self, ops: Vec<WriteOp>) -> Result<(), Error> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failures: std::sync::Mutex<Vec<(usize, Error)>> = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..WRITE_CONCURRENCY.min(ops.len()) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(op) = ops.get(i) else { break };
                        if let Err(e) = self.perform(op) {
                            failures.lock().unwrap_or_else(|p| p.into_inner()).push((i, e));
                        }
                    }
                });
            }
        });
        let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
        failures.sort_by_key(|(i, _)| *i);
        match failures.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// Writes the Markdown build summary and attaches it to the run.
fn write_build_summary(settings: &Settings, log: &Log, analyses: &[Analysis]) {
    let dir: PathBuf = settings.paths.agent_temp_directory.clone().unwrap_or_else(std::env::temp_dir);
    let path = dir.join("sonar-pr-gate-summary.md");
    let md = render::build_summary(
        analyses,
        settings.azdo.pull_request.is_none().then_some(settings.azdo.not_a_pr_reason.as_deref().unwrap_or("no pull request")),
    );
    match std::fs::write(&path, md) {
        Ok(()) => {
            // The agent fails the task on a relative or missing path.
            let absolute = std::fs::canonicalize(&path).unwrap_or(path);
            log.upload_summary(&absolute);
        }
        Err(e) => log.warning(&format!("could not write the build summary to {}: {e}", path.display())),
    }
}

/// The task result: a failing gate fails the task when failOnQualityGateError is set; a failed or
/// unfinished analysis is never a success.
fn outcome(settings: &Settings, log: &Log, analyses: &[Analysis], new_issue_failures: &[String]) -> Outcome {
    let verdicts: Vec<Verdict> = analyses.iter().map(Verdict::of).collect();
    let worst = Verdict::worst(verdicts.iter().copied()).unwrap_or(Verdict::Gate(crate::sonar::model::GateStatus::None));
    log.set_output_variable("qualityGateStatus", worst.output_value());
    let problems: Vec<String> = analyses
        .iter()
        .filter_map(|a| match &a.outcome {
            AnalysisOutcome::Completed(d)
                if matches!(d.gate.status, crate::sonar::model::GateStatus::Error | crate::sonar::model::GateStatus::Warn) =>
            {
                let conds: Vec<String> = d
                    .gate
                    .conditions
                    .iter()
                    .filter(|c| c.status != crate::sonar::model::GateStatus::Ok)
                    .map(crate::sonar::present::describe_condition)
                    .collect();
                Some(format!(
                    "quality gate of '{}' failed: {}",
                    a.project_key(),
                    if conds.is_empty() { "no condition details".to_string() } else { conds.join("; ") }
                ))
            }
            AnalysisOutcome::Failed { message } | AnalysisOutcome::TimedOut { message } => Some(message.clone()),
            _ => None,
        })
        .collect();
    if !new_issue_failures.is_empty() {
        // The PR's own gate fails the task whatever failOnQualityGateError says: it is its own switch.
        let mut all = problems.clone();
        all.extend(new_issue_failures.iter().cloned());
        let message = all.join(" | ");
        log.error(&message);
        return Outcome { result: TaskResult::Failed, message, exit_code: exit_code::GATE_FAILED };
    }
    if problems.is_empty() {
        let message = match worst {
            Verdict::Gate(crate::sonar::model::GateStatus::None) => "no quality gate is associated with the project(s)".to_string(),
            _ => format!("quality gate passed ({} analys{})", analyses.len(), if analyses.len() == 1 { "is" } else { "es" }),
        };
        return Outcome { result: TaskResult::Succeeded, message, exit_code: exit_code::PASSED };
    }
    let message = problems.join(" | ");
    if settings.fail_on_quality_gate_error {
        log.error(&message);
        Outcome { result: TaskResult::Failed, message, exit_code: exit_code::GATE_FAILED }
    } else {
        log.warning(&format!("{message} (failOnQualityGateError is false, so the task succeeds with issues)"));
        Outcome { result: TaskResult::SucceededWithIssues, message, exit_code: exit_code::PASSED }
    }
}
