//! What a user sees when something is wrong: settings, credentials, the compute engine, old
//! servers, and transient faults.

use sandbox::azdo::CredentialBehaviour;
use sandbox::sonar::{AnalysisSpec, Flavour};
use sandbox::{Fault, FaultRule};

use crate::util::*;

#[test]
fn bad_settings_fail_the_task_before_any_request_with_every_problem_named() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    env.set("INPUT_SONARURL", "sonar.example.com").set("INPUT_POLLINGTIMEOUTSEC", "five").set("INPUT_SONARTOKEN", "has space secretpart");
    env.secrets.push("has space secretpart".into());
    let run = env.run();
    assert_eq!(run.status, 0);
    assert_eq!(run.result(), "Failed");
    assert_eq!(
        run.issues("error"),
        [
            "sonarUrl: 'sonar.example.com' has no scheme; write it with one, for example https://sonar.example.com",
            "sonarToken: the token contains spaces; it must be the bare token, without a 'Bearer ' or 'Basic ' prefix",
            "pollingTimeoutSec: 'five' is not a whole number; use a number from 1 to 21600, like 300",
        ]
    );
    assert!(sb.sonar_server.requests().is_empty() && sb.azdo_server.requests().is_empty());
}

#[test]
fn missing_report_task_names_every_place_searched() {
    let (_sb, env) = pr_scenario(Flavour::Server108);
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = &run.first_error();
    let root = env.dir.path().display().to_string();
    // One place a line: the agent shows the issue's lines as they are.
    let expected = format!(
        "no report-task.txt was found, so there is no analysis to wait for. Searched, in order:
  - {root}/_temp/sonar/4711/**/report-task.txt
  - {root}/s, and up to two folders below it: .scannerwork/report-task.txt, target/sonar/report-task.txt, build/sonar/report-task.txt, .sonarqube/out/.sonar/report-task.txt
  - {root}/.sonarqube/out/.sonar/report-task.txt
Run this step after the analysis step in the same job (SonarQubeAnalyze, sonar-scanner, mvn sonar:sonar, gradle sonar or dotnet sonarscanner end). If the scanner writes the file elsewhere (sonar.scanner.metadataFilePath), point reportTaskFile at it, e.g. reportTaskFile: '$(Build.SourcesDirectory)/app/.scannerwork/report-task.txt'"
    );
    assert_eq!(host_paths(err), expected);
}

#[test]
fn report_task_found_through_the_variable_sonarsource_sets() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T9", "shop");
    a.pull_request = Some("7".into());
    sb.sonar_state().analyses.push(a);
    let path = env.write_report("elsewhere/report-task.txt", &sb, "shop", "T9", Some("7"));
    // A stale file in the default place must lose to the variable.
    env.write_report(".scannerwork/report-task.txt", &sb, "stale", "T-stale", None);
    env.set("SONAR_SCANNER_REPORTTASKFILE", &path.display().to_string());
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains(&format!("report-task.txt: {}", path.display())));
}

/// SonarQubePrepare@4 writes report-task.txt under `$(Agent.TempDirectory)/sonar/$(Build.BuildNumber)/<guid>/`
/// and names it only in SONARQUBE_SCANNER_PARAMS' `sonar.scanner.metadataFilePath`
/// (sonar-scanner-azdo, `src/common/sonarqube-v4/prepare-task.ts`): found through the parameter,
/// and without it in the build number's folder, where later majors use the build id.
#[test]
fn sonarqube_prepare_4s_report_is_found_under_the_build_number() {
    for with_params in [true, false] {
        let (sb, mut env) = pr_scenario(Flavour::Server108);
        let mut a = AnalysisSpec::new("T4", "shop");
        a.pull_request = Some("7".into());
        sb.sonar_state().analyses.push(a);
        let temp = std::path::PathBuf::from(&env.vars["AGENT_TEMPDIRECTORY"]);
        let folder = temp.join("sonar").join("20261203.4").join("5d3a8e0c-9c52-4b7e-a0a1-0b1f0b7c2f11");
        std::fs::create_dir_all(&folder).unwrap();
        let written = env.write_report(".tmp-report/report-task.txt", &sb, "shop", "T4", Some("7"));
        let path = folder.join("report-task.txt");
        std::fs::rename(&written, &path).unwrap();
        env.set("BUILD_BUILDNUMBER", "20261203.4");
        if with_params {
            let params = serde_json::json!({
                "sonar.host.url": sb.sonar_url(),
                "sonar.scanner.metadataFilePath": path.display().to_string(),
                "sonar.projectKey": "shop",
            });
            env.set("SONARQUBE_SCANNER_PARAMS", &params.to_string());
        }
        let run = env.run();
        assert_eq!(run.result(), "Succeeded", "with params {with_params}: {}", run.all());
        assert!(host_paths(&run.stdout).contains(&format!("report-task.txt: {}", path.display())), "{}", run.stdout);
    }
}

