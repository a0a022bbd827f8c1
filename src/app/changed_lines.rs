//! Where the pull request's changed lines come from: Azure DevOps (which works with the shallow
//! clones pipelines make by default), else the local clone when it has the history.

use crate::azdo::AzdoClient;
use crate::azdo::model::{ChangeEntry, Iteration};
use crate::changes::{ChangesUnknown, PrChanges};
use crate::error::Error;
use crate::git::GitDeadline;
use crate::pipeline::Log;

/// What is needed to read the changes of one iteration.
pub(crate) struct ChangesQuery<'a> {
    pub(crate) iteration: Option<&'a Iteration>,
    /// The iteration's files, as Azure DevOps listed them (or why it could not).
    pub(crate) files: &'a Result<Vec<ChangeEntry>, ChangesUnknown>,
    /// The commit the pipeline analysed, when it is not the source commit (a PR build's merge).
    pub(crate) analysed_commit: Option<&'a str>,
    /// The local clone to fall back on.
    pub(crate) checkout: &'a std::path::Path,
    /// When git in the local clone is stopped.
    pub(crate) git_deadline: GitDeadline<'a>,
}

pub(crate) fn pr_changes(client: &AzdoClient, q: &ChangesQuery<'_>, log: &Log) -> Result<PrChanges, ChangesUnknown> {
    let it = q.iteration.ok_or(ChangesUnknown::NoIteration)?;
    let (Some(source), Some(base)) = (it.source_ref_commit.as_ref(), it.common_ref_commit.as_ref()) else {
        return Err(ChangesUnknown::NoCommits(it.id));
    };
    let (source, base) = (source.commit_id.as_str(), base.commit_id.as_str());
    let analysed = q.analysed_commit.filter(|c| !c.eq_ignore_ascii_case(source));
    let from_api = || -> Result<PrChanges, ChangesUnknown> {
        let entries = q.files.as_ref().map_err(Clone::clone)?;
        let files: Vec<(String, Option<String>)> = entries
            .iter()
            .filter(|e| !e.is_delete() && !e.item.is_folder)
            .filter_map(|e| Some((e.item.path.clone()?, e.original_path.clone())))
            .collect();
        let (pr_diffs, merge) = crate::parallel::scope(|s| {
            let merge = s.start(|| match analysed {
                Some(m) => client.file_diffs(source, m, &files.iter().map(|(p, _)| (p.clone(), None)).collect::<Vec<_>>()),
                None => Ok(Default::default()),
            });
            (client.file_diffs(base, source, &files), merge.wait())
        });
        let text = |e: Error| ChangesUnknown::ReadFailed(e.to_string());
        Ok(PrChanges { pr: pr_diffs.map_err(text)?, merge: merge.map_err(text)? })
    };
    match from_api() {
        Ok(c) => {
            log.info(&format!("The pull request changes {} file(s) (line diffs from Azure DevOps)", c.pr.len()));
            Ok(c)
        }
        Err(api_error) => {
            log.info(&format!(
                "Azure DevOps could not give the pull request's line diffs ({api_error}); reading them from the local clone"
            ));
            crate::git::from_git(q.checkout, base, source, analysed, &q.git_deadline)
                .inspect(|c| log.info(&format!("The pull request changes {} file(s) (line diffs from the local clone)", c.pr.len())))
                .map_err(|git| ChangesUnknown::NeitherSource { api: Box::new(api_error), git })
        }
    }
}
