use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};

use crate::util::*;

const REVIEWER: (&str, &str) = ("0d5e9a4c-7b1f-4e53-9a8e-2f6c1d3b4a51", "Jane Reviewer");
const AUTHOR: (&str, &str) = ("a7c3e1f0-2b4d-4f6a-8c9e-1d2b3c4d5e6f", "Pat Author");

/// A PR analysis whose gate fails on its new issues (`k1` at src/a.rs:3, `k2` at src/a.rs:7),
/// opened by `AUTHOR`, with reviewers' resolutions carried over to SonarQube.
fn syncing(flavour: Flavour) -> (sandbox::Sandbox, TaskEnv) {
    let (sb, mut env) = pr_scenario(flavour);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some(PR.to_string());
    a.gate_status = "ERROR".into();
    a.conditions = vec![("new_violations".into(), "GT".into(), "0".into(), "2".into(), "ERROR".into())];
    a.set_measure("new_violations", "2");
    a.issues = vec![
        IssueSpec::new("k1", "src/a.rs", 3, "MAJOR", "Remove this unused variable."),
        IssueSpec::new("k2", "src/a.rs", 7, "MINOR", "Rename this field."),
    ];
    sb.sonar_state().analyses.push(a);
    {
        let mut st = sb.azdo_state();
        st.pull_requests[0].files = Some(vec!["/src/a.rs".into()]);
        st.pull_requests[0].created_by = Some((AUTHOR.0.into(), AUTHOR.1.into()));
    }
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.set("INPUT_SYNCRESOLUTIONS", "toSonarQube");
    (sb, env)
}

/// The thread of an issue.
fn thread_of(sb: &sandbox::Sandbox, issue: &str) -> u64 {
    let st = sb.azdo_state();
    let t = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"] == issue).cloned();
    t.unwrap_or_else(|| panic!("a thread for {issue}"))["id"].as_u64().unwrap()
}

fn thread_status(sb: &sandbox::Sandbox, id: u64) -> String {
    let st = sb.azdo_state();
    st.pull_request(PR).threads.iter().find(|t| t["id"] == id).unwrap()["status"].as_str().unwrap().to_string()
}

fn latest_status(sb: &sandbox::Sandbox) -> String {
    sb.azdo_state().pull_request(PR).statuses.last().unwrap()["state"].as_str().unwrap().to_string()
}

fn summary(sb: &sandbox::Sandbox) -> String {
    let st = sb.azdo_state();
    let t = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").cloned().unwrap();
    t["comments"][0]["content"].as_str().unwrap().to_string()
}

#[test]
fn a_reviewers_wont_fix_marks_the_issue_accepted_in_sonarqube_and_the_pull_request_passes() {
    let (sb, env) = syncing(Flavour::Server2025);
    let run = env.run();
    assert_eq!(latest_status(&sb), "failed", "{}", run.all());
    let (t1, t2) = (thread_of(&sb, "k1"), thread_of(&sb, "k2"));
    sb.azdo_state().resolve_as(PR, t1, "wontFix", REVIEWER, Some("We keep it: the variable documents the protocol."));
    sb.azdo_state().resolve_as(PR, t2, "byDesign", REVIEWER, Some("The name is the wire format's."));

    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    // Body-less POSTs go with `Content-Length: 0`, never an empty chunked body.
    for post in sb.sonar_server.requests().iter().filter(|r| r.method == "POST") {
        assert_eq!(
            (post.headers.get("content-length").map(String::as_str), post.headers.get("transfer-encoding")),
            (Some("0"), None),
            "{}",
            post.target
        );
    }
    let mut transitions = sb.sonar_state().transitions.clone();
    transitions.sort();
    assert_eq!(transitions, [("k1".to_string(), "accept".to_string()), ("k2".to_string(), "falsepositive".to_string())]);
    let mut comments = sb.sonar_state().issue_comments.clone();
    comments.sort();
    assert_eq!(comments.len(), 2);
    assert!(
        comments[0].1.starts_with(&format!(
            "Resolved as Won't fix by Jane Reviewer in [pull request 7]({}Fabrikam%20Web/_git/",
            sb.collection_url()
        )) && comments[0].1.contains(&format!("/pullrequest/7?discussionId={t1})")),
        "{comments:?}"
    );
    assert!(
        run.stdout.contains("Marked issue k1 of 'shop' as accepted in SonarQube: Jane Reviewer resolved its thread as Won't fix"),
        "{}",
        run.stdout
    );
    // The gate SonarQube re-evaluated is what this run posts.
    assert_eq!(latest_status(&sb), "succeeded");
    assert!(summary(&sb).contains("**Marked in SonarQube from this pull request:** 2 issues: [k"), "{}\n{}", summary(&sb), run.stdout);
    assert_eq!((thread_status(&sb, t1), thread_status(&sb, t2)), ("wontFix".into(), "byDesign".into()), "the reviewers' resolutions stand");

    // Again: nothing more to carry over, nothing reopened.
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert_eq!(sb.sonar_state().transitions.len(), 2);
    assert_eq!(thread_status(&sb, t1), "wontFix");
}

