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
    assert!(err.starts_with(&format!("SonarQube: {}/api/system/status did not answer within 3 s", sb.sonar_url())), "{err}");
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
        err.starts_with(&format!("SonarQube: http://{closed} refused the connection (http://{closed}/api/system/status; the address comes from sonarUrl): nothing accepts connections on that port.")),
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
        err.starts_with("SonarQube: the host name sonarqube.fabrikam.invalid does not resolve (https://sonarqube.fabrikam.invalid/api/system/status; the address comes from sonarUrl). Check it for a typo;"),
        "{err}"
    );
}

/// A pids cgroup of this test's own (cgroup v2, or v1's `pids` hierarchy), removed on drop: the
/// runs put in it get `pids.max` tasks (threads and processes) in all, as in a container started
/// with `--pids-limit`.
struct PidsLimit {
    dir: std::path::PathBuf,
    /// `cgroup.procs`, opened before any run forks: the child only writes to it.
    procs: std::fs::File,
}

impl PidsLimit {
    /// A new pids cgroup beside (v1) or below (v2) this process's own, or why there cannot be one.
    fn create() -> Result<PidsLimit, String> {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
        let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("/proc/self/cgroup: {e}"))?;
        let name = format!("sonar-pr-gate-test-{}", std::process::id());
        let mut reasons = Vec::new();
        for line in mounts.lines() {
            // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS
            let Some((left, right)) = line.split_once(" - ") else { continue };
            let (fields, after): (Vec<&str>, Vec<&str>) = (left.split(' ').collect(), right.split(' ').collect());
            let (Some(root), Some(mount_point), Some(fs)) = (fields.get(3), fields.get(4), after.first()) else { continue };
            let v2 = *fs == "cgroup2";
            let v1_pids = *fs == "cgroup" && after.get(2).is_some_and(|o| o.split(',').any(|o| o == "pids"));
            if !v2 && !v1_pids {
                continue;
            }
            // This process's place in that hierarchy: `0::/path` (v2) or `N:pids:/path` (v1).
            let Some(path) = own.lines().find_map(|l| {
                let mut parts = l.splitn(3, ':');
                let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                let ours = if v2 { controllers.is_empty() } else { controllers.split(',').any(|c| c == "pids") };
                ours.then_some(path)
            }) else {
                continue;
            };
            let relative = path.strip_prefix(root).unwrap_or(path).trim_start_matches('/');
            let parent = std::path::Path::new(mount_point).join(relative);
            if v2 {
                let controllers = std::fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
                if !controllers.split_whitespace().any(|c| c == "pids") {
                    reasons.push(format!("{}: no pids controller", parent.display()));
                    continue;
                }
                // Children get the controller only when the parent hands it down (refused, with
                // EBUSY, when the parent holds processes and is not the root).
                let _ = std::fs::write(parent.join("cgroup.subtree_control"), "+pids");
            }
            let dir = parent.join(&name);
            match std::fs::create_dir(&dir).and_then(|()| std::fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs"))) {
                Ok(procs) if dir.join("pids.max").exists() => return Ok(PidsLimit { dir, procs }),
                Ok(_) => reasons.push(format!("{}: the new cgroup has no pids.max", dir.display())),
                Err(e) => reasons.push(format!("{}: {e}", dir.display())),
            }
            let _ = std::fs::remove_dir(&dir);
        }
        if reasons.is_empty() { Err("no cgroup hierarchy with a pids controller is mounted".into()) } else { Err(reasons.join("; ")) }
    }

    fn set_max(&self, max: u32) {
        std::fs::write(self.dir.join("pids.max"), max.to_string()).expect("pids.max can be written");
    }

    /// Makes `command`'s process join this cgroup between fork and exec.
    fn enter(&self, command: &mut std::process::Command) {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let fd = self.procs.as_raw_fd();
        // SAFETY: between fork and exec only async-signal-safe calls: write(2) of a static buffer
        // ("0" is the writing process itself, in v1 and v2 alike).
        unsafe {
            command.pre_exec(
                move || {
                    if libc::write(fd, b"0".as_ptr().cast(), 1) == 1 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
                },
            );
        }
    }
}

