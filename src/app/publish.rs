//! `publish`: wait for the analyses, read their results and the pull request together, decorate
//! the pull request, settle with any run that overlapped, and report — the build summary and the
//! `qualityGateStatus` output variable are written whatever happened to the pull request's writes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::changed_lines::{ChangesQuery, pr_changes};
use super::early_reads::{Early, EarlyRead, IterationFiles, SharedEarly, read_early};
use super::{Clock, Failures, azdo_client, log_checks, sonar_client};
use crate::azdo::model::{ChangeEntry, Iteration, PrStatus, PullRequest, Thread};
use crate::azdo::write::Write;
use crate::azdo::{AzdoClient, Writer};
use crate::changes::{ChangesUnknown, PrChanges};
use crate::decide::reports::FoundReport;
use crate::decide::{self, InlineStats, Matched, Outcome, PullRequestView, Report, Verdict};
use crate::error::Error;
use crate::git::GitDeadline;
use crate::net::Client;
use crate::parallel;
use crate::pipeline::Log;
use crate::render;
use crate::settings::{PullRequestTarget, Settings, Target};
use crate::sonar::discover;
use crate::sonar::report_task::ReportTask;
use crate::sonar::{self, Analysis, AnalysisOutcome, Flavour, IssueQuery, Issues, SonarClient, Waited};

/// The PR's changes (when some analysis is scoped to them) and the iteration's files.
type ChangesRead = (Option<Result<PrChanges, ChangesUnknown>>, Result<Vec<ChangeEntry>, ChangesUnknown>);

/// What the pull request looks like before this run writes anything.
struct PullRequestState {
    pull_request: PullRequest,
    iterations: Vec<Iteration>,
    /// The PR's statuses, when statuses are posted: an earlier run of this build may have posted
    /// another project's result (see `decide::statuses`).
    statuses: Result<Vec<PrStatus>, Error>,
    /// The chosen iteration's files, when read early (see `read_early`).
    files: Option<IterationFiles>,
    threads: Vec<Thread>,
    /// This task's identity (the credential's): only threads whose first comment it wrote are its own.
    me: String,
    /// The status went out as soon as the gates were read (`early_status`): its writes, under way
    /// or done. Empty when the status goes with the comments.
    early_status: super::early_writes::EarlyWrites,
    /// Threads created as soon as the issues were read (`early_inline`).
    early_writes: super::early_writes::EarlyWrites,
}

/// Where the results come from.
pub(super) enum Source {
    /// The analyses a scanner submitted: its report-task.txt files, or its tasks found on the
    /// server by `projectKey`; each waited for.
    Scanner,
    /// A scope's result as SonarQube holds it now (`refresh`): nothing to wait for.
    Current { project_key: String, scope: sonar::Scope },
}

/// Reads the analyses and posts the results.
pub(crate) fn publish(settings: &Settings, http: &Arc<Client>, log: &Arc<Log>, clock: Clock) -> Result<Outcome, Error> {
    publish_from(settings, http, log, clock, &Source::Scanner)
}

