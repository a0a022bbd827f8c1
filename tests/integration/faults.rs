//! Fault injection: every external call under a one-shot 500, 503, 429 with Retry-After, a
//! dropped connection and a slow answer; and hostile or broken answers. Every cell must end
//! recovered or with a clear error, with no duplicate thread or status and no secret in the output
//! (the runner checks that on every run).

use std::collections::BTreeSet;
use std::time::Duration;

use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};
use sandbox::{Fault, FaultRule};

use crate::util::*;

/// One external call: its name in the table, the server, the method and a unique part of its URL.
struct Call {
    name: &'static str,
    azdo: bool,
    method: &'static str,
    path: &'static str,
}

const CALLS: [Call; 15] = [
    Call { name: "system/status", azdo: false, method: "GET", path: "/api/system/status" },
    Call { name: "navigation/global", azdo: false, method: "GET", path: "/api/navigation/global" },
    Call { name: "settings/values", azdo: false, method: "GET", path: "/api/settings/values" },
    Call { name: "ce/task", azdo: false, method: "GET", path: "/api/ce/task" },
    Call { name: "qualitygates/project_status", azdo: false, method: "GET", path: "/api/qualitygates/project_status" },
    Call { name: "measures/component_tree", azdo: false, method: "GET", path: "/api/measures/component_tree" },
    Call { name: "issues/search", azdo: false, method: "GET", path: "/api/issues/search" },
    Call { name: "hotspots/search", azdo: false, method: "GET", path: "/api/hotspots/search" },
    Call { name: "GET pull request", azdo: true, method: "GET", path: "/pullRequests/7?" },
    Call { name: "GET iterations", azdo: true, method: "GET", path: "/iterations?" },
    Call { name: "GET threads", azdo: true, method: "GET", path: "/threads?" },
    Call { name: "POST status", azdo: true, method: "POST", path: "/statuses?" },
    Call { name: "POST thread", azdo: true, method: "POST", path: "/threads?" },
    Call { name: "PATCH thread", azdo: true, method: "PATCH", path: "/threads/" },
    Call { name: "PATCH comment", azdo: true, method: "PATCH", path: "/comments/" },
];

fn faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("500", Fault::Status(500)),
        ("503", Fault::Status(503)),
        ("429 + Retry-After", Fault::RateLimited { retry_after_secs: 1 }),
        ("dropped", Fault::DropConnection),
        ("slow (400 ms)", Fault::Delay(Duration::from_millis(400))),
    ]
}

fn analysis(task: &str, issues: &[&str], passing: bool) -> AnalysisSpec {
    let mut a = AnalysisSpec::new(task, "shop");
    if !passing {
        a = a.failing_gate();
    }
    a.analysis_id = format!("AN-{task}");
    a.pull_request = Some("7".into());
    a.issues = issues.iter().enumerate().map(|(n, k)| IssueSpec::new(k, &format!("src/F{n}.java"), 3 + n as u32, "MAJOR", "m")).collect();
    a
}

