//! The inline comments as soon as the issues are read. A first run on a pull request with many
//! issues writes more threads than the six connections take in one round trip; waiting for the
//! summary's reads (measures, the gate's definition, dependency risks) before the first of them
//! cost every run a round trip. When the threads' plan needs nothing but the issues, the pull
//! request's threads and the iteration's files, this lane creates the new threads the moment
//! those are known, while the rest is still being read, right after the status (`early_status`)
//! is sent and leaving it a connection. It logs nothing: the run plans every write
//! again once everything is read, and the threads made here stand in for the plan's own (matched
//! by their marker), so the log and the pull request are what they would have been without it.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};

use super::early_reads::SharedEarly;
use super::early_writes::EarlyWrites;
use crate::azdo::AzdoClient;
use crate::azdo::model::Thread;
use crate::azdo::write::Write;
use crate::decide;
use crate::error::Error;
use crate::parallel;
use crate::render;
use crate::settings::{PullRequestTarget, Settings};
use crate::sonar::model::{GateStatus, ProjectStatus};
use crate::sonar::{Analysis, AnalysisOutcome, Completed, Flavour, Issues, Waited};

/// The analyses as far as this lane needs them (their issues filled in as they are read);
/// `closed` once the reads are over.
struct Reads {
    analyses: Vec<Analysis>,
    issues: Vec<Option<Issues>>,
    /// Whose gate was read: nothing is written for a run that could not read a gate, as before.
    gates: Vec<bool>,
    closed: bool,
}

/// The inline lane of one run.
pub(super) struct EarlyInline<'a> {
    settings: &'a Settings,
    client: &'a Arc<AzdoClient>,
    target: &'a PullRequestTarget,
    reads: Mutex<Reads>,
    changed: Condvar,
    early: &'a SharedEarly,
    /// The status lane's, when there is one: the threads are sent after the status, in the same
    /// round trip, so the status is the first write the pull request sees.
    status_sending: Option<&'a parallel::Signal>,
}

impl<'a> EarlyInline<'a> {
    /// `None` when the threads cannot be planned before the rest is read: no inline comments, a
    /// dry run, resolutions to carry over first (`syncResolutions`), an analysis that is not a
    /// pull request analysis of this pull request submitted in this run, or one whose issues are
    /// matched to the changed lines (read only once the changes are).
    pub(super) fn new(
        settings: &'a Settings,
        client: &'a Arc<AzdoClient>,
        target: &'a PullRequestTarget,
        waited: &[Waited],
        flavour: Flavour,
        early: &'a SharedEarly,
        status_sending: Option<&'a parallel::Signal>,
    ) -> Option<Self> {
        let options = &settings.decoration;
        if !options.post_inline_comments
            || settings.dry_run
            || options.sync_resolutions != decide::triage::SyncResolutions::None
            || waited.is_empty()
        {
            return None;
        }
        let mut analyses = Vec::new();
        for w in waited {
            let Waited::Succeeded(f) = w else { return None };
            if !super::early_reads::known_this_builds(settings, target.id, f)
                || decide::matching(options.mode, flavour, &f.scope).changed_lines
            {
                return None;
            }
            analyses.push(skeleton(f));
        }
        let (issues, gates) = (vec![None; analyses.len()], vec![false; analyses.len()]);
        let reads = Mutex::new(Reads { analyses, issues, gates, closed: false });
        Some(Self { settings, client, target, reads, changed: Condvar::new(), early, status_sending })
    }

    /// The issues of analysis `index` (of `waited`) were read.
    pub(super) fn issues_read(&self, index: usize, issues: &Issues) {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = reads.issues.get_mut(index) {
            *slot = Some(issues.clone());
        }
        self.changed.notify_all();
    }

    /// The gate of analysis `index` was read.
    pub(super) fn gate_read(&self, index: usize) {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = reads.gates.get_mut(index) {
            *slot = true;
        }
        self.changed.notify_all();
    }

    /// The reads are over: issues that were not read will not be.
    pub(super) fn close(&self) {
        self.reads.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.changed.notify_all();
    }

    /// The lane: reads the pull request's threads (this run's one read of them), waits for every
    /// analysis's gate and issues and the iteration's files, then starts creating the new threads.
    /// Returns the threads as read and the writes under way.
    pub(super) fn run(&self) -> (Result<Vec<Thread>, Error>, EarlyWrites) {
        let threads = self.client.threads(self.target.id);
        let writes = match &threads {
            Ok(threads) => self.plan(threads).map_or_else(EarlyWrites::none, |writes| self.create(writes)),
            Err(_) => EarlyWrites::none(),
        };
        (threads, writes)
    }