/// Reads the results `source` names and posts them.
pub(super) fn publish_from(
    settings: &Settings,
    http: &Arc<Client>,
    log: &Arc<Log>,
    clock: Clock,
    source: &Source,
) -> Result<Outcome, Error> {
    let sonar = sonar_client(settings, http, clock.analyses_by);
    let target = settings.target.pull_request();
    let azdo = target.and_then(|t| Some((Arc::new(azdo_client(settings, t, http, clock.run_by)?), t)));
    // Read while the analyses are awaited, on a thread of its own: if SonarQube fails the run, the
    // run ends at once, without waiting for these reads.
    let decoration = &settings.decoration;
    let files_needed = decoration.post_inline_comments || decoration.mode != decide::DecorationMode::PullRequest;
    let mut early = azdo.as_ref().map(|(client, t)| {
        let (client, id) = (client.clone(), t.id);
        let (files_of, statuses) = (files_needed.then(|| t.source_commit.clone()), decoration.post_status);
        parallel::start_detached(move || read_early(&client, id, files_of, statuses))
    });
    {
        // The reports first: they need no network, and a credential found in one is registered
        // before anything is printed.
        let reports = match source {
            Source::Scanner => load_reports(settings, log, clock)?,
            Source::Current { .. } => Vec::new(),
        };
        let mut checks = Vec::new();
        log.group("SonarQube server");
        log.info(&settings.sonar.sources());
        // The analyses' tasks need nothing but report-task.txt: their first poll (and what no analysis
        // changes: `read_ahead`) goes out beside the server checks, so a finished analysis costs no
        // round trip of its own. The checks still decide: when they fail, the polls' answers are dropped.
        sonar.read_ahead(&reports);
        let (preflight, first_polls) = parallel::scope(|s| {
            let polls = s.start(|| parallel::map_bounded(&reports, 4, |r| sonar.ce_task(&r.ce_task_id, &r.project_key).ok()));
            (sonar::preflight(&sonar, &mut checks), polls.wait())
        });
        log_checks(log, &checks, Failures::EndTheRun);
        log.end_group();
        let facts = preflight?;
        // No report-task.txt here, and projectKey names the projects: their analyses of this build
        // are found on the server (the analysis ran in another job or stage).
        let (reports, first_polls) = if reports.is_empty() && matches!(source, Source::Scanner) {
            super::found::find_on_server(settings, &sonar, log)?.into_iter().map(|(r, t)| (r, Some(t))).unzip()
        } else {
            (reports, first_polls)
        };
        // A token about to expire: said in the build summary always, in the PR's summary within
        // the week SonarSource's scanner warns in (the log has it from the checks above).
        let token_setting = &settings.names.sonar().token;
        let build_notices: Vec<String> = facts.token_expiry.iter().map(|e| e.warning(token_setting)).collect();
        let notices: Vec<String> = facts.token_expiry.iter().filter(|e| e.is_near()).map(|e| e.warning(token_setting)).collect();
        let link_base = facts.public_base_url.clone().unwrap_or_else(|| settings.sonar.url.clone());
        // pendingStatus: the early reads (for the iteration) are awaited now rather than later,
        // and the pending status goes out before the wait, so the result always comes after it.
        let (early_read, pending_on) = match (&azdo, early.take()) {
            (Some((client, t)), Some(pending)) if settings.decoration.pending_status => {
                let read = pending.wait();
                let posted = post_pending(settings, client, t, &read, &first_polls, log);
                (Some(read), posted)
            }
            (_, pending) => {
                early = pending;
                (None, None)
            }
        };
        let waited = match source {
            Source::Scanner => wait_all(&sonar, reports, first_polls, &link_base, clock, log),
            Source::Current { project_key, scope } => {
                Ok(vec![super::refresh::current_result(settings, &sonar, project_key, scope, &link_base)])
            }
        };
        let waited = match waited {
            Ok(waited) => waited,
            Err(e) => {
                if let (Some(iteration), Some((client, t))) = (pending_on, &azdo) {
                    let writer = Writer { client, pr: t.id };
                    let _ = write_in_order(&writer, &[decide::pending_withdrawn(&settings.decoration, iteration)], log);
                }
                return Err(e);
            }
        };
        // The analyses are done: their results are read within the rest of the run's time.
        let sonar = sonar.until(clock.run_by);

        // The results of every finished analysis and the pull request's threads, together: the
        // threads as late as possible, so a run that overlaps this one has had every chance to
        // write first.
        let reads = IssueReads { settings, flavour: facts.flavour, pull_request: azdo.is_some() };
        let early = early_read.map(Ok).or_else(|| early.map(Err));
        let (analyses, pr_state) = read_results(settings, azdo.as_ref(), &sonar, waited, early, &reads, log);
        let mut analyses = analyses?;
        super::thread_issues::check(&sonar, pr_state.as_ref().and_then(|s| s.as_ref().ok()).map(|s| &s.threads[..]), &mut analyses)?;
        check_provenance(settings, &mut analyses);
        sync_resolutions(settings, &sonar, azdo.as_ref(), pr_state.as_ref(), &mut analyses, log);
        analyses.iter().for_each(|a| report_analysis(log, a));
        let decorated = decorate_or_say_why(
            settings,
            azdo.as_ref(),
            pr_state,
            &mut analyses,
            SonarSide { client: &sonar, flavour: facts.flavour, notices: &notices },
            clock,
            log,
        );

        // Whatever happened to the pull request, the run's own record is written.
        write_build_summary(settings, log, &analyses, &build_notices);
        log.set_output_variable("qualityGateStatus", decide::quality_gate_status(&analyses));
        let outcome =
            decide::outcome(&analyses, &decorated?, settings.fail_on_quality_gate_error, &settings.names.fail_on_quality_gate_error);
        match &outcome.report {
            Report::Error(m) => log.error(m),
            Report::Warning(m) => log.warning(m),
            Report::Nothing => {}
        }
        Ok(outcome)
    }
}

/// `syncResolutions: toSonarQube`: reviewers' resolutions carried over before anything is posted.
fn sync_resolutions(
    settings: &Settings,
    sonar: &SonarClient,
    azdo: Option<&(Arc<AzdoClient>, &PullRequestTarget)>,
    pr_state: Option<&Result<PullRequestState, Error>>,
    analyses: &mut [Analysis],
    log: &Log,
) {
    if settings.decoration.sync_resolutions != decide::triage::SyncResolutions::ToSonarQube {
        return;
    }
    if let (Some(Ok(state)), Some((_, target))) = (pr_state, azdo) {
        let side = super::triage::PullRequestSide {
            target,
            threads: &state.threads,
            me: &state.me,
            author: state.pull_request.created_by.as_ref(),
        };
        super::triage::carry_over(settings, sonar, &side, analyses, log);
    }
}

/// Decorates the pull request, or says why there is none to decorate. Returns the PR's own gate's
/// failures.
fn decorate_or_say_why(
    settings: &Settings,
    azdo: Option<&(Arc<AzdoClient>, &PullRequestTarget)>,
    pr_state: Option<Result<PullRequestState, Error>>,
    analyses: &mut [Analysis],
    SonarSide { client: sonar, flavour, notices }: SonarSide<'_>,
    clock: Clock,
    log: &Log,
) -> Result<Vec<String>, Error> {
    match (settings.target.pull_request(), azdo, pr_state) {
        (Some(t), Some((client, _)), Some(state)) => {
            log.group(&format!("Pull request {}", t.id));
            let git_by = local_clone_deadline(settings, clock);
            let pr = Decorating { settings, target: t, client, sonar, flavour, git_by, notices, log };
            let result = state.and_then(|state| pr.decorate(state, analyses));
            log.end_group();
            result
        }
        (Some(t), _, _) => {
            log.group(&format!("Pull request {}", t.id));
            log.info("Dry run without an Azure DevOps credential: showing what would be posted without reading the pull request.");
            for a in analyses.iter() {
                log.info(&render::summary_comment(a, &InlineStats::default()));
            }
            log.end_group();
            Ok(Vec::new())
        }
        _ => {
            let reason = match &settings.target {
                Target::NoPullRequest { reason, .. } => reason.as_str(),
                Target::PullRequest(_) => "no pull request",
            };
            log.info(&format!(
                "Not posting to a pull request: {reason}. The quality gate is still reported here and in {}.",
                settings.names.summary
            ));
            Ok(Vec::new())
        }
    }
}