/// Runs one cell: a clean first run, then a re-run under the fault that resolves a fixed issue,
/// comments a new one, edits the summary and resolves it. Returns what happened, or panics with
/// why the cell is wrong.
fn cell(call: &Call, fault: &Fault) -> &'static str {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &["k1", "k2"], false));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    assert_eq!(env.run().result(), "Failed");

    sb.sonar_state().analyses.push(analysis("T2", &["k2", "k3"], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T2", Some("7"));
    let server = if call.azdo { &sb.azdo_server } else { &sb.sonar_server };
    server.inject(FaultRule { method: Some(call.method.into()), path_contains: call.path.into(), fault: fault.clone(), times: 1 });
    let run = env.run();

    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    // Never a duplicate: one status per run, one thread per issue and one summary.
    assert!(pr.statuses.len() <= 2, "{} statuses: {}", pr.statuses.len(), run.all());
    let mut seen = BTreeSet::new();
    for t in &pr.threads {
        let key =
            (t["properties"]["SonarPrGate.Kind"]["$value"].to_string(), t["properties"]["SonarPrGate.IssueKey"]["$value"].to_string());
        assert!(seen.insert(key.clone()), "duplicate thread {key:?} under {} / {fault:?}", call.name);
    }
    if run.result() == "Succeeded" {
        assert_eq!(pr.statuses.len(), 2);
        assert_eq!(pr.statuses[1]["state"], "succeeded");
        let thread = |k: &str| pr.threads.iter().find(|t| t["properties"]["SonarPrGate.IssueKey"]["$value"] == k).cloned();
        assert_eq!(thread("k1").unwrap()["status"], "fixed");
        assert_eq!(thread("k3").unwrap()["status"], "active");
        let summary = pr.threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap();
        assert_eq!(summary["status"], "fixed");
        assert!(summary["comments"][0]["content"].as_str().unwrap().contains("Quality gate passed"));
        "recovered"
    } else {
        let errors = run.issues("error");
        assert_eq!(errors.len(), 1, "{}", run.all());
        assert!(errors[0].len() > 40 && !errors[0].contains("panicked"), "unclear: {}", errors[0]);
        "clear error"
    }
}

#[test]
fn every_call_under_every_fault_recovers_or_fails_clearly() {
    let mut table = vec![format!("| call | {} |", faults().iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" | "))];
    table.push(format!("|---|{}", "---|".repeat(faults().len())));
    let rows: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = CALLS
            .iter()
            .map(|call| {
                s.spawn(move || {
                    let cells: Vec<&str> = faults().iter().map(|(_, f)| cell(call, f)).collect();
                    format!("| {} | {} |", call.name, cells.join(" | "))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    table.extend(rows);
    eprintln!("{}", table.join("\n"));
    // Every cell recovers: reads and PATCHes are retried, POSTs are checked and sent once more.
    assert!(table.iter().skip(2).all(|r| !r.contains("clear error")), "{}", table.join("\n"));
}

fn hostile(path: &str, status: u16, content_type: &str, body: Vec<u8>) -> (String, Run) {
    hostile_expect(path, status, content_type, body, "Failed")
}

fn hostile_expect(path: &str, status: u16, content_type: &str, body: Vec<u8>, result: &str) -> (String, Run) {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &["k1"], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: path.into(),
        fault: Fault::Body { status, content_type: content_type.into(), body },
        times: 10,
    });
    let run = env.run();
    assert_eq!(run.status, 0, "no crash: {}", run.all());
    assert_eq!(run.result(), result, "{path}: {}", run.all());
    let err = run.issues("error").into_iter().next().unwrap_or_default();
    (err, run)
}

#[test]
fn broken_and_hostile_answers_give_clear_errors() {
    let (err, _) = hostile("/api/ce/task", 200, "text/html", b"<html><body>Please sign in</body></html>".to_vec());
    assert!(err.contains("api/ce/task answered with JSON this task cannot read"), "{err}");
    let (err, _) = hostile("/api/issues/search", 200, "application/json", br#"{"paging":{"total":3},"issues":[{"key":"a","mess"#.to_vec());
    assert!(err.contains("api/issues/search answered with JSON this task cannot read (EOF while parsing"), "{err}");
    let (err, _) =
        hostile("/api/qualitygates/project_status", 200, "application/json", b"{\"projectStatus\":{\"status\":\"O\xff\xfeK\"}}".to_vec());
    assert!(err.contains("api/qualitygates/project_status answered with JSON this task cannot read"), "{err}");
    // 10 000 levels of nesting: skipped without recursion in a field nothing reads, and stopped by
    // the parser's depth limit where a generic value is read (the edition check then says it
    // could not tell). Neither overflows the stack.
    let deep = |prefix: &str| format!("{prefix}{}{}}}}}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();
    let (_, run) = hostile_expect(
        "/api/measures/component_tree",
        200,
        "application/json",
        deep("{\"baseComponent\":{\"key\":\"shop\",\"measures\":[],\"extra\":"),
        "Succeeded",
    );
    assert!(run.issues("error").is_empty());
    let (_, run) = hostile_expect("/api/navigation/global", 200, "application/json", deep("{\"x\":{\"y\":"), "Succeeded");
    assert!(
        run.stdout.contains("[pass] SonarQube edition unknown: api/navigation/global did not say which edition this is"),
        "{}",
        run.stdout
    );
    let huge = vec![b' '; 65 * 1024 * 1024];
    let (err, _) = hostile("/api/hotspots/search", 200, "application/json", huge);
    assert!(err.contains("answered more than 67108864 bytes"), "{err}");
    // A redirect is named as one (where to, when it says), never taken for "not SonarQube".
    let (err, _) = hostile("/api/system/status", 302, "text/html", Vec::new());
    assert!(
        err.contains(
            "redirected the request to another address (HTTP 302) while trying to read the server status; redirects are not followed"
        ),
        "{err}"
    );
    let (err, _) = hostile("/api/system/status", 200, "text/html", b"<html>Sign in</html>".to_vec());
    assert!(
        err.contains("answered HTTP 200 with an HTML page, not SonarQube's status: the URL does not point at a SonarQube server"),
        "{err}"
    );
}

#[test]
fn messages_and_paths_with_markdown_html_and_commands_are_defused() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = analysis("T1", &[], false);
    a.issues = vec![IssueSpec::new(
        "k1",
        "src/<script>alert(1)</script>/##vso[task.complete result=Succeeded]x.java",
        3,
        "MAJOR",
        "Use [this](http://evil.example) <img src=x onerror=alert(1)> ##vso[task.setvariable variable=x]y | **bold**",
    )];
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed", "only our own task.complete counts");
    assert!(run.commands().iter().all(|c| c.event != "setvariable" || c.property("variable") == Some("qualityGateStatus")));
    let st = sb.azdo_state();
    let inline = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").unwrap().clone();
    let text = inline["comments"][0]["content"].as_str().unwrap();
    assert!(!text.contains("<img") && !text.contains("](http://evil") && !text.contains("**bold**"), "{text}");
    assert!(text.contains("&lt;img src=x onerror=alert\\(1\\)&gt;"), "{text}");
}

#[test]
fn rate_limit_announcements_on_successful_answers_slow_the_next_requests() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &["k1"], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let headers = vec![
        ("Retry-After".to_string(), "1".to_string()),
        ("X-RateLimit-Resource".to_string(), "Core.PullRequests".to_string()),
        ("X-RateLimit-Remaining".to_string(), "0".to_string()),
    ];
    sb.azdo_server.inject(FaultRule {
        method: Some("GET".into()),
        path_contains: "/threads?".into(),
        fault: Fault::AddHeaders(headers),
        times: 1,
    });
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(
        run.stdout.contains(
            "Azure DevOps asks this pipeline to slow down (rate limit: Core.PullRequests); waiting 1.0 s before the next request"
        ),
        "{}",
        run.stdout
    );
    let reqs = sb.azdo_server.requests();
    let threads_read = reqs.iter().find(|r| r.method == "GET" && r.path().ends_with("/threads")).unwrap().received_at;
    // The early status lane may post while the threads are being read (its POST can reach the
    // server after the GET and still have left before the answer that asked to slow down): the
    // writes that count are the thread writes, which cannot start before that answer is read.
    let first_write = reqs
        .iter()
        .filter(|r| r.method != "GET" && r.path().contains("/threads") && r.received_at > threads_read)
        .map(|r| r.received_at)
        .min()
        .unwrap();
    assert!(first_write - threads_read >= Duration::from_millis(900), "writes waited {:?}", first_write - threads_read);
}

#[test]
fn a_redirect_is_reported_and_never_followed_with_the_token() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &[], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let elsewhere = sandbox::Server::start(sb.sonar.clone());
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: "/api/ce/task".into(),
        fault: Fault::Redirect(format!("{}/api/ce/task?id=T1", elsewhere.url())),
        times: 10,
    });
    let run = env.run();
    let err = &run.first_error();
    assert!(err.contains(&format!("redirected the request to {}/api/ce/task?id=T1 (HTTP 302)", elsewhere.url())), "{err}");
    assert!(elsewhere.requests().is_empty(), "nothing, and so no token, went to the other host");
}

