//! `task` in publish mode against the sandbox: the exact requests, the PR status, threads and their
//! properties, re-runs, the cap, human replies, and builds that are not PR builds.

use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};
use serde_json::json;

use crate::util::*;

fn failing_pr_analysis(issues: usize) -> AnalysisSpec {
    let mut a = AnalysisSpec::new("AZx-task-1", "shop").failing_gate();
    a.pull_request = Some(PR.to_string());
    a.polls_before_done = 2;
    a.hotspots = 2;
    let severities = ["BLOCKER", "MINOR", "CRITICAL", "MAJOR", "INFO"];
    a.issues = (0..issues)
        .map(|n| {
            IssueSpec::new(
                &format!("issue-{n}"),
                &format!("src/main/java/shop/File{n}.java"),
                10 + n as u32,
                severities[n % severities.len()],
                &format!("Remove this unused \"x{n}\" variable."),
            )
        })
        .collect();
    a
}

#[test]
fn failing_gate_posts_status_summary_and_inline_comments() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(3));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));

    let run = env.run();
    assert_eq!(run.status, 0, "{}", run.all());
    assert_eq!(run.result(), "Failed");
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("ERROR"));
    let errors = run.issues("error");
    assert_eq!(
        errors,
        [
            "quality gate of 'shop' failed: Coverage on New Code is 45.5%, needs at least 80.0%; Reliability Rating on New Code is C, needs A or better"
        ]
    );
    // The CE task was polled until it finished: PENDING, IN_PROGRESS, SUCCESS.
    assert!(
        run.stdout.contains("analysis task AZx-task-1: PENDING") && run.stdout.contains("analysis task AZx-task-1: SUCCESS"),
        "{}",
        run.stdout
    );

    // The status: on iteration 2 (the analysed commit), with the configured context.
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    assert_eq!(pr.statuses.len(), 1);
    let status = &pr.statuses[0];
    assert_eq!(status["state"], "failed");
    assert_eq!(status["description"], "Quality gate failed: 2 conditions not met");
    assert_eq!(status["context"], json!({"genre": "SonarQube", "name": "quality gate"}));
    assert_eq!(status["iterationId"], 2);
    assert_eq!(status["targetUrl"], format!("{}/dashboard?id=shop&pullRequest=7", sb.sonar_url()));

    // Three inline threads, most severe first, and one summary thread.
    assert_eq!(pr.threads.len(), 4);
    let inline: Vec<_> = pr.threads.iter().filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").collect();
    let mut keys: Vec<_> = inline.iter().map(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, ["issue-0", "issue-1", "issue-2"]);
    let first = *inline.iter().find(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"] == "issue-0").unwrap();
    assert_eq!(first["threadContext"]["filePath"], "/src/main/java/shop/File0.java");
    assert_eq!(first["threadContext"]["rightFileStart"], json!({"line": 10, "offset": 5}));
    assert_eq!(first["threadContext"]["rightFileEnd"], json!({"line": 10, "offset": 21}));
    assert_eq!(first["status"], "active");
    let content = first["comments"][0]["content"].as_str().unwrap();
    assert!(content.starts_with("**Blocker Bug** · Reliability Blocker: Remove this unused \"x0\" variable."), "{content}");
    assert!(content.contains(&format!("({}/project/issues?id=shop&open=issue-0&pullRequest=7)", sb.sonar_url())), "{content}");

    let summary = pr.threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap();
    assert_eq!(summary["status"], "active");
    assert_eq!(summary["properties"]["SonarPrGate.ProjectKey"]["$value"], "shop");
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(text.starts_with("### ❌ Quality gate failed for `shop`"), "{text}");
    assert!(text.contains("| Coverage on New Code | 45.5% | ≥ 80.0% |"), "{text}");
    assert!(text.contains("**Open issues:** 3 (1 Blocker, 1 Critical, 1 Minor;"), "{text}");
    assert!(text.contains("**Security hotspots to review:** 2"), "{text}");
    assert!(text.contains("**Inline comments:** 3 on changed lines"), "{text}");

    // The build summary was written and attached with an absolute path.
    let upload = run.commands().into_iter().find(|c| c.event == "uploadsummary").expect("uploadsummary");
    let path = std::path::Path::new(&upload.message);
    assert!(path.is_absolute() && path.is_file());
    let md = std::fs::read_to_string(path).unwrap();
    assert!(md.contains("| Coverage on New Code is 45.5%, needs at least 80.0% | ❌ failed |"), "{md}");

    // Every Azure DevOps call asked for 7.1 and suppressed the sign-in redirect.
    drop(st);
    for r in sb.azdo_server.requests() {
        assert_eq!(r.query("api-version").as_deref(), Some("7.1"), "{}", r.target);
        assert_eq!(r.header("x-tfs-fedauthredirect"), Some("Suppress"));
        assert_eq!(r.header("authorization"), Some(format!("Bearer {}", sandbox::JOB_TOKEN).as_str()));
    }
    // SonarQube got Basic (token, empty password) on authenticated calls.
    let basic =
        format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{}:", sandbox::SONAR_TOKEN)));
    assert!(
        sb.sonar_server.requests().iter().filter(|r| r.path() == "/api/ce/task").all(|r| r.header("authorization") == Some(basic.as_str()))
    );
}