#[test]
fn an_authors_own_resolution_or_one_without_a_reply_is_not_carried_over_unless_allowed() {
    let (sb, mut env) = syncing(Flavour::Server2025);
    env.run();
    let (t1, t2) = (thread_of(&sb, "k1"), thread_of(&sb, "k2"));
    sb.azdo_state().resolve_as(PR, t1, "wontFix", AUTHOR, Some("Not worth it."));
    sb.azdo_state().resolve_as(PR, t2, "wontFix", REVIEWER, None);
    let run = env.run();
    assert!(sb.sonar_state().transitions.is_empty(), "{}", run.all());
    assert!(
        run.stdout.contains("Not marked in SonarQube: issue k1 of 'shop': Pat Author resolved it as Won't fix, and is the pull request's author: authors' resolutions are not marked in SonarQube (allowAuthorResolutions)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Not marked in SonarQube: issue k2 of 'shop': resolved as Won't fix without a reply"), "{}", run.stdout);
    assert_eq!(latest_status(&sb), "failed");
    assert_eq!((thread_status(&sb, t1), thread_status(&sb, t2)), ("wontFix".into(), "wontFix".into()), "never reopened");

    // Without syncResolutions nothing is even considered.
    env.set("INPUT_SYNCRESOLUTIONS", "none");
    let run = env.run();
    assert!(!run.stdout.contains("Not marked in SonarQube"), "{}", run.stdout);
    assert!(!endpoints(&sb.sonar_server.requests()).iter().any(|e| e.contains("do_transition")));

    // A team that trusts its authors.
    env.set("INPUT_SYNCRESOLUTIONS", "toSonarQube").set("INPUT_ALLOWAUTHORRESOLUTIONS", "true");
    let run = env.run();
    assert_eq!(sb.sonar_state().transitions.len(), 2, "{}", run.all());
    let comments = sb.sonar_state().issue_comments.clone();
    let k2 = comments.iter().find(|(issue, _)| issue == "k2").expect("a comment on k2");
    assert!(k2.1.starts_with("Resolved as Won't fix by someone in"), "{comments:?}");
    assert_eq!(latest_status(&sb), "succeeded");
}

#[test]
fn a_token_without_administer_issues_is_said_and_never_fails_the_run() {
    let (sb, mut env) = syncing(Flavour::Server2025);
    env.set("INPUT_FAILONQUALITYGATEERROR", "false");
    env.run();
    sb.sonar_state().administers_issues = false;
    let t1 = thread_of(&sb, "k1");
    sb.azdo_state().resolve_as(PR, t1, "wontFix", REVIEWER, Some("Accepted risk."));
    let run = env.run();
    let warning = run.issues("warning").into_iter().find(|w| w.contains("may not change the issues")).expect("a warning");
    assert_eq!(
        warning,
        "the SonarQube token may not change the issues of 'shop': 1 reviewer resolution(s) not marked in SonarQube. Marking an issue needs 'Administer Issues' on the project: give it to the token's account, or set syncResolutions to none"
    );
    assert_ne!(run.result(), "Failed", "{}", run.all());
    assert!(sb.sonar_state().transitions.is_empty());
    assert_eq!(latest_status(&sb), "failed", "the gate still fails on k1 and k2");
}

#[test]
fn before_sonarqube_10_4_wont_fix_is_wontfix_and_a_dry_run_only_says_it() {
    let (sb, env) = syncing(Flavour::Server99);
    env.run();
    let t1 = thread_of(&sb, "k1");
    sb.azdo_state().resolve_as(PR, t1, "wontFix", REVIEWER, Some("Known limitation."));
    let statuses = sb.azdo_state().pull_request(PR).statuses.len();
    let report = env.sources().join(".scannerwork/report-task.txt").display().to_string();
    let sandbox = sandbox_flags(&sb);
    let mut flags =
        vec!["publish", "--dry-run", "--sync-resolutions", "toSonarQube", "--pull-request", "7", "--source-commit", SOURCE_COMMIT];
    flags.extend(sandbox.iter().map(String::as_str));
    flags.extend(["--report-task-file", report.as_str()]);
    let run = run_cli(&flags, &[("SONAR_TOKEN", sandbox::SONAR_TOKEN), ("SYSTEM_ACCESSTOKEN", sandbox::JOB_TOKEN)], &env.sources());
    assert!(
        run.stdout.contains("Dry run: would mark issue k1 of 'shop' as accepted in SonarQube (Jane Reviewer resolved it as Won't fix)"),
        "{}",
        run.all()
    );
    assert!(sb.sonar_state().transitions.is_empty());
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), statuses);
    let run = env.run();
    assert_eq!(sb.sonar_state().transitions, [("k1".to_string(), "wontfix".to_string())], "{}", run.all());
    assert!(run.stdout.contains("Marked issue k1 of 'shop' as won't fix in SonarQube"), "{}", run.stdout);
}