#[test]
fn debug_output_shows_requests_but_no_credentials() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &["k1"], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.set("SYSTEM_DEBUG", "true");
    let run = env.run();
    assert_eq!(run.result(), "Succeeded");
    let debug: Vec<String> = run.commands().into_iter().filter(|c| c.event == "debug").map(|c| c.message).collect();
    assert!(debug.iter().any(|d| d.starts_with("GET http://127.0.0.1:") && d.contains("/api/ce/task?id=T1 -> 200")), "{debug:?}");
    assert!(debug.iter().all(|d| !d.to_ascii_lowercase().contains("authorization")));
    // The runner has already checked that no secret, nor its base64 forms, is anywhere in the output.
}

#[test]
fn control_characters_and_line_breaks_from_the_server_stay_inert() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = analysis("T1", &[], false);
    let mut issue = IssueSpec::new("k1", "src/F.java", 3, "MAJOR", "red \u{1b}[31mALERT\u{1b}[0m and \u{202e}txt.exe");
    // A bare CR in a rule key would end a code span and start a heading.
    issue.rule = "java:S1\r# Owned".into();
    a.issues = vec![issue];
    a.warnings = vec!["line one\r\n## line two <img src=x onerror=y>".into()];
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert!(!run.all().contains('\u{1b}') && !run.all().contains('\u{202e}'), "raw control characters in the log");
    let st = sb.azdo_state();
    for t in &st.pull_request(PR).threads {
        let text = t["comments"][0]["content"].as_str().unwrap();
        assert!(!text.contains('\r') && !text.contains('\u{1b}') && !text.contains('\u{202e}'), "{text:?}");
        assert!(!text.contains("<img") && !text.lines().any(|l| l.starts_with("# ") || l.starts_with("## ")), "{text}");
    }
    let inline = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").unwrap();
    let text = inline["comments"][0]["content"].as_str().unwrap();
    assert!(text.contains("red &lt;U+001B&gt;\\[31mALERT&lt;U+001B&gt;\\[0m and &lt;U+202E&gt;txt\\.exe"), "{text}");
    assert!(text.contains("java:S1 \\# Owned · [Why is this an issue?]"), "{text}");
}

