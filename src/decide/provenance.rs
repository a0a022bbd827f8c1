//! Whether an analysis is this build's. A report-task.txt left by an earlier build (self-hosted
//! agents keep ignored folders; a skipped or failed scanner step lets an old file through) can name
//! the analysis of another pull request or commit: its gate must never reach this pull request.

use std::time::{Duration, SystemTime};

use crate::pipeline::time::parse_agent_time;
use crate::sonar::Scope;

/// How far SonarQube's clock may be behind Azure DevOps' before an analysis submitted "before"
/// the pipeline run started is held against it: the two servers' clocks are not the same clock.
pub(crate) const CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// What this build is.
#[derive(Clone, Debug, Default)]
pub(crate) struct Build<'a> {
    /// The pull request being built (`System.PullRequest.PullRequestId`), when it is one.
    pub(crate) pull_request: Option<u32>,
    /// The commits an analysis of this build may be of: the built merge commit
    /// (`Build.SourceVersion`) and the PR's source commit.
    pub(crate) commits: Vec<&'a str>,
    /// When the pipeline run started (`System.PipelineStartTime`), when the agent says.
    pub(crate) started: Option<SystemTime>,
}

/// What SonarQube says the analysis was of.
#[derive(Clone, Debug)]
pub(crate) struct Analysed<'a> {
    pub(crate) project_key: &'a str,
    pub(crate) task_id: &'a str,
    pub(crate) report_path: &'a str,
    pub(crate) scope: &'a Scope,
    pub(crate) revision: Option<&'a str>,
    /// When the scanner submitted it (`api/ce/task`'s `submittedAt`).
    pub(crate) submitted_at: Option<&'a str>,
}

/// `Some(why)` when the analysis is of another pull request or another commit than this build's.
/// A fact SonarQube does not give (a revision on an old server) is not held against it.
pub(crate) fn not_this_build(a: &Analysed<'_>, build: &Build<'_>) -> Option<String> {
    let fix = "No status is posted from it. Run the analysis step in this job before this task and make sure it succeeds, and clean the workspace between builds (checkout: clean: true, or delete the scanner's work folder) so an old report-task.txt cannot be picked up";
    if let (Scope::PullRequest(theirs), Some(ours)) = (a.scope, build.pull_request)
        && theirs.trim() != ours.to_string()
    {
        return Some(format!(
            "the analysis of '{}' (task {}) is of pull request {theirs}, but this build is for pull request {ours}: {} was not written by this build's scanner. {fix}",
            a.project_key, a.task_id, a.report_path
        ));
    }
    // A pull request analysis's revision is given by no web service: when it was submitted tells
    // an earlier build's analysis of the same pull request (a report-task.txt left on a
    // self-hosted agent by a build whose scanner ran, read by one whose scanner did not).
    if let (Some(submitted), Some(started)) = (a.submitted_at.and_then(parse_agent_time), build.started)
        && submitted + CLOCK_SKEW < started
    {
        return Some(format!(
            "the analysis of '{}' (task {}) was submitted to SonarQube at {}, before this pipeline run started: {} was not written by this build's scanner. {fix}",
            a.project_key,
            a.task_id,
            crate::text::visible(a.submitted_at.unwrap_or_default()),
            a.report_path
        ));
    }
    let revision = a.revision.map(str::trim).filter(|r| !r.is_empty())?;
    if build.commits.is_empty() || build.commits.iter().any(|c| c.eq_ignore_ascii_case(revision)) {
        return None;
    }
    let built = match build.commits.as_slice() {
        [merge, source, ..] => format!("{merge} (or its source commit {source})"),
        [one] => one.to_string(),
        [] => String::new(),
    };
    Some(format!(
        "the analysis of '{}' (task {}) is of commit {revision}, but this build analysed {built}: {} was not written by this build's scanner. {fix}",
        a.project_key, a.task_id, a.report_path
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysed<'a>(scope: &'a Scope, revision: Option<&'a str>) -> Analysed<'a> {
        Analysed { project_key: "shop", task_id: "T1", report_path: "/s/.scannerwork/report-task.txt", scope, revision, submitted_at: None }
    }

    #[test]
    fn a_pull_request_analysis_submitted_before_the_pipeline_run_started_is_refused() {
        let scope = Scope::PullRequest("42".into());
        let build = Build { pull_request: Some(42), commits: vec!["aaaa"], started: parse_agent_time("2026-12-03 10:00:00+00:00") };
        let at = |submitted: &'static str| Analysed { submitted_at: Some(submitted), ..analysed(&scope, None) };
        let why = not_this_build(&at("2026-12-02T18:00:00+0000"), &build).unwrap();
        assert!(
            why.starts_with("the analysis of 'shop' (task T1) was submitted to SonarQube at 2026-12-02T18:00:00+0000, before this pipeline run started: /s/.scannerwork/report-task.txt was not written by this build's scanner. No status is posted from it."),
            "{why}"
        );
        assert!(not_this_build(&at("2026-12-03T09:50:00+0000"), &build).is_none(), "within the clocks' skew");
        assert!(not_this_build(&at("2026-12-03T10:05:00+0000"), &build).is_none());
        assert!(not_this_build(&at("not a date"), &build).is_none(), "an unreadable time is not held against it");
        assert!(not_this_build(&at("2026-12-02T18:00:00+0000"), &Build { started: None, ..build.clone() }).is_none());
    }

    #[test]
    fn another_pull_requests_analysis_is_refused() {
        let build = Build { pull_request: Some(42), commits: vec![], started: None };
        let why = not_this_build(&analysed(&Scope::PullRequest("41".into()), None), &build).unwrap();
        assert!(why.starts_with("the analysis of 'shop' (task T1) is of pull request 41, but this build is for pull request 42: /s/.scannerwork/report-task.txt was not written by this build's scanner. No status is posted from it."), "{why}");
        assert!(not_this_build(&analysed(&Scope::PullRequest("42".into()), None), &build).is_none());
    }

    #[test]
    fn another_commits_analysis_is_refused_when_sonarqube_names_the_revision() {
        let build = Build { pull_request: Some(42), commits: vec!["aaaa", "bbbb"], started: None };
        assert!(not_this_build(&analysed(&Scope::Main, Some("AAAA")), &build).is_none());
        assert!(not_this_build(&analysed(&Scope::Main, Some("bbbb")), &build).is_none());
        assert!(not_this_build(&analysed(&Scope::Main, None), &build).is_none(), "an unknown revision is not held against it");
        let why = not_this_build(&analysed(&Scope::Main, Some("cccc")), &build).unwrap();
        assert!(why.contains("is of commit cccc, but this build analysed aaaa (or its source commit bbbb):"), "{why}");
        assert!(not_this_build(&analysed(&Scope::Main, Some("cccc")), &Build::default()).is_none(), "nothing to compare with");
    }
}
