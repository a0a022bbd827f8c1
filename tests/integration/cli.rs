//! The `check` and `publish` commands from a shell: flags, env fallbacks, exit codes, help.

use sandbox::sonar::{AnalysisSpec, Flavour};

use crate::util::*;

fn cli_env(sb: &sandbox::Sandbox) -> Vec<(String, String)> {
    vec![
        ("SONAR_HOST_URL".into(), sb.sonar_url()),
        ("SONAR_TOKEN".into(), sandbox::SONAR_TOKEN.into()),
        ("AZURE_DEVOPS_EXT_PAT".into(), sandbox::PAT.into()),
    ]
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn check_prints_a_checklist_and_writes_nothing() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    sb.sonar_state().analyses.push(a);
    let report = env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let coll = sb.collection_url();
    let vars = cli_env(&sb);
    let run = run_cli(
        &["check", "--collection-url", &coll, "--project", "Fabrikam Web", "--repository", "web", "--pull-request", "7"],
        &as_refs(&vars),
        &env.sources(),
    );
    assert_eq!(run.status, 0, "{}", run.all());
    let expected = format!(
        "== Preflight checks
SonarQube at {sonar}: URL from --sonar-url (or SONAR_HOST_URL); token from SONAR_TOKEN
[pass] SonarQube server reachable: {sonar} answers, version 10.8.1.101195, status UP
[pass] SonarQube token valid: api/navigation/global accepted it
[pass] SonarQube commercial edition: Developer, Enterprise or Data Center: pull request analysis supported
[warn] sonar.core.serverBaseURL not set: the server's base URL is not set, so links that SonarQube builds (in report-task.txt, e-mails, its own PR decoration) point at http://localhost:9000
       fix: an administrator sets it in Administration > Configuration > General Settings > General > Server base URL, to the URL people use, e.g. {sonar}
[pass] report-task.txt found: {report} (project 'shop', task T1)
[pass] Azure DevOps credential accepted: a PAT acting as SonarQube Bot on {coll} (hosted). When it expires cannot be read with the PAT itself: its owner sees it under User settings > Personal access tokens, and should renew it before then. It must be scoped to this organization: PATs for all accessible organizations stopped working on 2026-12-01. Or, with nothing to rotate, use a job's access token instead: unset AZURE_DEVOPS_EXT_PAT and export SYSTEM_ACCESSTOKEN (the build service needs Contribute to pull requests)
[pass] Pull request readable: #7 'Add the checkout page' (active)
[pass] Iterations readable: 2 iteration(s)
[pass] Comment threads readable: 0 thread(s)
[skip] Permission to post: check mode writes nothing, so posting is not tried; the PAT needs Code (Read), Code (Status) and Pull Request Threads (Read & write); on Azure DevOps Server 2019/2020, Code (Read & write)
sonar-pr-gate: preflight checks passed: 9 checked: 8 passed, 1 warning, 0 failed; 1 skipped
",
        sonar = sb.sonar_url(),
        report = report.display(),
        coll = coll.trim_end_matches('/'),
    );
    assert_eq!(host_paths(&run.stdout), expected);
    // Each line once: nothing of the checklist is repeated on stderr.
    assert_eq!(run.stderr, "");
    assert!(sb.azdo_server.requests().iter().all(|r| r.method == "GET"));
    assert!(sb.sonar_server.requests().iter().all(|r| r.path() != "/api/ce/task"), "check does not wait for the analysis");
}

/// Without a pull request, the credential is still verified; the pull request checks are listed
/// as skipped with the reason, and not counted.
#[test]
fn check_verifies_the_credential_on_a_build_without_a_pull_request() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let coll = sb.collection_url();
    let vars = cli_env(&sb);
    let run = run_cli(&["check", "--collection-url", &coll], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains(&format!("[pass] Azure DevOps credential accepted: a PAT acting as SonarQube Bot on {}", coll.trim_end_matches('/'))),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[skip] Pull request: not checked: no pull request id was given (--pull-request)\n"), "{}", run.stdout);
    assert!(run.stdout.contains("[warn] report-task.txt not found: no report-task.txt was found"), "{}", run.stdout);
    assert!(
        run.stdout.ends_with("sonar-pr-gate: preflight checks passed: 6 checked: 4 passed, 2 warnings, 0 failed; 1 skipped\n"),
        "{}",
        run.stdout
    );
    assert!(sb.azdo_server.requests().iter().any(|r| r.path().ends_with("/_apis/connectionData")));
}

