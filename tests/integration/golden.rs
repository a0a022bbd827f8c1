//! The comments a reviewer reads, byte for byte: the demo's pull request (a failing gate, then the
//! fix), a server that speaks the legacy severities, and Community Build scoped to changed lines.
//! Each is compared with `tests/golden/NAME.md`; a change there is reviewed by eye (the
//! screenshots in README and the Marketplace page are rendered from these files by
//! `scripts/screenshots`). To accept a deliberate change, run the tests with
//! `SONAR_PR_GATE_UPDATE_GOLDEN=1` (read by this test only) and review the diff.

use sandbox::demo;
use sandbox::sonar::Flavour;

use crate::util::*;

/// Compares `actual` with the golden file `name`, or writes it when asked to.
pub fn assert_golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("SONAR_PR_GATE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}; create it with SONAR_PR_GATE_UPDATE_GOLDEN=1", path.display()));
    assert_eq!(
        actual, expected,
        "{name} differs from tests/golden/{name}; if the change is deliberate, rerun with SONAR_PR_GATE_UPDATE_GOLDEN=1 and review the diff"
    );
}

/// The first comment of each of this task's threads, by kind and issue key.
fn comment(sb: &sandbox::Sandbox, kind: &str, issue: Option<&str>) -> String {
    let st = sb.azdo_state();
    let t = st
        .pull_request(PR)
        .threads
        .iter()
        .find(|t| {
            t["properties"]["SonarPrGate.Kind"]["$value"] == kind
                && issue.is_none_or(|k| t["properties"]["SonarPrGate.IssueKey"]["$value"] == k)
        })
        .unwrap_or_else(|| panic!("no {kind} thread {issue:?}"))
        .clone();
    t["comments"][0]["content"].as_str().unwrap().to_string()
}

#[test]
fn the_demo_pull_request_before_and_after_the_fix() {
    let (sb, env) = pr_scenario(Flavour::Server2025);
    sb.sonar_state().server_base_url = Some(demo::PUBLIC_BASE_URL.into());
    sb.sonar_state().analyses.push(demo::analysis("T1", false));
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    assert_golden("summary-failed.md", &comment(&sb, "summary", None));
    assert_golden("inline-bug.md", &comment(&sb, "issue", Some("AZ-1")));
    assert_golden("inline-code-smell.md", &comment(&sb, "issue", Some("AZ-3")));

    sb.sonar_state().analyses.push(demo::analysis("T2", true));
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T2", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert_golden("summary-passed.md", &comment(&sb, "summary", None));
}

/// Before 10.2 a server speaks of "Major Code Smell"; that is the one wording the comment uses.
#[test]
fn a_server_with_the_legacy_severities() {
    let (sb, env) = pr_scenario(Flavour::Server99);
    sb.sonar_state().server_base_url = Some(demo::PUBLIC_BASE_URL.into());
    sb.sonar_state().analyses.push(demo::analysis("T1", false));
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    assert_golden("inline-legacy.md", &comment(&sb, "issue", Some("AZ-2")));
    assert_golden("summary-legacy.md", &comment(&sb, "summary", None));
}

/// The people's side: a reviewer set one thread to Won't fix, and inlineMinSeverity left the
/// lesser issues without a thread; the summary says both.
#[test]
fn a_summary_with_a_reviewers_resolution_and_filtered_issues() {
    let (sb, mut env) = pr_scenario(Flavour::Server2025);
    env.set("INPUT_INLINEMINSEVERITY", "medium");
    let id = demo_run_with_a_thread_on_az1(&sb, &env);
    sb.azdo_state().set_status_as_a_person(PR, id, "wontFix");
    sb.sonar_state().analyses.push(demo::analysis("T2", false));
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T2", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    assert_golden("summary-reviewers.md", &comment(&sb, "summary", None));
}

/// Triage from the pull request: a reviewer resolved AZ-1's thread as Won't fix with a reply, and
/// `syncResolutions: toSonarQube` marked it accepted in SonarQube; the summary says so.
#[test]
fn a_summary_with_a_resolution_marked_in_sonarqube() {
    let (sb, mut env) = pr_scenario(Flavour::Server2025);
    env.set("INPUT_SYNCRESOLUTIONS", "toSonarQube");
    let id = demo_run_with_a_thread_on_az1(&sb, &env);
    sb.azdo_state().resolve_as(
        PR,
        id,
        "wontFix",
        ("0d5e9a4c-7b1f-4e53-9a8e-2f6c1d3b4a51", "Jane Reviewer"),
        Some("Accepted: the lock is held by the caller."),
    );
    let run = env.run();
    assert_eq!(sb.sonar_state().transitions, [("AZ-1".to_string(), "accept".to_string())], "{}", run.all());
    assert_golden("summary-synced.md", &comment(&sb, "summary", None));
}

