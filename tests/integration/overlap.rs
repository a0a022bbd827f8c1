//! Runs that overlap: two runs of the task for one pull request at the same moment (a matrix job, a
//! re-queued build, a second push while the first build still runs), and a run killed half-way.
//! The pull request must end with one summary per project and one thread per issue.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};
use sandbox::{Fault, FaultRule};

use crate::util::*;

fn analysis(task: &str, issues: usize, passing: bool) -> AnalysisSpec {
    let mut a = AnalysisSpec::new(task, "shop");
    if !passing {
        a = a.failing_gate();
    }
    a.analysis_id = format!("AN-{task}");
    a.pull_request = Some(PR.to_string());
    a.issues = (0..issues).map(|n| IssueSpec::new(&format!("k{n}"), &format!("src/F{n}.java"), 3 + n as u32, "MAJOR", "m")).collect();
    a
}

/// The task as a child process, with the environment of `env`.
fn spawn(env: &TaskEnv) -> std::process::Child {
    task_command(&env.vars)
        .args(["task", "--first-retry-delay-ms=20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

fn finish(child: std::process::Child, env: &TaskEnv) -> Run {
    let out = child.wait_with_output().expect("the run ends");
    let run = Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_no_secrets(&run, &[sandbox::SONAR_TOKEN.into(), sandbox::JOB_TOKEN.into(), sandbox::PAT.into()], env.dir.path());
    run
}

/// The task's threads that are not closed, by (kind, issue key): each must be there once.
fn open_threads(sb: &sandbox::Sandbox) -> BTreeMap<(String, String), Vec<(u64, String)>> {
    let st = sb.azdo_state();
    let mut out: BTreeMap<(String, String), Vec<(u64, String)>> = BTreeMap::new();
    for t in &st.pull_request(PR).threads {
        if t["status"] == "closed" {
            continue;
        }
        let key = (
            t["properties"]["SonarPrGate.Kind"]["$value"].as_str().unwrap_or("").to_string(),
            t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str().unwrap_or("").to_string(),
        );
        out.entry(key).or_default().push((t["id"].as_u64().unwrap(), t["status"].as_str().unwrap_or("").to_string()));
    }
    out
}

#[test]
fn two_runs_reading_the_threads_at_the_same_moment_converge_on_one_set() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", 3, false));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    // Both runs' thread reads are held until both have asked: each sees an empty pull request.
    sb.azdo_server.inject(FaultRule {
        method: Some("GET".into()),
        path_contains: "/threads?".into(),
        fault: Fault::hold_until(2),
        times: 2,
    });
    let (a, b) = (spawn(&env), spawn(&env));
    let (a, b) = (finish(a, &env), finish(b, &env));
    for run in [&a, &b] {
        assert_eq!(run.result(), "Failed", "the gate fails, nothing else: {}", run.all());
        assert_eq!(run.issues("error").len(), 1, "{}", run.all());
    }
    let creates = sb.azdo_server.requests().iter().filter(|r| r.method == "POST" && r.path().ends_with("/threads")).count();
    assert_eq!(creates, 8, "both runs created a summary and three inline threads: the race happened\n{}\n{}", a.all(), b.all());
    let open = open_threads(&sb);
    assert_eq!(open.len(), 4, "{open:?}");
    for (key, threads) in &open {
        assert_eq!(threads.len(), 1, "{key:?} is open more than once: {open:?}");
    }
    // The lowest id of each pair is the one that stayed, and it is active.
    let st = sb.azdo_state();
    let all = &st.pull_request(PR).threads;
    for ((kind, issue), threads) in &open {
        let ids: Vec<u64> = all
            .iter()
            .filter(|t| {
                t["properties"]["SonarPrGate.Kind"]["$value"] == *kind
                    && t["properties"]["SonarPrGate.IssueKey"]["$value"].as_str().unwrap_or("") == issue
            })
            .map(|t| t["id"].as_u64().unwrap())
            .collect();
        assert_eq!(threads[0].0, *ids.iter().min().unwrap(), "{kind} {issue}: {ids:?}");
        assert_eq!(threads[0].1, "active");
    }
    assert!(a.stdout.contains("settling") || b.stdout.contains("settling"), "{}\n{}", a.stdout, b.stdout);
}

#[test]
fn a_run_killed_after_its_first_writes_is_repaired_by_the_next() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", 3, false));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    // The first thread is created; the others never get an answer, and the run is killed.
    let pass = FaultRule { method: Some("POST".into()), path_contains: "/threads?".into(), fault: Fault::Pass, times: 1 };
    let hang = FaultRule {
        method: Some("POST".into()),
        path_contains: "/threads?".into(),
        fault: Fault::Hang(Duration::from_secs(30)),
        times: 100,
    };
    sb.azdo_server.inject(pass);
    sb.azdo_server.inject(hang);
    let mut child = spawn(&env);
    let started = Instant::now();
    while sb.azdo_state().pull_request(PR).threads.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "the first thread was never created");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(sb.azdo_state().pull_request(PR).threads.len(), 1);

    sb.azdo_server.clear_faults();
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    let open = open_threads(&sb);
    assert_eq!(open.len(), 4, "one summary and three inline threads: {open:?}");
    assert!(open.values().all(|t| t.len() == 1), "{open:?}");
    assert_eq!(sb.azdo_state().pull_request(PR).threads.len(), 4, "nothing was made twice");
}

#[test]
fn a_later_run_closes_duplicates_an_earlier_race_left() {
    let (sb, env) = pr_scenario(Flavour::Server108);
    sb.sonar_state().analyses.push(analysis("T1", 2, false));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    env.run();
    // Copies as an interrupted race would leave them: same properties, same author, higher ids.
    {
        let mut st = sb.azdo_state();
        let pr = st.pull_requests.iter_mut().find(|p| p.id == PR).unwrap();
        let copies: Vec<serde_json::Value> = pr
            .threads
            .iter()
            .map(|t| {
                let mut copy = t.clone();
                copy["id"] = serde_json::json!(t["id"].as_u64().unwrap() + 1000);
                copy
            })
            .collect();
        pr.threads.extend(copies);
    }
    sb.sonar_state().analyses.push(analysis("T2", 2, true));
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T2", Some("7"));
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    let st = sb.azdo_state();
    for t in &st.pull_request(PR).threads {
        let id = t["id"].as_u64().unwrap();
        if id > 1000 {
            assert_eq!(t["status"], "closed", "the copy {id} is closed");
        }
    }
    let summary = st.pull_request(PR).threads.iter().find(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").unwrap().clone();
    assert_eq!(summary["status"], "fixed", "the original summary carries the passing gate");
    assert!(run.stdout.contains("(a duplicate left by an overlapping run)"), "{}", run.stdout);
}