/// A failed check ends the list early no more: what could not run is listed as skipped, and the
/// exit status says what kind of failure it was.
#[test]
fn check_lists_what_an_earlier_failure_left_unchecked() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let coll = sb.collection_url();
    let vars = vec![
        ("SONAR_HOST_URL".to_string(), sb.sonar_url()),
        ("SONAR_TOKEN".to_string(), sandbox::SONAR_TOKEN.to_string()),
        ("AZURE_DEVOPS_EXT_PAT".to_string(), "wrongpat0000000000000000000000000000000000000000".to_string()),
    ];
    let args = ["check", "--collection-url", &coll, "--project", "Fabrikam Web", "--repository", "web", "--pull-request", "7"];
    let run = run_cli(&args, &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 3, "credentials refused: {}", run.all());
    assert!(run.stdout.contains("[FAIL] Azure DevOps credential rejected: "), "{}", run.stdout);
    for line in [
        "[skip] Pull request readable: not checked: an earlier Azure DevOps check failed",
        "[skip] Iterations readable: not checked: an earlier Azure DevOps check failed",
        "[skip] Comment threads readable: not checked: an earlier Azure DevOps check failed",
    ] {
        assert!(run.stdout.contains(line), "missing {line:?} in {}", run.stdout);
    }
    assert!(!run.stdout.contains("wrongpat"), "{}", run.stdout);
    assert_eq!(run.stderr, "error: preflight checks failed: 6 checked: 3 passed, 2 warnings, 1 failed; 4 skipped\n");
}

/// The same missing credential is a configuration error (2) in both commands, and both say how
/// to give one from a shell.
#[test]
fn a_missing_credential_is_a_configuration_error_in_check_and_publish() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let coll = sb.collection_url();
    let vars = vec![("SONAR_HOST_URL".to_string(), sb.sonar_url()), ("SONAR_TOKEN".to_string(), sandbox::SONAR_TOKEN.to_string())];
    let args = ["--collection-url", coll.as_str(), "--project", "Fabrikam Web", "--repository", "web", "--pull-request", "7"];
    let check = run_cli(&[&["check"][..], &args].concat(), &as_refs(&vars), &env.sources());
    assert_eq!(check.status, 2, "{}", check.all());
    assert!(
        check.stdout.contains("[FAIL] No Azure DevOps credential: pull request 7 cannot be read or posted to without one; export AZURE_DEVOPS_EXT_PAT (a PAT) or SYSTEM_ACCESSTOKEN (a job's access token)\n"),
        "{}",
        check.stdout
    );
    let publish = run_cli(&[&["publish"][..], &args].concat(), &as_refs(&vars), &env.sources());
    assert_eq!(publish.status, 2, "{}", publish.all());
    assert_eq!(
        publish.stderr,
        "error: 1 setting needs fixing:\n  - AZURE_DEVOPS_EXT_PAT: no Azure DevOps credential to post with; export AZURE_DEVOPS_EXT_PAT (a PAT) or SYSTEM_ACCESSTOKEN (a job's access token)\n"
    );
}

#[test]
fn check_has_a_json_form_for_tools() {
    let (sb, env) = pr_scenario(Flavour::Community);
    let vars = cli_env(&sb);
    let run = run_cli(&["check", "--format", "json"], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 0, "{}", run.all());
    // The whole of stdout is the document.
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON checklist");
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(
        (&checks[0]["id"], &checks[0]["name"], &checks[0]["state"]),
        (&"sonar.server".into(), &"SonarQube server reachable".into(), &"pass".into())
    );
    assert!(checks.iter().any(|c| c["id"] == "sonar.edition" && c["name"] == "SonarQube Community Build"));
    assert!(checks.iter().any(|c| c["id"] == "azdo.pullRequest" && c["state"] == "skip"));
    assert_eq!(v["summary"], "5 checked: 3 passed, 2 warnings, 0 failed; 2 skipped");
}

