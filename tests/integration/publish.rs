//! `task` in publish mode against the sandbox: the exact requests, the PR status, threads and their
//! properties, re-runs, the cap, human replies, and builds that are not PR builds.

use std::collections::BTreeMap;

use sandbox::Sandbox;
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
    sb.azdo_state().pull_requests[0].files = Some((0..3).map(|n| format!("/src/main/java/shop/File{n}.java")).collect());
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

    // Every new comment says its type as the Git spec's CommentType string.
    let posted: Vec<serde_json::Value> =
        sb.azdo_server.requests().iter().filter(|r| r.method == "POST" && r.path().ends_with("/threads")).map(|r| r.json()).collect();
    assert!(!posted.is_empty() && posted.iter().all(|t| t["comments"][0]["commentType"] == "text"), "{posted:?}");

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
    // Tied to the iteration it was made for and the file's change tracking id, so Azure DevOps
    // keeps it on the right line as the PR moves on.
    assert_eq!(
        first["pullRequestThreadContext"],
        json!({"changeTrackingId": 1, "iterationContext": {"firstComparingIteration": 1, "secondComparingIteration": 2}})
    );
    assert_eq!(first["status"], "active");
    let content = first["comments"][0]["content"].as_str().unwrap();
    // One severity, in the server's words (10.8 speaks software-quality impacts); the message on
    // its own; the rule with its description and the issue in SonarQube.
    assert_eq!(
        content,
        format!(
            "⛔ **Blocker** · Reliability\n\nRemove this unused \"x0\" variable.\n\n`java:S1144` · [Why is this an issue?]({url}/coding_rules?open=java%3AS1144&rule_key=java%3AS1144) · [View in SonarQube]({url}/project/issues?id=shop&open=issue-0&pullRequest=7)",
            url = sb.sonar_url()
        )
    );

    let summary = pr.threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap();
    assert_eq!(summary["status"], "active");
    assert_eq!(summary["properties"]["SonarPrGate.ProjectKey"]["$value"], "shop");
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(text.starts_with("### ❌ Quality gate failed for `shop`"), "{text}");
    let url = sb.sonar_url();
    for line in [
        format!(
            "- [45.5% Coverage on New Code]({url}/component_measures?id=shop&metric=new_coverage&view=list&pullRequest=7) (required ≥ 80.0%): cover 16 more of the 44 new lines to reach 80.0%"
        ),
        format!("- [3 new issues]({url}/project/issues?id=shop&resolved=false&pullRequest=7): 1 Blocker, 1 High, 1 Low"),
        format!("- [No fixed issues]({url}/project/issues?id=shop&fixedInPullRequest=7)"),
        format!("- [No accepted issues]({url}/project/issues?id=shop&issueStatuses=ACCEPTED&pullRequest=7)"),
        format!("- [2 security hotspots]({url}/security_hotspots?id=shop&pullRequest=7) to review"),
        // A passed condition is listed with the failed ones, and not again among the measures.
        format!(
            "- [1.2% Duplicated Lines \\(%\\) on New Code]({url}/component_measures?id=shop&metric=new_duplicated_lines_density&view=list&pullRequest=7) (required ≤ 3.0%)"
        ),
        "**Inline comments:** 3 on changed lines".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }
    // The failed coverage condition is not repeated among the measures.
    assert_eq!(text.matches("Coverage on New Code").count(), 1, "{text}");

    // The build summary was written and attached with an absolute path.
    let upload = run.commands().into_iter().find(|c| c.event == "uploadsummary").expect("uploadsummary");
    let path = host_paths(&upload.message);
    let path = std::path::Path::new(&path);
    assert!(path.is_absolute() && path.is_file(), "{}", upload.message);
    let md = std::fs::read_to_string(path).unwrap();
    assert!(md.contains("| Coverage on New Code is 45.5%, needs at least 80.0% | ❌ failed |"), "{md}");

    // Every Azure DevOps call asked for 7.1 (connectionData, which says who the task is, the oldest
    // preview version every server has) and suppressed the sign-in redirect.
    drop(st);
    for r in sb.azdo_server.requests() {
        let expected = if r.path().ends_with("/_apis/connectionData") { "5.0-preview.1" } else { "7.1" };
        assert_eq!(r.query("api-version").as_deref(), Some(expected), "{}", r.target);
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
    assert!(run.issues("warning").iter().any(|w| w.ends_with("(failOnQualityGateError is false, so the run succeeds with issues)")));
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

/// The latest status of each context, as a policy sees them.
fn latest_statuses(sb: &Sandbox) -> Vec<(String, String, String)> {
    let st = sb.azdo_state();
    let mut latest: BTreeMap<String, (String, String)> = BTreeMap::new();
    for s in &st.pull_request(PR).statuses {
        let name = s["context"]["name"].as_str().unwrap().to_string();
        latest.insert(name, (s["state"].as_str().unwrap().to_string(), s["description"].as_str().unwrap_or("").to_string()));
    }
    latest.into_iter().map(|(name, (state, description))| (name, state, description)).collect()
}

#[test]
fn two_runs_in_one_job_combine_their_projects_instead_of_the_second_replacing_the_first() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    {
        let mut st = sb.sonar_state();
        let mut web = AnalysisSpec::new("T-web", "web").failing_gate();
        web.pull_request = Some("7".into());
        st.analyses.push(web);
        let mut api = AnalysisSpec::new("T-api", "api");
        api.pull_request = Some("7".into());
        st.analyses.push(api);
    }
    // Two Prepare/Analyze pairs in one job, each followed by this task (the decorator does that):
    // the failing project first, then the passing one.
    env.write_report("web/.scannerwork/report-task.txt", &sb, "web", "T-web", Some("7"));
    env.write_report("api/.scannerwork/report-task.txt", &sb, "api", "T-api", Some("7"));
    env.set("INPUT_REPORTTASKFILE", "web/.scannerwork/report-task.txt");
    assert_eq!(env.run().result(), "Failed");
    assert_eq!(
        latest_statuses(&sb),
        [("quality gate".to_string(), "failed".to_string(), "Quality gate failed: 2 conditions not met".to_string())]
    );

    env.set("INPUT_REPORTTASKFILE", "api/.scannerwork/report-task.txt");
    let second = env.run();
    assert_eq!(second.result(), "Succeeded", "the run's own project passed; the first run already failed the job");
    assert!(
        second.stdout.contains("This build already posted the result of 'web' on this iteration (failed): the status 'quality gate' combines it with this run's"),
        "{}",
        second.stdout
    );
    let combined = [
        ("quality gate".to_string(), "failed".to_string(), "1 of 2 projects not passing: web".to_string()),
        ("quality gate/api".to_string(), "succeeded".to_string(), "Quality gate passed".to_string()),
        ("quality gate/web".to_string(), "failed".to_string(), "Quality gate failed: 2 conditions not met".to_string()),
    ];
    assert_eq!(latest_statuses(&sb), combined, "the context a policy requires still fails");
    {
        let st = sb.azdo_state();
        let pr = st.pull_request(PR);
        let plain = pr.statuses.iter().rev().find(|s| s["context"]["name"] == "quality gate").unwrap();
        assert_eq!(plain["properties"]["SonarPrGate.ProjectKeys"]["$value"], "api,web");
        assert_eq!(plain["properties"]["SonarPrGate.BuildId"]["$value"], "4711");
        let summaries: Vec<(&str, &str)> = pr
            .threads
            .iter()
            .filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary")
            .map(|t| (t["properties"]["SonarPrGate.ProjectKey"]["$value"].as_str().unwrap(), t["status"].as_str().unwrap()))
            .collect();
        // A passing project's summary is posted resolved, so it blocks no "all comments resolved" policy.
        assert_eq!(
            summaries,
            [("web", "active"), ("api", "fixed")],
            "each project keeps its summary: the second run does not touch the first's"
        );
    }

    // The job re-run (same build): the first project's run now sees the second's result.
    env.set("INPUT_REPORTTASKFILE", "web/.scannerwork/report-task.txt");
    assert_eq!(env.run().result(), "Failed");
    assert_eq!(latest_statuses(&sb), combined);

    // Another build of the same iteration does not take in this build's results.
    env.set("BUILD_BUILDID", "4712");
    env.set("INPUT_REPORTTASKFILE", "api/.scannerwork/report-task.txt");
    assert_eq!(env.run().result(), "Succeeded");
    assert_eq!(latest_statuses(&sb)[0], ("quality gate".to_string(), "succeeded".to_string(), "Quality gate passed".to_string()));
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

#[test]
fn an_analysis_of_another_pull_request_posts_nothing_and_fails_the_task() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    // A report-task.txt left by the build of pull request 41, picked up by this build of PR 7.
    let mut a = failing_pr_analysis(1);
    a.gate_status = "OK".into();
    a.conditions.clear();
    a.pull_request = Some("41".into());
    sb.sonar_state().analyses.push(a);
    let path = env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("41"));
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let errors = run.issues("error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        host_paths(&errors[0]).starts_with(&format!(
            "the analysis of 'shop' (task AZx-task-1) is of pull request 41, but this build is for pull request 7: {} was not written by this build's scanner. No status is posted from it.",
            path.display()
        )),
        "{}",
        errors[0]
    );
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("NONE"), "PR 41's passing gate says nothing of PR 7");
    let st = sb.azdo_state();
    assert!(st.pull_request(PR).statuses.is_empty() && st.pull_request(PR).threads.is_empty());
}

