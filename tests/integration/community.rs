//! Pull request decoration for SonarQube Community Build: the analysis of the merge commit is
//! scoped by the task to the lines the PR changed, with a real git repository built here (main, a
//! PR branch, the target branch changing a file the PR touches, and the merge commit checked out as
//! pipelines do) and the fake Azure DevOps computing iteration changes and line diffs from it.

use std::path::{Path, PathBuf};
use std::process::Command;

use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};

use crate::util::*;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-11-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-01T10:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn lines(prefix: &str, n: usize) -> String {
    (1..=n).map(|i| format!("{prefix} {i}\n")).collect()
}

struct Repo {
    dir: PathBuf,
    base: String,
    source: String,
    merge: String,
}

/// A monorepo with the analysed project in `app/`: the PR changes lines 20–22 of A.java and adds
/// C.java; meanwhile main inserts 5 lines at the top of A.java; the build checks out the merge.
fn build_repo(root: &Path) -> Repo {
    let dir = root.join("repo");
    std::fs::create_dir_all(dir.join("app/src")).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["config", "user.email", "dev@fabrikam.example"]);
    git(&dir, &["config", "user.name", "Dev"]);
    std::fs::write(dir.join("app/src/A.java"), lines("line", 40)).unwrap();
    std::fs::write(dir.join("app/src/B.java"), lines("b", 20)).unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    let base = git(&dir, &["rev-parse", "HEAD"]);

    git(&dir, &["checkout", "-q", "-b", "feature"]);
    let a: Vec<String> = lines("line", 40).lines().map(|l| l.to_string()).collect();
    let mut changed = a.clone();
    for (i, line) in changed.iter_mut().enumerate().take(22).skip(19) {
        *line = format!("changed {}", i + 1);
    }
    std::fs::write(dir.join("app/src/A.java"), changed.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("app/src/C.java"), lines("new", 10)).unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "feature"]);
    let source = git(&dir, &["rev-parse", "HEAD"]);

    git(&dir, &["checkout", "-q", "main"]);
    std::fs::write(dir.join("app/src/A.java"), lines("target", 5) + &lines("line", 40)).unwrap();
    git(&dir, &["commit", "-q", "-am", "main moves on"]);

    // What a PR build checks out: the merge of the source branch into the target.
    git(&dir, &["checkout", "-q", "--detach", "main"]);
    git(&dir, &["merge", "-q", "--no-ff", "feature", "-m", "Merge pull request 7 from feature into main"]);
    let merge = git(&dir, &["rev-parse", "HEAD"]);
    Repo { dir, base, source, merge }
}

/// Community Build analysed the merge commit; the issues sit on merge-commit lines.
fn community_analysis() -> AnalysisSpec {
    let mut a = AnalysisSpec::new("T1", "shop");
    a.issues = vec![
        // Merge line 26 is source line 21, which the PR changed.
        IssueSpec::new("on-changed", "src/A.java", 26, "MAJOR", "Changed line has an issue"),
        // Merge line 10 is source line 5: untouched by the PR.
        IssueSpec::new("untouched", "src/A.java", 10, "CRITICAL", "Old code"),
        // Merge line 3 came from main: it has no source line.
        IssueSpec::new("from-target", "src/A.java", 3, "MINOR", "Target branch line"),
        // A new file; SonarQube on Windows agents writes backslashes.
        IssueSpec::new("new-file", "src\\C.java", 4, "MINOR", "New file issue"),
        // A file the PR did not touch.
        IssueSpec::new("other-file", "src/B.java", 5, "BLOCKER", "Elsewhere"),
    ];
    // Coverage of the merge commit's lines: merge lines 25–27 are the PR's 20–22; 3 came from main
    // and 10 is untouched. C.java is new: 1–6 covered, 7–8 not, 9–10 not code.
    a.new_lines = vec![
        (
            "src/A.java".into(),
            vec![(3, Some(0), None), (10, Some(0), None), (25, Some(1), None), (26, Some(0), None), (27, Some(2), Some((1, 2)))],
        ),
        (
            "src/C.java".into(),
            (1..=10)
                .map(|l| {
                    (
                        l,
                        if l <= 6 {
                            Some(1)
                        } else if l <= 8 {
                            Some(0)
                        } else {
                            None
                        },
                        None,
                    )
                })
                .collect(),
        ),
    ];
    a
}