/// `--polling-timeout-sec -1` is a value (refused as out of range), not an unknown flag, with or
/// without `=`; a macro the agent left unexpanded in an environment variable is named.
#[test]
fn negative_numbers_and_unexpanded_macros_get_plain_messages() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let vars = cli_env(&sb);
    for args in [&["publish", "--polling-timeout-sec=-1"][..], &["publish", "--polling-timeout-sec", "-1"][..]] {
        let run = run_cli(args, &as_refs(&vars), &env.sources());
        assert_eq!(run.status, 2, "{}", run.all());
        assert_eq!(
            run.stderr,
            "error: 1 setting needs fixing:\n  - --polling-timeout-sec: -1 is out of range; use a number from 1 to 21600\n"
        );
    }
    let vars = vec![("SONAR_HOST_URL".to_string(), sb.sonar_url()), ("SONAR_TOKEN".to_string(), "$(SONAR_TOKEN)".to_string())];
    let run = run_cli(&["publish", "--dry-run"], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 2, "{}", run.all());
    assert_eq!(
        run.stderr,
        "error: 1 setting needs fixing:\n  - SONAR_TOKEN: the value is the unexpanded macro $(SONAR_TOKEN): no variable SONAR_TOKEN is defined for this job; define the pipeline variable SONAR_TOKEN (or link its variable group), or give SONAR_TOKEN the value itself\n"
    );
}