/// A main-branch analysis (Community Build decorating a pull request build) has a revision
/// SonarQube gives (`api/project_analyses/search`).
#[test]
fn a_branch_analysis_of_another_commit_is_refused_when_sonarqube_names_the_revision() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let main_branch = |task: &str, revision: &str| {
        let mut a = failing_pr_analysis(0);
        a.task_id = task.into();
        a.analysis_id = format!("AN-{task}");
        a.pull_request = None;
        a.revision = Some(revision.into());
        a
    };
    sb.sonar_state().analyses.push(main_branch("AZx-task-1", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", None);
    env.set("BUILD_SOURCEVERSION", "1f0e3dad99908345f7439f8ffabdffc4d2c7a4f3");
    let run = env.run();
    assert!(
        run.first_error().contains(&format!(
            "is of commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b, but this build analysed 1f0e3dad99908345f7439f8ffabdffc4d2c7a4f3 (or its source commit {SOURCE_COMMIT})"
        )),
        "{:?}",
        run.issues("error")
    );
    assert!(sb.azdo_state().pull_request(PR).statuses.is_empty());
    // The analysis of this build's source commit is accepted.
    sb.sonar_state().analyses.push(main_branch("AZx-task-2", SOURCE_COMMIT));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-2", None);
    let run = env.run();
    assert!(run.first_error().starts_with("quality gate of 'shop' failed"), "{:?}", run.issues("error"));
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

/// No web service gives a pull request analysis's revision (`api/project_analyses/search` has no
/// `pullRequest` parameter and answers for the main branch): an earlier build's analysis of the
/// same pull request is told by when it was submitted, and the revision is not asked for.
#[test]
fn a_pull_request_analysis_submitted_before_the_pipeline_run_started_is_refused() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let now = std::time::SystemTime::now();
    let mut a = failing_pr_analysis(0);
    a.submitted_at = sandbox::sonar_time(now - std::time::Duration::from_secs(5 * 3600));
    // Even a revision a real server could never report for it changes nothing.
    a.revision = Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b".into());
    sb.sonar_state().analyses.push(a);
    let path = env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    let started = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
    env.set("SYSTEM_PIPELINESTARTTIME", &agent_time(started));
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let error = host_paths(&run.first_error());
    assert!(
        error.starts_with("the analysis of 'shop' (task AZx-task-1) was submitted to SonarQube at ")
            && error.contains(&format!(
                ", before this pipeline run started: {} was not written by this build's scanner. No status is posted from it.",
                path.display()
            )),
        "{error}"
    );
    assert!(sb.azdo_state().pull_request(PR).statuses.is_empty());
    assert!(
        !endpoints(&sb.sonar_server.requests()).iter().any(|e| e.contains("project_analyses")),
        "a pull request analysis's revision is not asked of a service that cannot give it"
    );

    // This run's own analysis, submitted after the run started, is taken.
    let mut a = failing_pr_analysis(0);
    a.task_id = "AZx-task-2".into();
    a.analysis_id = "AN-2".into();
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-2", Some("7"));
    let run = env.run();
    assert!(run.first_error().starts_with("quality gate of 'shop' failed"), "{:?}", run.issues("error"));
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

#[test]
fn a_report_older_than_the_pipeline_run_is_named() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(0));
    let path = env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 3600);
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
    // The agent's form: "2026-11-29 10:49:38+00:00"; the pipeline started an hour ago.
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
    env.set("SYSTEM_PIPELINESTARTTIME", &agent_time(started));
    let run = env.run();
    let warning = run.issues("warning").into_iter().find(|w| w.contains("before this pipeline run started")).expect("a warning");
    assert_eq!(
        host_paths(&warning),
        format!(
            "{} was written 120 minute(s) before this pipeline run started: it may be left over from an earlier build. The analysis is refused if SonarQube says it is of another pull request or commit",
            path.display()
        )
    );
}

/// Unix seconds as the agent writes System.PipelineStartTime.
fn agent_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (h, m, s) = ((secs % 86_400) / 3600, (secs % 3600) / 60, secs % 60);
    let (y, mo, d) = sandbox::civil_from_days(days);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}+00:00")
}

#[test]
fn a_thread_someone_else_wrote_with_the_tasks_properties_is_left_alone() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(1));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    let props = |kind: &str, issue: Option<&str>| {
        let mut p = json!({"SonarPrGate.Kind": {"$type": "System.String", "$value": kind}, "SonarPrGate.ProjectKey": {"$type": "System.String", "$value": "shop"}});
        if let Some(i) = issue {
            p["SonarPrGate.IssueKey"] = json!({"$type": "System.String", "$value": i});
        }
        p
    };
    let (theirs_issue, theirs_summary) = {
        let mut st = sb.azdo_state();
        (
            st.add_foreign_thread(PR, props("issue", Some("gone")), "my note"),
            st.add_foreign_thread(PR, props("summary", None), "my summary"),
        )
    };
    let run = env.run();
    assert_eq!(run.result(), "Failed", "the gate fails, and nothing else: {}", run.all());
    assert_eq!(run.issues("error").len(), 1, "{:?}", run.issues("error"));
    let touched: Vec<String> = sb.azdo_server.requests().iter().filter(|r| r.method == "PATCH").map(|r| r.path().to_string()).collect();
    assert!(touched.is_empty(), "{touched:?}");
    let st = sb.azdo_state();
    let threads = &st.pull_request(PR).threads;
    for id in [theirs_issue, theirs_summary] {
        let t = threads.iter().find(|t| t["id"] == id).unwrap();
        assert_eq!((t["status"].as_str(), t["comments"].as_array().unwrap().len()), (Some("active"), 1));
    }
    assert_eq!(threads.len(), 4, "the task made its own summary and inline thread");
}