fn scenario(sources: &Path, repo: &Repo, api_repo: Option<&Path>) -> (sandbox::Sandbox, TaskEnv) {
    let sb = sandbox::Sandbox::start(Flavour::Community);
    {
        let mut st = sb.azdo_state();
        st.add_pull_request(PR, &[(1, &repo.source)]);
        st.pull_requests[0].common_commit = repo.base.clone();
        st.repo_dir = api_repo.map(Path::to_path_buf);
    }
    sb.sonar_state().analyses.push(community_analysis());
    let mut env = TaskEnv::new(&sb);
    env.set("BUILD_SOURCESDIRECTORY", &sources.display().to_string())
        .set("BUILD_SOURCEVERSION", &repo.merge)
        .set("SYSTEM_PULLREQUEST_SOURCECOMMITID", &repo.source);
    let report = sources.join("app/.scannerwork/report-task.txt");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    std::fs::write(
        &report,
        format!("projectKey=shop\nserverUrl={u}\ndashboardUrl={u}/dashboard?id=shop\nceTaskId=T1\n", u = sb.sonar_url()),
    )
    .unwrap();
    (sb, env)
}

fn inline_threads(sb: &sandbox::Sandbox) -> Vec<(String, String, u64)> {
    let st = sb.azdo_state();
    let mut out: Vec<(String, String, u64)> = st
        .pull_request(PR)
        .threads
        .iter()
        .filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue")
        .map(|t| {
            (
                t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str().unwrap().to_string(),
                t["threadContext"]["filePath"].as_str().unwrap().to_string(),
                t["threadContext"]["rightFileStart"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

const EXPECTED: [(&str, &str, u64); 2] = [("new-file", "/app/src/C.java", 4), ("on-changed", "/app/src/A.java", 21)];

#[test]
fn comments_land_on_the_lines_the_pr_changed_mapped_from_the_merge_commit() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let (sb, env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("Matching the issues of 'shop' to the pull request: scoped to the lines the pull request changed, because Community Build cannot analyse pull requests"), "{}", run.stdout);
    assert!(run.stdout.contains("The pull request changes 2 file(s) (line diffs from Azure DevOps)"), "{}", run.stdout);
    let expected: Vec<(String, String, u64)> = EXPECTED.iter().map(|(k, p, l)| (k.to_string(), p.to_string(), *l)).collect();
    assert_eq!(inline_threads(&sb), expected);

    let st = sb.azdo_state();
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(text.contains("- [2 issues on lines this pull request changed]("), "{text}");
    assert!(text.contains("): 1 Medium, 1 Low\n"), "{text}");
    assert!(text.contains("- 1 more issue in changed files on lines that exist only in the merge commit"), "{text}");
    assert!(text.contains("SonarQube analysed the main branch as a whole, not this pull request alone"), "{text}");
    drop(st);
    // Community Build was never asked about pull requests; Azure DevOps was asked for the diffs.
    assert!(sb.sonar_server.requests().iter().all(|r| r.query("pullRequest").is_none()));
    let endpoints: Vec<String> = sb.azdo_server.requests().iter().map(|r| r.endpoint()).collect();
    assert!(endpoints.iter().any(|e| e.ends_with("/iterations/1/changes")), "{endpoints:?}");
    assert_eq!(endpoints.iter().filter(|e| e.ends_with("/FileDiffs")).count(), 2, "merge base..source, and source..merge");
}

/// The summary a reviewer reads when Community Build's branch analysis is scoped to the lines the
/// pull request changed: what counts for the pull request, and what for the whole project.
#[test]
fn the_changed_lines_summary_says_what_counts_for_the_pull_request() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let (sb, env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    sb.sonar_state().server_base_url = Some(sandbox::demo::PUBLIC_BASE_URL.into());
    sb.sonar_state().analyses[0].hotspots = 2;
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let st = sb.azdo_state();
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    crate::golden::assert_golden("summary-changed-lines.md", summary["comments"][0]["content"].as_str().unwrap());
}

#[test]
fn a_shallow_checkout_works_through_the_api() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let shallow = root.path().join("shallow");
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--no-local"])
        .arg(format!("file://{}", repo.dir.display()))
        .arg(&shallow)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (sb, env) = scenario(&shallow, &repo, Some(&repo.dir));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let expected: Vec<(String, String, u64)> = EXPECTED.iter().map(|(k, p, l)| (k.to_string(), p.to_string(), *l)).collect();
    assert_eq!(inline_threads(&sb), expected);
}

#[test]
fn local_git_is_used_when_the_api_cannot_give_line_diffs() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    // The fake has no repository: its iteration changes and FileDiffs answer 404.
    let (sb, env) = scenario(&repo.dir, &repo, None);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("reading them from the local clone"), "{}", run.stdout);
    assert!(run.stdout.contains("The pull request changes 2 file(s) (line diffs from the local clone)"), "{}", run.stdout);
    let expected: Vec<(String, String, u64)> = EXPECTED.iter().map(|(k, p, l)| (k.to_string(), p.to_string(), *l)).collect();
    assert_eq!(inline_threads(&sb), expected);
}

/// An earlier build step can write to the clone. A textconv driver in `.gitattributes` and
/// `.git/config`, an external diff driver and a file system monitor planted there never run, and
/// git itself (a wrapper first on PATH records what it was given) gets no credential.
#[test]
fn drivers_planted_in_the_clone_never_run_and_git_gets_no_credential() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let executable = |path: &Path, text: String| {
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let ran = root.path().join("driver-ran.txt");
    let driver = root.path().join("driver.sh");
    executable(&driver, format!("#!/bin/sh\nenv >> '{}'\ncat \"$1\" 2>/dev/null\n", ran.display()));
    std::fs::write(repo.dir.join(".gitattributes"), "* diff=planted\n").unwrap();
    let driver_path = driver.display().to_string();
    git(&repo.dir, &["config", "diff.planted.textconv", &driver_path]);
    git(&repo.dir, &["config", "diff.external", &driver_path]);
    git(&repo.dir, &["config", "core.fsmonitor", &driver_path]);
    let real_git = String::from_utf8(Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout).unwrap();
    let wrapper_dir = root.path().join("bin");
    std::fs::create_dir_all(&wrapper_dir).unwrap();
    let seen = root.path().join("git-saw.txt");
    executable(
        &wrapper_dir.join("git"),
        format!("#!/bin/sh\n{{ echo \"args: $*\"; env; }} >> '{}'\nexec '{}' \"$@\"\n", seen.display(), real_git.trim()),
    );
    let (sb, mut env) = scenario(&repo.dir, &repo, None);
    env.set("PATH", &format!("{}:/usr/local/bin:/usr/bin:/bin", wrapper_dir.display()));
    env.set("SYSTEM_ACCESSTOKEN", sandbox::JOB_TOKEN);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("The pull request changes 2 file(s) (line diffs from the local clone)"), "{}", run.stdout);
    let expected: Vec<(String, String, u64)> = EXPECTED.iter().map(|(k, p, l)| (k.to_string(), p.to_string(), *l)).collect();
    assert_eq!(inline_threads(&sb), expected);
    assert!(!ran.exists(), "a planted driver ran:\n{}", std::fs::read_to_string(&ran).unwrap_or_default());
    let seen = std::fs::read_to_string(&seen).expect("the task ran git through the wrapper");
    let diffs: Vec<&str> = seen.lines().filter(|l| l.starts_with("args: ") && l.contains(" diff ")).collect();
    assert_eq!(diffs.len(), 2, "the PR's diff and the merge commit's: {seen}");
    for line in diffs {
        assert!(line.starts_with("args: -c core.fsmonitor=false -c core.hooksPath=/dev/null -C "), "{line}");
        assert!(line.contains(" diff -U0 --no-color --no-ext-diff --no-textconv -M "), "{line}");
    }
    for secret in [sandbox::SONAR_TOKEN, sandbox::JOB_TOKEN] {
        assert!(!seen.contains(secret), "git was given a credential:\n{seen}");
    }
    for name in ["INPUT_", "ENDPOINT_", "SYSTEM_ACCESSTOKEN", "GIT_DIR"] {
        assert!(!seen.lines().any(|l| l.starts_with(name)), "git was given {name}…:\n{seen}");
    }
}