#[test]
fn a_bad_sonarqube_token_is_named() {
    // A Server checks the token with api/navigation/global (401 for a token it does not accept:
    // its session init); SonarQube Cloud with api/authentication/validate (valid=false).
    for (flavour, said) in [
        (
            Flavour::Server108,
            "api/navigation/global answered HTTP 401, as SonarQube answers every call made with a token it does not accept.",
        ),
        (Flavour::Cloud, "api/authentication/validate answered valid=false."),
    ] {
        let (sb, mut env) = pr_scenario(flavour);
        passing_pr(&sb, &env);
        if flavour == Flavour::Cloud {
            env.set("INPUT_SONARORGANIZATION", "fabrikam");
        }
        env.set("INPUT_SONARTOKEN", "squ_0000000000000000000000000000000000000000");
        env.secrets.push("squ_0000000000000000000000000000000000000000".into());
        let run = env.run();
        assert_eq!(run.result(), "Failed", "{}", run.all());
        let err = run.first_error();
        assert!(err.starts_with(&format!("SonarQube: the token is not valid for this server: {said}")), "{flavour:?}: {err}");
        assert!(err.contains("create a new token (My Account > Security) and update sonarToken"), "{err}");
        assert!(sb.azdo_state().pull_request(PR).statuses.is_empty(), "nothing is posted");
    }
}

#[test]
fn a_token_that_may_not_read_background_tasks_names_the_permission() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    {
        let mut st = sb.sonar_state();
        st.valid_tokens.clear();
        st.browse_only_tokens.push(sandbox::SONAR_TOKEN.into());
    }
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert!(
        run.first_error().contains("Give the token's account the 'Execute Analysis' permission on project 'shop'"),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn an_analysis_token_degrades_to_a_gate_only_report() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    {
        let mut st = sb.sonar_state();
        st.valid_tokens.clear();
        st.analysis_only_tokens.push(sandbox::SONAR_TOKEN.into());
    }
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let warnings = run.issues("warning");
    assert!(warnings.iter().any(|w| w.starts_with("the token may not read the measures of 'shop' (HTTP 403)")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.starts_with("the token may not read the issues of 'shop' (HTTP 403)")), "{warnings:?}");
    let st = sb.azdo_state();
    let summary = &st.pull_request(PR).threads[0]["comments"][0]["content"];
    assert!(summary.as_str().unwrap().contains("- Issues not readable with this token (it needs 'Browse' on the project)"), "{summary}");
}

#[test]
fn a_failed_analysis_fails_with_the_servers_message() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    a.polls_before_done = 1;
    a.final_status = Some("FAILED".into());
    a.error_message = Some("Fail to extract report AYhSC2 from database".into());
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("NONE"));
    let err = &run.first_error();
    assert_eq!(
        err,
        &format!(
            "the analysis of 'shop' failed on the server: Fail to extract report AYhSC2 from database. See {}/project/background_tasks?id=shop",
            sb.sonar_url()
        )
    );
    assert_eq!(sb.azdo_state().pull_request(PR).statuses[0]["state"], "error");
}