#[test]
fn a_summary_whose_first_comment_a_person_deleted_is_posted_anew() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(0));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.run();
    let old = {
        let mut st = sb.azdo_state();
        let id = st.pull_request(PR).threads[0]["id"].as_u64().unwrap();
        st.add_human_reply(PR, id, "noted");
        st.delete_comment(PR, id, 1);
        id
    };
    let mut a = failing_pr_analysis(0);
    a.task_id = "AZx-task-2".into();
    a.analysis_id = "AN-2".into();
    a.gate_status = "OK".into();
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-2", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let st = sb.azdo_state();
    let summaries: Vec<&serde_json::Value> =
        st.pull_request(PR).threads.iter().filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").collect();
    assert_eq!(summaries.len(), 2);
    let new = summaries.iter().find(|t| t["id"] != old).unwrap();
    assert!(new["comments"][0]["content"].as_str().unwrap().starts_with("### ✅ Quality gate passed"));
}

#[test]
fn two_reports_of_one_project_make_one_set_of_threads() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut first = failing_pr_analysis(2);
    first.task_id = "T-first".into();
    first.analysis_id = "AN-first".into();
    let mut second = failing_pr_analysis(2);
    second.task_id = "T-second".into();
    second.analysis_id = "AN-second".into();
    sb.sonar_state().analyses.extend([first, second]);
    let older = env.write_report("app/.scannerwork/report-task.txt", &sb, "shop", "T-first", Some("7"));
    let newer = env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T-second", Some("7"));
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options().write(true).open(&older).unwrap().set_modified(past).unwrap();
    let run = env.run();
    assert!(
        run.issues("warning").iter().any(|w| host_paths(w)
            == format!(
                "2 report-task.txt files name project 'shop': using {}, the newest, and ignoring {} (a scanner that ran twice in one build leaves one per run)",
                newer.display(),
                older.display()
            )),
        "{:?}",
        run.issues("warning")
    );
    assert!(
        sb.sonar_server.requests().iter().all(|r| r.query("id").as_deref() != Some("T-first")),
        "the older analysis was not waited for"
    );
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).threads.len(), 3, "one summary and two inline threads");
    assert_eq!(st.pull_request(PR).statuses.len(), 1);
}

#[test]
fn a_capped_issue_list_resolves_no_thread_and_cannot_pass_fail_on_new_issues() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(3));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.run();
    // Now 10 250 open issues, with the three commented ones past SonarQube's 10 000-result cap.
    let mut a = failing_pr_analysis(0);
    a.task_id = "AZx-task-2".into();
    a.analysis_id = "AN-2".into();
    a.issues = (0..10_247).map(|n| IssueSpec::new(&format!("bulk-{n}"), "src/Big.java", 1 + (n % 900) as u32, "MINOR", "m")).collect();
    a.issues.extend(failing_pr_analysis(3).issues.into_iter().map(|mut i| {
        i.severity = "MINOR".into();
        i
    }));
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-2", Some("7"));
    env.set("INPUT_FAILONNEWISSUES", "blocker").set("INPUT_MAXINLINECOMMENTS", "0");
    let run = env.run();
    let st = sb.azdo_state();
    let inline: Vec<&serde_json::Value> =
        st.pull_request(PR).threads.iter().filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").collect();
    assert!(inline.iter().all(|t| t["status"] == "active"), "no thread resolved on a partial list");
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap();
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(text.contains("The list is partial, so no thread was resolved for an issue missing from it."), "{text}");
    assert!(
        run.first_error().contains("'shop': the list of issues is partial (SonarQube returns at most 10,000 a query), so it cannot show that no issue at or above Blocker is on the lines this pull request changed (failOnNewIssues)"),
        "{:?}",
        run.issues("error")
    );
}

/// A reviewer marks the task's thread Won't fix. Three more runs (the issue still open, then gone,
/// then back) leave it as the reviewer set it: never reopened, never posted again, and the summary
/// says so with a link while the issue is open.
#[test]
fn a_reviewers_wont_fix_stands_across_three_runs() {
    let (sb, env) = failing_pr_with_one_issue();
    assert_eq!(env.run().result(), "Failed");
    let thread_of = |sb: &sandbox::Sandbox| {
        let st = sb.azdo_state();
        let threads = &st.pull_request(PR).threads;
        let issue: Vec<_> = threads.iter().filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").cloned().collect();
        assert_eq!(issue.len(), 1, "one thread for k1, never a second: {issue:?}");
        let summary = threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap();
        (issue[0].clone(), summary["comments"][0]["content"].as_str().unwrap().to_string())
    };
    let (thread, _) = thread_of(&sb);
    let id = thread["id"].as_u64().unwrap();
    sb.azdo_state().set_status_as_a_person(PR, id, "wontFix");
    for (run_no, issue_open) in [(2, true), (3, false), (4, true)] {
        let mut a = sandbox::sonar::AnalysisSpec::new(&format!("T{run_no}"), "shop").failing_gate();
        a.pull_request = Some("7".into());
        if issue_open {
            a.issues = vec![sandbox::sonar::IssueSpec::new("k1", "src/a.rs", 3, "MAJOR", "m")];
        }
        sb.sonar_state().analyses.push(a);
        env.write_report(".scannerwork/report-task.txt", &sb, "shop", &format!("T{run_no}"), Some("7"));
        let before = sb.azdo_server.requests().len();
        let run = env.run();
        assert_eq!(run.result(), "Failed", "run {run_no}: {}", run.all());
        let touched: Vec<String> = sb.azdo_server.requests()[before..]
            .iter()
            .filter(|r| r.method != "GET" && r.path().contains(&format!("/threads/{id}")))
            .map(|r| format!("{} {}", r.method, r.path()))
            .collect();
        assert!(touched.is_empty(), "run {run_no} wrote to the reviewer's thread: {touched:?}");
        let (thread, summary) = thread_of(&sb);
        assert_eq!(thread["status"], "wontFix", "run {run_no}");
        let line = format!(
            "**Resolved by reviewers:** 1 issue in this pull request: [k1]({}/project/issues?id=shop&open=k1&pullRequest=7) (Won't fix)",
            sb.sonar_url()
        );
        assert_eq!(summary.lines().any(|l| l == line), issue_open, "run {run_no}:\n{summary}");
        if issue_open {
            assert!(run.stdout.contains("1 resolved by reviewers (left as they are)"), "run {run_no}: {}", run.stdout);
        }
    }
}