impl Drop for PidsLimit {
    fn drop(&mut self) {
        // The runs have been waited for; their threads and processes leave the cgroup with them.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A container's pids limit refuses every thread past the main one (`pids.max` 1) or all but a
/// few: the run still completes, with the status, the inline comment, the summary and the build
/// summary, its work done on the calling thread.
#[test]
fn a_run_that_the_system_refuses_threads_completes_on_its_own_thread() {
    if emulated() {
        return skipped("an emulator (Wine, qemu) needs processes and threads of its own, which a pids limit refuses");
    }
    let limit = match PidsLimit::create() {
        Ok(limit) => limit,
        Err(why) => return skipped(&format!("no pids cgroup can be created here ({why})")),
    };
    for max in [1, 4, 8] {
        let (sb, mut env) = failing_pr_with_one_issue();
        // By name, so every request needs a lookup (an address literal needs none).
        for variable in ["INPUT_SONARURL", "SYSTEM_COLLECTIONURI", "ENDPOINT_URL_SYSTEMVSSCONNECTION"] {
            let by_name = env.vars[variable].replace("127.0.0.1", "localhost");
            env.set(variable, &by_name);
        }
        limit.set_max(max);
        let run = env.run_configured(&["task"], |c| limit.enter(c));
        assert_eq!(run.result(), "Failed", "pids.max {max}:\n{}", run.all());
        assert!(
            run.first_error().starts_with("quality gate of 'shop' failed: Coverage on New Code is 45.5%"),
            "pids.max {max}:\n{}",
            run.all()
        );
        assert!(!run.all().contains("failed to spawn thread"), "pids.max {max}:\n{}", run.all());
        assert_eq!(run.status, 0, "pids.max {max}: the agent reads the result from task.complete");
        let st = sb.azdo_state();
        let pr = st.pull_request(PR);
        assert_eq!(pr.statuses.len(), 1, "pids.max {max}");
        assert_eq!(pr.statuses[0]["state"], "failed");
        let kinds: Vec<&str> = pr.threads.iter().map(|t| t["properties"]["SonarPrGate.Kind"]["$value"].as_str().unwrap_or("")).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "summary").count(), 1, "pids.max {max}: {kinds:?}");
        assert_eq!(kinds.len(), 2, "pids.max {max}: the summary and one inline comment: {kinds:?}");
        assert!(run.commands().iter().any(|c| c.event == "uploadsummary"), "pids.max {max}: no build summary");
    }
}

/// An earlier build step left two links back up at every level of the workspace (2^40 paths for
/// a walk that follows them); reportTaskFile's `**` does not go round them, so the run finds the
/// one real report at once and decorates as usual.
#[cfg(unix)]
#[test]
fn report_discovery_through_symlink_loops_ends_at_once_with_the_real_report() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    let sources = env.sources();
    for level in [sources.clone(), sources.join(".scannerwork")] {
        std::os::unix::fs::symlink("..", level.join("up")).unwrap();
        std::os::unix::fs::symlink(".", level.join("here")).unwrap();
    }
    env.set("INPUT_REPORTTASKFILE", "**/report-task.txt").set("INPUT_POLLINGTIMEOUTSEC", "3");
    let (run, took) = timed(&env);
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(host_paths(&run.stdout).contains("/s/.scannerwork/report-task.txt"), "{}", run.stdout);
    let st = sb.azdo_state();
    let pr = st.pull_request(PR);
    assert_eq!(pr.statuses.len(), 1);
    assert_eq!(pr.statuses[0]["state"], "succeeded");
    assert!(took < bound(), "the run took {took:?}");
}

/// A proxy whose name does not resolve fails at once, naming the proxy and its setting: not
/// retries, and not a message that blames the SonarQube URL.
#[test]
fn a_proxy_whose_name_does_not_resolve_fails_at_once_naming_the_proxy_setting() {
    let (sb, mut env) = pr_scenario(Flavour::Server108);
    passing_pr(&sb, &env);
    env.set("AGENT_PROXYURL", "http://proxy.fabrikam.invalid:3128");
    let (run, took) = timed(&env);
    assert!(took < Duration::from_secs(10) * slowdown(), "took {took:?}: {}", run.all());
    assert!(!run.stdout.contains("retrying"), "a missing name is not transient: {}", run.stdout);
    let err = &run.first_error();
    assert!(
        err.contains("the proxy http://proxy.fabrikam.invalid:3128 cannot be reached: its host name proxy.fabrikam.invalid does not resolve; check Agent.ProxyUrl"),
        "{err}"
    );
    assert!(!err.contains("sonarUrl"), "the SonarQube URL is not to blame: {err}");
    assert!(sb.azdo_state().pull_request(PR).statuses.is_empty());
}
