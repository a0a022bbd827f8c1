//! Reading only the issues the decisions need: the first page, most severe first, with the
//! server's counts; this task's threads' other issues asked for by key.

use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};

use crate::util::*;

/// A PR analysis with `blockers` Blocker issues (`blocker-N`) and `majors` Major ones (`major-N`),
/// each on a line of its own file, and a failing gate.
fn many_issues(task: &str, blockers: usize, majors: usize) -> AnalysisSpec {
    let mut a = AnalysisSpec::new(task, "shop").failing_gate();
    a.analysis_id = format!("AN-{task}");
    a.pull_request = Some(PR.to_string());
    let issue = |key: String, n: usize, severity| {
        IssueSpec::new(&key, &format!("src/main/java/shop/F{}.java", n % 40), 1 + n as u32, severity, "m")
    };
    a.issues = (0..blockers).map(|n| issue(format!("blocker-{n:04}"), n, "BLOCKER")).collect();
    a.issues.extend((0..majors).map(|n| issue(format!("major-{n:04}"), n, "MAJOR")));
    a
}

fn issue_searches(sb: &sandbox::Sandbox) -> Vec<sandbox::RecordedRequest> {
    sb.sonar_server.requests().into_iter().filter(|r| r.path() == "/api/issues/search").collect()
}

fn inline_threads(sb: &sandbox::Sandbox) -> Vec<(String, String)> {
    let st = sb.azdo_state();
    let mut threads: Vec<(String, String)> = st
        .pull_request(PR)
        .threads
        .iter()
        .filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue")
        .map(|t| {
            (t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str().unwrap().to_string(), t["status"].as_str().unwrap().to_string())
        })
        .collect();
    threads.sort();
    threads
}

fn summary_text(sb: &sandbox::Sandbox) -> String {
    let st = sb.azdo_state();
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    summary["comments"][0]["content"].as_str().unwrap().to_string()
}

/// 3 000 open issues, 40 of them Blockers: the 25 inline comments (the cap) are Blockers, so the
/// first page, most severe first, settles them and the PR's own gate; the other five pages are
/// not read. The summary counts every issue from the server's facet.
#[test]
fn thousands_of_issues_cost_one_page_when_it_settles_the_comments_and_the_gate() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(many_issues("T1", 40, 2_960));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.set("INPUT_FAILONNEWISSUES", "critical");
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let searches = issue_searches(&sb);
    assert_eq!(searches.len(), 1, "{:?}", searches.iter().map(|r| r.target.clone()).collect::<Vec<_>>());
    let first = &searches[0];
    assert_eq!(
        [first.query("s"), first.query("asc"), first.query("facets"), first.query("p"), first.query("ps"), first.query("pullRequest")],
        [
            Some("SEVERITY".into()),
            Some("false".into()),
            Some("impactSeverities".into()),
            Some("1".into()),
            Some("500".into()),
            Some("7".into())
        ]
    );
    let threads = inline_threads(&sb);
    assert_eq!(threads.len(), 25);
    assert!(threads.iter().all(|(key, _)| key.starts_with("blocker-")), "{threads:?}");
    let text = summary_text(&sb);
    assert!(text.contains("3000 new issues](") && text.contains(": 40 Blocker, 2960 Medium"), "{text}");
    assert!(text.contains("**Inline comments:** 25 on changed lines; at least 475 more not commented (maxInlineComments is 25)"), "{text}");
    assert!(run.stdout.contains("Read only the first page of issues, the most severe"), "{}", run.stdout);
    assert!(run.first_error().contains("40 issues at or above Critical on lines this pull request changed"), "{:?}", run.issues("error"));
}

/// What the first page cannot settle is read in full: a SARIF file lists every issue; and when
/// inlineSoftwareQualities admits fewer issues of the page than the cap (one Blocker, a bug, among
/// code smells), the other comments may be for issues on any page.
#[test]
fn every_page_is_read_when_the_first_cannot_settle_what_the_run_decides() {
    for (blockers, sarif) in [(1, false), (40, true)] {
        let (sb, mut env) = pr_scenario(Flavour::Server108);
        sb.sonar_state().analyses.push(many_issues("T1", blockers, 1_200));
        env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
        if sarif {
            let path = env.dir.path().join("issues.sarif");
            env.set("INPUT_SARIFFILE", &path.display().to_string());
        } else {
            env.set("INPUT_INLINESOFTWAREQUALITIES", "reliability");
        }
        let run = env.run();
        assert_eq!(run.result(), "Failed", "{}", run.all());
        let mut pages: Vec<String> = issue_searches(&sb).iter().map(|r| r.query("p").unwrap()).collect();
        pages.sort();
        assert_eq!(pages, ["1", "2", "3"], "blockers {blockers}, sarif {sarif}");
        let text = summary_text(&sb);
        // Every issue read: the figures are exact.
        let expected = if sarif { format!("; {} more not commented", blockers + 1_200 - 25) } else { "; 1200 left out by".to_string() };
        assert!(text.contains(&expected) && !text.contains("at least"), "{text}");
    }
}

/// A later run whose first page no longer holds the issues this task commented on asks for
/// those by key: a thread whose issue is still open (now Minor, pages away) stays active and
/// counts against the cap; one whose issue is gone is resolved; no other page is read.
#[test]
fn threads_issues_missing_from_the_first_page_are_asked_for_by_key() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(many_issues("T1", 30, 0));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    assert_eq!(env.run().result(), "Failed");
    let first = inline_threads(&sb);
    assert_eq!(first.len(), 25);
    // The next push: ten of the commented issues fixed, fifteen lowered to Minor, and 100 new
    // Blockers above 2 000 new Majors.
    let commented: Vec<String> = first.iter().map(|(k, _)| k.clone()).collect();
    let mut a = many_issues("T2", 0, 2_000);
    a.issues.extend((0..100).map(|n| IssueSpec::new(&format!("new-{n:03}"), "src/main/java/shop/New.java", 1 + n, "BLOCKER", "m")));
    a.issues.extend(
        commented[10..].iter().enumerate().map(|(n, key)| IssueSpec::new(key, "src/main/java/shop/Old.java", 1 + n as u32, "MINOR", "m")),
    );
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T2", Some("7"));
    let before = issue_searches(&sb).len();
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let searches: Vec<sandbox::RecordedRequest> = issue_searches(&sb).into_iter().skip(before).collect();
    assert_eq!(
        searches.len(),
        2,
        "the first page and one query by key: {:?}",
        searches.iter().map(|r| r.target.clone()).collect::<Vec<_>>()
    );
    let by_key = searches.iter().find(|r| r.query("issues").is_some()).expect("a query by key");
    let mut asked: Vec<String> = by_key.query("issues").unwrap().split(',').map(str::to_string).collect();
    asked.sort();
    assert_eq!(asked, commented, "exactly the threads' issues");
    assert_eq!(by_key.query("pullRequest").as_deref(), Some("7"));
    let threads = inline_threads(&sb);
    for (key, status) in &threads {
        let expected = match commented.iter().position(|k| k == key) {
            Some(n) if n < 10 => "fixed",
            _ => "active",
        };
        assert_eq!(status, expected, "{key}: {threads:?}");
    }
    // Fifteen still open and commented: ten new comments fill the cap, on the new Blockers.
    let new: Vec<&String> = threads.iter().map(|(k, _)| k).filter(|k| !commented.contains(k)).collect();
    assert_eq!(new.len(), 10, "{new:?}");
    assert!(new.iter().all(|k| k.starts_with("new-")), "{new:?}");
}