#[test]
fn an_analysis_that_never_finishes_is_never_a_success() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    a.polls_before_done = 1000;
    a.final_status = None;
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.set("INPUT_POLLINGTIMEOUTSEC", "2");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = &run.first_error();
    assert!(
        err.starts_with("the analysis of 'shop' did not finish within 2 s: task T1 was still PENDING when the task stopped waiting."),
        "{err}"
    );
    assert!(err.contains("/project/background_tasks?id=shop") && err.contains("raise pollingTimeoutSec"));
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses[0]["state"], "error");
    assert_eq!(st.pull_request(PR).statuses[0]["description"], "The SonarQube analysis did not finish in time");
    drop(st);
    // With failOnQualityGateError false: succeeded with issues, still not "ok".
    env.set("INPUT_FAILONQUALITYGATEERROR", "false");
    let run = env.run();
    assert_eq!(run.result(), "SucceededWithIssues");
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("NONE"));
}

#[test]
fn a_pat_answered_with_a_sign_in_page_is_called_invalid_expired_or_revoked() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("INPUT_AZUREDEVOPSPAT", "revokedpat0000000000000000000000000000000000000000000");
    env.secrets.push("revokedpat0000000000000000000000000000000000000000000".into());
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = &run.first_error();
    assert!(err.starts_with("Azure DevOps: Azure DevOps answered with a sign-in page instead of data (HTTP 203) while trying to read pull request 7: the PAT in azureDevOpsPat is invalid, expired or revoked."), "{err}");
    assert!(err.contains("30 days"));
}

#[test]
fn an_expired_pat_is_named() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    use_pat(&sb, &mut env, "expiredpat11111111111111111111111111111111111111111111", CredentialBehaviour::Expired, "Old Bot");
    let run = env.run();
    assert!(
        run.first_error().starts_with("Azure DevOps: the PAT has expired (HTTP 401 while trying to read pull request 7"),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn a_pat_without_scopes_is_told_which_scopes() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    use_pat(&sb, &mut env, "noscopepat2222222222222222222222222222222222222222222", CredentialBehaviour::MissingScope, "Bot");
    let run = env.run();
    assert!(
        run.first_error().contains("Give it Code (Read), Code (Status) and Pull Request Threads (Read & write)"),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn a_build_service_without_contribute_permission_is_told_what_to_grant() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    sb.azdo_state().credentials[0].behaviour = CredentialBehaviour::NoContribute;
    let run = env.run();
    let err = &run.first_error();
    assert!(err.starts_with("Azure DevOps: the job's access token lacks the 'Contribute to pull requests' permission on the repository (HTTP 403 while trying to post a status on pull request 7"), "{err}");
    assert!(err.contains("Grant 'Contribute to pull requests' to the 'Fabrikam Web Build Service (fabrikam)' identity"), "{err}");
}

#[test]
fn a_refused_pull_request_write_still_leaves_the_build_summary_and_the_output_variable() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T1", "shop").failing_gate();
    a.pull_request = Some("7".into());
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    sb.azdo_state().credentials[0].behaviour = CredentialBehaviour::NoContribute;
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert!(run.first_error().contains("lacks the 'Contribute to pull requests' permission"), "{}", run.all());
    // The gate's result is known, so later steps and the run's page still get it.
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("ERROR"));
    let upload = run.commands().into_iter().find(|c| c.event == "uploadsummary").expect("the build summary is attached");
    let md = std::fs::read_to_string(host_paths(&upload.message)).unwrap();
    assert!(md.contains("| Coverage on New Code is 45.5%, needs at least 80.0% | ❌ failed |"), "{md}");
    assert!(sb.azdo_state().pull_request(PR).statuses.is_empty(), "nothing was written");
}