/// A `git diff` that never ends (a huge clone, a stalled network file system; here a wrapper
/// first on PATH that sleeps instead) is stopped at the local clone's deadline, pollingTimeoutSec
/// here: the run still posts its status and summary, without inline comments, and says which
/// command was stopped and what gives it more time.
#[test]
fn a_git_diff_that_never_ends_is_stopped_and_the_results_are_still_posted() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let real_git = String::from_utf8(Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout).unwrap();
    let wrapper_dir = root.path().join("bin");
    std::fs::create_dir_all(&wrapper_dir).unwrap();
    let wrapper = wrapper_dir.join("git");
    let script = format!("#!/bin/sh\ncase \" $* \" in *\" diff \"*) exec sleep 600 ;; esac\nexec '{}' \"$@\"\n", real_git.trim());
    std::fs::write(&wrapper, script).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (sb, mut env) = scenario(&repo.dir, &repo, None);
    env.set("PATH", &format!("{}:/usr/local/bin:/usr/bin:/bin", wrapper_dir.display()));
    env.set("INPUT_POLLINGTIMEOUTSEC", "3");
    let started = std::time::Instant::now();
    let run = env.run();
    let took = started.elapsed();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let warning = run
        .issues("warning")
        .into_iter()
        .find(|w| w.starts_with("the lines this pull request changed could not be read (Azure DevOps:"))
        .unwrap_or_else(|| panic!("no warning about the changed lines:\n{}", run.all()));
    assert!(warning.contains("local clone: git diff -U0 --no-color --no-ext-diff --no-textconv -M "), "{warning}");
    // pollingTimeoutSec (3 s) after the deadline was set; the figure itself depends on the machine.
    assert!(warning.contains(" was still running after "), "{warning}");
    assert!(
        warning.contains(" s and was stopped: the local clone gets at most pollingTimeoutSec, ending 30 s before the run's own limit so the results can still be posted. Raise pollingTimeoutSec to give it longer"),
        "{warning}"
    );
    assert!(inline_threads(&sb).is_empty());
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    assert_eq!(pr.statuses.len(), 1, "the status is still posted");
    assert_eq!(pr.threads.iter().filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").count(), 1);
    // 3 s for git and the rest of the run, with room for a loaded machine; not the 600 s of the
    // sleep, nor the run's own limit of 123 s.
    assert!(took < std::time::Duration::from_secs(40) * slowdown(), "the run took {took:?}");
}