/// The demo's failing analysis posted once; the id of AZ-1's thread.
fn demo_run_with_a_thread_on_az1(sb: &sandbox::Sandbox, env: &TaskEnv) -> u64 {
    sb.sonar_state().server_base_url = Some(demo::PUBLIC_BASE_URL.into());
    sb.sonar_state().analyses.push(demo::analysis("T1", false));
    env.write_report(".scannerwork/report-task.txt", sb, demo::PROJECT_KEY, "T1", Some("7"));
    assert_eq!(env.run().result(), "Failed");
    let st = sb.azdo_state();
    let t = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"] == "AZ-1").cloned();
    t.expect("AZ-1 has a thread")["id"].as_u64().unwrap()
}

/// The demo's pull request with its analysis in one more state, its summary compared with `name`.
fn demo_summary(name: &str, result: &str, change: impl FnOnce(&mut sandbox::sonar::AnalysisSpec, &mut TaskEnv)) -> String {
    let (sb, mut env) = pr_scenario(Flavour::Server2025);
    sb.sonar_state().server_base_url = Some(demo::PUBLIC_BASE_URL.into());
    let mut a = demo::analysis("T1", true);
    change(&mut a, &mut env);
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), result, "{}", run.all());
    let text = comment(&sb, "summary", None);
    assert_golden(name, &text);
    text
}

/// An analysis that ended without a result: what happened in plain words, the background task
/// linked, what a person can do in the pipeline, and no command line.
#[test]
fn summaries_of_analyses_that_failed_were_canceled_or_did_not_finish() {
    let failed = demo_summary("summary-analysis-failed.md", "Failed", |a, _| {
        a.final_status = Some("FAILED".into());
        a.error_message = Some("Unsupported Java version: the scanner ran on Java 11; Java 17 is required".into());
    });
    assert!(
        failed.contains("[background task T1](https://sonarqube.fabrikam.example/project/background_tasks?id=fabrikam-shop)"),
        "{failed}"
    );
    let canceled = demo_summary("summary-analysis-canceled.md", "Failed", |a, _| {
        a.final_status = Some("CANCELED".into());
    });
    assert!(canceled.starts_with("### ⛔ Analysis canceled for `fabrikam-shop`"), "{canceled}");
    // Never finishes: the wait ends at pollingTimeoutSec; the seconds waited are the one figure
    // that varies, so the golden file holds them as the default's 300 (the screenshot shows it).
    let (sb, mut env) = pr_scenario(Flavour::Server2025);
    sb.sonar_state().server_base_url = Some(demo::PUBLIC_BASE_URL.into());
    let mut a = demo::analysis("T1", true);
    a.final_status = None;
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T1", Some("7"));
    env.set("INPUT_POLLINGTIMEOUTSEC", "2");
    assert_eq!(env.run().result(), "Failed");
    let text = comment(&sb, "summary", None);
    let (head, rest) = text.split_once("stopped waiting for it after ").expect("the wait's length");
    let (_, tail) = rest.split_once(" s,").expect("in seconds");
    let timed_out = format!("{head}stopped waiting for it after 300 s,{tail}");
    assert_golden("summary-analysis-timed-out.md", &timed_out);
    for text in [&failed, &canceled, &timed_out] {
        assert!(!text.contains("--") && !text.contains("sonar-pr-gate "), "no command-line advice on a pull request: {text}");
    }
}

/// SonarQube ignored the coverage and duplication conditions (fewer than 20 lines changed): the
/// summary says so, with the conditions it did check.
#[test]
fn a_summary_with_ignored_conditions() {
    let text = demo_summary("summary-ignored-conditions.md", "Succeeded", |a, _| {
        a.ignored_conditions = true;
        a.conditions.retain(|(metric, ..)| metric == "new_reliability_rating");
    });
    assert!(text.contains("SonarQube did not check these conditions (Coverage on New Code (required ≥ 80.0%), Duplicated Lines"), "{text}");
    assert!(text.contains("fewer than 20 lines changed"), "{text}");
}

/// SonarQube's gate passed but the pull request's own gate (failOnNewIssues) failed: the heading
/// opens with the verdict and the cause, never with "Quality gate passed".
#[test]
fn a_summary_whose_own_gate_fails_while_sonarqubes_passes() {
    let text = demo_summary("summary-own-gate-failed.md", "Failed", |_, env| {
        env.set("INPUT_FAILONNEWISSUES", "major");
    });
    assert!(text.starts_with("### ❌ Pull request gate failed for `fabrikam-shop`: 1 issue at or above"), "{text}");
}