#[test]
fn a_server_base_url_that_is_not_an_http_url_is_refused_for_links() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &["k1"], true));
    sb.sonar_state().server_base_url = Some("javascript:alert(document.cookie)//".into());
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(
        run.issues("warning").iter().any(|w| w.starts_with(&format!(
            "sonar.core.serverBaseURL not an http(s) URL: the server's base URL is set to 'javascript:alert(document.cookie)//', which is not an http(s) URL; links in the pull request use {} instead",
            sb.sonar_url()
        ))),
        "{:?}",
        run.issues("warning")
    );
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses[0]["targetUrl"], format!("{}/dashboard?id=shop&pullRequest=7", sb.sonar_url()));
    for t in &st.pull_request(PR).threads {
        assert!(!t["comments"][0]["content"].as_str().unwrap().contains("javascript"));
    }
}

#[test]
fn comments_longer_than_azure_devops_takes_are_shortened_not_refused() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    let mut a = analysis("T1", &[], true);
    a.issues = vec![IssueSpec::new("k1", "src/F.java", 3, "MAJOR", &"x".repeat(200_000))];
    a.warnings = (0..100).map(|n| format!("warning {n}: {}", "w".repeat(10_000))).collect();
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let st = sb.azdo_state();
    let threads = &st.pull_request(PR).threads;
    assert_eq!(threads.len(), 2, "both comments were posted");
    for t in threads {
        let text = t["comments"][0]["content"].as_str().unwrap();
        assert!(text.encode_utf16().count() <= 150_000, "{} characters", text.len());
    }
    let inline = threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "issue").unwrap();
    assert!(inline["comments"][0]["content"].as_str().unwrap().contains("… (shortened: 196000 more characters)"));
    let summary = threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap();
    assert!(summary["comments"][0]["content"].as_str().unwrap().contains("90 more warnings of the analysis: see it in SonarQube."));
}

#[test]
fn a_password_in_report_task_urls_is_never_printed() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &[], true));
    let path = env.sources().join(".scannerwork/report-task.txt");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "projectKey=shop\nserverUrl=https://ci:hunter2-secret@sonar.other.example\ndashboardUrl=https://ci:hunter2-secret@sonar.other.example/dashboard?id=shop&pullRequest=7\nceTaskId=T1\n",
    )
    .unwrap();
    env.secrets.push("hunter2-secret".into());
    env.secrets.push("ci:hunter2-secret".into());
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("names the server https://sonar.other.example but this task calls"), "{}", run.stdout);
    // Registered with the agent's masker, so it is masked wherever else it turns up in the job.
    assert!(run.commands().iter().any(|c| c.event == "setsecret" && c.message == "hunter2-secret"));
}