#[test]
fn with_neither_the_api_nor_history_there_are_no_inline_comments_and_a_clear_warning() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let empty = root.path().join("no-git");
    std::fs::create_dir_all(&empty).unwrap();
    let (sb, env) = scenario(&empty, &repo, None);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded");
    assert!(
        run.issues("warning").iter().any(|w| w.starts_with("the lines this pull request changed could not be read (Azure DevOps:")),
        "{:?}",
        run.issues("warning")
    );
    assert!(inline_threads(&sb).is_empty());
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1, "the status is still posted");
}

/// The repository of `build_repo` with `extra` more files added on the PR branch, merged again.
fn with_more_files(mut repo: Repo, extra: usize) -> Repo {
    git(&repo.dir, &["checkout", "-q", "feature"]);
    for n in 0..extra {
        std::fs::write(repo.dir.join(format!("app/src/Gen{n}.java")), lines("gen", 5)).unwrap();
    }
    git(&repo.dir, &["add", "."]);
    git(&repo.dir, &["commit", "-q", "-m", "more files"]);
    repo.source = git(&repo.dir, &["rev-parse", "HEAD"]);
    git(&repo.dir, &["checkout", "-q", "--detach", "main"]);
    git(&repo.dir, &["merge", "-q", "--no-ff", "feature", "-m", "Merge pull request 7"]);
    repo.merge = git(&repo.dir, &["rev-parse", "HEAD"]);
    repo
}

/// What a new YAML pipeline checks out: the merge commit alone (`fetchDepth: 1`).
fn shallow_clone(repo: &Repo, root: &Path) -> PathBuf {
    let shallow = root.join("shallow");
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--no-local"])
        .arg(format!("file://{}", repo.dir.display()))
        .arg(&shallow)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(git(&shallow, &["rev-parse", "HEAD"]), repo.merge);
    assert!(Command::new("git").arg("-C").arg(&shallow).args(["cat-file", "-e", &repo.source]).output().unwrap().status.code() != Some(0));
    shallow
}