/// The analyses' results, and the pull request as it was before this run wrote (when there is one).
type Results = (Result<Vec<Analysis>, Error>, Option<Result<PullRequestState, Error>>);

/// Reads every finished analysis's results and the pull request's threads together; when nothing
/// but the gates decides the status, a lane of its own posts it as soon as the last gate is read
/// (see `early_status`), while the rest is still being read.
fn read_results(
    settings: &Settings,
    azdo: Option<&(Arc<AzdoClient>, &PullRequestTarget)>,
    sonar: &SonarClient,
    waited: Vec<Waited>,
    early: Option<EarlyRead>,
    reads: &IssueReads<'_>,
    log: &Arc<Log>,
) -> Results {
    use super::early_inline::EarlyInline;
    use super::early_status::EarlyStatus;
    let shared = SharedEarly::new(early);
    let status_sending = parallel::Signal::new();
    let lanes = azdo.map(|(client, t)| {
        // With resolutions to carry over, the status waits for the gate as it is after them.
        let status = (settings.decoration.sync_resolutions == crate::decide::triage::SyncResolutions::None)
            .then(|| EarlyStatus::new(settings, client, t, &waited, &shared, &status_sending, log))
            .flatten();
        let after_status = status.is_some().then_some(&status_sending);
        let inline = EarlyInline::new(settings, client, t, &waited, reads.flavour, &shared, after_status);
        (status, inline)
    });
    let (early_status, early_inline) = lanes.unwrap_or((None, None));
    let lanes = Lanes { status: early_status.as_ref(), inline: early_inline.as_ref() };
    let (analyses, threads, status_writes) = parallel::scope(|s| {
        let inline = early_inline.as_ref().map(|lane| s.start(move || lane.run()));
        let threads = azdo.filter(|_| inline.is_none()).map(|(client, t)| s.start(move || client.threads(t.id)));
        let status = early_status.as_ref().map(|lane| s.start(move || lane.post_when_ready()));
        let analyses = read_all(sonar, waited, reads, lanes);
        lanes.close();
        // The status lane first: the inline lane sends after the status, and a lane the system
        // gave no thread runs here, when awaited.
        let status_writes = status.map_or_else(super::early_writes::EarlyWrites::none, parallel::Pending::wait);
        let threads = match (inline, threads) {
            (Some(lane), _) => Some(lane.wait()),
            (None, Some(read)) => Some((read.wait(), super::early_writes::EarlyWrites::none())),
            (None, None) => None,
        };
        (analyses, threads, status_writes)
    });
    drop((early_status, early_inline));
    let early = shared.into_inner().map(|e| e.unwrap_or_else(parallel::Pending::wait));
    let pr_state = early.zip(threads).map(|(early, (threads, early_writes))| {
        let (early, threads) = (early?, threads?);
        Ok(PullRequestState {
            pull_request: early.pull_request,
            iterations: early.iterations,
            statuses: early.statuses,
            files: early.files.map(|(id, files)| (id, files.wait())),
            threads,
            me: early.me,
            early_status: status_writes,
            early_writes,
        })
    });
    (analyses, pr_state)
}

/// The lanes that write before everything is read, which hear the reads as they arrive.
#[derive(Clone, Copy)]
struct Lanes<'l, 'a> {
    status: Option<&'l super::early_status::EarlyStatus<'a>>,
    inline: Option<&'l super::early_inline::EarlyInline<'a>>,
}

impl Lanes<'_, '_> {
    /// The reads are over.
    fn close(&self) {
        if let Some(lane) = self.status {
            lane.close();
        }
        if let Some(lane) = self.inline {
            lane.close();
        }
    }
}

/// Posts the `pending` status (pendingStatus) when some analysis is still in SonarQube's queue,
/// and says on which iteration (`Some`) when it did. A failure is only a warning: the result,
/// posted later, is what a policy needs.
fn post_pending(
    settings: &Settings,
    client: &AzdoClient,
    target: &PullRequestTarget,
    early: &Result<Early, Error>,
    first_polls: &[Option<sonar::model::CeTask>],
    log: &Log,
) -> Option<Option<u32>> {
    let Ok(early) = early else { return None };
    let finished = |p: &Option<sonar::model::CeTask>| p.as_ref().is_some_and(|t| t.status.is_terminal());
    let waiting_for = first_polls.iter().filter(|p| !finished(p)).count();
    let iteration = decide::choose_iteration(&early.iterations, target.source_commit.as_deref()).id;
    let write = decide::pending_status(&settings.decoration, iteration, waiting_for)?;
    let writer = Writer { client, pr: target.id };
    match writer.perform_all(std::slice::from_ref(&write)).pop()? {
        Ok(done) => {
            done.lines.iter().for_each(|l| log.info(l));
            Some(iteration)
        }
        Err(e) => {
            log.warning(&format!("the pending status could not be posted ({e}); the result will be"));
            None
        }
    }
}