/// A team runs with a PAT, drops it for the job token, then sets a PAT again. Each identity sees
/// the task's earlier threads as the task's: never a second thread for an issue, one summary open
/// at a time (the one an earlier identity wrote is closed with a pointer, its text untouched).
#[test]
fn changing_the_credential_pat_to_job_token_to_pat_keeps_one_summary_and_one_thread_per_issue() {
    let (sb, mut env) = failing_pr_with_one_issue();
    use_pat(&sb, &mut env, "pat-of-normal-paulk-0123456789", sandbox::azdo::CredentialBehaviour::Valid, "Normal Paulk");
    assert_eq!(env.run().result(), "Failed");
    let runs: [(&str, bool, &[&str]); 2] = [("T2", false, &["k1"]), ("T3", true, &["k1", "k2"])];
    for (task, with_pat, issues) in runs {
        env.set("INPUT_AZUREDEVOPSPAT", if with_pat { "pat-of-normal-paulk-0123456789" } else { "" });
        let mut a = sandbox::sonar::AnalysisSpec::new(task, "shop").failing_gate();
        a.pull_request = Some("7".into());
        a.issues =
            issues.iter().enumerate().map(|(n, k)| sandbox::sonar::IssueSpec::new(k, "src/a.rs", 3 + n as u32, "MAJOR", "m")).collect();
        sb.sonar_state().analyses.push(a);
        env.write_report(".scannerwork/report-task.txt", &sb, "shop", task, Some("7"));
        let run = env.run();
        assert_eq!(run.result(), "Failed", "{task}: {}", run.all());

        let st = sb.azdo_state();
        let threads = &st.pull_request(PR).threads;
        let kind = |t: &serde_json::Value| t["properties"]["SonarPrGate.Kind"]["$value"].as_str().unwrap_or("").to_string();
        let mut keys: Vec<&str> = threads
            .iter()
            .filter(|t| kind(t) == "issue")
            .filter_map(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str())
            .collect();
        keys.sort();
        assert_eq!(keys, issues, "{task}: one thread per issue");
        for t in threads.iter().filter(|t| kind(t) == "issue") {
            assert_eq!(t["status"], "active", "{task}: {t}");
        }
        let summaries: Vec<&serde_json::Value> = threads.iter().filter(|t| kind(t) == "summary").collect();
        let open: Vec<_> = summaries.iter().filter(|t| t["status"] != "closed").collect();
        assert_eq!(open.len(), 1, "{task}: one summary open: {summaries:?}");
        let mine = if with_pat { "x" } else { sandbox::BUILD_SERVICE_ID };
        assert_eq!(open[0]["comments"][0]["author"]["id"], mine, "{task}: the open summary is the current identity's");
        for old in summaries.iter().filter(|t| t["status"] == "closed") {
            let comments = old["comments"].as_array().unwrap();
            assert!(comments[0]["content"].as_str().unwrap().starts_with("### ❌ Quality gate failed for `shop`"), "its text is untouched");
            assert!(
                comments.iter().any(|c| c["content"]
                    .as_str()
                    .unwrap()
                    .starts_with("This summary is out of date: the pipeline now posts with another identity")),
                "{old}"
            );
        }
    }
}

/// inlineMinSeverity leaves the lesser issues out of the inline comments (the summary says how
/// many); summaryWhen: failing posts no summary on a passing pull request, and resolves the one a
/// failing run posted once it passes.
#[test]
fn noise_control_minimum_severity_and_a_summary_only_when_failing() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    env.set("INPUT_INLINEMINSEVERITY", "critical").set("INPUT_SUMMARYWHEN", "failing");
    let analysis = |task: &str, passing: bool| {
        let mut a = sandbox::sonar::AnalysisSpec::new(task, "shop");
        if !passing {
            a = a.failing_gate();
        }
        a.pull_request = Some("7".into());
        a.issues = vec![
            sandbox::sonar::IssueSpec::new("minor-1", "src/a.rs", 3, "MINOR", "m"),
            sandbox::sonar::IssueSpec::new("major-1", "src/a.rs", 4, "MAJOR", "m"),
            sandbox::sonar::IssueSpec::new("critical-1", "src/a.rs", 5, "CRITICAL", "m"),
        ];
        a
    };
    let kind_of = |t: &serde_json::Value| t["properties"]["SonarPrGate.Kind"]["$value"].as_str().unwrap_or("").to_string();
    for (task, passing) in [("T1", true), ("T2", false), ("T3", true)] {
        sb.sonar_state().analyses.push(analysis(task, passing));
        env.write_report(".scannerwork/report-task.txt", &sb, "shop", task, Some("7"));
        let run = env.run();
        assert_eq!(run.result(), if passing { "Succeeded" } else { "Failed" }, "{task}: {}", run.all());
        let st = sb.azdo_state();
        let threads = &st.pull_request(PR).threads;
        let inline: Vec<&str> = threads
            .iter()
            .filter(|t| kind_of(t) == "issue")
            .filter_map(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str())
            .collect();
        assert_eq!(inline, ["critical-1"], "{task}");
        let summaries: Vec<&serde_json::Value> = threads.iter().filter(|t| kind_of(t) == "summary").collect();
        match task {
            "T1" => {
                assert!(summaries.is_empty(), "no summary on a passing pull request: {summaries:?}");
                assert!(
                    run.stdout.contains("Summary comment for 'shop': none, the pull request passes (summaryWhen: failing)"),
                    "{}",
                    run.stdout
                );
            }
            "T2" => {
                assert_eq!(summaries.len(), 1);
                assert_eq!(summaries[0]["status"], "active");
                let text = summaries[0]["comments"][0]["content"].as_str().unwrap();
                assert!(
                    text.lines().any(|l| l == "**Inline comments:** 1 on changed lines; 2 left out by inlineMinSeverity or inlineSoftwareQualities"),
                    "{text}"
                );
            }
            _ => {
                assert_eq!(summaries.len(), 1);
                assert_eq!(summaries[0]["status"], "fixed", "resolved once the pull request passes");
            }
        }
    }
}

/// pendingStatus: a queued analysis gets a `pending` status before the wait, under the context
/// the result then takes; a finished one gets none.
#[test]
fn a_pending_status_while_the_analysis_is_queued_is_replaced_by_the_result() {
    for (polls_before_done, expected) in [(2, vec!["pending", "succeeded"]), (0, vec!["succeeded"])] {
        let (sb, mut env) = pr_scenario(Flavour::Server108);
        env.set("INPUT_PENDINGSTATUS", "true");
        let mut a = sandbox::sonar::AnalysisSpec::new("T1", "shop");
        a.pull_request = Some("7".into());
        a.polls_before_done = polls_before_done;
        sb.sonar_state().analyses.push(a);
        env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
        let run = env.run();
        assert_eq!(run.result(), "Succeeded", "{}", run.all());
        let st = sb.azdo_state();
        let statuses = &st.pull_request(PR).statuses;
        let states: Vec<&str> = statuses.iter().map(|s| s["state"].as_str().unwrap()).collect();
        assert_eq!(states, expected, "polls before done: {polls_before_done}");
        for s in statuses {
            assert_eq!((s["context"]["genre"].as_str(), s["context"]["name"].as_str()), (Some("SonarQube"), Some("quality gate")));
            assert_eq!(s["iterationId"], 2);
        }
        if polls_before_done > 0 {
            assert_eq!(statuses[0]["description"], "Waiting for SonarQube to process the analysis");
        }
    }
}