    /// The threads to create, when everything they depend on is known and settles them.
    fn plan(&self, threads: &[Thread]) -> Option<Vec<Write>> {
        let analyses = {
            let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
            while (reads.issues.iter().any(Option::is_none) || reads.gates.contains(&false)) && !reads.closed {
                reads = self.changed.wait(reads).unwrap_or_else(|p| p.into_inner());
            }
            if reads.gates.contains(&false) {
                return None;
            }
            let issues: Vec<Issues> = reads.issues.iter().cloned().collect::<Option<_>>()?;
            let mut analyses = std::mem::take(&mut reads.analyses);
            for (a, i) in analyses.iter_mut().zip(issues) {
                if let AnalysisOutcome::Completed(done) = &mut a.outcome {
                    done.issues = i;
                }
            }
            analyses
        };
        // Issues the token may not read: no inline comments, as with the rest.
        if analyses.iter().any(|a| matches!(&a.outcome, AnalysisOutcome::Completed(d) if d.issues.read().is_none())) {
            return None;
        }
        // A thread whose issue the first page did not hold is asked about later
        // (`thread_issues`): what it learns may change the plan, so the threads wait for it.
        if analyses.iter().any(|a| !super::thread_issues::keys_to_ask(a, threads).is_empty()) {
            return None;
        }
        let (me, iteration) = self
            .early
            .with(|e| {
                let e = e.as_ref().ok()?;
                decide::pull_request::not_open(self.target.id, e.pull_request.status.as_deref()).is_none().then_some(())?;
                Some((e.me.clone(), decide::choose_iteration(&e.iterations, self.target.source_commit.as_deref()).id?))
            })
            .flatten()?;
        let (files_of, files) = self.early.files()?;
        // Files of another iteration are read again with the rest; files that could not be read
        // leave the threads without their place in the iteration, as they will with the rest.
        if files_of != iteration {
            return None;
        }
        let tracking_ids: BTreeMap<String, u64> =
            files.iter().flatten().filter_map(|e| Some((e.item.path.clone()?, e.change_tracking_id?))).collect();
        let options = &self.settings.decoration;
        let matched: Vec<decide::Matched<'_>> = analyses
            .iter()
            .map(|a| decide::match_issues(a, &super::project_folder(self.settings, a), false, None, options.fail_on_new_issues))
            .collect();
        let view = decide::PullRequestView {
            threads,
            me: &me,
            iteration: Some(iteration),
            tracking_ids: &tracking_ids,
            notices: &[],
            build_id: None,
            earlier: &[],
            status_posted: true,
        };
        let only_threads = decide::Decoration { post_status: false, post_summary_comment: false, ..options.clone() };
        let plan = decide::plan_publish(&analyses, &matched, &view, &only_threads, &render::Comments);
        Some(plan.writes.into_iter().filter(|w| matches!(w, Write::CreateThread { .. })).collect())
    }

    /// Starts the writes on a thread of their own: the run goes on reading and planning the rest.
    /// One of the server's connections is left to the status, posted at the same moment, so the
    /// threads never make it wait (and, after it, to the summary).
    fn create(&self, writes: Vec<Write>) -> EarlyWrites {
        if writes.is_empty() {
            return EarlyWrites::none();
        }
        if let Some(status) = self.status_sending {
            status.wait();
        }
        EarlyWrites::start(self.client, self.target.id, writes, 1, None)
    }
}

/// An analysis as the inline comments see it: its links, and the issues once read. The gate and
/// the rest are placeholders no inline comment looks at.
fn skeleton(f: &crate::sonar::analysis::Finished) -> Analysis {
    Analysis {
        report: f.report.clone(),
        scope: f.scope.clone(),
        dashboard_url: f.dashboard_url.clone(),
        links: f.links.clone(),
        outcome: AnalysisOutcome::Completed(Box::new(Completed {
            gate: ProjectStatus { status: GateStatus::Ok, conditions: Vec::new(), ignored_conditions: false },
            measures: None,
            issues: Issues::NotRead,
            hotspots: None,
            ce_warnings: Vec::new(),
            revision: None,
            submitted_at: None,
            uncovered: None,
            changed_file_lines: Vec::new(),
            gate_definition: Vec::new(),
            dependency_risks: None,
            metric_names: BTreeMap::new(),
            synced: Vec::new(),
        })),
        warnings: Vec::new(),
    }
}