/// Finds and reads the scanner's reports, and follows the newest of each project (see
/// `decide::reports`).
/// With `projectKey` and no `reportTaskFile`, finding none is no failure: the analyses are then
/// found on the server (an empty list here).
fn load_reports(settings: &Settings, log: &Log, clock: Clock) -> Result<Vec<ReportTask>, Error> {
    let sonar = &settings.sonar;
    let found = discover::discover(sonar.report_task_file.as_deref(), &sonar.search_paths, &settings.names.sonar(), clock.analyses_by);
    let paths = match found {
        Err(Error::ReportTask(_)) if !sonar.project_keys.is_empty() && sonar.report_task_file.is_none() => {
            log.info(&format!(
                "No report-task.txt is on this agent: the analyses of {} ({}) are looked for on SonarQube",
                sonar.project_keys.join(", "),
                settings.names.sonar().project_key
            ));
            return Ok(Vec::new());
        }
        other => other?,
    };
    if !sonar.project_keys.is_empty() {
        log.info(&format!(
            "report-task.txt found on this agent: it is used, and {} is not (it is for analyses run in another job or stage)",
            settings.names.sonar().project_key
        ));
    }
    let loaded = discover::load_all(&paths)?;
    super::register_report_credentials(log, &loaded);
    let found: Vec<FoundReport<'_>> = loaded
        .iter()
        .map(|r| FoundReport {
            project_key: &r.project_key,
            path: &r.path,
            modified: std::fs::metadata(&r.path).and_then(|m| m.modified()).ok(),
        })
        .collect();
    let choice = decide::reports::choose_reports(&found, settings.pipeline_started);
    choice.warnings.iter().for_each(|w| log.warning(w));
    let mut loaded: Vec<Option<ReportTask>> = loaded.into_iter().map(Some).collect();
    Ok(choice.chosen.iter().filter_map(|i| loaded[*i].take()).collect())
}

/// Waits for each analysis in turn, all within pollingTimeoutSec of the run's start.
fn wait_all(
    sonar: &SonarClient,
    reports: Vec<ReportTask>,
    first_polls: Vec<Option<sonar::model::CeTask>>,
    link_base: &str,
    clock: Clock,
    log: &Log,
) -> Result<Vec<Waited>, Error> {
    let mut waited = Vec::new();
    for (report, first) in reports.into_iter().zip(first_polls) {
        log.group(&format!("Analysis of {}", report.project_key));
        log.info(&format!("report-task.txt: {}", report.path.display()));
        let mut url_checks = Vec::new();
        sonar::check_report_server_url(&report, sonar.base_url(), sonar.names(), &mut url_checks);
        log_checks(log, &url_checks, Failures::EndTheRun);
        log.info(&format!("Waiting for analysis task {} of project '{}'", report.ce_task_id, report.project_key));
        let result = sonar::collect::wait(sonar, report, link_base, clock.started, first, |task| {
            log.info(&format!("  analysis task {}: {}", task.id, task.status.as_str()));
        });
        log.end_group();
        waited.push(result?);
    }
    Ok(waited)
}

/// How each analysis's issues are read.
struct IssueReads<'a> {
    settings: &'a Settings,
    flavour: Flavour,
    /// The run decorates a pull request.
    pull_request: bool,
}

impl IssueReads<'_> {
    /// Whether this scope's issues are read only once the pull request's changed files are known.
    fn later(&self, scope: &sonar::Scope) -> bool {
        self.pull_request && decide::matching(self.settings.decoration.mode, self.flavour, scope).changed_lines
    }

    /// Whether an issue list's first page settles what the run decides.
    fn first_page_enough(&self, page: &sonar::IssueSet) -> bool {
        let decoration = &self.settings.decoration;
        let needs = decide::IssueNeeds {
            every_issue: self.settings.sarif_file.is_some(),
            inline: (self.pull_request && decoration.post_inline_comments).then_some(&decoration.inline_filter),
            fail_at: decoration.fail_on_new_issues,
        };
        decide::first_page_enough(page, &needs)
    }
}

/// Reads every finished analysis's results, together.
fn read_all(sonar: &SonarClient, waited: Vec<Waited>, reads: &IssueReads<'_>, lanes: Lanes<'_, '_>) -> Result<Vec<Analysis>, Error> {
    let waited: Vec<(usize, std::sync::Mutex<Option<Waited>>)> =
        waited.into_iter().enumerate().map(|(i, w)| (i, std::sync::Mutex::new(Some(w)))).collect();
    let any_gate = waited.iter().any(|(_, w)| matches!(w.lock().map(|g| matches!(*g, Some(Waited::Succeeded(_)))), Ok(true)));
    // The server's metric names, once a run, beside the analyses' reads.
    let (names, results) = parallel::scope(|s| {
        let names = any_gate.then(|| s.start(|| sonar.metric_names()));
        // The analyses are read before the names are awaited: a tuple's parts are evaluated in
        // order, and waiting first cost a round trip.
        let results = read_each(sonar, &waited, reads, lanes);
        (names.map(parallel::Pending::wait), results)
    });
    let names = names.transpose()?.unwrap_or_default();
    let mut analyses: Vec<Analysis> = results.into_iter().collect::<Result<_, Error>>()?;
    for a in &mut analyses {
        if let AnalysisOutcome::Completed(done) = &mut a.outcome {
            done.metric_names =
                done.gate.conditions.iter().filter_map(|c| Some((c.metric_key.clone(), names.get(&c.metric_key)?.clone()))).collect();
        }
    }
    Ok(analyses)
}

/// Each finished analysis's results, four at a time.
fn read_each(
    sonar: &SonarClient,
    waited: &[(usize, std::sync::Mutex<Option<Waited>>)],
    reads: &IssueReads<'_>,
    lanes: Lanes<'_, '_>,
) -> Vec<Result<Analysis, Error>> {
    parallel::map_bounded(waited, 4, |(index, slot)| {
        match slot.lock().unwrap_or_else(|p| p.into_inner()).take().expect("each analysis is read once") {
            Waited::Ended(a) => Ok(*a),
            Waited::Succeeded(f) => {
                let first_page_enough = |page: &sonar::IssueSet| reads.first_page_enough(page);
                let query =
                    if reads.later(&f.scope) { IssueQuery::Later } else { IssueQuery::Scope { first_page_enough: &first_page_enough } };
                let (key, dashboard) = (f.report.project_key.clone(), f.dashboard_url.clone());
                let on_gate = |gate: &sonar::model::ProjectStatus| {
                    if let Some(lane) = lanes.status {
                        lane.gate_read(*index, &key, &dashboard, gate);
                    }
                    if let Some(lane) = lanes.inline {
                        lane.gate_read(*index);
                    }
                };
                let on_issues = |issues: &Issues| {
                    if let Some(lane) = lanes.inline {
                        lane.issues_read(*index, issues);
                    }
                };
                sonar::collect::read(sonar, *f, query, &sonar::ReadHooks { on_gate: &on_gate, on_issues: &on_issues })
            }
        }
    })
}

