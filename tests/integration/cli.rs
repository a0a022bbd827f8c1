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
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let coll = sb.collection_url();
    let vars = cli_env(&sb);
    let run = run_cli(
        &["check", "--collection-url", &coll, "--project", "Fabrikam Web", "--repository", "web", "--pull-request", "7"],
        &as_refs(&vars),
        &env.sources(),
    );
    assert_eq!(run.status, 0, "{}", run.all());
    for line in [
        "== Preflight checks",
        &format!("[pass] SonarQube server reachable: {} answers, version 10.8.1.101195, status UP", sb.sonar_url()),
        "[pass] SonarQube token valid: api/authentication/validate says valid=true",
        "[pass] SonarQube edition: a commercial edition: pull request analysis supported",
        "[warn] sonar.core.serverBaseURL set: the server's base URL is not set",
        "[pass] report-task.txt found:",
        &format!("[pass] Azure DevOps credential: a PAT acting as SonarQube Bot on {} (hosted)", coll.trim_end_matches('/')),
        "[pass] Pull request readable: #7 'Add the checkout page' (active)",
        "[pass] Iterations readable: 2 iteration(s)",
        "[pass] Threads readable: 0 thread(s)",
        "[pass] PAT scopes needed to post: Code (Read), Code (Status) and Pull Request Threads (Read & write)",
    ] {
        assert!(run.stdout.contains(line), "missing {line:?} in:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("sonar-pr-gate: 10 checks: 9 passed, 1 warnings, 0 failed"), "{}", run.stdout);
    assert!(sb.azdo_server.requests().iter().all(|r| r.method == "GET"));
    assert!(sb.sonar_server.requests().iter().all(|r| r.path() != "/api/ce/task"), "check does not wait for the analysis");
}

#[test]
fn check_has_a_json_form_for_tools() {
    let (sb, env) = pr_scenario(Flavour::Community);
    let vars = cli_env(&sb);
    let run = run_cli(&["check", "--format", "json"], &as_refs(&vars), &env.sources());
    assert_eq!(run.status, 0, "{}", run.all());
    let v: serde_json::Value = serde_json::from_str(&run.stdout[..run.stdout.rfind("\nsonar-pr-gate:").unwrap()]).expect("JSON checklist");
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks[0]["name"], "SonarQube server reachable");
    assert_eq!(checks[0]["state"], "pass");
    assert!(checks.iter().any(|c| c["name"] == "SonarQube edition" && c["detail"].as_str().unwrap().starts_with("Community Build")));
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
    assert!(run.stderr.contains("warning: quality gate of 'shop' failed"));
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
    vars.push(("TMPDIR".into(), tmp.display().to_string()));
    let run = run_cli(&["publish"], &as_refs(&vars), dir.path());
    assert_eq!(run.status, 0, "{}", run.all());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let line = run.stdout.lines().find(|l| l.starts_with("Build summary written to ")).expect("says where");
    let written = std::path::PathBuf::from(line.trim_start_matches("Build summary written to "));
    assert!(written.starts_with(&tmp) && written.file_name().unwrap().to_string_lossy().starts_with("sonar-pr-gate-summary-"), "{line}");
    assert!(std::fs::read_to_string(&written).unwrap().starts_with("# SonarQube quality gate"));
}