#[test]
fn rerun_updates_in_place_resolves_fixed_issues_and_reopens_returning_ones() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(3));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    assert_eq!(env.run().result(), "Failed");

    // Second run: issue-1 fixed, the gate passes.
    {
        let mut st = sb.sonar_state();
        let mut a = failing_pr_analysis(3);
        a.task_id = "AZx-task-2".into();
        a.analysis_id = "AN-2".into();
        a.issues.retain(|i| i.key != "issue-1");
        a.gate_status = "OK".into();
        a.conditions = vec![("new_coverage".into(), "LT".into(), "80".into(), "85".into(), "OK".into())];
        st.analyses.push(a);
    }
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-2", Some("7"));
    sb.azdo_server.clear_requests();
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("OK"));

    // Writes go out in parallel: compare them as a set.
    let mut writes: Vec<String> = endpoints(&sb.azdo_server.requests()).into_iter().filter(|e| !e.starts_with("GET")).collect();
    writes.sort();
    let base = format!("{}/Fabrikam%20Web/_apis/git/repositories/{}/pullRequests/7", sandbox::COLLECTION, sandbox::azdo::REPOSITORY_ID);
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    let thread_of =
        |key: &str| pr.threads.iter().find(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"] == key).unwrap()["id"].as_u64().unwrap();
    let summary_id =
        pr.threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap()["id"].as_u64().unwrap();
    let mut expected = vec![
        format!("POST {base}/statuses"),
        format!("PATCH {base}/threads/{}", thread_of("issue-1")),
        format!("PATCH {base}/threads/{summary_id}/comments/1"),
        format!("PATCH {base}/threads/{summary_id}"),
    ];
    expected.sort();
    assert_eq!(writes, expected);
    assert_eq!(pr.threads.len(), 4, "no new thread on a re-run");
    assert_eq!(pr.statuses.last().unwrap()["state"], "succeeded");
    let fixed = pr.threads.iter().find(|t| t["id"] == thread_of("issue-1")).unwrap();
    assert_eq!(fixed["status"], "fixed");
    let summary = pr.threads.iter().find(|t| t["id"] == summary_id).unwrap();
    assert_eq!(summary["status"], "fixed", "the summary is resolved when the gate passes");
    assert!(summary["comments"][0]["content"].as_str().unwrap().starts_with("### ✅ Quality gate passed for `shop`"));
    drop(st);

    // Third run: issue-1 is back, so its thread is reopened, not duplicated.
    {
        let mut st = sb.sonar_state();
        let mut a = failing_pr_analysis(3);
        a.task_id = "AZx-task-3".into();
        a.analysis_id = "AN-3".into();
        st.analyses.push(a);
    }
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-3", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    assert_eq!(pr.threads.len(), 4);
    assert_eq!(pr.threads.iter().find(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"] == "issue-1").unwrap()["status"], "active");
}

#[test]
fn an_unchanged_rerun_writes_only_the_status() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(2));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.run();
    sb.azdo_server.clear_requests();
    env.run();
    let writes: Vec<String> = endpoints(&sb.azdo_server.requests()).into_iter().filter(|e| !e.starts_with("GET")).collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(writes[0].ends_with("/statuses"));
}

#[test]
fn human_replies_are_kept_and_the_thread_left_for_a_person() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(1));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.run();
    let thread = {
        let mut st = sb.azdo_state();
        let id = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").unwrap()["id"]
            .as_u64()
            .unwrap();
        st.add_human_reply(PR, id, "This is intentional, see ADR-12.");
        id
    };
    {
        let mut st = sb.sonar_state();
        let mut a = failing_pr_analysis(0);
        a.task_id = "AZx-task-2".into();
        a.analysis_id = "AN-2".into();
        st.analyses.push(a);
    }
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-2", Some("7"));
    env.run();
    let st = sb.azdo_state();
    let t = st.pull_request(PR).threads.iter().find(|t| t["id"] == thread).unwrap().clone();
    assert_eq!(t["status"], "active", "a thread someone replied in is not closed");
    let comments = t["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 3);
    assert_eq!(comments[1]["content"], "This is intentional, see ADR-12.");
    assert!(comments[2]["content"].as_str().unwrap().starts_with("SonarQube no longer reports this issue."));
    drop(st);
    // Asked once only.
    env.run();
    assert_eq!(
        sb.azdo_state().pull_request(PR).threads.iter().find(|t| t["id"] == thread).unwrap()["comments"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn inline_comments_stop_at_the_cap_and_the_summary_counts_the_rest() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(5));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.set("INPUT_MAXINLINECOMMENTS", "2");
    env.run();
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    let mut inline: Vec<_> = pr
        .threads
        .iter()
        .filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue")
        .map(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str().unwrap().to_string())
        .collect();
    inline.sort();
    assert_eq!(inline, ["issue-0", "issue-2"], "the blocker and the critical issue");
    let summary = pr.threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap();
    assert!(
        summary["comments"][0]["content"]
            .as_str()
            .unwrap()
            .contains("**Inline comments:** 2 on changed lines; 3 more not commented (maxInlineComments is 2)")
    );
}

#[test]
fn posting_can_be_switched_off_piece_by_piece() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(2));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.set("INPUT_POSTINLINECOMMENTS", "False")
        .set("INPUT_POSTSUMMARYCOMMENT", "FALSE")
        .set("INPUT_STATUSGENRE", "qa")
        .set("INPUT_STATUSNAME", "sonar");
    env.run();
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    assert!(pr.threads.is_empty());
    assert_eq!(pr.statuses[0]["context"], json!({"genre": "qa", "name": "sonar"}));
}