/// Refuses analyses that are not this build's: another pull request, or another commit.
fn check_provenance(settings: &Settings, analyses: &mut [Analysis]) {
    let target = settings.target.pull_request();
    let commits = [settings.analysed_commit.as_deref(), target.and_then(|t| t.source_commit.as_deref())];
    let build = decide::Build {
        pull_request: target.map(|t| t.id),
        commits: commits.into_iter().flatten().collect(),
        started: settings.pipeline_started,
    };
    for a in analyses.iter_mut() {
        let AnalysisOutcome::Completed(done) = &a.outcome else { continue };
        let path = a.report.path.display().to_string();
        let analysed = decide::Analysed {
            project_key: &a.report.project_key,
            task_id: &a.report.ce_task_id,
            report_path: &path,
            scope: &a.scope,
            revision: done.revision.as_deref(),
            submitted_at: done.submitted_at.as_deref(),
        };
        if let Some(message) = decide::not_this_build(&analysed, &build) {
            a.outcome = AnalysisOutcome::NotThisBuild { message };
        }
    }
}

fn report_analysis(log: &Log, analysis: &Analysis) {
    analysis.warnings.iter().for_each(|w| log.warning(w));
    match &analysis.outcome {
        AnalysisOutcome::Completed(done) => {
            log.info(&format!("Quality gate of '{}': {}", analysis.project_key(), done.gate.status.as_str()));
            for c in decide::verdict::failed_conditions(analysis) {
                log.info(&format!("  not met: {}", sonar::present::describe_condition(c)));
            }
            if let Issues::Read(issues) = &done.issues {
                log.info(&format!("Open issues: {}", issues.total));
                if issues.first_page_only {
                    log.info("Read only the first page of issues, the most severe: the others could change no inline comment or condition of this run");
                }
            }
        }
        AnalysisOutcome::Failed { message, .. } | AnalysisOutcome::TimedOut { message, .. } | AnalysisOutcome::NotThisBuild { message } => {
            log.info(&format!("'{}': {message}", analysis.project_key()))
        }
    }
    log.info(&format!("Dashboard: {}", analysis.dashboard_url));
    log.debug(&format!("verdict {:?}", Verdict::of(analysis)));
}

/// The SonarQube server of the run: its client, what kind of server it is, and what the PR's
/// summary must say about it (a token about to expire).
struct SonarSide<'a> {
    client: &'a SonarClient,
    flavour: Flavour,
    notices: &'a [String],
}

/// The most changed files whose lines (their coverage) are read in changed-lines decoration; the
/// rest count as not read.
const CHANGED_FILES_WITH_LINES: usize = 50;

/// Time left before the run's limit when git in the local clone must be done: enough to post the
/// status, the comments and the summary with what it found (or without it).
const AFTER_LOCAL_CLONE: Duration = Duration::from_secs(30);

/// When git in the local clone is stopped: pollingTimeoutSec from now (the wait the user
/// chose for a slow step), and never later than `AFTER_LOCAL_CLONE` before the run's limit.
fn local_clone_deadline(settings: &Settings, clock: Clock) -> Instant {
    let latest = clock.run_by.checked_sub(AFTER_LOCAL_CLONE).unwrap_or(clock.started);
    (Instant::now() + settings.sonar.polling_timeout).min(latest)
}

/// Decorating one pull request.
struct Decorating<'a> {
    settings: &'a Settings,
    target: &'a PullRequestTarget,
    client: &'a AzdoClient,
    sonar: &'a SonarClient,
    flavour: Flavour,
    /// When git in the local clone is stopped.
    git_by: Instant,
    /// Lines the summary shows whatever the analysis says (a token about to expire).
    notices: &'a [String],
    log: &'a Log,
}