/// The wait fails (the token may not read the analysis task): the pending status is replaced by
/// an `error` one, never left for a policy to wait on.
#[test]
fn a_pending_status_is_withdrawn_when_the_wait_fails() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    env.set("INPUT_PENDINGSTATUS", "true");
    let mut a = sandbox::sonar::AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    a.polls_before_done = 3;
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    // The first poll answers (queued); every later one is refused.
    sb.sonar_server.inject(sandbox::FaultRule {
        method: None,
        path_contains: "/api/ce/task".into(),
        fault: sandbox::Fault::Pass,
        times: 1,
    });
    sb.sonar_server.inject(sandbox::FaultRule {
        method: None,
        path_contains: "/api/ce/task".into(),
        fault: sandbox::Fault::Body {
            status: 403,
            content_type: "application/json".into(),
            body: br#"{"errors":[{"msg":"Insufficient privileges"}]}"#.to_vec(),
        },
        times: 100,
    });
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let st = sb.azdo_state();
    let states: Vec<&str> = st.pull_request(PR).statuses.iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["pending", "error"]);
    assert_eq!(st.pull_request(PR).statuses[1]["description"], "The quality gate could not be read; see the pipeline run's log");
    assert!(run.first_error().contains("(HTTP 403"), "{}", run.first_error());
}

/// A token SonarQube says expires in three days: warned in the log (as a check), in the build
/// summary and in the PR's summary, with the date and how to rotate; one that expires in a month
/// is named in the token check and the build summary only.
#[test]
fn a_token_about_to_expire_is_warned_everywhere_before_it_bites() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for (days, near) in [(3u64, true), (30, false)] {
        let (sb, env) = failing_pr_with_one_issue();
        // SonarQube's format: yyyy-MM-dd'T'HH:mm:ssZ (`agent_time` writes "YYYY-MM-DD HH:MM:SS+00:00").
        let at = agent_time(now + days * 86_400 + 3600);
        let header = format!("{}T{}+0000", &at[0..10], &at[11..19]);
        sb.sonar_state().token_expiration = Some(header);
        let run = env.run();
        assert_eq!(run.result(), "Failed", "{}", run.all());
        let warned =
            run.issues("warning").into_iter().find(|w| w.starts_with("SonarQube token expires soon: the SonarQube token expires on "));
        assert_eq!(warned.is_some(), near, "{days} days: {:?}", run.issues("warning"));
        if let Some(w) = warned {
            assert!(w.contains(&format!("which is in {} days: runs after that fail", days)), "{w}");
            assert!(
                w.contains("Fix: create a new token in SonarQube (My Account > Security, with a later expiry date), put it in sonarToken"),
                "{w}"
            );
        }
        assert!(run.stdout.contains("SonarQube token valid: api/navigation/global accepted it; it expires on "), "{}", run.stdout);
        let upload = run.commands().into_iter().find(|c| c.event == "uploadsummary").expect("uploadsummary");
        let md = std::fs::read_to_string(host_paths(&upload.message)).unwrap();
        assert!(md.contains("> ⚠️ the SonarQube token expires on "), "{days} days: {md}");
        let st = sb.azdo_state();
        let summary =
            st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
        let text = summary["comments"][0]["content"].as_str().unwrap();
        assert_eq!(text.contains("> ⚠️ the SonarQube token expires on "), near, "{days} days: {text}");
    }
}

/// `sarifFile`: the pull request's issues as SARIF 2.1.0, valid against the OASIS schema (errata
/// 01, in tests/data), with rules linked to the server, levels from severities, locations relative
/// to the repository, and fingerprints that are the same on the next run.
#[test]
fn the_prs_issues_are_written_as_sarif_valid_against_the_oasis_schema() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(sandbox::demo::analysis("T1", false));
    env.write_report(".scannerwork/report-task.txt", &sb, sandbox::demo::PROJECT_KEY, "T1", Some("7"));
    let sarif = env.dir.path().join("out").join("sonarqube.sarif");
    std::fs::create_dir_all(sarif.parent().unwrap()).unwrap();
    env.set("INPUT_SARIFFILE", &sarif.display().to_string());
    let run = env.run();
    assert_eq!(run.result(), "Failed", "the gate fails: {}", run.all());
    let first: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sarif-schema-2.1.0.json"))).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the OASIS schema compiles");
    let errors: Vec<String> = validator.iter_errors(&first).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The schema does refuse what SARIF does not allow (a level it does not know).
    let mut broken = first.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
    assert!(
        host_paths(&run.stdout)
            .contains(&format!("Wrote 3 issue(s) of 1 project(s) as SARIF 2.1.0 to {}", host_paths(&sarif.display().to_string())))
    );

    let run0 = &first["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "SonarQube");
    assert_eq!(run0["automationDetails"]["id"], "sonarqube/fabrikam-shop/");
    let results = run0["results"].as_array().unwrap();
    let summary: Vec<(String, String, String, u64)> = results
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["level"].as_str().unwrap().to_string(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    // Most severe first, then by file and line.
    let expected = [
        ("java:S1068", "warning", "src/main/java/shop/Cart.java", 17),
        ("java:S2142", "warning", "src/main/java/shop/Checkout.java", 42),
        ("java:S117", "note", "src/main/java/shop/Cart.java", 88),
    ]
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d));
    assert_eq!(summary, expected);
    let rule = &run0["tool"]["driver"]["rules"][results[1]["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "java:S2142");
    assert_eq!(rule["helpUri"], format!("{}/coding_rules?open=java%3AS2142&rule_key=java%3AS2142", sb.sonar_url()));
    assert_eq!(results[1]["hostedViewerUri"], format!("{}/project/issues?id=fabrikam-shop&open=AZ-1&pullRequest=7", sb.sonar_url()));

    // The next run: the same issues, the same fingerprints (what a consumer tracks results by).
    env.run();
    let second: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let prints = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["fingerprints"].clone()).collect()
    };
    assert_eq!(prints(&first), prints(&second));
    assert_eq!(prints(&first)[1]["sonarqubeIssueKey/v1"], "AZ-1");
}

/// A SARIF file in a folder that does not exist is refused before anything runs, naming the input.
#[test]
fn a_sarif_file_in_a_missing_folder_is_a_setting_error() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let missing = env.dir.path().join("nowhere").join("x.sarif");
    env.set("INPUT_SARIFFILE", &missing.display().to_string());
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let err = host_paths(&run.first_error());
    assert!(
        err.starts_with(&format!("sarifFile: '{}' is in a folder that does not exist", host_paths(&missing.display().to_string()))),
        "{err}"
    );
    assert!(sb.sonar_server.requests().is_empty());
}

