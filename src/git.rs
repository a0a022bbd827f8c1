//! The local clone: the pull request's line diffs from `git diff`, when Azure DevOps cannot give
//! them and the checkout has the history (pipelines fetch shallow by default, and then it has not).

use std::collections::BTreeMap;
use std::path::Path;

use crate::changes::{PrChanges, parse_unified};

/// The PR's changes from the local clone.
pub fn from_git(repo: &Path, merge_base: &str, source: &str, analysed: Option<&str>) -> Result<PrChanges, String> {
    for commit in [Some(merge_base), Some(source), analysed].into_iter().flatten() {
        git(repo, &["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .map_err(|_| format!("commit {commit} is not in the local clone (a shallow fetch keeps only the built commit)"))?;
    }
    let pr = parse_unified(&git(repo, &["diff", "-U0", "--no-color", "--no-ext-diff", "-M", merge_base, source])?);
    let merge = match analysed.filter(|a| *a != source) {
        Some(a) => parse_unified(&git(repo, &["diff", "-U0", "--no-color", "--no-ext-diff", "-M", source, a])?),
        None => BTreeMap::new(),
    };
    Ok(PrChanges { pr, merge })
}

fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("git").arg("-C").arg(repo).args(args).output().map_err(|e| format!("git could not run: {e}"))?;
    if !out.status.success() {
        return Err(format!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