#[test]
fn a_shallow_checkout_of_a_pr_of_more_than_ten_files_is_decorated_through_the_api() {
    let root = tempfile::tempdir().unwrap();
    let repo = with_more_files(build_repo(root.path()), 23);
    let shallow = shallow_clone(&repo, root.path());
    let (sb, env) = scenario(&shallow, &repo, Some(&repo.dir));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("The pull request changes 25 file(s) (line diffs from Azure DevOps)"), "{}", run.stdout);
    // The merge-commit line 26 landed on the source line 21, as on a full clone.
    let expected: Vec<(String, String, u64)> = EXPECTED.iter().map(|(k, p, l)| (k.to_string(), p.to_string(), *l)).collect();
    assert_eq!(inline_threads(&sb), expected);
    let diffs: Vec<_> = sb.azdo_server.requests().into_iter().filter(|r| r.path().ends_with("/FileDiffs")).collect();
    assert_eq!(diffs.len(), 6, "25 files, 10 a request, merge base..source and source..merge");
    for r in &diffs {
        assert_eq!(r.query("api-version").as_deref(), Some("7.1-preview.1"));
        assert!((1..=10).contains(&r.json()["fileDiffParams"].as_array().unwrap().len()));
    }
    // Only the changed files' issues were asked for, so SonarQube's 10 000 cap cannot hide them.
    let issue_queries: Vec<String> =
        sb.sonar_server.requests().iter().filter(|r| r.path() == "/api/issues/search").map(|r| r.query("components").unwrap()).collect();
    assert_eq!(issue_queries.len(), 1, "{issue_queries:?}");
    assert!(
        issue_queries[0].split(',').all(|k| k.starts_with("shop:src/")) && issue_queries[0].contains("shop:src/A.java"),
        "{issue_queries:?}"
    );
    let st = sb.azdo_state();
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(
        text.contains(&format!("- [5 open issues in the whole project]({}/project/issues?id=shop&resolved=false)", sb.sonar_url())),
        "{text}"
    );
}

#[test]
fn a_server_without_file_diffs_falls_back_to_the_clone_and_says_what_is_lost_when_it_is_shallow() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    // A full clone: the local history gives the diffs.
    let (sb, env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    sb.azdo_state().file_diffs_supported = false;
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("this Azure DevOps Server does not offer the line-diff API (FileDiffs)"), "{}", run.stdout);
    assert!(run.stdout.contains("(line diffs from the local clone)"), "{}", run.stdout);
    assert_eq!(inline_threads(&sb).len(), 2);
    // A shallow clone: one warning names what was lost; the status and summary are still posted.
    let shallow = shallow_clone(&repo, root.path());
    let (sb, env) = scenario(&shallow, &repo, Some(&repo.dir));
    sb.azdo_state().file_diffs_supported = false;
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let warnings = run.issues("warning");
    let lost: Vec<&String> = warnings.iter().filter(|w| w.starts_with("the lines this pull request changed could not be read")).collect();
    assert_eq!(lost.len(), 1, "{warnings:?}");
    assert!(
        lost[0].contains("does not offer the line-diff API (FileDiffs)")
            && lost[0].contains("is not in the local clone")
            && lost[0].ends_with("'shop' gets a status and a summary but no inline comments"),
        "{}",
        lost[0]
    );
    assert!(inline_threads(&sb).is_empty());
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

#[test]
fn the_fakes_file_diffs_answers_as_the_service_does() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let (sb, env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    let url = |version: &str| {
        format!("{}Fabrikam%20Web/_apis/git/repositories/web/FileDiffs?api-version={version}", env.vars["SYSTEM_COLLECTIONURI"])
    };
    let post = |version: &str, files: usize, base: &str| {
        let params: Vec<serde_json::Value> =
            (0..files).map(|_| serde_json::json!({"path": "/app/src/A.java", "originalPath": "/app/src/A.java"})).collect();
        let mut resp = ureq::post(&url(version))
            .header("Authorization", &format!("Bearer {}", sandbox::JOB_TOKEN))
            .config()
            .http_status_as_error(false)
            .build()
            .send_json(serde_json::json!({"baseVersionCommit": base, "targetVersionCommit": repo.source, "fileDiffParams": params}))
            .unwrap();
        (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap())
    };
    let (status, body) = post("7.1", 1, &repo.base);
    assert_eq!(status, 400);
    assert!(body.contains("VssInvalidPreviewVersionException"), "{body}");
    let (status, body) = post("7.1-preview.1", 11, &repo.base);
    assert_eq!((status, body.contains("Number of file diffs requested must be between 1 and 10")), (400, true), "{body}");
    let (status, body) = post("7.1-preview.1", 1, "0000000000000000000000000000000000000000");
    assert_eq!((status, body.contains("GitUnresolvableToCommitException")), (404, true), "{body}");
    assert_eq!(post("7.1-preview.1", 10, &repo.base).0, 200);
    drop(sb);
}

