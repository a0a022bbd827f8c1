//! Misbehaving servers on 127.0.0.1: a run ends when the user said it would (pollingTimeoutSec,
//! then 120 s to read and post), and a name that does not resolve or a port that refuses fails at
//! once with the fix. Each case asserts the wall-clock bound (with room for a loaded machine, and
//! `slowdown()` times more under an emulator), the result and the message.

use std::time::{Duration, Instant};

use sandbox::proxy::{ForwardProxy, ProxyOptions};
use sandbox::server::Response;
use sandbox::sonar::{AnalysisSpec, Flavour};
use sandbox::{Fault, FaultRule};

use crate::util::*;

/// Runs the task and returns the run and how long it took.
fn timed(env: &TaskEnv) -> (Run, Duration) {
    let started = Instant::now();
    let run = env.run();
    let took = started.elapsed();
    // The figure the closing notes quote (`cargo test --test integration bounded -- --nocapture`).
    eprintln!("{}: the run took {:.1} s", std::thread::current().name().unwrap_or("?"), took.as_secs_f64());
    (run, took)
}

/// pollingTimeoutSec=3 plus room for a loaded machine: far below the minutes these cases took.
fn bound() -> Duration {
    Duration::from_secs(25) * slowdown()
}

#[test]
fn a_server_that_never_answers_ends_the_run_within_polling_timeout() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("INPUT_POLLINGTIMEOUTSEC", "3");
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: "/api/".into(),
        fault: Fault::Hang(Duration::from_secs(600)),
        times: 1000,
    });
    let (run, took) = timed(&env);
    assert!(took < bound(), "took {took:?}");
    assert_eq!(run.result(), "Failed");
    let err = &run.first_error();
    assert!(err.starts_with(&format!("SonarQube: {}/api/server/version did not answer within 3 s", sb.sonar_url())), "{err}");
}

#[test]
fn an_analysis_task_answered_a_byte_a_second_times_out_within_polling_timeout() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("INPUT_POLLINGTIMEOUTSEC", "3");
    sb.sonar_server.inject(FaultRule {
        method: None,
        path_contains: "/api/ce/task".into(),
        fault: Fault::Dribble(Duration::from_secs(1)),
        times: 1000,
    });
    let (run, took) = timed(&env);
    assert!(took < bound(), "took {took:?}");
    assert_eq!(run.result(), "Failed");
    assert!(run.first_error().starts_with("the analysis of 'shop' did not finish within 3 s"), "{:?}", run.issues("error"));
    // Decoration still says so, within the rest of the run's time.
    assert_eq!(sb.azdo_state().pull_request(PR).statuses[0]["state"], "error");
}

#[test]
fn absurd_retry_after_values_are_capped_not_a_crash() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let absurd = Response::text(503, "text/plain", "busy")
        .with_header("Retry-After", "1e20")
        .with_header("X-RateLimit-Reset", "99999999999999999999");
    sb.sonar_server.inject(FaultRule { method: None, path_contains: "/api/ce/task".into(), fault: Fault::Reply(absurd), times: 1 });
    // An announcement on Azure DevOps' last answer (the re-read after creating the summary), so the
    // capped pause holds nothing back and the test stays quick.
    let announce = vec![("Retry-After".to_string(), "1e20".to_string()), ("X-RateLimit-Remaining".to_string(), "0".to_string())];
    sb.azdo_server.inject(FaultRule { method: Some("GET".into()), path_contains: "/threads?".into(), fault: Fault::Pass, times: 1 });
    sb.azdo_server.inject(FaultRule {
        method: Some("GET".into()),
        path_contains: "/threads?".into(),
        fault: Fault::AddHeaders(announce),
        times: 1,
    });
    let (run, took) = timed(&env);
    assert_eq!(run.status, 0, "no crash: {}", run.all());
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(took < bound(), "took {took:?}");
    assert!(run.stdout.contains("/api/ce/task asked for a wait that is not a number of seconds; waiting 0.0 s at most"), "{}", run.stdout);
    assert!(run.stdout.contains("/threads asked for a wait that is not a number of seconds; waiting 60.0 s at most"), "{}", run.stdout);
}