impl Decorating<'_> {
    /// Matches the analyses to the PR, plans every write and performs them (or, in a dry run,
    /// prints them), then settles with any overlapping run. Returns the PR's own gate's failures.
    fn decorate(&self, state: PullRequestState, analyses: &mut [Analysis]) -> Result<Vec<String>, Error> {
        let (settings, log) = (self.settings, self.log);
        if let Some(warning) = decide::pull_request::not_open(self.target.id, state.pull_request.status.as_deref()) {
            log.warning(&warning);
            return Ok(Vec::new());
        }
        let choice = decide::choose_iteration(&state.iterations, self.target.source_commit.as_deref());
        if let Some(w) = &choice.warning {
            log.warning(w);
        }
        let iteration = state.iterations.iter().find(|i| Some(i.id) == choice.id);
        let early_files = state.files.clone().filter(|(id, _)| Some(*id) == choice.id).map(|(_, files)| files);
        let (changes, files) = self.read_changes(analyses, iteration, early_files);
        let tracking_ids: BTreeMap<String, u64> =
            files.iter().flatten().filter_map(|e| Some((e.item.path.clone()?, e.change_tracking_id?))).collect();
        let matched = self.match_all(analyses, changes.as_ref());
        if let Some(path) = &settings.sarif_file {
            write_sarif(path, analyses, &matched, &settings.names.sarif_file, log);
        }
        let status_posted = !state.early_status.is_empty();
        let earlier = if status_posted { Vec::new() } else { self.earlier_results(&state, choice.id, analyses) };
        let view = PullRequestView {
            threads: &state.threads,
            me: &state.me,
            iteration: choice.id,
            tracking_ids: &tracking_ids,
            notices: self.notices,
            build_id: settings.sonar.search_paths.build_id.as_deref(),
            earlier: &earlier,
            status_posted,
        };
        let plan = decide::plan_publish(analyses, &matched, &view, &settings.decoration, &render::Comments);
        plan.notes.iter().for_each(|n| log.info(n));
        let failures: Vec<String> = analyses
            .iter()
            .zip(&matched)
            .filter_map(|(a, m)| {
                let named = |r: &Option<String>, setting: &str| r.as_ref().map(|r| format!("{r} ({setting})"));
                let reasons: Vec<String> = [
                    named(&m.new_issues_failure, &settings.names.fail_on_new_issues),
                    named(&m.coverage_failure, &settings.names.min_changed_lines_coverage),
                    named(&m.risk_failure, &settings.names.fail_on_dependency_risks),
                ]
                .into_iter()
                .flatten()
                .collect();
                (!reasons.is_empty()).then(|| format!("'{}': {}", a.project_key(), reasons.join("; ")))
            })
            .collect();
        if settings.dry_run {
            plan.writes.iter().flat_map(render::dry_run_lines).for_each(|l| log.info(&l));
            return Ok(failures);
        }
        let writer = Writer { client: self.client, pr: self.target.id };
        let early = EarlyOnes { status: state.early_status, threads: state.early_writes };
        let (writes, created) = write_with_early(&writer, plan.writes, early, log);
        self.settle(&writer, &writes, &created?, &state.me)?;
        Ok(failures)
    }

    /// Other projects' results this build already posted on the iteration (an earlier run of the
    /// task in this job), which this run's statuses combine with.
    fn earlier_results(
        &self,
        state: &PullRequestState,
        iteration: Option<u32>,
        analyses: &[Analysis],
    ) -> Vec<decide::statuses::EarlierResult> {
        let settings = self.settings;
        let statuses = match &state.statuses {
            Ok(list) => list,
            Err(e) => {
                self.log.warning(&format!(
                    "the pull request's statuses could not be read ({e}); this run's status does not take in other projects' results this build posted earlier"
                ));
                return Vec::new();
            }
        };
        let options = &settings.decoration;
        let place = decide::statuses::StatusPlace { genre: &options.status_genre, name: &options.status_name, iteration };
        let build = decide::statuses::ThisBuild {
            id: settings.sonar.search_paths.build_id.as_deref(),
            started: settings.pipeline_started,
            me: &state.me,
        };
        let mine: Vec<&str> = analyses.iter().map(Analysis::project_key).collect();
        let earlier = decide::statuses::earlier_results(statuses, place, &build, &mine);
        super::say_earlier_results(self.log, &earlier, &options.status_name);
        earlier
    }

    /// When any analysis is scoped to the changed lines, or inline threads need their files'
    /// change tracking ids: the iteration's files, the line diffs, and the issues of the changed
    /// files of each scoped analysis.
    fn read_changes(
        &self,
        analyses: &mut [Analysis],
        iteration: Option<&Iteration>,
        early: Option<Result<Vec<ChangeEntry>, ChangesUnknown>>,
    ) -> ChangesRead {
        let settings = self.settings;
        let scoped: Vec<bool> =
            analyses.iter().map(|a| decide::matching(settings.decoration.mode, self.flavour, &a.scope).changed_lines).collect();
        let needed = settings.decoration.post_inline_comments || scoped.contains(&true);
        let files = match (iteration.filter(|_| needed), early) {
            (Some(_), Some(read)) => read,
            (Some(it), None) => self.client.iteration_changes(self.target.id, it.id).map_err(|e| ChangesUnknown::ReadFailed(e.to_string())),
            (None, _) => Err(ChangesUnknown::NoIteration),
        };
        if !scoped.contains(&true) {
            return (None, files);
        }
        let paths = &settings.sonar.search_paths;
        let checkout: PathBuf = paths.sources_directory.clone().or_else(|| paths.working_directory.clone()).unwrap_or_else(|| ".".into());
        let query = ChangesQuery {
            iteration,
            files: &files,
            analysed_commit: settings.analysed_commit.as_deref(),
            checkout: &checkout,
            git_deadline: GitDeadline { at: self.git_by, more_time: &settings.names.polling_timeout },
        };
        let changes = pr_changes(self.client, &query, self.log);
        if let Ok(c) = &changes {
            let read: Vec<Result<(), Error>> =
                analyses.iter_mut().zip(&scoped).filter(|(_, s)| **s).map(|(a, _)| self.read_changed_files(a, c)).collect();
            if let Some(Err(e)) = read.into_iter().find(Result::is_err) {
                return (Some(Err(ChangesUnknown::ReadFailed(e.to_string()))), files);
            }
        }
        (Some(changes), files)
    }

    /// The open issues of the files the pull request changed, for an analysis scoped to them.
    fn read_changed_files(&self, a: &mut Analysis, changes: &PrChanges) -> Result<(), Error> {
        let folder = self.project_folder(a);
        let AnalysisOutcome::Completed(done) = &mut a.outcome else { return Ok(()) };
        if !matches!(done.issues, Issues::NotRead) {
            return Ok(());
        }
        let files = decide::pull_request::files_in_folder(&folder, changes.pr.keys().map(String::as_str));
        if files.is_empty() {
            done.issues = Issues::Read(Default::default());
            return Ok(());
        }
        // The changed files' lines (their coverage), beside their issues: no wait of their own.
        let (key, scope) = (&a.report.project_key, &a.scope);
        let read: Vec<&String> = files.iter().take(CHANGED_FILES_WITH_LINES).collect();
        let (issues, lines) = parallel::scope(|s| {
            let lines = s.start(|| parallel::map_bounded(&read, 6, |f| self.sonar.lines(&format!("{key}:{f}"), scope)));
            (self.sonar.open_issues_in_files(key, scope, &files), lines.wait())
        });
        done.issues = match issues? {
            Some(set) => Issues::Read(set),
            None => Issues::Forbidden,
        };
        let prefix = if folder.is_empty() { "/".to_string() } else { format!("/{folder}/") };
        done.changed_file_lines = read.iter().zip(lines).map(|(f, l)| Ok((format!("{prefix}{f}"), l?))).collect::<Result<_, Error>>()?;
        done.changed_file_lines.extend(files.iter().skip(CHANGED_FILES_WITH_LINES).map(|f| (format!("{prefix}{f}"), None)));
        Ok(())
    }

    /// The analysed project's folder in the repository.
    fn project_folder(&self, a: &Analysis) -> String {
        super::project_folder(self.settings, a)
    }

    /// How each analysis's issues meet the PR.
    fn match_all<'a>(&self, analyses: &'a [Analysis], changes: Option<&Result<PrChanges, ChangesUnknown>>) -> Vec<Matched<'a>> {
        let (settings, log) = (self.settings, self.log);
        analyses
            .iter()
            .map(|a| {
                let how = decide::matching(settings.decoration.mode, self.flavour, &a.scope);
                log.info(&format!("Matching the issues of '{}' to the pull request: {}", a.project_key(), how.why));
                let mut m =
                    decide::match_issues(a, &self.project_folder(a), how.changed_lines, changes, settings.decoration.fail_on_new_issues);
                if let AnalysisOutcome::Completed(done) = &a.outcome
                    && let Some(risks) = &done.dependency_risks
                {
                    m.risk_failure = decide::scope::dependency_risk_gate(risks, settings.decoration.fail_on_dependency_risks.as_deref());
                }
                if let (true, Some(Ok(changes)), AnalysisOutcome::Completed(done)) = (how.changed_lines, changes, &a.outcome)
                    && !done.changed_file_lines.is_empty()
                {
                    let coverage = decide::coverage::changed_lines_coverage(&done.changed_file_lines, changes);
                    m.coverage_failure = decide::coverage::coverage_gate(&coverage, settings.decoration.min_changed_lines_coverage);
                    // No changed file's lines could be read (none is in the analysis, or the token
                    // may not see the code): nothing is said of their coverage.
                    m.changed_coverage = (coverage.files_read > 0).then_some(coverage);
                }
                if let Some(e) = &m.scoping_failed {
                    log.warning(&format!(
                        "the lines this pull request changed could not be read ({e}); '{}' gets a status and a summary but no inline comments",
                        a.project_key()
                    ));
                }
                m
            })
            .collect()
    }

    /// After creating threads: reads them again and settles any an overlapping run created at
    /// the same moment (see `decide::settle`).
    fn settle(&self, writer: &Writer<'_>, writes: &[Write], created: &[Option<u64>], me: &str) -> Result<(), Error> {
        let new: Vec<(u64, &crate::azdo::model::NewThread)> = writes
            .iter()
            .zip(created)
            .filter_map(|(w, id)| match (w, id) {
                (Write::CreateThread { thread, .. }, Some(id)) => Some((*id, thread)),
                _ => None,
            })
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let threads = self.client.threads(self.target.id)?;
        let settle = decide::settle(&new, &threads, me);
        if !settle.is_empty() {
            self.log
                .info(&format!("Another run decorated this pull request at the same time; settling {} duplicate thread(s)", settle.len()));
            write_in_order(writer, &settle, self.log)?;
        }
        Ok(())
    }
}