#[test]
fn fail_on_new_issues_fails_the_status_and_the_task() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let (sb, mut env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    env.set("INPUT_FAILONNEWISSUES", "major");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert_eq!(run.issues("error"), ["'shop': 1 issue at or above Major on lines this pull request changed (failOnNewIssues)"]);
    let st = sb.azdo_state();
    let status = &st.pull_request(PR).statuses[0];
    assert_eq!(status["state"], "failed");
    assert_eq!(
        status["description"],
        "Failed: 1 issue at or above Major on lines this pull request changed (SonarQube's quality gate passed)"
    );
    // The summary says the same as the status: its heading fails and its thread stays active.
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    assert_eq!(summary["status"], "active");
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(
        text.starts_with("### ❌ Pull request gate failed for `shop`: 1 issue at or above Major on lines this pull request changed\n"),
        "{text}"
    );
    drop(st);
    // The critical issue is on an untouched line: "critical" lets the PR pass.
    let (sb2, mut env2) = scenario(&repo.dir, &repo, Some(&repo.dir));
    env2.set("INPUT_FAILONNEWISSUES", "critical");
    assert_eq!(env2.run().result(), "Succeeded");
    assert_eq!(sb2.azdo_state().pull_request(PR).statuses[0]["state"], "succeeded");
}

#[test]
fn rerunning_after_a_fix_resolves_the_thread_as_for_commercial_editions() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let (sb, env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    env.run();
    {
        let mut st = sb.sonar_state();
        let mut a = community_analysis();
        a.task_id = "T2".into();
        a.analysis_id = "AN-T2".into();
        a.issues.retain(|i| i.key != "on-changed");
        st.analyses.push(a);
    }
    std::fs::write(
        repo.dir.join("app/.scannerwork/report-task.txt"),
        format!("projectKey=shop\nserverUrl={u}\ndashboardUrl={u}/dashboard?id=shop\nceTaskId=T2\n", u = sb.sonar_url()),
    )
    .unwrap();
    env.run();
    let st = sb.azdo_state();
    let fixed =
        st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"] == "on-changed").unwrap().clone();
    assert_eq!(fixed["status"], "fixed");
    assert_eq!(st.pull_request(PR).threads.len(), 3, "no duplicates: two inline threads and the summary");
}