#[test]
fn exit_codes_distinguish_gate_configuration_and_reachability() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(AnalysisSpec::new("T1", "shop").failing_gate());
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", None);
    let vars = cli_env(&sb);
    let run = run_cli(&["publish"], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 1, "gate failed: {}", run.all());
    assert!(run.stderr.contains("error: quality gate of 'shop' failed: Coverage on New Code is 45.5%"), "{}", run.stderr);

    let run = run_cli(&["publish", "--max-inline-comments", "lots"], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("--max-inline-comments: 'lots' is not a whole number"), "{}", run.stderr);

    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let run = run_cli(&["publish", "--sonar-url", &format!("http://{dead}")], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 3, "{}", run.all());

    let run = run_cli(&["publish", "--fail-on-quality-gate-error", "false"], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 0);
    assert!(
        run.stderr.contains("warning: quality gate of 'shop' failed")
            && run.stderr.contains("(--fail-on-quality-gate-error is false, so the run succeeds with issues)"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_explains_flags_with_examples_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_cli(&["--help"], &[], dir.path());
    assert_eq!(run.status, 0);
    assert!(run.stdout.contains("2  configuration error"));
    assert!(run.stdout.contains("SONAR_TOKEN, AZURE_DEVOPS_EXT_PAT, SYSTEM_ACCESSTOKEN"));
    let run = run_cli(&["publish", "--help"], &[], dir.path());
    assert!(run.stdout.contains("--sonar-url <URL>") && run.stdout.contains("e.g. --sonar-url https://sonar.example.com"));
    assert!(run.stdout.contains("--dry-run") && run.stdout.contains("Example:"));
    // Pasted into a shell the example works: every line short enough that no terminal wraps it,
    // and every continuation `\\` at the end of a line that has a command on it.
    let example = &run.stdout[run.stdout.find("Example:").unwrap()..];
    for line in example.lines().take_while(|l| !l.is_empty()) {
        assert!(line.chars().count() <= 72, "{line:?}");
        assert!(line.trim() != "\\", "{example}");
    }
    assert!(example.contains("  sonar-pr-gate publish \\\n    --sonar-url https://sonar.example.com \\\n"), "{example}");
    let run = run_cli(&["--version"], &[], dir.path());
    assert_eq!(run.stdout.trim(), format!("sonar-pr-gate {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn tokens_are_never_accepted_as_flags() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_cli(&["publish", "--sonar-token", "x"], &[], dir.path());
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("unexpected argument '--sonar-token'"));
}

#[test]
fn the_build_summary_is_a_new_file_never_one_planted_at_a_fixed_name() {
    let sb = sandbox::Sandbox::start(sandbox::sonar::Flavour::Server108);
    let mut a = sandbox::sonar::AnalysisSpec::new("T1", "shop");
    a.branch = Some("main".into());
    sb.sonar_state().analyses.push(a);
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // Someone with access to the shared temp folder plants a link at the old fixed name.
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, tmp.join("sonar-pr-gate-summary.md")).unwrap();
    let report = dir.path().join(".scannerwork/report-task.txt");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    std::fs::write(
        &report,
        format!("projectKey=shop\nserverUrl={u}\ndashboardUrl={u}/dashboard?id=shop\nceTaskId=T1\n", u = sb.sonar_url()),
    )
    .unwrap();
    let mut vars = cli_env(&sb);
    // The temp folder as each platform names it (TMP and TEMP on Windows).
    for name in ["TMPDIR", "TMP", "TEMP"] {
        vars.push((name.into(), tmp.display().to_string()));
    }
    let run = run_cli(&["publish"], &as_refs(&vars), dir.path());
    assert_eq!(run.status, 0, "{}", run.all());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let line = run.stdout.lines().find(|l| l.starts_with("Build summary written to ")).expect("says where");
    let written = std::path::PathBuf::from(host_paths(line.trim_start_matches("Build summary written to ")));
    assert!(written.starts_with(&tmp) && written.file_name().unwrap().to_string_lossy().starts_with("sonar-pr-gate-summary-"), "{line}");
    assert!(std::fs::read_to_string(&written).unwrap().starts_with("# SonarQube quality gate"));
}

/// `check --format json` writes the document and nothing else on stdout, even when a server is
/// slow (the notice of what the run waits for, said within seconds) and a read is retried: both
/// go to stderr.
#[test]
fn check_in_json_keeps_stdout_for_the_document_while_waiting_and_retrying() {
    use sandbox::server::{Fault, FaultRule};
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: "/api/system/status".into(),
        // The notice is due 5 s after the request; the answer comes 9 s later, margin for a
        // loaded machine whose watcher thread runs late.
        fault: Fault::Delay(std::time::Duration::from_secs(14)),
        times: 1,
    });
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/navigation/global".into(), fault: Fault::Status(503), times: 1 });
    let vars = cli_env(&sb);
    let run = run_cli(&["check", "--format", "json"], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 0, "{}", run.all());
    let v: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", run.stdout));
    assert_eq!(v["checks"][0]["state"], "pass");
    let waiting = format!("Waiting for {} to answer GET /api/system/status", sb.sonar_url());
    assert!(run.stderr.lines().any(|l| l.starts_with(&waiting) && l.contains("the limit --polling-timeout-sec sets")), "{}", run.stderr);
    assert!(run.stderr.contains("/api/navigation/global failed (HTTP 503); retrying in"), "{}", run.stderr);
}

/// `cargo run --example sandbox` prints commands for a person to paste; these are the very
/// commands, run against the very fakes: check passes, a dry run writes nothing, publish fails on
/// the gate and posts, and the scope doctor passes.
#[test]
fn the_commands_the_try_it_sandbox_prints_work_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let try_it = sandbox::try_it::TryIt::start(dir.path());
    let text = try_it.instructions("sonar-pr-gate");
    let env: Vec<(&str, &str)> = try_it.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let expected_status = [0, 1, 1, 0];
    for (args, status) in try_it.commands.iter().zip(expected_status) {
        let printed = args.iter().map(|a| if a.contains(' ') { format!("'{a}'") } else { a.clone() }).collect::<Vec<_>>().join(" ");
        assert!(text.contains(&format!("  sonar-pr-gate {printed}\n")), "{printed} is not in:\n{text}");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_cli(&args, &env, &try_it.work);
        assert_eq!(run.status, status, "{args:?}: {}", run.all());
        if args.contains(&"--dry-run") {
            assert!(try_it.sandbox.azdo_server.requests().iter().all(|r| r.method == "GET"), "a dry run writes nothing");
        }
    }
    let st = try_it.sandbox.azdo_state();
    let pr = st.pull_request(7);
    assert_eq!(pr.statuses.len(), 1);
    assert_eq!(pr.statuses[0]["state"], "failed");
}