#[test]
fn a_build_that_is_not_a_pr_build_posts_nothing_and_still_reports_the_gate() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("AZx-main", "shop").failing_gate();
    a.branch = Some("main".into());
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-main", None);
    env.remove("SYSTEM_PULLREQUEST_PULLREQUESTID").remove("SYSTEM_PULLREQUEST_SOURCECOMMITID").set("BUILD_REASON", "IndividualCI");
    let run = env.run();
    assert!(sb.azdo_server.requests().is_empty(), "no Azure DevOps call for a CI build");
    assert_eq!(
        run.stdout
            .matches("Not posting to a pull request: this build was not triggered by a pull request (Build.Reason is IndividualCI)")
            .count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(run.result(), "Failed");
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("ERROR"));
}

#[test]
fn with_fail_on_gate_off_a_failing_gate_succeeds_with_issues() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(0));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.set("INPUT_FAILONQUALITYGATEERROR", "false");
    let run = env.run();
    assert_eq!(run.result(), "SucceededWithIssues");
    assert!(run.issues("warning").iter().any(|w| w.ends_with("(failOnQualityGateError is false, so the task succeeds with issues)")));
    assert_eq!(sb.azdo_state().pull_request(PR).statuses[0]["state"], "failed", "the PR status still tells the truth");
}

#[test]
fn several_analyses_get_a_context_each_and_a_combined_one() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    {
        let mut st = sb.sonar_state();
        let mut api = AnalysisSpec::new("T-api", "api");
        api.pull_request = Some("7".into());
        st.analyses.push(api);
        let mut web = AnalysisSpec::new("T-web", "web").failing_gate();
        web.pull_request = Some("7".into());
        st.analyses.push(web);
    }
    env.write_report("services/api/.scannerwork/report-task.txt", &sb, "api", "T-api", Some("7"));
    env.write_report("services/web/.scannerwork/report-task.txt", &sb, "web", "T-web", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let st = sb.azdo_state();
    let mut statuses: Vec<(String, String)> = st
        .pull_request(PR)
        .statuses
        .iter()
        .map(|s| (s["context"]["name"].as_str().unwrap().to_string(), s["state"].as_str().unwrap().to_string()))
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("quality gate".to_string(), "failed".to_string()),
            ("quality gate/api".to_string(), "succeeded".to_string()),
            ("quality gate/web".to_string(), "failed".to_string()),
        ]
    );
    let combined = st.pull_request(PR).statuses.iter().find(|s| s["context"]["name"] == "quality gate").unwrap();
    assert_eq!(combined["description"], "1 of 2 projects not passing: web");
    let summaries = st.pull_request(PR).threads.iter().filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").count();
    assert_eq!(summaries, 2, "one summary thread per project");
}

#[test]
fn an_unknown_source_commit_falls_back_to_the_latest_iteration_with_a_warning() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.set("SYSTEM_PULLREQUEST_SOURCECOMMITID", "ffffffffffffffffffffffffffffffffffffffff");
    let run = env.run();
    assert_eq!(run.result(), "Succeeded");
    assert!(run.issues("warning").iter().any(|w| w.starts_with("no iteration of the pull request has the analysed source commit ffffffffffffffffffffffffffffffffffffffff; the status goes on the latest iteration (2)")));
    assert_eq!(sb.azdo_state().pull_request(PR).statuses[0]["iterationId"], 2);
}

#[test]
fn dry_run_reads_everything_and_writes_nothing() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(2));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    let mut args: Vec<(String, String)> =
        env.vars.iter().filter(|(k, _)| !k.starts_with("INPUT_")).map(|(k, v)| (k.clone(), v.clone())).collect();
    args.push(("SONAR_TOKEN".into(), sandbox::SONAR_TOKEN.into()));
    let envs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let url = sb.sonar_url();
    let run = run_cli(&["publish", "--dry-run", "--sonar-url", &url], &envs, &env.sources());
    assert_eq!(run.status, 1, "the gate fails: {}", run.all());
    assert!(
        run.stdout.contains(
            "[dry run] would post status SonarQube/quality gate = failed (Quality gate failed: 2 conditions not met) on iteration 2"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[dry run] would create the summary comment for 'shop':"));
    assert!(sb.azdo_server.requests().iter().all(|r| r.method == "GET"), "dry run wrote: {:?}", endpoints(&sb.azdo_server.requests()));
    assert!(sb.azdo_state().pull_request(PR).threads.is_empty());
}