/// The analysis ran in an earlier stage: no report-task.txt on this agent, `projectKey` names the
/// project, and its analysis of this pull request since the run started is found on the server.
#[test]
fn an_analysis_of_an_earlier_stage_is_found_by_project_key_and_never_an_earlier_runs() {
    let now = std::time::SystemTime::now();
    let hours_ago = |h: u64| sandbox::sonar_time(now - std::time::Duration::from_secs(h * 3600));
    let analysis = |task: &str, pr: &str, submitted: String| {
        let mut a = AnalysisSpec::new(task, "shop").failing_gate();
        a.pull_request = Some(pr.into());
        a.submitted_at = submitted;
        a
    };
    let scenario = || {
        let (sb, mut env) = pr_scenario(Flavour::Server108);
        let started = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 3600;
        env.set("SYSTEM_PIPELINESTARTTIME", &agent_time(started));
        env.set("INPUT_PROJECTKEY", "shop");
        (sb, env)
    };

    // The analysis is the project's latest, still in the queue when the task starts: waited for.
    let (sb, env) = scenario();
    {
        let mut st = sb.sonar_state();
        st.analyses.push(analysis("T-old", "7", hours_ago(5)));
        st.analyses.push(analysis("T-other", "8", hours_ago(0)));
        let mut ours = analysis("T-ours", "7", hours_ago(0));
        ours.polls_before_done = 2;
        st.analyses.push(ours);
    }
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    assert!(run.first_error().starts_with("quality gate of 'shop' failed"), "{:?}", run.issues("error"));
    assert!(
        run.stdout.contains("no report-task.txt is on this agent: task T-ours of 'shop' is the newest analysis of pull request 7 submitted since this pipeline run started"),
        "{}",
        run.stdout
    );
    let pr = sb.azdo_state().pull_request(PR).clone();
    assert_eq!((pr.statuses.len(), pr.statuses[0]["state"].as_str()), (1, Some("failed")));
    assert!(pr.statuses[0]["targetUrl"].as_str().unwrap().ends_with("/dashboard?id=shop&pullRequest=7"));
    let sonar = endpoints(&sb.sonar_server.requests());
    assert!(sonar.contains(&"GET /api/ce/component".to_string()) && !sonar.iter().any(|e| e.contains("ce/activity")), "{sonar:?}");

    // Another pull request's analysis is the project's latest: the activity list is needed, which
    // SonarQube keeps to project administrators.
    let (sb, env) = scenario();
    {
        let mut st = sb.sonar_state();
        st.analyses.push(analysis("T-ours", "7", hours_ago(0)));
        st.analyses.push(analysis("T-other", "8", hours_ago(0)));
    }
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert!(
        run.stdout.contains(
            "the token may not list the past analysis tasks of 'shop' (SonarQube's api/ce/activity asks for 'Administer' on the project)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.first_error().starts_with("no analysis of 'shop' for pull request 7 was submitted to SonarQube since this pipeline run started: SonarQube lists no analysis of pull request 7 for it"),
        "{}",
        run.first_error()
    );
    assert!(run.first_error().ends_with("download it in this job and name it in reportTaskFile"), "{}", run.first_error());
    assert!(sb.azdo_state().pull_request(PR).statuses.is_empty(), "nothing is posted from another pull request's analysis");
    sb.sonar_state().administers_projects = true;
    let run = env.run();
    assert!(run.first_error().starts_with("quality gate of 'shop' failed"), "{:?}", run.issues("error"));
    let activity = sb.sonar_server.requests().into_iter().find(|r| r.endpoint() == "GET /api/ce/activity").expect("the activity was read");
    assert_eq!(activity.query("component").as_deref(), Some("shop"));
    assert_eq!(activity.query("type").as_deref(), Some("REPORT"));

    // Only an earlier run's analysis of this pull request: never used.
    let (sb, env) = scenario();
    sb.sonar_state().analyses.push(analysis("T-old", "7", hours_ago(5)));
    sb.sonar_state().administers_projects = true;
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let error = run.first_error();
    assert!(
        error.contains("the newest analysis of pull request 7 is task T-old, submitted at ")
            && error.contains(", before this run started. An analysis of another run or commit is never used"),
        "{error}"
    );
    assert!(sb.azdo_state().pull_request(PR).statuses.is_empty());
}

#[test]
fn a_project_key_that_sonarqube_would_refuse_is_named_before_anything_runs() {
    let (_sb, mut env) = pr_scenario(Flavour::Server108);
    env.set("INPUT_PROJECTKEY", "shop, 1234, bad key");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    let errors = run.issues("error").join("\n");
    assert!(errors.contains("projectKey: '1234' is not a SonarQube project key"), "{errors}");
    assert!(errors.contains("projectKey: 'bad key' is not a SonarQube project key"), "{errors}");
}

/// Which new lines have no test: the files with uncovered new code are listed beside the other
/// reads, and the lines are read only for the first ten of them; a token that may not see the
/// code still gets the files and counts, and is told what it lacks.
#[test]
fn new_lines_without_tests_are_named_file_by_file() {
    let uncovered_file = |n: u32| {
        (format!("src/F{n:02}.java"), vec![(1, Some(1), None), (2, Some(0), None), (3, Some(0), None), (4, Some(2), Some((1, 2)))])
    };
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = failing_pr_analysis(0);
    a.new_lines = (1..=12).map(uncovered_file).collect();
    a.new_lines.push(("src/Covered.java".into(), vec![(1, Some(3), None)]));
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    assert_eq!(env.run().result(), "Failed");
    let requests = endpoints(&sb.sonar_server.requests());
    assert_eq!(requests.iter().filter(|e| *e == "GET /api/measures/component_tree").count(), 1);
    assert_eq!(requests.iter().filter(|e| *e == "GET /api/sources/lines").count(), 10, "the first ten files only, none fully covered");
    let summary = {
        let st = sb.azdo_state();
        let t = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
        t["comments"][0]["content"].as_str().unwrap().to_string()
    };
    let url = sb.sonar_url();
    assert!(summary.contains(&format!(
        "- [`src/F01.java`]({url}/component_measures?id=shop&metric=new_uncovered_lines&selected=shop%3Asrc%2FF01.java&view=list&pullRequest=7): lines 2–3 not covered; partly covered: 4 (1 of 2 conditions)\n"
    )), "{summary}");
    assert!(summary.contains(&format!("- and 2 more files: [all uncovered new lines]({url}/component_measures?id=shop&metric=new_uncovered_lines&view=list&pullRequest=7)\n")), "{summary}");
    assert!(!summary.contains("Covered.java"), "{summary}");

    // Without 'See Source Code': the files and their counts, and what the token lacks.
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = failing_pr_analysis(0);
    a.new_lines = vec![uncovered_file(1)];
    sb.sonar_state().analyses.push(a);
    sb.sonar_state().hides_source_code = true;
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    assert_eq!(env.run().result(), "Failed");
    let st = sb.azdo_state();
    let t = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    let summary = t["comments"][0]["content"].as_str().unwrap();
    assert!(
        summary.contains("src/F01.java`](")
            && summary.contains(": 2 new lines not covered (the lines are not listed: the token needs 'See Source Code' on the project)"),
        "{summary}"
    );
}

/// A dependency risk's severity is the server's word: only the scale's words reach the summary.
#[test]
fn a_hostile_dependency_risk_severity_never_reaches_the_summary() {
    let (sb, env) = pr_scenario(Flavour::Server2025);
    let mut a = failing_pr_analysis(0);
    a.dependency_risks = vec![
        ("[click](https://evil.example/)".into(), "VULNERABILITY".into(), "x:y".into(), "1".into()),
        ("high".into(), "VULNERABILITY".into(), "a:b".into(), "2".into()),
    ];
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    assert_eq!(env.run().result(), "Failed");
    let st = sb.azdo_state();
    let t = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    let text = t["comments"][0]["content"].as_str().unwrap();
    assert!(text.contains("dependency risks]("), "{text}");
    assert!(text.contains(": 1 High, 1 Other\n"), "{text}");
    assert!(!text.contains("evil.example"), "{text}");
}

/// The status goes out as soon as the gate is read, while the other reads are still under way;
/// with a condition of the pull request's own that needs the issues, it waits for them.
#[test]
fn the_status_is_posted_as_soon_as_the_gate_is_read() {
    use sandbox::server::{Fault, FaultRule};
    const SLOW: std::time::Duration = std::time::Duration::from_secs(6);
    let run_with = |fail_on_new_issues: &str| {
        let (sb, mut env) = pr_scenario(Flavour::Server108);
        sb.sonar_state().analyses.push(failing_pr_analysis(3));
        env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
        env.set("INPUT_FAILONNEWISSUES", fail_on_new_issues);
        // The hotspots answer 6 s late: the status never needs them.
        sb.sonar_server.inject(FaultRule {
            method: None,
            path_contains: "/api/hotspots/search".into(),
            fault: Fault::Delay(SLOW),
            times: 1,
        });
        assert_eq!(env.run().result(), "Failed");
        let hotspots = sb.sonar_server.requests().into_iter().find(|r| r.path() == "/api/hotspots/search").expect("hotspots read");
        let azdo = sb.azdo_server.requests();
        let status = azdo.iter().find(|r| r.method == "POST" && r.path().ends_with("/statuses")).expect("a status").received_at;
        // The summary (the thread without a place in a file): the inline threads may go out at the
        // status's moment (`inline_threads_never_take_the_statuss_connection`).
        let summary = azdo
            .iter()
            .find(|r| r.method == "POST" && r.path().ends_with("/threads") && r.json()["threadContext"].is_null())
            .expect("a summary")
            .received_at;
        assert_eq!(azdo.iter().filter(|r| r.method == "POST" && r.path().ends_with("/statuses")).count(), 1, "posted once");
        (status, summary, hotspots.received_at + SLOW)
    };
    // The hotspots' answer is 6 s away when the status goes out (a margin of seconds, not of
    // milliseconds: the status needs one round trip after the gate).
    let (status, summary, hotspots_answered) = run_with("none");
    assert!(status < hotspots_answered, "the status did not wait for the hotspots");
    assert!(status < summary, "the status before the summary");
    // failOnNewIssues needs the issues: the status comes with the comments, after every read.
    let (status, _, hotspots_answered) = run_with("major");
    assert!(status >= hotspots_answered, "the status waited for the reads");
}

/// Two waits the status and the reads never needed (issue 27): the pull request's changed files
/// (only the inline comments use them) and the server's metric names (only the summary's wording
/// does). Each answers 6 s late; the status is posted, and the analysis's reads are sent, before.
#[test]
fn the_status_waits_for_neither_the_changed_files_nor_the_metric_names() {
    use sandbox::server::{Fault, FaultRule};
    const SLOW: std::time::Duration = std::time::Duration::from_secs(6);
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(3));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    sb.azdo_server.inject(FaultRule { method: None, path_contains: "/changes".into(), fault: Fault::Delay(SLOW), times: 1 });
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/metrics/search".into(), fault: Fault::Delay(SLOW), times: 1 });
    assert_eq!(env.run().result(), "Failed");
    let sonar = sb.sonar_server.requests();
    let azdo = sb.azdo_server.requests();
    let changes = azdo.iter().find(|r| r.path().ends_with("/changes")).expect("the changed files read").received_at;
    let names = sonar.iter().find(|r| r.path() == "/api/metrics/search").expect("the metric names read").received_at;
    let status = azdo.iter().find(|r| r.method == "POST" && r.path().ends_with("/statuses")).expect("a status").received_at;
    assert!(status < changes + SLOW, "the status did not wait for the changed files");
    assert!(status < names + SLOW, "the status did not wait for the metric names");
    for read in ["/api/issues/search", "/api/qualitygates/project_status", "/api/measures/component_tree"] {
        let sent = sonar.iter().find(|r| r.path() == read).unwrap_or_else(|| panic!("{read} read")).received_at;
        assert!(sent < names + SLOW, "{read} was sent without waiting for the metric names");
    }
    // The comments still come, on the files' lines, once the files are known.
    let threads = azdo.iter().filter(|r| r.method == "POST" && r.path().ends_with("/threads")).count();
    assert!(threads >= 2, "the summary and inline comments were posted ({threads} threads)");
    let state = sb.azdo_state();
    let inline = state.pull_request(PR).threads.iter().filter(|t| !t["threadContext"].is_null()).count();
    assert!(inline >= 1, "inline comments on the changed files");
}