/// The writes that went out before the run planned its own.
struct EarlyOnes {
    /// The status (`early_status`), which the plan does not hold.
    status: super::early_writes::EarlyWrites,
    /// Threads (`early_inline`), which stand in for the plan's own.
    threads: super::early_writes::EarlyWrites,
}

/// `write_in_order` for a plan some of whose writes went out already. The status sent early
/// (`early_status`) is not in the plan: the plan's writes are sent while it may still be under
/// way, and it is logged first; a status write that failed is sent again now, where a failure is
/// the run's. Threads created early (`early_inline`) are not sent again, and what they did is
/// logged in their place; one the plan does not hold (it never should) is logged after the plan's.
/// Returns every write made and each one's new thread id.
fn write_with_early(
    writer: &Writer<'_>,
    mut writes: Vec<Write>,
    early: EarlyOnes,
    log: &Log,
) -> (Vec<Write>, Result<Vec<Option<u64>>, Error>) {
    let marker = |w: &Write| match w {
        Write::CreateThread { thread, .. } => Some(thread.marker.clone()),
        _ => None,
    };
    // Which early write stands in for each of the plan's (by the thread's marker): the rest are
    // sent now, while the early ones may still be under way.
    let mut unmatched: Vec<bool> = vec![true; early.threads.writes().len()];
    let stand_ins: Vec<Option<usize>> = writes
        .iter()
        .map(|w| {
            let m = marker(w)?;
            let found = (0..unmatched.len()).find(|&i| unmatched[i] && marker(&early.threads.writes()[i]).as_ref() == Some(&m))?;
            unmatched[found] = false;
            Some(found)
        })
        .collect();
    let rest: Vec<Write> = writes.iter().zip(&stand_ins).filter(|(_, e)| e.is_none()).map(|(w, _)| w.clone()).collect();
    let mut performed = writer.perform_all(&rest).into_iter();
    let (status, resent) = status_sent_early(writer, early.status, log);
    let mut threads: Vec<Option<(Write, Result<crate::azdo::writer::Done, Error>)>> = early.threads.wait().into_iter().map(Some).collect();
    let mut results: Vec<Result<crate::azdo::writer::Done, Error>> = stand_ins
        .iter()
        .map(|e| match e.and_then(|i| threads[i].take()) {
            Some((_, done)) => done,
            None => performed.next().expect("one result per write sent"),
        })
        .collect();
    // An early thread the plan does not hold (it never should): logged and settled all the same.
    for (write, done) in threads.into_iter().flatten() {
        writes.push(write);
        results.push(done);
    }
    // The status first, as it went out first.
    let (status, status_results): (Vec<Write>, Vec<_>) = status.into_iter().chain(resent).unzip();
    let writes: Vec<Write> = status.into_iter().chain(writes).collect();
    let created = log_in_order(status_results.into_iter().chain(results), log);
    (writes, created)
}