#[test]
fn unknown_pull_request_and_repository_are_named() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("SYSTEM_PULLREQUEST_PULLREQUESTID", "99");
    let run = env.run();
    assert!(
        run.first_error()
            .starts_with(&format!("Azure DevOps: pull request 99 was not found in repository {}", sandbox::azdo::REPOSITORY_ID)),
        "{:?}",
        run.issues("error")
    );
    env.set("SYSTEM_PULLREQUEST_PULLREQUESTID", "7").set("BUILD_REPOSITORY_ID", "nope");
    let run = env.run();
    assert!(
        run.first_error().starts_with("Azure DevOps: repository nope was not found in project Fabrikam Web"),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn azure_devops_server_2020_gets_older_api_versions_decided_once() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    sb.azdo_state().max_api_version = (6, 0);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let versions: Vec<(String, String)> =
        sb.azdo_server.requests().iter().map(|r| (r.endpoint(), r.query("api-version").unwrap_or_default())).collect();
    // 7.1 and 7.0 are refused once each, then every call uses 6.0 (statuses in its -preview form).
    assert_eq!(versions.iter().filter(|(_, v)| v == "7.1").count(), 1, "{versions:?}");
    assert_eq!(versions.iter().filter(|(_, v)| v == "7.0").count(), 1, "{versions:?}");
    assert!(versions.iter().any(|(e, v)| e.ends_with("/statuses") && v == "6.0-preview.1"), "{versions:?}");
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

/// On Azure DevOps Server 2020 (api 6.0) a status POST that fails with 503 is checked by listing
/// the statuses with the version that server's Git spec declares for the list, `6.0-preview.1`
/// (the released `6.0` is refused there), and the run recovers as on 7.x.
#[test]
fn a_failed_status_post_on_server_2020_is_checked_with_the_preview_version_and_recovers() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    sb.azdo_state().max_api_version = (6, 0);
    sb.azdo_server.inject(FaultRule {
        method: Some("POST".into()),
        path_contains: "/statuses".into(),
        fault: Fault::Status(503),
        times: 1,
    });
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let lists: Vec<String> = sb
        .azdo_server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path().ends_with("/statuses"))
        .map(|r| r.query("api-version").unwrap_or_default())
        .collect();
    assert!(!lists.is_empty() && lists.iter().all(|v| v == "6.0-preview.1"), "{lists:?}");
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

#[test]
fn transient_faults_are_retried_and_writes_are_not_duplicated() {
    let (sb, env) = failing_pr_with_one_issue();
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/issues/search".into(), fault: Fault::Status(503), times: 1 });
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/qualitygates".into(), fault: Fault::DropConnection, times: 1 });
    sb.azdo_server.inject(FaultRule {
        method: Some("POST".into()),
        path_contains: "/threads".into(),
        fault: Fault::RateLimited { retry_after_secs: 1 },
        times: 1,
    });
    sb.azdo_server.inject(FaultRule {
        method: Some("GET".into()),
        path_contains: "/iterations".into(),
        fault: Fault::Status(500),
        times: 1,
    });
    let run = env.run();
    assert_eq!(run.result(), "Failed", "the gate fails, nothing else: {}", run.all());
    assert_eq!(run.issues("error").len(), 1);
    assert!(run.stdout.contains("failed (HTTP 503); retrying in"), "{}", run.stdout);
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).threads.len(), 2, "one inline and one summary thread, no duplicate");
    assert_eq!(st.pull_request(PR).statuses.len(), 1);
}

#[test]
fn a_server_that_is_not_up_is_explained() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    sb.sonar_state().system_status = "DB_MIGRATION_NEEDED".into();
    let run = env.run();
    assert!(
        run.first_error().contains("reports status DB_MIGRATION_NEEDED: the server was upgraded and waits for its database migration"),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn a_url_that_is_not_sonarqube_is_explained() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("INPUT_SONARURL", &sb.collection_url());
    let run = env.run();
    assert!(
        run.first_error().contains("not SonarQube's status: the URL does not point at a SonarQube server"),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn an_unreachable_server_is_explained() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    env.set("INPUT_SONARURL", &format!("http://{dead}"));
    let run = env.run();
    assert!(
        run.first_error().starts_with(&format!(
            "SonarQube: http://{dead} refused the connection (http://{dead}/api/system/status; the address comes from sonarUrl)"
        )),
        "{:?}",
        run.issues("error")
    );
}

#[test]
fn base_url_unset_or_mismatched_is_warned_with_the_fix() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let run = env.run();
    assert!(
        run.issues("warning")
            .iter()
            .any(|w| w.starts_with("sonar.core.serverBaseURL not set: the server's base URL is not set, so links that SonarQube builds")
                && w.contains("Administration > Configuration > General Settings")),
        "{:?}",
        run.issues("warning")
    );
    sb.sonar_state().server_base_url = Some("https://sonar.fabrikam.example".into());
    let run = env.run();
    assert!(run.issues("warning").iter().any(|w| w.starts_with(&format!("sonar.core.serverBaseURL differs from the URL this task uses: the server's base URL is https://sonar.fabrikam.example, but this pipeline reaches it at {}", sb.sonar_url()))), "{:?}", run.issues("warning"));
    // Links in the PR use the public URL.
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses.last().unwrap()["targetUrl"], "https://sonar.fabrikam.example/dashboard?id=shop&pullRequest=7");
}

