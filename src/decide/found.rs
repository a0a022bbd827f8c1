//! Which analysis on the server is this build's, when no report-task.txt is on this agent (the
//! analysis ran in an earlier stage or another job; `projectKey` names the projects). Without the
//! file's task id, the server's tasks are all there is: a task is this build's when it is of this
//! pull request (or, in a build that is not one, of no pull request) and was submitted after this
//! pipeline run started. A pull request analysis's commit is given by no web service (see
//! `SonarClient::analysis_revision`), so the run's start is what tells an earlier run's analysis
//! of the same pull request; a branch analysis is held to the built commit afterwards by its
//! revision (`provenance`), like one found through its file.

use std::time::SystemTime;

use super::provenance::CLOCK_SKEW;
use crate::pipeline::time::parse_agent_time;
use crate::sonar::model::CeTask;

/// The task chosen, and why, in words for the log.
#[derive(Clone, Debug)]
pub(crate) struct Chosen {
    pub(crate) task: CeTask,
    pub(crate) why: String,
}

/// Chooses this build's analysis of `project_key` among the server's tasks (its queue, its latest,
/// its activity): the newest submitted since the run started (less the clocks' skew) for this pull
/// request (`pull_request`), or for no pull request in a build that is not one. A re-run of the
/// analysis in the same run supersedes the first. `Err` says why none is, and what was seen.
pub(crate) fn choose_task(
    project_key: &str,
    tasks: &[CeTask],
    pull_request: Option<u32>,
    started: Option<SystemTime>,
) -> Result<Chosen, String> {
    let Some(started) = started else {
        return Err(format!(
            "no report-task.txt is on this agent and the pipeline run's start (System.PipelineStartTime) is unknown, so no analysis of '{project_key}' on the server can be told to be this build's"
        ));
    };
    let ours = |t: &CeTask| match pull_request {
        Some(pr) => t.pull_request.as_deref().is_some_and(|p| p.trim() == pr.to_string()),
        None => t.pull_request.is_none(),
    };
    let submitted = |t: &CeTask| t.submitted_at.as_deref().and_then(parse_agent_time);
    let scope = pull_request.map_or_else(|| "this branch".to_string(), |pr| format!("pull request {pr}"));
    let mut of_scope: Vec<&CeTask> = tasks.iter().filter(|t| ours(t)).collect();
    of_scope.sort_by_key(|t| std::cmp::Reverse(submitted(t)));
    of_scope.dedup_by(|a, b| a.id == b.id);
    let since_start: Vec<&CeTask> = of_scope.iter().copied().filter(|t| submitted(t).is_some_and(|s| s + CLOCK_SKEW >= started)).collect();
    match since_start.as_slice() {
        [newest, rest @ ..] => {
            let earlier = match rest.len() {
                0 => String::new(),
                n => format!("; {n} earlier one(s) of this run superseded"),
            };
            Ok(Chosen {
                task: (*newest).clone(),
                why: format!(
                    "no report-task.txt is on this agent: task {} of '{project_key}' is the newest analysis of {scope} submitted since this pipeline run started ({}, {}){earlier}",
                    newest.id,
                    crate::text::visible(newest.submitted_at.as_deref().unwrap_or_default()),
                    newest.status.as_str()
                ),
            })
        }
        [] => {
            let seen = match of_scope.first() {
                Some(t) => format!(
                    "the newest analysis of {scope} is task {}, submitted at {}, before this run started",
                    t.id,
                    crate::text::visible(t.submitted_at.as_deref().unwrap_or("an unknown time"))
                ),
                None => {
                    format!("SonarQube lists no analysis of {scope} for it ({} task(s) of other pull requests or branches)", tasks.len())
                }
            };
            Err(format!(
                "no analysis of '{project_key}' for {scope} was submitted to SonarQube since this pipeline run started: {seen}. An analysis of another run or commit is never used: make sure the analysis step ran in this pipeline run and succeeded"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sonar::model::CeStatus;

    fn task(id: &str, pr: Option<&str>, submitted: &str, status: CeStatus) -> CeTask {
        CeTask {
            id: id.into(),
            status,
            analysis_id: None,
            error_message: None,
            branch: None,
            branch_type: None,
            pull_request: pr.map(Into::into),
            submitted_at: Some(submitted.into()),
            warnings: vec![],
        }
    }

    fn started() -> Option<SystemTime> {
        parse_agent_time("2026-12-03 10:00:00+00:00")
    }

    #[test]
    fn the_newest_analysis_of_this_pull_request_since_the_run_started_is_chosen() {
        let tasks = [
            task("old", Some("7"), "2026-12-02T10:00:00+0000", CeStatus::Success),
            task("other-pr", Some("8"), "2026-12-03T10:30:00+0000", CeStatus::Success),
            task("first", Some("7"), "2026-12-03T10:10:00+0000", CeStatus::Success),
            task("rerun", Some("7"), "2026-12-03T10:20:00+0000", CeStatus::Pending),
            task("branch", None, "2026-12-03T10:25:00+0000", CeStatus::Success),
        ];
        let chosen = choose_task("shop", &tasks, Some(7), started()).unwrap();
        assert_eq!(chosen.task.id, "rerun", "a queued task is chosen too: it is waited for");
        assert_eq!(
            chosen.why,
            "no report-task.txt is on this agent: task rerun of 'shop' is the newest analysis of pull request 7 submitted since this pipeline run started (2026-12-03T10:20:00+0000, PENDING); 1 earlier one(s) of this run superseded"
        );
        assert_eq!(choose_task("shop", &tasks, None, started()).unwrap().task.id, "branch");
    }

    #[test]
    fn an_earlier_runs_analysis_is_never_chosen() {
        let tasks = [task("old", Some("7"), "2026-12-02T10:00:00+0000", CeStatus::Success)];
        let why = choose_task("shop", &tasks, Some(7), started()).unwrap_err();
        assert_eq!(
            why,
            "no analysis of 'shop' for pull request 7 was submitted to SonarQube since this pipeline run started: the newest analysis of pull request 7 is task old, submitted at 2026-12-02T10:00:00+0000, before this run started. An analysis of another run or commit is never used: make sure the analysis step ran in this pipeline run and succeeded"
        );
        let why = choose_task("shop", &[], Some(7), started()).unwrap_err();
        assert!(
            why.contains("SonarQube lists no analysis of pull request 7 for it (0 task(s) of other pull requests or branches)"),
            "{why}"
        );
        let why = choose_task("shop", &tasks, Some(7), None).unwrap_err();
        assert!(why.contains("System.PipelineStartTime"), "{why}");
    }

    #[test]
    fn the_servers_clock_may_lag_by_the_allowed_skew() {
        let tasks = [task("t", Some("7"), "2026-12-03T09:50:00+0000", CeStatus::Success)];
        assert_eq!(choose_task("shop", &tasks, Some(7), started()).unwrap().task.id, "t");
    }
}