/// The inline comments go out as soon as the issues, the threads and the iteration's files are
/// read: they do not wait for the reads only the summary needs (the gate's definition, hotspots).
/// The summary follows, and the pull request ends as it would have: one summary, one thread per
/// issue, each logged once in the plan's order.
#[test]
fn the_inline_comments_do_not_wait_for_the_summarys_reads() {
    use sandbox::server::{Fault, FaultRule};
    const SLOW: std::time::Duration = std::time::Duration::from_secs(6);
    let (sb, env) = failing_pr_on_its_files(3);
    for slow in ["/api/qualitygates/show", "/api/hotspots/search"] {
        sb.sonar_server.inject(FaultRule { method: None, path_contains: slow.into(), fault: Fault::Delay(SLOW), times: 1 });
    }
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let sonar = sb.sonar_server.requests();
    let answered = |path: &str| sonar.iter().find(|r| r.path() == path).unwrap_or_else(|| panic!("{path} read")).received_at + SLOW;
    let summary_reads = answered("/api/qualitygates/show").min(answered("/api/hotspots/search"));
    let posts: Vec<(std::time::Instant, serde_json::Value)> = sb
        .azdo_server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/threads"))
        .map(|r| (r.received_at, r.json()))
        .collect();
    let (inline, summary): (Vec<_>, Vec<_>) = posts.iter().partition(|(_, body)| !body["threadContext"].is_null());
    assert_eq!((inline.len(), summary.len()), (3, 1), "{posts:?}");
    assert!(inline.iter().all(|(at, _)| *at < summary_reads), "every inline comment went out before the summary's reads answered");
    assert!(summary[0].0 >= summary_reads, "the summary waited for its reads");
    // Each inline thread is placed in the iteration, as it would have been with the rest.
    assert!(inline.iter().all(|(_, body)| body["pullRequestThreadContext"]["changeTrackingId"].as_u64().is_some()), "{inline:?}");
    let state = sb.azdo_state();
    let threads = &state.pull_request(PR).threads;
    assert_eq!(threads.len(), 4, "one summary and one thread per issue: {threads:?}");
    // Each creation is logged once, the inline ones (made early) in the plan's place before the
    // summary's, as a run that wrote everything at the end logs them.
    let created: Vec<&str> = run.stdout.lines().filter(|l| l.contains("Created thread ")).collect();
    assert_eq!(created.len(), 4, "{}", run.stdout);
    assert!(created[3].contains("summary"), "the summary is planned after the inline comments: {created:?}");
}

/// On Azure DevOps Services (the agent's System.ServerType is Hosted) the PR, its iterations and
/// its statuses are read together: the version needs no first answer to be known. The fake holds
/// the three answers until all three requests are in; read one after another, the first would be
/// held for the hold's 20 s before the others were sent.
#[test]
fn on_azure_devops_services_the_pull_requests_reads_go_out_together() {
    use sandbox::server::{Fault, FaultRule};
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("SYSTEM_SERVERTYPE", "Hosted");
    let pr_path = format!("/pullRequests/{PR}");
    sb.azdo_server.inject(FaultRule { method: Some("GET".into()), path_contains: pr_path.clone(), fault: Fault::hold_until(3), times: 3 });
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let azdo = sb.azdo_server.requests();
    let at = |suffix: &str| {
        azdo.iter().find(|r| r.method == "GET" && r.path().ends_with(suffix)).unwrap_or_else(|| panic!("GET …{suffix}")).received_at
    };
    let (pr, iterations, statuses) = (at(&pr_path), at("/iterations"), at("/statuses"));
    let spread = pr.max(iterations).max(statuses) - pr.min(iterations).min(statuses);
    assert!(spread < std::time::Duration::from_secs(10), "the three reads went out together (spread {spread:?})");
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

/// A server that says it is Services but takes an older api-version (a mislabelled agent) still
/// gets every call: each request steps down on its own answer.
#[test]
fn a_hosted_agent_talking_to_an_older_server_still_steps_down() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("SYSTEM_SERVERTYPE", "Hosted");
    sb.azdo_state().max_api_version = (6, 0);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), 1);
}