#[test]
fn endless_paging_of_the_changed_files_stops() {
    let (sb, mut env) = pr_scenario(Flavour::Community);
    sb.sonar_state().analyses.push(AnalysisSpec::new("T1", "shop"));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", None);
    env.set("INPUT_DECORATIONMODE", "changedLines");
    let page = serde_json::json!({"changeEntries": [{"changeTrackingId": 1, "item": {"path": "/src/a.rs"}, "changeType": "edit"}], "nextSkip": 1, "nextTop": 2000});
    sb.azdo_server.inject(FaultRule {
        method: Some("GET".into()),
        path_contains: "/changes?".into(),
        fault: Fault::Reply(Response::json(200, &page)),
        times: 100_000,
    });
    let (run, took) = timed(&env);
    assert!(took < bound(), "took {took:?}");
    let pages = sb.azdo_server.requests().iter().filter(|r| r.path().ends_with("/changes")).count();
    assert!(pages <= 3, "{pages} pages asked for");
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
}

#[test]
fn a_dribbled_tls_handshake_does_not_hold_the_diagnosis() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let ca = sandbox::tls::TestCa::new();
    // The run's six requests (the five server checks and, beside them, the analysis's first poll)
    // see the certificate at once; every diagnosis after them is dribbled a byte at a time.
    let server = sandbox::tls::DribbleDiagnoses::start(ca.server_config.clone(), 6);
    env.set("INPUT_SONARURL", &server.url()).set("INPUT_POLLINGTIMEOUTSEC", "3");
    let (run, took) = timed(&env);
    assert!(took < bound(), "took {took:?}");
    assert!(server.dribbled() >= 1, "no diagnosis was held, so this test tested nothing: {}", run.all());
    let err = &run.first_error();
    assert!(err.contains("an authority this agent does not trust (UnknownIssuer)"), "{err}\n{}", run.all());
}

#[test]
fn a_proxy_that_never_answers_connect_ends_within_polling_timeout() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let proxy = ForwardProxy::start(ProxyOptions { never_answers: true, ..ProxyOptions::default() });
    env.set("AGENT_PROXYURL", &proxy.url()).set("INPUT_POLLINGTIMEOUTSEC", "3");
    let (run, took) = timed(&env);
    assert!(took < bound(), "took {took:?}: {}", run.all());
    let err = &run.first_error();
    assert!(err.contains(&format!("the proxy {} did not open a tunnel", proxy.url())), "{err}");
}

#[test]
fn a_refused_port_fails_at_once_naming_the_input() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    env.set("INPUT_SONARURL", &format!("http://{closed}"));
    let (run, took) = timed(&env);
    assert!(took < Duration::from_secs(10) * slowdown(), "took {took:?}");
    assert!(!run.stdout.contains("retrying"), "refused is not transient: {}", run.stdout);
    let err = &run.first_error();
    assert!(
        err.starts_with(&format!("SonarQube: http://{closed} refused the connection (http://{closed}/api/server/version; the address comes from sonarUrl): nothing accepts connections on that port.")),
        "{err}"
    );
}

#[test]
fn a_name_that_does_not_resolve_fails_at_once_naming_the_input() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("INPUT_SONARURL", "https://sonarqube.fabrikam.invalid");
    let (run, took) = timed(&env);
    assert!(took < Duration::from_secs(10) * slowdown(), "took {took:?}");
    assert!(!run.stdout.contains("retrying"), "a missing name is not transient: {}", run.stdout);
    let err = &run.first_error();
    assert!(
        err.starts_with("SonarQube: the host name sonarqube.fabrikam.invalid does not resolve (https://sonarqube.fabrikam.invalid/api/server/version; the address comes from sonarUrl). Check it for a typo;"),
        "{err}"
    );
}
