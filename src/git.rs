//! The local clone: the pull request's line diffs from `git diff`, when Azure DevOps cannot give
//! them and the checkout has the history (pipelines fetch shallow by default, and then it has not).

use std::collections::BTreeMap;
use std::path::Path;

use crate::changes::{LocalCloneError, PrChanges, parse_unified};

/// The PR's changes from the local clone.
pub(crate) fn from_git(repo: &Path, merge_base: &str, source: &str, analysed: Option<&str>) -> Result<PrChanges, LocalCloneError> {
    from_git_with("git", repo, merge_base, source, analysed)
}

/// [`from_git`] with the git program named: a parameter, so a test can name one that is missing.
fn from_git_with(program: &str, repo: &Path, merge_base: &str, source: &str, analysed: Option<&str>) -> Result<PrChanges, LocalCloneError> {
    let git = |args: &[&str]| run(program, repo, args);
    for commit in [Some(merge_base), Some(source), analysed].into_iter().flatten() {
        git(&["cat-file", "-e", &format!("{commit}^{{commit}}")]).map_err(|e| match e {
            // Not "the commit is missing": the user would fetch more history and still fail.
            Git::NotStarted(why) => LocalCloneError::GitNotStarted(why),
            Git::Failed(_) => LocalCloneError::MissingCommit(commit.to_string()),
        })?;
    }
    let diff = |from: &str, to: &str| {
        git(&["diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "-M", from, to]).map_err(|e| match e {
            Git::NotStarted(why) => LocalCloneError::GitNotStarted(why),
            Git::Failed(why) => LocalCloneError::GitFailed(why),
        })
    };
    let pr = parse_unified(&diff(merge_base, source)?);
    let merge = match analysed.filter(|a| *a != source) {
        Some(a) => parse_unified(&diff(source, a)?),
        None => BTreeMap::new(),
    };
    Ok(PrChanges { pr, merge })
}

/// How a git command went wrong.
enum Git {
    /// The program could not be started (not installed, not on PATH).
    NotStarted(String),
    /// It ran and failed; its error output.
    Failed(String),
}

/// What git gets of the task's environment: enough to find and run it (Git for Windows needs
/// `SYSTEMROOT`), never a credential. The job token, the SonarQube token and the task's inputs stay
/// out, and so do `GIT_DIR` and the like: anything in the clone that runs code (a driver an earlier
/// build step planted) would see them.
const GIT_ENVIRONMENT: [&str; 11] =
    ["PATH", "HOME", "USERPROFILE", "SYSTEMROOT", "WINDIR", "TMPDIR", "TEMP", "TMP", "LANG", "LC_ALL", "LC_CTYPE"];

/// Configuration in the clone that would run a program is overridden: the file system monitor and
/// hooks (textconv and external diff drivers are turned off by the diff's own options).
const GIT_OVERRIDES: [&str; 4] = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"];

fn run(program: &str, repo: &Path, args: &[&str]) -> Result<String, Git> {
    let mut command = std::process::Command::new(program);
    command.env_clear();
    for name in GIT_ENVIRONMENT {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let out = command.args(GIT_OVERRIDES).arg("-C").arg(repo).args(args).output().map_err(|e| Git::NotStarted(e.to_string()))?;
    if !out.status.success() {
        return Err(Git::Failed(format!(
            "git {} failed: {}",
            args.join(" "),
            crate::text::visible(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without git the message says so, instead of sending the user to fetch more history.
    #[test]
    fn a_missing_git_is_named_not_taken_for_a_shallow_clone() {
        let dir = std::env::temp_dir();
        let err = from_git_with("sonar-pr-gate-no-such-git", &dir, "a", "b", None).unwrap_err().to_string();
        assert!(err.starts_with("git could not be started ("), "{err}");
        assert!(err.ends_with("put Git on the agent's PATH (on Windows agents, Git for Windows)"), "{err}");
    }
}