#[test]
fn a_secret_that_contains_a_command_prefix_is_masked_whole() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", &[], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let pat = "pat##[vso0000000000000000000000000000000000000000000000";
    env.set("INPUT_AZUREDEVOPSPAT", pat);
    env.secrets.push(pat.into());
    // Not a credential the fake knows: the error path prints the most.
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    // Not even split by the `##[` defusing: the secret is masked before it.
    let printed: Vec<&str> = run.stdout.lines().filter(|l| !l.starts_with("##vso[task.setsecret]")).collect();
    assert!(printed.iter().all(|l| !l.contains("vso0000000000")), "{}", run.all());
}

/// A redirect, a rate limit and an unavailable server on the very first call are named as what
/// they are (after the retries for 429 and 503), never as "not a SonarQube server", and nothing is
/// posted. The redirect is not followed, so the token never reaches the other address.
#[test]
fn a_redirect_429_or_503_on_the_status_check_is_named_as_itself() {
    let elsewhere = sandbox::Sandbox::start(Flavour::Server108);
    let cases: [(Fault, &str); 3] = [
        (
            Fault::Redirect(format!("{}/sonarqube/api/system/status", elsewhere.sonar_url())),
            "redirected the request to {other}/sonarqube/api/system/status (HTTP 302) while trying to read the server status; redirects are not followed",
        ),
        (
            Fault::RateLimited { retry_after_secs: 0 },
            "kept refusing to read the server status with HTTP 429 (too many requests) after the retries",
        ),
        (Fault::Status(503), "the server is not ready to read the server status (HTTP 503;"),
    ];
    for (fault, expected) in cases {
        let (sb, env) = pr_scenario(Flavour::Server108);
        passing_pr(&sb, &env);
        let redirect = matches!(fault, Fault::Redirect(_));
        sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/system/status".into(), fault, times: 100 });
        let run = env.run();
        assert_eq!(run.result(), "Failed", "{}", run.all());
        let err = run.first_error();
        assert!(err.contains(&expected.replace("{other}", &elsewhere.sonar_url())), "{err}");
        assert!(!err.contains("does not point at a SonarQube server"), "{err}");
        let asked = sb.sonar_server.requests().iter().filter(|r| r.path() == "/api/system/status").count();
        assert_eq!(asked > 1, !redirect, "retried only when the answer is transient: {asked} request(s)");
        assert!(sb.azdo_state().pull_request(PR).statuses.is_empty(), "nothing is posted");
    }
    assert!(elsewhere.sonar_server.requests().is_empty(), "nothing, and so no token, went to the other address");
}

/// A server (or a proxy in front of it) that does not answer the internal api/navigation/global,
/// and whose status does not say its version: the token is checked the documented way
/// (api/authentication/validate), the version read from api/server/version, and the run goes on
/// with the edition unknown. A server that answers both asks neither.
#[test]
fn without_navigation_or_a_version_in_the_status_the_checks_fall_back() {
    let (sb, env) = pr_scenario(Flavour::Server2025);
    sb.sonar_state().analyses.push(analysis("T1", &["k1"], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let asked = |path: &str| sb.sonar_server.requests().iter().filter(|r| r.path() == path).count();
    assert_eq!((asked("/api/authentication/validate"), asked("/api/server/version")), (0, 0));

    let (sb, env) = pr_scenario(Flavour::Server2025);
    sb.sonar_state().analyses.push(analysis("T1", &["k1"], true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    let body =
        |status: u16, content_type: &str, body: &[u8]| Fault::Body { status, content_type: content_type.into(), body: body.to_vec() };
    let nowhere = body(404, "text/html", b"<html>Not found</html>");
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/navigation/global".into(), fault: nowhere, times: 10 });
    let status = body(200, "application/json", br#"{"status":"UP"}"#);
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/system/status".into(), fault: status, times: 10 });
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("[pass] SonarQube token valid: api/authentication/validate says valid=true"), "{}", run.stdout);
    assert!(run.stdout.contains("answers, version 2025.4.2.112048, status UP"), "{}", run.stdout);
    assert!(run.stdout.contains("[pass] SonarQube edition unknown: api/navigation/global did not say"), "{}", run.stdout);
    let asked = |path: &str| sb.sonar_server.requests().iter().filter(|r| r.path() == path).count();
    assert_eq!((asked("/api/authentication/validate"), asked("/api/server/version")), (1, 1));
    // The version learnt the old way still decides what 2025.4 has: its dependency risks are read.
    assert_eq!(asked("/api/v2/sca/issues-releases"), 1);
}