#[test]
fn output_from_the_server_cannot_inject_logging_commands() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    a.final_status = Some("FAILED".into());
    a.error_message = Some("boom ##vso[task.complete result=Succeeded]all good\n##[error]x".into());
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed", "exactly one task.complete, ours");
    assert!(!run.stdout.lines().any(|l| l.starts_with("##[error]x")));
}

/// Under the agent, check mode prints each check once: passed and skipped ones as lines, a warning
/// or failure as an issue only (the agent shows it in colour and in the run's summary).
#[test]
fn task_mode_check_reports_each_finding_once() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    env.set("INPUT_MODE", "check");
    let run = env.run();
    assert_eq!(run.result(), "SucceededWithIssues", "{}", run.all());
    let warnings = run.issues("warning");
    assert!(
        warnings.iter().any(|w| w.starts_with("sonar.core.serverBaseURL not set: ") && w.contains("\nFix: an administrator sets it")),
        "{warnings:?}"
    );
    assert!(!run.stdout.contains("[warn]"), "a warning is not printed twice: {}", run.stdout);
    assert!(run.stdout.contains("[pass] SonarQube token valid: api/navigation/global accepted it"), "{}", run.stdout);
    assert!(run.stdout.contains("[skip] Permission to post: check mode writes nothing"), "{}", run.stdout);
    let complete = run.commands().into_iter().find(|c| c.event == "complete").unwrap();
    assert_eq!(complete.message, "preflight checks passed: 9 checked: 7 passed, 2 warnings, 0 failed; 1 skipped");
    assert!(sb.azdo_server.requests().iter().all(|r| r.method == "GET"));
}

/// `sonarToken: $(SONAR_TOKEN)` with the variable undefined: the message names the macro, and the
/// literal is never registered as a secret (it would be masked in every later step's log).
#[test]
fn an_unexpanded_macro_is_named_and_not_masked() {
    let (_sb, mut env) = pr_scenario(Flavour::Server108);
    env.set("INPUT_SONARTOKEN", "$(SONAR_TOKEN)").set("INPUT_SONARURL", "$(SONAR_HOST_URL)");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert_eq!(
        run.issues("error"),
        [
            "sonarUrl: the value is the unexpanded macro $(SONAR_HOST_URL): no variable SONAR_HOST_URL is defined for this job; define SONAR_HOST_URL in the pipeline (or link the variable group that has it), or write the value itself",
            "sonarToken: the value is the unexpanded macro $(SONAR_TOKEN): no variable SONAR_TOKEN is defined for this job; define SONAR_TOKEN as a secret variable of the pipeline (or link the variable group that has it)",
        ]
    );
    assert!(run.commands().iter().filter(|c| c.event == "setsecret").all(|c| !c.message.contains("$(")), "{}", run.stdout);
}

/// `check` in a later stage with `projectKey`: no report-task.txt is expected; what publish will
/// look for on the server is checked instead, and a project SonarQube does not have is named.
#[test]
fn check_with_project_keys_checks_the_projects_on_the_server() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let mut a = sandbox::sonar::AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    sb.sonar_state().analyses.push(a);
    env.set("INPUT_MODE", "check").set("INPUT_PROJECTKEY", "shop");
    let run = env.run();
    assert!(
        run.stdout.contains("[pass] Analyses found by projectKey: no report-task.txt on this agent: the analyses of 'shop' are looked for on SonarQube (0 in its queue, latest task T1)"),
        "{}",
        run.stdout
    );
    assert!(!run.issues("warning").iter().any(|w| w.contains("report-task.txt not found")), "{:?}", run.issues("warning"));
    env.set("INPUT_PROJECTKEY", "shop,unknown");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert!(
        run.issues("error").iter().any(|e| e.contains("SonarQube has no project 'unknown'") && e.contains("projectKey")),
        "{:?}",
        run.issues("error")
    );
}
