//! The same publish against each server the task supports: 8.9 and 9.9 LTS (older response
//! shapes), 10.x, 2025.x, Community Build and SonarQube Cloud.

use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};

use crate::util::*;

fn publish_on(flavour: Flavour, pull_request: bool) -> (sandbox::Sandbox, Run) {
    let (sb, mut env) = pr_scenario(flavour);
    let mut a = AnalysisSpec::new("T1", "shop").failing_gate();
    if pull_request {
        a.pull_request = Some("7".into());
    }
    a.issues = vec![IssueSpec::new("k1", "src/App.java", 12, "CRITICAL", "Fix me")];
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", pull_request.then_some("7"));
    if flavour == Flavour::Cloud {
        env.set("INPUT_SONARORGANIZATION", "fabrikam");
    }
    let run = env.run();
    (sb, run)
}

#[test]
fn lts_8_9_legacy_periods_and_missing_metrics() {
    let (sb, run) = publish_on(Flavour::Server89, true);
    assert_eq!(run.result(), "Failed", "{}", run.all());
    assert!(run.first_error().contains("Coverage on New Code is 45.5%, needs at least 80.0%"));
    // 8.9 lacks two metrics: the measures call (a pull request's measures come with its files'
    // uncovered code) is repeated once without them, still within 8.9's 15 metric keys.
    let measures: Vec<_> = sb.sonar_server.requests().into_iter().filter(|r| r.path().starts_with("/api/measures/")).collect();
    assert_eq!(measures.len(), 2);
    assert!(measures.iter().all(|m| m.path() == "/api/measures/component_tree"));
    assert!(measures[0].query("metricKeys").unwrap().contains("new_accepted_issues"));
    assert!(!measures[1].query("metricKeys").unwrap().contains("new_accepted_issues"));
    assert!(measures.iter().all(|m| m.query("metricKeys").unwrap().split(',').count() <= 15));
    let st = sb.azdo_state();
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    let text = summary["comments"][0]["content"].as_str().unwrap();
    // The new-code values are read from periods[] (what the coverage condition takes to pass comes
    // from the new lines to cover); 8.9 has no accepted or fixed issues to show.
    assert!(text.contains("(required ≥ 80.0%): cover 16 more of the 44 new lines to reach 80.0%"), "{text}");
    assert!(text.contains("- [1.2% Duplicated Lines \\(%\\) on New Code]("), "{text}");
    assert!(!text.contains("accepted issue") && !text.contains("fixed issue"), "{text}");
}

#[test]
fn lts_9_9() {
    let (sb, run) = publish_on(Flavour::Server99, true);
    assert_eq!(run.result(), "Failed");
    assert_eq!(sb.azdo_state().pull_request(PR).threads.len(), 2);
}

#[test]
fn server_2025_impacts_model() {
    let (sb, run) = publish_on(Flavour::Server2025, true);
    assert_eq!(run.result(), "Failed");
    let st = sb.azdo_state();
    let inline = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").unwrap().clone();
    // The impacts' words only: no "Critical Code Smell" beside "High".
    assert!(
        inline["comments"][0]["content"].as_str().unwrap().starts_with("🔴 **High** · Maintainability\n\nFix me\n\n"),
        "{}",
        inline["comments"][0]["content"]
    );
}

#[test]
fn community_build_reports_the_gate_even_when_the_changed_lines_cannot_be_read() {
    // This fake hosts no repository and the checkout has no history: the changed lines cannot be
    // read (tests/integration/community.rs covers the case where they can).
    let (sb, run) = publish_on(Flavour::Community, false);
    assert_eq!(run.result(), "Failed");
    assert!(run.stdout.contains("Community Build: no branch or pull request analysis"), "{}", run.stdout);
    assert!(
        run.issues("warning").iter().any(|w| w.starts_with("the lines this pull request changed could not be read")),
        "{:?}",
        run.issues("warning")
    );
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    assert_eq!(pr.statuses[0]["state"], "failed");
    assert_eq!(pr.threads.len(), 1, "the summary only: no issue is placed without the PR's changed lines");
    assert!(sb.sonar_server.requests().iter().all(|r| r.query("pullRequest").is_none()));
}

#[test]
fn cloud_uses_bearer_and_the_organization() {
    let (sb, run) = publish_on(Flavour::Cloud, true);
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let reqs = sb.sonar_server.requests();
    let search = reqs.iter().find(|r| r.path() == "/api/issues/search").unwrap();
    assert_eq!(search.query("organization").as_deref(), Some("fabrikam"));
    assert_eq!(search.header("authorization"), Some(format!("Bearer {}", sandbox::SONAR_TOKEN).as_str()));
    assert!(reqs.iter().all(|r| r.path() != "/api/settings/values"), "Cloud has no server base URL to check");
}

#[test]
fn paging_reads_every_issue_up_to_the_cap() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    a.issues = (0..10_250)
        .map(|n| IssueSpec::new(&format!("k{n}"), &format!("src/F{}.java", n % 50), 1 + (n / 50) as u32, "MINOR", "m"))
        .collect();
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.issues("error").join("\n"));
    let pages: Vec<String> =
        sb.sonar_server.requests().iter().filter(|r| r.path() == "/api/issues/search").map(|r| r.query("p").unwrap()).collect();
    assert_eq!(pages.len(), 20, "500 a page up to 10 000: {pages:?}");
    let st = sb.azdo_state();
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    let text = summary["comments"][0]["content"].as_str().unwrap();
    assert!(text.contains("SonarQube returns at most 10,000 issues per query; 10000 were read of 10250 reported."), "{text}");
    assert!(text.contains("**Inline comments:** 25 on changed lines; 9975 more not commented"), "{text}");
}

/// Issues and hotspots are asked for by the parameter names of each server: `components` and
/// `project` from 10.2 (the old names are deprecated there), `componentKeys` and `projectKey` before
/// and on SonarQube Cloud, where the new names are unknown and would be ignored.
#[test]
fn issues_and_hotspots_use_each_servers_parameter_names() {
    for (flavour, components, project) in [
        (Flavour::Server99, "componentKeys", "projectKey"),
        (Flavour::Server108, "components", "project"),
        (Flavour::Server2025, "components", "project"),
        (Flavour::Cloud, "componentKeys", "projectKey"),
    ] {
        let (sb, run) = publish_on(flavour, true);
        assert_eq!(run.result(), "Failed", "{flavour:?}: the gate fails: {}", run.all());
        let requests = sb.sonar_server.requests();
        let issues: Vec<_> = requests.iter().filter(|r| r.path() == "/api/issues/search").collect();
        assert!(!issues.is_empty() && issues.iter().all(|r| r.query(components).as_deref() == Some("shop")), "{flavour:?}");
        assert!(issues.iter().all(|r| r.query(if components == "components" { "componentKeys" } else { "components" }).is_none()));
        let hotspots: Vec<_> = requests.iter().filter(|r| r.path() == "/api/hotspots/search").collect();
        assert!(hotspots.iter().all(|r| r.query(project).as_deref() == Some("shop")), "{flavour:?}");
        // The inline comment shows the issue was read with the name the server takes.
        assert_eq!(sb.azdo_state().pull_request(PR).threads.len(), 2, "{flavour:?}: the summary and the issue's thread");
    }
}