#[test]
fn requests_for_a_pr_of_200_changed_files() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    // 198 more files on the PR branch (with A.java and C.java: 200), merged again.
    git(&repo.dir, &["checkout", "-q", "feature"]);
    for n in 0..198 {
        std::fs::write(repo.dir.join(format!("app/src/Gen{n}.java")), lines("gen", 5)).unwrap();
    }
    git(&repo.dir, &["add", "."]);
    git(&repo.dir, &["commit", "-q", "-m", "many files"]);
    let source = git(&repo.dir, &["rev-parse", "HEAD"]);
    git(&repo.dir, &["checkout", "-q", "--detach", "main"]);
    git(&repo.dir, &["merge", "-q", "--no-ff", "feature", "-m", "Merge pull request 7"]);
    let merge = git(&repo.dir, &["rev-parse", "HEAD"]);
    let repo = Repo { source, merge, ..repo };
    let (sb, env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    let run = env.run();
    assert!(run.stdout.contains("The pull request changes 200 file(s) (line diffs from Azure DevOps)"), "{}", run.stdout);
    let counts = sandbox::count_by_endpoint(&sb.azdo_server.requests());
    let get = |suffix: &str| counts.iter().filter(|(k, _)| k.ends_with(suffix)).map(|(_, v)| *v).sum::<usize>();
    eprintln!("requests for a PR of 200 changed files: {counts:#?}");
    assert_eq!(get("/changes"), 1, "one page of up to 2 000 changes");
    assert_eq!(get("/FileDiffs"), 40, "10 files a request (the service's limit), merge base..source and source..merge");
    for r in sb.azdo_server.requests().iter().filter(|r| r.path().ends_with("/FileDiffs")) {
        assert_eq!(r.query("api-version").as_deref(), Some("7.1-preview.1"), "FileDiffs is a preview-only resource");
        assert!(r.json()["fileDiffParams"].as_array().unwrap().len() <= 10);
    }
    assert_eq!(inline_threads(&sb).len(), 2);

    // A service that pages at 64 entries: the task follows nextSkip through every page.
    let (sb, env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    sb.azdo_state().changes_page_limit = 64;
    let run = env.run();
    assert!(run.stdout.contains("The pull request changes 200 file(s)"), "{}", run.stdout);
    let pages: Vec<String> =
        sb.azdo_server.requests().iter().filter(|r| r.path().ends_with("/changes")).map(|r| r.query("$skip").unwrap()).collect();
    assert_eq!(pages, ["0", "64", "128", "192"]);
}

/// Community Build has no pull request analysis, so no coverage on new code of the pull request:
/// the task reads the changed files' coverage from the branch analysis, places each line on the
/// PR's own lines, and can hold the PR to a least coverage of them (`minChangedLinesCoverage`).
#[test]
fn coverage_on_the_changed_lines_is_computed_and_can_fail_the_pull_request() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let (sb, mut env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    {
        let mut st = sb.sonar_state();
        let a = &mut st.analyses[0];
        a.new_lines = vec![
            (
                "src/A.java".into(),
                // Merge lines 25–27 are the PR's 20–22; 3 came from main, 10 is untouched.
                vec![(3, Some(0), None), (10, Some(0), None), (25, Some(1), None), (26, Some(0), None), (27, Some(2), Some((1, 2)))],
            ),
            (
                "src/C.java".into(),
                (1..=10)
                    .map(|l| {
                        (
                            l,
                            if l <= 6 {
                                Some(1)
                            } else if l <= 8 {
                                Some(0)
                            } else {
                                None
                            },
                            None,
                        )
                    })
                    .collect(),
            ),
        ];
    }
    env.set("INPUT_MINCHANGEDLINESCOVERAGE", "80");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert_eq!(
        run.issues("error"),
        [
            "'shop': 69.2% of the changed lines are covered by tests, below the 80% the pull request's gate requires (4 of 13 lines and conditions not covered) (minChangedLinesCoverage)"
        ]
    );
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses[0]["state"], "failed");
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(text.starts_with("### ❌ Pull request gate failed for `shop`: 69.2% of the changed lines are covered by tests"), "{text}");
    for line in [
        "**Coverage on changed lines:** 69.2% (9 of 13 lines and conditions covered)",
        "- `app/src/A.java`: line 21 not covered; partly covered: 22 (1 of 2 conditions)",
        "- `app/src/C.java`: lines 7–8 not covered",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }
    drop(st);
    // 60 % asked: it passes, and the coverage is still shown.
    let (sb2, mut env2) = scenario(&repo.dir, &repo, Some(&repo.dir));
    sb2.sonar_state().analyses[0].new_lines = sb.sonar_state().analyses[0].new_lines.clone();
    env2.set("INPUT_MINCHANGEDLINESCOVERAGE", "60%");
    assert_eq!(env2.run().result(), "Succeeded");
    // No coverage data at all for the changed lines: said in words.
    let (sb3, env3) = scenario(&repo.dir, &repo, Some(&repo.dir));
    sb3.sonar_state().analyses[0].new_lines = vec![("src/C.java".into(), (1..=10).map(|l| (l, None, None)).collect())];
    assert_eq!(env3.run().result(), "Succeeded");
    let st = sb3.azdo_state();
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    assert!(summary["comments"][0]["content"].as_str().unwrap().contains("no coverage data was imported for them"));
}

#[test]
fn a_coverage_percentage_out_of_range_is_refused_with_the_input_named() {
    let root = tempfile::tempdir().unwrap();
    let repo = build_repo(root.path());
    let (_sb, mut env) = scenario(&repo.dir, &repo, Some(&repo.dir));
    env.set("INPUT_MINCHANGEDLINESCOVERAGE", "120");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert!(
        run.issues("error").join("\n").contains("minChangedLinesCoverage: '120' is not a percentage; give a number from 0 to 100"),
        "{:?}",
        run.issues("error")
    );
}
