//! `publish`: wait for the analyses, read their results, decorate the pull request, and report —
//! the build summary and the `qualityGateStatus` output variable are written whatever happened to
//! the pull request's writes.

use std::path::PathBuf;
use std::sync::Arc;

use super::changes::{ChangesQuery, pr_changes};
use super::{log_checks, sonar_client};
use crate::azdo::model::{Iteration, PullRequest, Thread};
use crate::azdo::{AzdoClient, Writer};
use crate::changes::PrChanges;
use crate::decide::{self, InlineStats, Matched, Outcome, Report, Verdict};
use crate::error::Error;
use crate::net::Client;
use crate::parallel::join;
use crate::pipeline::Log;
use crate::render;
use crate::settings::{PullRequestTarget, Settings, Target};
use crate::sonar::{self, Analysis, AnalysisOutcome, Flavour, SonarClient, report_task};

/// What the pull request looks like before this run writes anything.
struct PullRequestState {
    pull_request: PullRequest,
    iterations: Vec<Iteration>,
    threads: Vec<Thread>,
}

/// Reads the PR, then its iterations and threads together. The PR read goes first and alone so the
/// api-version is settled once, not by three requests racing to step down.
fn read_pull_request(client: &AzdoClient, pr: u32) -> Result<PullRequestState, Error> {
    let pull_request = client.pull_request(pr)?;
    let (iterations, threads) = std::thread::scope(|s| {
        let threads = s.spawn(|| client.threads(pr));
        (client.iterations(pr), join(threads))
    });
    Ok(PullRequestState { pull_request, iterations: iterations?, threads: threads? })
}

/// Reads the analyses and posts the results.
pub fn publish(settings: &Settings, http: &Arc<Client>, log: &Arc<Log>) -> Result<Outcome, Error> {
    let sonar = sonar_client(settings, http);
    let target = settings.target.pull_request();
    let azdo = target.and_then(|t| Some((AzdoClient::new(http.clone(), &t.repository, t.credential.as_ref()?), t)));
    std::thread::scope(|s| {
        // The pull request's reads depend on nothing SonarQube says: they run while we wait for it.
        let pr_reads = azdo.as_ref().map(|(client, t)| s.spawn(move || read_pull_request(client, t.id)));

        let mut checks = Vec::new();
        log.group("SonarQube server");
        let preflight = sonar::preflight(&sonar, &mut checks);
        log_checks(log, &checks);
        log.end_group();
        let facts = preflight?;
        let link_base = facts.public_base_url.clone().unwrap_or_else(|| settings.sonar.url.clone());
        let analyses = collect_all(settings, &sonar, &link_base, log)?;

        let decorated = match (target, azdo.as_ref(), pr_reads) {
            (Some(t), Some((client, _)), Some(reads)) => {
                log.group(&format!("Pull request {}", t.id));
                let pr = Decorating { settings, target: t, client, link_base: &link_base, flavour: facts.flavour, log };
                let result = join(reads).and_then(|state| pr.decorate(state, &analyses));
                log.end_group();
                result
            }
            (Some(t), _, _) => {
                log.group(&format!("Pull request {}", t.id));
                log.info("Dry run without an Azure DevOps credential: showing what would be posted without reading the pull request.");
                for a in &analyses {
                    log.info(&render::summary_comment(a, &InlineStats::default()));
                }
                log.end_group();
                Ok(Vec::new())
            }
            _ => {
                let reason = match &settings.target {
                    Target::NoPullRequest { reason } => reason.as_str(),
                    Target::PullRequest(_) => "no pull request",
                };
                log.info(&format!(
                    "Not posting to a pull request: {reason}. The quality gate is still reported here and in the build summary."
                ));
                Ok(Vec::new())
            }
        };

        // Whatever happened to the pull request, the run's own record is written.
        write_build_summary(settings, log, &analyses);
        log.set_output_variable("qualityGateStatus", decide::quality_gate_status(&analyses));
        let outcome = decide::outcome(&analyses, &decorated?, settings.fail_on_quality_gate_error);
        match &outcome.report {
            Report::Error(m) => log.error(m),
            Report::Warning(m) => log.warning(m),
            Report::Nothing => {}
        }
        Ok(outcome)
    })
}

/// Finds the scanner's reports and waits for each analysis.
fn collect_all(settings: &Settings, sonar: &SonarClient, link_base: &str, log: &Log) -> Result<Vec<Analysis>, Error> {
    let paths = report_task::discover(settings.sonar.report_task_file.as_deref(), &settings.sonar.search_paths)?;
    let reports = report_task::load_all(&paths)?;
    let mut analyses = Vec::new();
    for report in reports {
        log.group(&format!("Analysis of {}", report.project_key));
        log.info(&format!("report-task.txt: {}", report.path.display()));
        let mut url_checks = Vec::new();
        sonar::check_report_server_url(&report, sonar.base_url(), &mut url_checks);
        log_checks(log, &url_checks);
        log.info(&format!("Waiting for analysis task {} of project '{}'", report.ce_task_id, report.project_key));
        let analysis = sonar::collect(sonar, report, link_base, settings.sonar.polling_timeout, |task| {
            log.info(&format!("  analysis task {}: {}", task.id, task.status.as_str()));
        });
        if let Ok(a) = &analysis {
            a.warnings.iter().for_each(|w| log.warning(w));
        }
        log.end_group();
        let analysis = analysis?;
        report_analysis(log, &analysis);
        analyses.push(analysis);
    }
    Ok(analyses)
}