/// A run that fails after its inline comments went out (a summary read, hotspots, keeps failing)
/// ends with those threads whole and no summary; the next run adopts them and adds the summary,
/// one thread per issue. A run that cannot read the gate writes nothing, as before.
#[test]
fn inline_comments_made_before_a_failed_read_are_adopted_by_the_next_run() {
    use sandbox::server::{Fault, FaultRule};
    let (sb, env) = failing_pr_on_its_files(3);
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/hotspots/search".into(), fault: Fault::Status(500), times: 100 });
    let first = env.run();
    assert_eq!(first.result(), "Failed", "{}", first.all());
    assert!(first.first_error().contains("hotspots"), "{}", first.all());
    let inline_threads = |sb: &Sandbox| sb.azdo_state().pull_request(PR).threads.iter().filter(|t| !t["threadContext"].is_null()).count();
    let all_threads = |sb: &Sandbox| sb.azdo_state().pull_request(PR).threads.len();
    assert_eq!((inline_threads(&sb), all_threads(&sb)), (3, 3), "the inline comments, whole, and no summary");
    sb.sonar_server.clear_faults();
    let second = env.run();
    assert_eq!(second.result(), "Failed", "{}", second.all());
    assert_eq!((inline_threads(&sb), all_threads(&sb)), (3, 4), "adopted, plus the summary");

    let (sb, env) = failing_pr_on_its_files(3);
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: "/api/qualitygates/project_status".into(),
        fault: Fault::Status(500),
        times: 100,
    });
    let run = env.run();
    assert!(run.first_error().contains("failed to read the quality gate"), "{}", run.all());
    assert_eq!(all_threads(&sb), 0, "nothing written without the gate");
}

/// The inline threads go out at the status's moment but never take its connection: they leave one
/// of the six free. With every thread write answered 6 s late, at most five inline threads are in
/// flight before the first is answered, and the status goes out before that answer.
#[test]
fn inline_threads_never_take_the_statuss_connection() {
    use sandbox::server::{Fault, FaultRule};
    const SLOW: std::time::Duration = std::time::Duration::from_secs(6);
    let (sb, env) = failing_pr_on_its_files(7);
    sb.azdo_server.inject(FaultRule {
        method: Some("POST".into()),
        path_contains: "/threads".into(),
        fault: Fault::Delay(SLOW),
        times: 100,
    });
    // The summary waits for the hotspots, answered later still: it takes no connection in the
    // window measured here.
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: "/api/hotspots/search".into(),
        fault: Fault::Delay(2 * SLOW),
        times: 1,
    });
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let azdo = sb.azdo_server.requests();
    let status = azdo.iter().find(|r| r.method == "POST" && r.path().ends_with("/statuses")).expect("a status").received_at;
    let inline: Vec<std::time::Instant> = azdo
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/threads") && !r.json()["threadContext"].is_null())
        .map(|r| r.received_at)
        .collect();
    assert_eq!(inline.len(), 7, "seven inline threads, more than the connections");
    let first_answered = inline.iter().min().copied().expect("a thread") + SLOW;
    let at_once = inline.iter().filter(|at| **at < first_answered).count();
    assert_eq!(at_once, 5, "five inline threads at once, one connection left");
    assert!(status < first_answered, "the status did not wait for a thread's answer");
}

/// A failing pull request analysis with `issues` issues, one in each of the files the pull
/// request changes (the iteration lists them), its report-task.txt written.
fn failing_pr_on_its_files(issues: usize) -> (Sandbox, TaskEnv) {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(issues));
    sb.azdo_state().pull_requests[0].files = Some((0..issues).map(|n| format!("/src/main/java/shop/File{n}.java")).collect());
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    (sb, env)
}

/// A failing pull request analysis whose run writes a status and a summary only (W = 2).
fn status_and_summary_run() -> (Sandbox, TaskEnv) {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(failing_pr_analysis(3));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "AZx-task-1", Some("7"));
    env.set("INPUT_POSTINLINECOMMENTS", "false");
    (sb, env)
}

/// A status-and-summary run (issue 27: W = 2 in four round trips): the summary does not wait for
/// the status's answer. The hotspots answer 2 s late, so the status (sent once the gate is read)
/// goes out before the summary (sent once everything is read); the status is answered 6 s late,
/// and the summary is sent before that answer. The log still says the status first.
#[test]
fn the_summary_is_sent_while_the_status_is_under_way() {
    use sandbox::server::{Fault, FaultRule};
    const HOTSPOTS_LATE: std::time::Duration = std::time::Duration::from_secs(2);
    const STATUS_LATE: std::time::Duration = std::time::Duration::from_secs(6);
    let (sb, env) = status_and_summary_run();
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: "/api/hotspots/search".into(),
        fault: Fault::Delay(HOTSPOTS_LATE),
        times: 1,
    });
    sb.azdo_server.inject(FaultRule {
        method: Some("POST".into()),
        path_contains: "/statuses".into(),
        fault: Fault::Delay(STATUS_LATE),
        times: 1,
    });
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let azdo = sb.azdo_server.requests();
    let posts =
        |suffix: &str| azdo.iter().filter(|r| r.method == "POST" && r.path().ends_with(suffix)).map(|r| r.received_at).collect::<Vec<_>>();
    let (statuses, threads) = (posts("/statuses"), posts("/threads"));
    assert_eq!((statuses.len(), threads.len()), (1, 1), "one status, one summary");
    assert!(statuses[0] < threads[0], "the status is the first write");
    assert!(threads[0] < statuses[0] + STATUS_LATE, "the summary did not wait for the status's answer");
    let (posted, created) = (run.stdout.find("Posted "), run.stdout.find("Created thread "));
    assert!(posted.is_some() && posted < created, "the log says the status first: {}", run.stdout);
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses.len(), 1);
    assert_eq!(st.pull_request(PR).threads.len(), 1);
}

/// A status the early lane could not post is posted with the comments, and the run goes on.
#[test]
fn a_status_refused_early_is_posted_with_the_comments() {
    use sandbox::server::{Fault, FaultRule};
    let (sb, env) = status_and_summary_run();
    sb.azdo_server.inject(FaultRule {
        method: Some("POST".into()),
        path_contains: "/statuses".into(),
        fault: Fault::Status(400),
        times: 1,
    });
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    assert!(run.stdout.contains("the status could not be posted before the comments ("), "{}", run.stdout);
    assert!(run.stdout.contains("; it is posted with them"), "{}", run.stdout);
    let posts = sb.azdo_server.requests().iter().filter(|r| r.method == "POST" && r.path().ends_with("/statuses")).count();
    assert_eq!(posts, 2, "refused once, posted again");
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses.len(), 1);
    assert_eq!(st.pull_request(PR).statuses[0]["state"], "failed");
    assert_eq!(st.pull_request(PR).threads.len(), 1, "the summary");
}