/// Every kind of condition in one gate: a percentage with what it takes, a rating, a count with
/// what it takes, severities in both modes' words, a plugin's metric named as the server names
/// it; and the gate's conditions on overall code, which a pull request does not get.
#[test]
fn a_summary_with_every_kind_of_condition() {
    let (sb, env) = pr_scenario(Flavour::Server2025);
    {
        let mut st = sb.sonar_state();
        st.server_base_url = Some(demo::PUBLIC_BASE_URL.into());
        st.extra_metrics = vec![("new_custom_debt".into(), "Custom Debt on New Code (plugin)".into())];
        st.quality_gates.push((
            "Fabrikam way".into(),
            vec![
                ("new_coverage".into(), "LT".into(), "80".into()),
                ("coverage".into(), "LT".into(), "70".into()),
                ("security_rating".into(), "GT".into(), "1".into()),
            ],
        ));
        st.project_gates.push((demo::PROJECT_KEY.into(), "Fabrikam way".into()));
        let mut a = demo::analysis("T1", false);
        let cond =
            |m: &str, op: &str, t: &str, v: &str, s: &str| (m.to_string(), op.to_string(), t.to_string(), v.to_string(), s.to_string());
        a.conditions = vec![
            cond("new_coverage", "LT", "80", "45.5", "ERROR"),
            cond("new_reliability_rating", "GT", "1", "3", "ERROR"),
            cond("new_violations", "GT", "0", "3", "ERROR"),
            cond("new_bugs_severity", "GT", "9", "15", "ERROR"),
            cond("new_software_quality_security_severity", "GT", "14", "0", "OK"),
            cond("new_custom_debt", "GT", "10", "4", "OK"),
        ];
        st.analyses.push(a);
    }
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T1", Some("7"));
    assert_eq!(env.run().result(), "Failed");
    let text = comment(&sb, "summary", None);
    assert_golden("summary-every-condition.md", &text);
    for part in [
        "(required ≥ 80.0%): cover 16 more of the 44 new lines to reach 80.0%",
        "(required ≤ 0): fix 3 more new issues",
        "[Major issue: Severity of New Bugs](",
        "(required: none worse than Info)",
        "[no issue: Severity of New Security Issues](",
        "(required: none worse than Low)",
        "[4 Custom Debt on New Code \\(plugin\\)](",
        "The gate's conditions on overall code do not apply to a pull request, so SonarQube did not check them here: Coverage (required ≥ 70.0%), Security Rating (required A or better).",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
}

/// SonarQube Advanced Security's dependency risks (2025.4+): counted by severity in the summary,
/// and a condition of the pull request's own gate with `failOnDependencyRisks`.
#[test]
fn a_summary_with_dependency_risks() {
    let text = demo_summary("summary-dependency-risks.md", "Failed", |a, env| {
        a.dependency_risks = vec![
            ("HIGH".into(), "VULNERABILITY".into(), "org.apache.logging.log4j:log4j-core".into(), "2.14.1".into()),
            ("MEDIUM".into(), "PROHIBITED_LICENSE".into(), "com.example:gpl-lib".into(), "1.0".into()),
            ("LOW".into(), "VULNERABILITY".into(), "commons-io:commons-io".into(), "2.6".into()),
        ];
        env.set("INPUT_FAILONDEPENDENCYRISKS", "high");
    });
    assert!(text.starts_with("### ❌ Pull request gate failed for `fabrikam-shop`: 1 dependency risk at or above High"), "{text}");
    assert!(
        text.contains(
            "- [3 dependency risks](https://sonarqube.fabrikam.example/dashboard?id=fabrikam-shop&pullRequest=7): 1 High, 1 Medium, 1 Low\n"
        ),
        "{text}"
    );
}

/// Servers before 2025.4 have no dependency risks: they are not asked, and the summary says nothing.
#[test]
fn servers_without_dependency_risks_are_not_asked() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    let mut a = demo::analysis("T1", true);
    a.dependency_risks = vec![("HIGH".into(), "VULNERABILITY".into(), "x:y".into(), "1".into())];
    sb.sonar_state().analyses.push(a);
    env.set("INPUT_FAILONDEPENDENCYRISKS", "info");
    env.write_report(".scannerwork/report-task.txt", &sb, demo::PROJECT_KEY, "T1", Some("7"));
    assert_eq!(env.run().result(), "Succeeded");
    assert!(!endpoints(&sb.sonar_server.requests()).iter().any(|e| e.contains("/sca/")));
    assert!(!comment(&sb, "summary", None).contains("dependency risk"));
}

/// A project whose scanner imported no coverage report: said in words, with what to do.
#[test]
fn a_summary_of_a_project_without_coverage_data() {
    let text = demo_summary("summary-no-coverage.md", "Succeeded", |a, _| {
        a.measures.retain(|(m, _)| !m.contains("coverage") && !m.contains("lines_to_cover") && !m.contains("uncovered"));
        a.conditions.retain(|(m, ..)| !m.contains("coverage"));
        a.new_lines.clear();
    });
    assert!(text.contains("No coverage data was imported: SonarQube has no coverage measure for this project."), "{text}");
}
