//! Measurements the closing notes quote, kept as tests so they stay true: how soon a finished
//! analysis is noticed, and exactly which requests one run makes (nothing requested twice).

use std::collections::BTreeMap;
use std::time::Duration;

use sandbox::count_by_endpoint;
use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};

use crate::util::*;

#[test]
fn a_finished_analysis_is_noticed_within_a_second_during_the_first_ten_seconds() {
    for finish_ms in [1_300u64, 4_600, 8_900] {
        let (sb, env) = pr_scenario(Flavour::Server108);
        let mut a = AnalysisSpec::new("T1", "shop");
        a.pull_request = Some("7".into());
        a.finishes_after = Some(Duration::from_millis(finish_ms));
        sb.sonar_state().analyses.push(a);
        env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
        assert_eq!(env.run().result(), "Succeeded");
        let finished = sb.sonar_state().finished_at["T1"];
        let polls: Vec<_> = sb.sonar_server.requests().into_iter().filter(|r| r.path() == "/api/ce/task").collect();
        let noticed = polls.iter().find(|r| r.received_at >= finished).expect("a poll after the end").received_at;
        let delay = noticed - finished;
        eprintln!("analysis finishing {finish_ms} ms after the first poll: noticed {} ms later, {} polls", delay.as_millis(), polls.len());
        assert!(delay <= Duration::from_millis(1_000), "noticed {delay:?} after it finished");
    }
}

fn pr_with_issues(task: &str, issues: usize) -> AnalysisSpec {
    let mut a = AnalysisSpec::new(task, "shop").failing_gate();
    a.analysis_id = format!("AN-{task}");
    a.pull_request = Some("7".into());
    a.issues = (0..issues).map(|n| IssueSpec::new(&format!("k{n}"), &format!("src/F{n}.java"), 5 + n as u32, "MAJOR", "m")).collect();
    a
}

fn counts(requests: &[sandbox::RecordedRequest]) -> BTreeMap<String, usize> {
    // Fold the long collection prefix for readability.
    count_by_endpoint(requests)
        .into_iter()
        .map(|(k, v)| {
            (
                k.replace(
                    &format!("{}/Fabrikam%20Web/_apis/git/repositories/{}/pullRequests", sandbox::COLLECTION, sandbox::azdo::REPOSITORY_ID),
                    "…/pullRequests",
                ),
                v,
            )
        })
        .collect()
}

#[test]
fn requests_for_one_pr_analysis_with_25_inline_issues_first_run_and_rerun() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(pr_with_issues("T1", 25));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.run();
    let sonar_first = counts(&sb.sonar_server.requests());
    let azdo_first = counts(&sb.azdo_server.requests());
    let expected_sonar: BTreeMap<String, usize> = [
        // The server's checks: its status and version, the token with the edition, the base URL.
        ("GET /api/system/status", 1),
        ("GET /api/navigation/global", 1),
        ("GET /api/settings/values", 1),
        ("GET /api/ce/task", 1),
        ("GET /api/qualitygates/project_status", 1),
        ("GET /api/issues/search", 1),
        ("GET /api/hotspots/search", 1),
        // Beside the other reads: the measures, with the files with uncovered new code (none
        // here, so no api/sources/lines) in the same answer.
        ("GET /api/measures/component_tree", 1),
        // The gate's names in the server's words, once a run; its conditions on overall code
        // (two reads in a chain, beside the rest).
        ("GET /api/metrics/search", 1),
        ("GET /api/qualitygates/get_by_project", 1),
        ("GET /api/qualitygates/show", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(sonar_first, expected_sonar);
    let expected_azdo: BTreeMap<String, usize> = [
        ("GET /fabrikam/_apis/connectionData", 1),
        ("GET …/pullRequests/{id}", 1),
        ("GET …/pullRequests/{id}/iterations", 1),
        ("GET …/pullRequests/{id}/iterations/{id}/changes", 1),
        // Read with the iterations: another project's result this build posted is combined.
        ("GET …/pullRequests/{id}/statuses", 1),
        // Read late, then once more after creating threads, to settle with an overlapping run.
        ("GET …/pullRequests/{id}/threads", 2),
        ("POST …/pullRequests/{id}/statuses", 1),
        ("POST …/pullRequests/{id}/threads", 26),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(azdo_first, expected_azdo);

    // Re-run on the same analysis: reads, one status, nothing else.
    sb.sonar_server.clear_requests();
    sb.azdo_server.clear_requests();
    sb.sonar_state().analyses.push(pr_with_issues("T2", 25));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T2", Some("7"));
    env.run();
    let azdo_rerun = counts(&sb.azdo_server.requests());
    let expected_rerun: BTreeMap<String, usize> = [
        ("GET /fabrikam/_apis/connectionData", 1),
        ("GET …/pullRequests/{id}", 1),
        ("GET …/pullRequests/{id}/iterations", 1),
        ("GET …/pullRequests/{id}/iterations/{id}/changes", 1),
        ("GET …/pullRequests/{id}/statuses", 1),
        ("GET …/pullRequests/{id}/threads", 1),
        ("POST …/pullRequests/{id}/statuses", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(azdo_rerun, expected_rerun);
    eprintln!("first run, SonarQube: {sonar_first:#?}\nfirst run, Azure DevOps: {azdo_first:#?}\nre-run, Azure DevOps: {azdo_rerun:#?}");
}

/// Connections are reused and capped per server: a first run with 25 inline comments (27 writes,
/// 11 SonarQube reads with the second issue page) opens at most `MAX_CONNECTIONS_PER_HOST`
/// connections to each server, where one connection per request would be 34 to Azure DevOps and
/// 11 to SonarQube.
#[test]
fn a_run_opens_at_most_six_connections_to_each_server() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(pr_with_issues("T1", 1_000));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    assert_eq!(env.run().result(), "Failed");
    let cap = sonar_pr_gate::MAX_CONNECTIONS_PER_HOST;
    let (azdo_requests, sonar_requests) = (sb.azdo_server.requests().len(), sb.sonar_server.requests().len());
    let (azdo, sonar) = (sb.azdo_server.connections(), sb.sonar_server.connections());
    eprintln!("connections: Azure DevOps {azdo} for {azdo_requests} requests, SonarQube {sonar} for {sonar_requests} requests");
    assert!(azdo_requests >= 30 && sonar_requests >= 11, "{azdo_requests} and {sonar_requests} requests");
    assert!(azdo <= cap && sonar <= cap, "{azdo} connections to Azure DevOps, {sonar} to SonarQube");
}