fn report_analysis(log: &Log, analysis: &Analysis) {
    match &analysis.outcome {
        AnalysisOutcome::Completed(done) => {
            log.info(&format!("Quality gate of '{}': {}", analysis.project_key(), done.gate.status.as_str()));
            for c in decide::verdict::failed_conditions(analysis) {
                log.info(&format!("  not met: {}", sonar::present::describe_condition(c)));
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
    log.debug(&format!("verdict {:?}", Verdict::of(analysis)));
}

/// Decorating one pull request.
struct Decorating<'a> {
    settings: &'a Settings,
    target: &'a PullRequestTarget,
    client: &'a AzdoClient,
    link_base: &'a str,
    flavour: Flavour,
    log: &'a Log,
}

impl Decorating<'_> {
    /// Matches the analyses to the PR, plans every write and performs them (or, in a dry run,
    /// prints them). Returns the PR's own gate's failures.
    fn decorate(&self, state: PullRequestState, analyses: &[Analysis]) -> Result<Vec<String>, Error> {
        let (settings, log) = (self.settings, self.log);
        if let Some(status) = state.pull_request.status.as_deref().filter(|s| *s != "active") {
            log.warning(&format!("pull request {} is {status}, not active; nothing is posted to it", self.target.id));
            return Ok(Vec::new());
        }
        let choice = decide::choose_iteration(&state.iterations, self.target.source_commit.as_deref());
        if let Some(w) = &choice.warning {
            log.warning(w);
        }
        let iteration = state.iterations.iter().find(|i| Some(i.id) == choice.id);
        let matched = self.match_all(analyses, iteration);
        let plan = decide::plan_publish(
            analyses,
            &matched,
            &state.threads,
            choice.id,
            &settings.decoration,
            &render::Comments { link_base: self.link_base },
        );
        plan.notes.iter().for_each(|n| log.info(n));
        let failures: Vec<String> = analyses
            .iter()
            .zip(&matched)
            .filter_map(|(a, m)| m.new_issues_failure.as_ref().map(|r| format!("'{}': {r} (failOnNewIssues)", a.project_key())))
            .collect();
        if settings.dry_run {
            plan.writes.iter().flat_map(|w| w.dry_run_lines()).for_each(|l| log.info(&l));
            return Ok(failures);
        }
        let report = |line: String| log.info(&line);
        Writer { client: self.client, pr: self.target.id, report: &report }.perform_all(&plan.writes)?;
        Ok(failures)
    }

    /// How each analysis's issues meet the PR. The PR's changes are read once, and only if some
    /// analysis needs them.
    fn match_all<'a>(&self, analyses: &'a [Analysis], iteration: Option<&Iteration>) -> Vec<Matched<'a>> {
        let (settings, log) = (self.settings, self.log);
        let paths = &settings.sonar.search_paths;
        let checkout: PathBuf = paths.sources_directory.clone().or_else(|| paths.working_directory.clone()).unwrap_or_else(|| ".".into());
        let query = ChangesQuery {
            pull_request: self.target.id,
            iteration,
            analysed_commit: settings.analysed_commit.as_deref(),
            checkout: &checkout,
        };
        let mut changes: Option<Result<PrChanges, String>> = None;
        let mut matched = Vec::new();
        for a in analyses {
            let prefix = settings
                .decoration
                .project_base_dir
                .clone()
                .unwrap_or_else(|| report_task::project_prefix(&a.report.path, paths.sources_directory.as_deref()));
            let how = decide::matching(settings.decoration.mode, self.flavour, &a.scope);
            log.info(&format!("Matching the issues of '{}' to the pull request: {}", a.project_key(), how.why));
            if how.changed_lines && changes.is_none() {
                changes = Some(pr_changes(self.client, &query, log));
            }
            let m = decide::match_issues(a, &prefix, how.changed_lines, changes.as_ref(), settings.decoration.fail_on_new_issues);
            if let Some(e) = &m.scoping_failed {
                log.warning(&format!(
                    "the lines this pull request changed could not be read ({e}); '{}' gets a status and a summary but no inline comments",
                    a.project_key()
                ));
            }
            matched.push(m);
        }
        matched
    }
}

/// Writes the Markdown build summary and attaches it to the run.
fn write_build_summary(settings: &Settings, log: &Log, analyses: &[Analysis]) {
    let dir: PathBuf = settings.sonar.search_paths.agent_temp_directory.clone().unwrap_or_else(std::env::temp_dir);
    let path = dir.join("sonar-pr-gate-summary.md");
    let not_a_pr = match &settings.target {
        Target::NoPullRequest { reason } => Some(reason.as_str()),
        Target::PullRequest(_) => None,
    };
    match std::fs::write(&path, render::build_summary(analyses, not_a_pr)) {
        Ok(()) => {
            // The agent fails the task on a relative or missing path.
            let absolute = std::fs::canonicalize(&path).unwrap_or(path);
            log.upload_summary(&absolute);
        }
        Err(e) => log.warning(&format!("could not write the build summary to {}: {e}", path.display())),
    }
}
