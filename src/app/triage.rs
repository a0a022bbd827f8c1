//! `syncResolutions: toSonarQube`: reviewers' Won't fix / By design resolutions of this task's
//! threads marked in SonarQube (which resolutions: `decide::triage`), each with a SonarQube comment
//! naming who resolved it and linking the thread; then the pull request's gate is read again as
//! SonarQube holds it now, so the status and summary this run posts already count them. A token
//! without 'Administer Issues' is said, never a failure of the run.

use crate::azdo::model::{Identity, Thread};
use crate::decide::triage::{Rules, Sync, triage};
use crate::error::Error;
use crate::parallel;
use crate::pipeline::Log;
use crate::settings::{PullRequestTarget, Settings};
use crate::sonar::analysis::Synced;
use crate::sonar::client::Dismissed;
use crate::sonar::collect::SUMMARY_METRICS;
use crate::sonar::{Analysis, AnalysisOutcome, SonarClient};

/// The pull request's side of the triage.
pub(super) struct PullRequestSide<'a> {
    pub(super) target: &'a PullRequestTarget,
    pub(super) threads: &'a [Thread],
    pub(super) me: &'a str,
    pub(super) author: Option<&'a Identity>,
}

/// Carries the resolutions over for every analysis whose issues were read.
pub(super) fn carry_over(settings: &Settings, sonar: &SonarClient, pr: &PullRequestSide<'_>, analyses: &mut [Analysis], log: &Log) {
    let rules = Rules { me: pr.me, author: pr.author, allow_author_resolutions: settings.decoration.allow_author_resolutions };
    for analysis in analyses.iter_mut() {
        let key = analysis.project_key().to_string();
        let scope = analysis.scope.clone();
        let AnalysisOutcome::Completed(done) = &mut analysis.outcome else { continue };
        let Some(issues) = done.issues.read() else { continue };
        let open: Vec<&str> = issues.issues.iter().map(|i| i.key.as_str()).collect();
        let decided = triage(pr.threads, &key, &open, &rules);
        for kept in &decided.kept {
            log.info(&format!("Not marked in SonarQube: issue {} of '{key}': {}", kept.issue_key, kept.why));
        }
        let synced = mark_all(settings, sonar, pr, &key, &decided.syncs, log);
        if synced.iter().any(|s| !s.dry_run) {
            // SonarQube re-evaluated the pull request's gate: read it as it is now.
            let (gate, measures) = parallel::scope(|s| {
                let measures = s.start(|| sonar.measures(&key, &scope, &SUMMARY_METRICS));
                (sonar.project_status(None, &key, &scope), measures.wait())
            });
            match (gate, measures) {
                (Ok(gate), Ok(measures)) => {
                    done.gate = gate;
                    done.measures = measures.or(done.measures.take());
                }
                (Err(e), _) | (_, Err(e)) => log.warning(&format!(
                    "the quality gate of '{key}' could not be read again after marking issues in SonarQube ({e}); the result posted is the analysis's, and the next run counts them"
                )),
            }
            let gone: Vec<&str> = synced.iter().filter(|s| !s.dry_run).map(|s| s.issue_key.as_str()).collect();
            if let crate::sonar::Issues::Read(set) = &mut done.issues {
                let before = set.issues.len();
                set.issues.retain(|i| !gone.contains(&i.key.as_str()));
                set.total = set.total.saturating_sub((before - set.issues.len()) as u64);
            }
        }
        done.synced = synced;
    }
}

/// Marks each issue, or says what a dry run would; stops at the first refusal of the token.
fn mark_all(settings: &Settings, sonar: &SonarClient, pr: &PullRequestSide<'_>, key: &str, syncs: &[Sync], log: &Log) -> Vec<Synced> {
    let mut synced = Vec::new();
    for (n, sync) in syncs.iter().enumerate() {
        let record = |became, dry_run| Synced {
            issue_key: sync.issue_key.clone(),
            became,
            resolver: sync.resolver.clone(),
            status: sync.status,
            dry_run,
        };
        let became = match sync.dismissal {
            crate::sonar::model::Dismissal::Accepted => "accepted",
            crate::sonar::model::Dismissal::FalsePositive => "false positive",
        };
        if settings.dry_run {
            log.info(&format!(
                "Dry run: would mark issue {} of '{key}' as {became} in SonarQube ({} resolved it as {})",
                sync.issue_key, sync.resolver, sync.status
            ));
            synced.push(record(became, true));
            continue;
        }
        match mark(sonar, pr, sync) {
            Ok(Dismissed::Done(transition)) => {
                let became = if transition == "wontfix" { "won't fix" } else { became };
                log.info(&format!(
                    "Marked issue {} of '{key}' as {became} in SonarQube: {} resolved its thread as {}",
                    sync.issue_key, sync.resolver, sync.status
                ));
                synced.push(record(became, false));
            }
            Ok(Dismissed::Forbidden) => {
                log.warning(&format!(
                    "the SonarQube token may not change the issues of '{key}': {} reviewer resolution(s) not marked in SonarQube. Marking an issue needs 'Administer Issues' on the project: give it to the token's account, or set {} to none",
                    syncs.len() - n,
                    settings.names.sync_resolutions
                ));
                break;
            }
            Err(e) => log.warning(&format!("issue {} of '{key}' could not be marked in SonarQube: {e}", sync.issue_key)),
        }
    }
    synced
}

/// The transition, then the comment that says who and where.
fn mark(sonar: &SonarClient, pr: &PullRequestSide<'_>, sync: &Sync) -> Result<Dismissed, Error> {
    let done = sonar.dismiss_issue(&sync.issue_key, sync.dismissal)?;
    if let Dismissed::Done(_) = done {
        let repo = &pr.target.repository;
        let thread_url = format!(
            "{}/{}/_git/{}/pullrequest/{}?discussionId={}",
            repo.collection_url.trim_end_matches('/'),
            crate::net::url::encode(&repo.project),
            crate::net::url::encode(&repo.repository),
            pr.target.id,
            sync.thread_id
        );
        let text = format!(
            "Resolved as {} by {} in [pull request {}]({thread_url}) (Azure DevOps); marked here by sonar-pr-gate.",
            sync.status,
            crate::text::visible(&sync.resolver),
            pr.target.id
        );
        sonar.comment_issue(&sync.issue_key, &text)?;
    }
    Ok(done)
}
