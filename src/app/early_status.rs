//! The status as soon as the gates are read. A branch policy waits on the status, not on the
//! comments: when nothing but the gates decides it (a pull request analysis, no condition of the
//! pull request's own that needs the issues or the lines), it goes out from a lane of its own the
//! moment the last gate is read, while the issues, measures and lines are still being read; the
//! comments follow with the rest.

use std::sync::{Arc, Condvar, Mutex};

use super::early_reads::{Early, SharedEarly};
use super::early_writes::EarlyWrites;
use crate::azdo::AzdoClient;
use crate::decide;
use crate::decide::plan::{ProjectResult, StatusTarget, status_writes};
use crate::decide::statuses::{StatusPlace, ThisBuild, earlier_results};
use crate::decide::verdict::{StatusDecision, Verdict, analysis_status, status_for};
use crate::pipeline::Log;
use crate::settings::{PullRequestTarget, Settings};
use crate::sonar::Waited;
use crate::sonar::model::{GateStatus, ProjectStatus};

/// One project's status, once known.
struct Known {
    key: String,
    dashboard: String,
    decision: StatusDecision,
    verdict: Verdict,
}

/// The projects' results as their gates arrive; `closed` once the reads are over.
struct Gates {
    known: Vec<Option<Known>>,
    closed: bool,
}

/// The early status of one run.
pub(super) struct EarlyStatus<'a> {
    settings: &'a Settings,
    client: &'a Arc<AzdoClient>,
    target: &'a PullRequestTarget,
    log: &'a Arc<Log>,
    gates: Mutex<Gates>,
    changed: Condvar,
    /// The PR's early reads.
    early: &'a SharedEarly,
    /// Set as the status is sent (or once it will not be): the inline lane sends after it.
    sending: &'a crate::parallel::Signal,
}

impl<'a> EarlyStatus<'a> {
    /// `None` when the status cannot go out before the rest is read: statuses off, a dry run, a
    /// condition of the pull request's own (failOnNewIssues, minChangedLinesCoverage,
    /// failOnDependencyRisks), or an analysis that is not a pull request analysis of this pull
    /// request submitted in this run.
    pub(super) fn new(
        settings: &'a Settings,
        client: &'a Arc<AzdoClient>,
        target: &'a PullRequestTarget,
        waited: &[Waited],
        early: &'a SharedEarly,
        sending: &'a crate::parallel::Signal,
        log: &'a Arc<Log>,
    ) -> Option<Self> {
        let options = &settings.decoration;
        let own_conditions = options.fail_on_new_issues.is_some()
            || options.min_changed_lines_coverage.is_some()
            || options.fail_on_dependency_risks.is_some();
        if !options.post_status || settings.dry_run || own_conditions || waited.is_empty() {
            return None;
        }
        let mut known = Vec::new();
        for w in waited {
            match w {
                Waited::Ended(a) => known.push(Some(Known {
                    key: a.project_key().to_string(),
                    dashboard: a.dashboard_url.clone(),
                    decision: analysis_status(a, None),
                    verdict: Verdict::of(a),
                })),
                Waited::Succeeded(f) => {
                    if !super::early_reads::known_this_builds(settings, target.id, f) {
                        return None;
                    }
                    known.push(None);
                }
            }
        }
        let gates = Mutex::new(Gates { known, closed: false });
        Some(Self { settings, client, target, log, gates, changed: Condvar::new(), early, sending })
    }

    /// The gate of analysis `index` (of `waited`) was read.
    pub(super) fn gate_read(&self, index: usize, key: &str, dashboard: &str, gate: &ProjectStatus) {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = gates.known.get_mut(index) {
            let failed = gate.conditions.iter().filter(|c| c.status != GateStatus::Ok).count();
            *slot = Some(Known {
                key: key.to_string(),
                dashboard: dashboard.to_string(),
                decision: status_for(Verdict::Gate(gate.status), failed),
                verdict: Verdict::Gate(gate.status),
            });
        }
        self.changed.notify_all();
    }

    /// The reads are over: a gate that was not read will not be.
    pub(super) fn close(&self) {
        self.gates.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.changed.notify_all();
    }

    /// The status lane: waits for every gate (or the end of the reads), then starts posting the
    /// status and returns: the status is sent on a thread of its own, so the run plans and sends
    /// its other writes while it is under way, and collects it when it logs them. Empty when the
    /// status does not go out early: then it goes with the comments.
    pub(super) fn post_when_ready(&self) -> EarlyWrites {
        let _said = self.sending.set_on_drop();
        let results: Vec<(String, String, StatusDecision, Verdict)> = {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            while gates.known.iter().any(Option::is_none) && !gates.closed {
                gates = self.changed.wait(gates).unwrap_or_else(|p| p.into_inner());
            }
            if gates.known.iter().any(Option::is_none) {
                return EarlyWrites::none();
            }
            gates.known.iter().flatten().map(|k| (k.key.clone(), k.dashboard.clone(), k.decision.clone(), k.verdict)).collect()
        };
        // The writes are planned while looking at the early reads, and made after.
        let Some(Some(writes)) = self.early.with(|early| early.as_ref().ok().and_then(|e| self.plan(e, &results))) else {
            return EarlyWrites::none();
        };
        self.sending.set();
        EarlyWrites::start(self.client, self.target.id, writes, 0, Some(self.log.clone()))
    }

    /// The status writes, unless the PR's statuses could not be read or the PR is not open.
    fn plan(&self, e: &Early, results: &[(String, String, StatusDecision, Verdict)]) -> Option<Vec<crate::azdo::write::Write>> {
        let (settings, options) = (self.settings, &self.settings.decoration);
        let Ok(statuses) = &e.statuses else { return None };
        if decide::pull_request::not_open(self.target.id, e.pull_request.status.as_deref()).is_some() {
            return None;
        }
        let iteration = decide::choose_iteration(&e.iterations, self.target.source_commit.as_deref()).id;
        let place = StatusPlace { genre: &options.status_genre, name: &options.status_name, iteration };
        let build_id = settings.sonar.search_paths.build_id.as_deref();
        let this_build = ThisBuild { id: build_id, started: settings.pipeline_started, me: &e.me };
        let mine: Vec<&str> = results.iter().map(|r| r.0.as_str()).collect();
        let earlier = earlier_results(statuses, place, &this_build, &mine);
        super::say_earlier_results(self.log, &earlier, &options.status_name);
        let results: Vec<ProjectResult<'_>> = results
            .iter()
            .map(|(key, dashboard, decision, verdict)| ProjectResult {
                project_key: key,
                dashboard_url: dashboard,
                decision: decision.clone(),
                verdict: *verdict,
            })
            .collect();
        Some(status_writes(&results, StatusTarget { iteration, build_id, earlier: &earlier }, options))
    }
}