/// A write, and what it did.
type Sent = (Write, Result<crate::azdo::writer::Done, Error>);

/// The status writes sent early, each with what it did; one that failed is sent again now (the
/// second list: each such write, and what sending it again did).
fn status_sent_early(writer: &Writer<'_>, status: super::early_writes::EarlyWrites, log: &Log) -> (Vec<Sent>, Vec<Sent>) {
    let (done, failed): (Vec<_>, Vec<_>) = status.wait().into_iter().partition(|(_, r)| r.is_ok());
    let again: Vec<Write> = failed
        .into_iter()
        .map(|(write, result)| {
            if let Err(e) = result {
                log.info(&format!("the status could not be posted before the comments ({e}); it is posted with them"));
            }
            write
        })
        .collect();
    let resent = again.iter().cloned().zip(writer.perform_all(&again)).collect();
    (done, resent)
}

/// Performs the writes (several at once) and logs what each did in plan order, whichever finished
/// first; the first failure in that order is the result. Returns each write's new thread id.
fn write_in_order(writer: &Writer<'_>, writes: &[Write], log: &Log) -> Result<Vec<Option<u64>>, Error> {
    log_in_order(writer.perform_all(writes), log)
}

/// Logs what each write did, in order; the first failure is the result.
fn log_in_order(results: impl IntoIterator<Item = Result<crate::azdo::writer::Done, Error>>, log: &Log) -> Result<Vec<Option<u64>>, Error> {
    let mut created = Vec::new();
    let mut first_failure = None;
    for result in results {
        match result {
            Ok(done) => {
                done.lines.iter().for_each(|l| log.info(l));
                created.push(done.created);
            }
            Err(e) => {
                first_failure.get_or_insert(e);
                created.push(None);
            }
        }
    }
    first_failure.map_or(Ok(created), Err)
}

/// Writes the pull request's issues (what was matched to it) as SARIF. A file that cannot be
/// written is a warning: the pull request is decorated all the same.
fn write_sarif(path: &std::path::Path, analyses: &[Analysis], matched: &[decide::Matched<'_>], setting: &str, log: &Log) {
    let runs: Vec<(&Analysis, &[decide::InlineCandidate<'_>])> =
        analyses.iter().zip(matched).map(|(a, m)| (a, m.candidates.as_slice())).collect();
    let (text, left_out) = render::sarif::sarif(&runs);
    let results: usize = runs.iter().map(|(_, c)| c.len()).sum::<usize>() - left_out;
    match std::fs::write(path, text) {
        Ok(()) => {
            log.info(&format!("Wrote {results} issue(s) of {} project(s) as SARIF 2.1.0 to {}", runs.len(), path.display()));
            if left_out > 0 {
                log.warning(&format!(
                    "{left_out} issue(s) were left out of {}: GitHub Advanced Security for Azure DevOps takes at most {} results per run; the most severe were kept",
                    path.display(),
                    render::sarif::MAX_RESULTS_PER_RUN
                ));
            }
        }
        Err(e) => log.warning(&format!("could not write the SARIF file {} ({setting}): {e}", path.display())),
    }
}

/// Writes the Markdown build summary and attaches it to the run. The file is a new one with a
/// name of its own (never an existing file, nor a link someone planted at a fixed name), in the
/// agent's temp folder, or the system's.
fn write_build_summary(settings: &Settings, log: &Log, analyses: &[Analysis], notices: &[String]) {
    use std::io::Write as _;
    let dir: PathBuf = settings.sonar.search_paths.agent_temp_directory.clone().unwrap_or_else(std::env::temp_dir);
    let not_a_pr = match &settings.target {
        Target::NoPullRequest { reason, .. } => Some(reason.as_str()),
        Target::PullRequest(_) => None,
    };
    let written = tempfile::Builder::new().prefix("sonar-pr-gate-summary-").suffix(".md").tempfile_in(&dir).and_then(|mut file| {
        file.write_all(render::build_summary(analyses, not_a_pr, notices).as_bytes())?;
        file.keep().map_err(|e| e.error)
    });
    match written {
        Ok((_, path)) => {
            // The agent fails the task on a relative or missing path.
            let absolute = std::path::absolute(&path).unwrap_or(path);
            if log.style() == crate::pipeline::Style::Plain {
                log.info(&format!("Build summary written to {}", absolute.display()));
            }
            log.upload_summary(&absolute);
        }
        Err(e) => log.warning(&format!("could not write the build summary in {}: {e}", dir.display())),
    }
}
