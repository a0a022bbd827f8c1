//! The local clone: the pull request's line diffs from `git diff`, when Azure DevOps cannot give
//! them and the checkout has the history (pipelines fetch shallow by default, and then it has not).

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::changes::{LocalCloneError, PrChanges, parse_unified};

/// When git must be done, and the setting that gives it more time (for the message).
pub(crate) struct GitDeadline<'a> {
    pub(crate) at: Instant,
    pub(crate) more_time: &'a str,
}

/// The PR's changes from the local clone; git still running at the deadline is stopped.
pub(crate) fn from_git(
    repo: &Path,
    merge_base: &str,
    source: &str,
    analysed: Option<&str>,
    deadline: &GitDeadline<'_>,
) -> Result<PrChanges, LocalCloneError> {
    from_git_with("git", repo, merge_base, source, analysed, deadline)
}

/// [`from_git`] with the git program named: a parameter, so a test can name one that is missing.
fn from_git_with(
    program: &str,
    repo: &Path,
    merge_base: &str,
    source: &str,
    analysed: Option<&str>,
    &GitDeadline { at: deadline, more_time }: &GitDeadline<'_>,
) -> Result<PrChanges, LocalCloneError> {
    let started = Instant::now();
    let git = |args: &[&str]| run(program, repo, args, deadline);
    let common = |e: Git| match e {
        Git::NotStarted(why) => LocalCloneError::GitNotStarted(why),
        Git::Stopped(command) => {
            let after_secs = (started.elapsed().as_millis() as u64).div_ceil(1000);
            LocalCloneError::GitStopped { command, after_secs, more_time: more_time.to_string() }
        }
        Git::Failed(why) => LocalCloneError::GitFailed(why),
    };
    for commit in [Some(merge_base), Some(source), analysed].into_iter().flatten() {
        git(&["cat-file", "-e", &format!("{commit}^{{commit}}")]).map_err(|e| match e {
            // Not "the commit is missing": the user would fetch more history and still fail.
            Git::Failed(_) => LocalCloneError::MissingCommit(commit.to_string()),
            other => common(other),
        })?;
    }
    let diff = |from: &str, to: &str| git(&["diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "-M", from, to]).map_err(common);
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
    /// It was still running at the deadline and was stopped; the command.
    Stopped(String),
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

/// The most a git command's output is read: a diff of every line of a large repository is tens of
/// MiB; past this the clone is not one a pull request's diff can come from.
const MAX_OUTPUT_BYTES: u64 = 256 * 1024 * 1024;

/// Runs one git command to its end or to `deadline`, when it is killed. Its output goes to
/// unnamed temporary files rather than pipes: nothing has to read while it runs (no reader thread,
/// which the system may refuse), and a diff larger than a pipe's buffer cannot stall it.
fn run(program: &str, repo: &Path, args: &[&str], deadline: Instant) -> Result<String, Git> {
    let command_line = format!("git {}", args.join(" "));
    if Instant::now() >= deadline {
        return Err(Git::Stopped(command_line));
    }
    let mut command = std::process::Command::new(program);
    command.env_clear();
    for name in GIT_ENVIRONMENT {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let not_started = |e: std::io::Error| Git::NotStarted(e.to_string());
    let (mut stdout, mut stderr) = (tempfile::tempfile().map_err(not_started)?, tempfile::tempfile().map_err(not_started)?);
    let mut child = command
        .args(GIT_OVERRIDES)
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(stdout.try_clone().map_err(not_started)?)
        .stderr(stderr.try_clone().map_err(not_started)?)
        .spawn()
        .map_err(not_started)?;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            // Past the deadline, or the child cannot be waited for: it is stopped either way.
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Git::Stopped(command_line));
            }
        }
    };
    let read = |file: &mut std::fs::File| -> String {
        let mut bytes = Vec::new();
        let _ = file.rewind().and_then(|()| file.take(MAX_OUTPUT_BYTES).read_to_end(&mut bytes));
        String::from_utf8_lossy(&bytes).into_owned()
    };
    if !status.success() {
        return Err(Git::Failed(format!("{command_line} failed: {}", crate::text::visible(read(&mut stderr).trim()))));
    }
    // Never a diff cut short: a partial diff would misplace every comment after the cut.
    if stdout.metadata().is_ok_and(|m| m.len() > MAX_OUTPUT_BYTES) {
        return Err(Git::Failed(format!("{command_line} printed more than {} MiB", MAX_OUTPUT_BYTES >> 20)));
    }
    Ok(read(&mut stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without git the message says so, instead of sending the user to fetch more history.
    #[test]
    fn a_missing_git_is_named_not_taken_for_a_shallow_clone() {
        let dir = std::env::temp_dir();
        let later = GitDeadline { at: Instant::now() + Duration::from_secs(60), more_time: "pollingTimeoutSec" };
        let err = from_git_with("sonar-pr-gate-no-such-git", &dir, "a", "b", None, &later).unwrap_err().to_string();
        assert!(err.starts_with("git could not be started ("), "{err}");
        assert!(err.ends_with("put Git on the agent's PATH (on Windows agents, Git for Windows)"), "{err}");
    }
}
