//! The benchmark: the release binary run as the agent runs it, against the sandbox with added
//! per-request latency, over {0, 1 000, 10 000 open issues} x {0 ms, 50 ms} x {20, 200 files},
//! first run and re-run. For each it prints wall time, CPU time and peak memory of the task
//! process, requests per endpoint, and the critical-path lower bound (dependent round trips x
//! latency) with the ratio of wall time to it. Also: `--version` start-up time and binary size.
//!
//! Run it with `scripts/bench` (which builds the release binary first), or
//! `cargo run --release --example bench -- target/release/sonar-pr-gate [--quick]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};
use sandbox::{JOB_TOKEN, SONAR_TOKEN, Sandbox};

const SOURCE_COMMIT: &str = "b60280bc6e62e2f880f1b63c1e24987664d3bda3";
const MAX_INLINE: usize = 25;

/// What one process used.
struct Usage {
    wall: Duration,
    cpu: Duration,
    peak_kib: i64,
    status: i32,
}

/// Runs a command and reads its resource use with wait4 (std's wait does not report it). wait4
/// reaps the child, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn wait4_usage(cmd: &mut Command) -> Usage {
    let started = Instant::now();
    let child = cmd.spawn().expect("the command starts");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we just started and reaps it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let wall = started.elapsed();
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Usage { wall, cpu: tv(usage.ru_utime) + tv(usage.ru_stime), peak_kib: usage.ru_maxrss, status: libc::WEXITSTATUS(status) }
}

/// Measures a command through a fresh, small copy of this program. Linux keeps `ru_maxrss` across
/// exec, and a spawned child starts from its parent's high-water mark; measured from here, the
/// figure would include the sandbox's memory. The copy holds nothing, so the figure is the task's.
fn measure(cmd: &mut Command) -> Usage {
    let me = std::env::current_exe().expect("the bench knows its path");
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut wrapper = Command::new(me);
    wrapper.arg("--measure-child").arg(report.path()).arg(cmd.get_program()).args(cmd.get_args());
    wrapper.env_clear().envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    if cmd.get_envs().next().is_none() {
        wrapper.envs(std::env::vars_os());
    }
    let status = wrapper.stdout(Stdio::null()).status().expect("the measuring copy runs");
    assert!(status.success(), "the measuring copy failed");
    parse_report(report.path())
}

/// `measure`, with the command's stdout going to a file.
fn measure_to(cmd: &mut Command, stdout: std::fs::File) -> Usage {
    let me = std::env::current_exe().expect("the bench knows its path");
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut wrapper = Command::new(me);
    wrapper.arg("--measure-child").arg(report.path()).arg(cmd.get_program()).args(cmd.get_args());
    wrapper.env_clear().envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let status = wrapper.stdout(Stdio::from(stdout)).stderr(Stdio::null()).status().expect("the measuring copy runs");
    assert!(status.success(), "the measuring copy failed");
    parse_report(report.path())
}

fn parse_report(path: &Path) -> Usage {
    let text = std::fs::read_to_string(path).unwrap();
    let v: Vec<u128> = text.split_whitespace().map(|n| n.parse().unwrap()).collect();
    Usage { wall: Duration::from_micros(v[0] as u64), cpu: Duration::from_micros(v[1] as u64), peak_kib: v[2] as i64, status: v[3] as i32 }
}

/// The measuring copy: runs the command with this process's stdio and writes "wall_us cpu_us
/// peak_kib status" to the report file.
fn measure_child(mut args: impl Iterator<Item = String>) -> ! {
    let report = args.next().expect("report path");
    let program = args.next().expect("program");
    let u = wait4_usage(Command::new(program).args(args));
    std::fs::write(report, format!("{} {} {} {}", u.wall.as_micros(), u.cpu.as_micros(), u.peak_kib, u.status)).unwrap();
    std::process::exit(0)
}

struct Scenario {
    issues: usize,
    latency_ms: u64,
    files: usize,
}

/// Dependent round trips of one run, with at most `MAX_CONNECTIONS_PER_HOST` requests in flight
/// per server: the SonarQube chain (the server checks with the first poll of the task, the results
/// with the first issue page, the other pages in waves) beside the PR's reads (the PR, then its
/// iterations, then the chosen iteration's files); then the writes, in waves; then, when threads
/// were created, the re-read that settles with an overlapping run.
fn critical_round_trips(issues: usize, writes: usize, threads_created: bool) -> u32 {
    let cap = sonar_pr_gate::MAX_CONNECTIONS_PER_HOST;
    let pages = issues.min(10_000).div_ceil(500).max(1);
    let sonar = 2 + (pages - 1).div_ceil(cap) as u32;
    let azdo = 3;
    sonar.max(azdo) + writes.div_ceil(cap) as u32 + u32::from(threads_created)
}

fn agent_env(sb: &Sandbox, dir: &Path) -> Vec<(String, String)> {
    let s = |v: &str| v.to_string();
    vec![
        (s("TF_BUILD"), s("True")),
        (s("INPUT_MODE"), s("publish")),
        (s("INPUT_SONARURL"), sb.sonar_url()),
        (s("INPUT_SONARTOKEN"), s(SONAR_TOKEN)),
        (s("INPUT_POLLINGTIMEOUTSEC"), s("300")),
        (s("INPUT_FAILONQUALITYGATEERROR"), s("true")),
        (s("INPUT_MAXINLINECOMMENTS"), MAX_INLINE.to_string()),
        (s("SYSTEM_COLLECTIONURI"), sb.collection_url()),
        // The fake is Azure DevOps Services (dev.azure.com), where the agent says so.
        (s("SYSTEM_SERVERTYPE"), s("Hosted")),
        (s("SYSTEM_TEAMPROJECT"), s("Fabrikam Web")),
        (s("BUILD_REPOSITORY_ID"), s(sandbox::azdo::REPOSITORY_ID)),
        (s("BUILD_REPOSITORY_PROVIDER"), s("TfsGit")),
        (s("BUILD_REASON"), s("PullRequest")),
        (s("BUILD_BUILDID"), s("1")),
        (s("SYSTEM_PULLREQUEST_PULLREQUESTID"), s("7")),
        (s("SYSTEM_PULLREQUEST_SOURCECOMMITID"), s(SOURCE_COMMIT)),
        (s("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN"), s(JOB_TOKEN)),
        (s("BUILD_SOURCESDIRECTORY"), dir.join("s").display().to_string()),
        (s("AGENT_TEMPDIRECTORY"), dir.join("t").display().to_string()),
    ]
}

/// Puts the scenario's PR and finished analysis in the sandbox and its report-task.txt in `dir`.
fn prepare(sb: &Sandbox, dir: &Path, sc: &Scenario) {
    sb.azdo_state().add_pull_request(7, &[(1, SOURCE_COMMIT)]);
    let mut a = AnalysisSpec::new("BENCH", "shop").failing_gate();
    a.pull_request = Some("7".into());
    let severities = ["BLOCKER", "CRITICAL", "MAJOR", "MINOR", "INFO"];
    a.issues = (0..sc.issues)
        .map(|n| {
            IssueSpec::new(
                &format!("AX{n:06}"),
                &format!("src/main/java/shop/File{}.java", n % sc.files),
                1 + (n / sc.files) as u32,
                severities[n % 5],
                "Remove this unused \"x\" variable.",
            )
        })
        .collect();
    sb.sonar_state().analyses.push(a);
    std::fs::create_dir_all(dir.join("s/.scannerwork")).unwrap();
    std::fs::create_dir_all(dir.join("t")).unwrap();
    let url = sb.sonar_url();
    std::fs::write(
        dir.join("s/.scannerwork/report-task.txt"),
        format!("projectKey=shop\nserverUrl={url}\ndashboardUrl={url}/dashboard?id=shop&pullRequest=7\nceTaskId=BENCH\n"),
    )
    .unwrap();
}

fn run_scenario(binary: &Path, sc: &Scenario) -> Vec<String> {
    let sb = Sandbox::start(Flavour::Server2025);
    let dir = tempfile::tempdir().unwrap();
    prepare(&sb, dir.path(), sc);
    let latency = Duration::from_millis(sc.latency_ms);
    sb.sonar_server.set_latency(latency);
    sb.azdo_server.set_latency(latency);
    let env = agent_env(&sb, dir.path());
    let mut rows = Vec::new();
    for run in ["first", "re-run"] {
        sb.sonar_server.clear_requests();
        sb.azdo_server.clear_requests();
        let out = std::fs::File::create(dir.path().join(format!("{run}.log"))).unwrap();
        let usage = measure_to(Command::new(binary).arg("task").env_clear().envs(env.iter().cloned()), out);
        let log = std::fs::read_to_string(dir.path().join(format!("{run}.log"))).unwrap();
        assert_eq!(usage.status, 0);
        assert!(log.contains("##vso[task.complete result=Failed;]"), "the run did not complete as expected:\n{log}");
        if std::env::var_os("BENCH_TIMELINE").is_some() {
            // When each request arrived, relative to the first: shows the round trips taken.
            let mut all: Vec<_> = sb.sonar_server.requests().into_iter().chain(sb.azdo_server.requests()).collect();
            all.sort_by_key(|r| r.received_at);
            let t0 = all[0].received_at;
            for r in &all {
                eprintln!("{:>6} ms  {}", (r.received_at - t0).as_millis(), r.endpoint());
            }
        }
        let sonar = sandbox::count_by_endpoint(&sb.sonar_server.requests());
        let azdo: BTreeMap<String, usize> = sandbox::count_by_endpoint(&sb.azdo_server.requests())
            .into_iter()
            .map(|(k, v)| {
                (k.rsplit_once("/pullRequests").map(|(m, rest)| format!("{} PR{rest}", m.split(' ').next().unwrap_or(""))).unwrap_or(k), v)
            })
            .collect();
        let writes: usize = azdo.iter().filter(|(k, _)| !k.starts_with("GET")).map(|(_, v)| v).sum();
        let threads_created = azdo.iter().any(|(k, v)| k.starts_with("POST") && k.ends_with("/threads") && *v > 0);
        let bound_rtt = critical_round_trips(sc.issues, writes, threads_created);
        let bound = latency * bound_rtt;
        let ratio = if bound.is_zero() { "-".to_string() } else { format!("{:.2}", usage.wall.as_secs_f64() / bound.as_secs_f64()) };
        let requests = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{}={v}", k.trim_start_matches("GET /api/").trim_start_matches("GET ").replace(" PR", "")))
                .collect::<Vec<_>>()
                .join(" ")
        };
        rows.push(format!(
            "| {:>6} | {:>3} ms | {:>3} | {:<6} | {:>5} ms | {:>4} ms | {:>5.1} MB | {:>2} x {:>2} = {:>3} ms | {:>5} | {} / {} |",
            sc.issues,
            sc.latency_ms,
            sc.files,
            run,
            usage.wall.as_millis(),
            usage.cpu.as_millis(),
            usage.peak_kib as f64 / 1024.0,
            bound_rtt,
            sc.latency_ms,
            bound.as_millis(),
            ratio,
            requests(&sonar),
            requests(&azdo)
        ));
    }
    rows
}

/// One first run of the 1 000-issue scenario (25 inline comments) over HTTP or HTTPS, with this
/// latency on every answer; `command` is the task, or any other command to time the same way.
struct DepthRun {
    usage: Usage,
    requests: (usize, usize),
    connections: (usize, usize),
    /// When the fake Azure DevOps received the first status POST, from the run's start.
    status_after: Option<Duration>,
    /// Every request either fake received, as (time from the run's start, "server METHOD target").
    timeline: Vec<(Duration, String)>,
}

fn depth_run(command: &[String], tls: bool, latency_ms: u64, issues: usize) -> DepthRun {
    depth_run_with(command, tls, latency_ms, issues, MAX_INLINE)
}

/// One run with `inline` new inline comments at most (so `inline + 2` writes on a first run).
fn depth_run_with(command: &[String], tls: bool, latency_ms: u64, issues: usize, inline: usize) -> DepthRun {
    let ca = sandbox::tls::TestCa::new();
    let sb = if tls { Sandbox::start_tls(Flavour::Server2025, &ca) } else { Sandbox::start(Flavour::Server2025) };
    let dir = tempfile::tempdir().unwrap();
    prepare(&sb, dir.path(), &Scenario { issues, latency_ms, files: 20 });
    let latency = Duration::from_millis(latency_ms);
    sb.sonar_server.set_latency(latency);
    sb.azdo_server.set_latency(latency);
    let mut env = agent_env(&sb, dir.path());
    if tls {
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &ca.ca_pem).unwrap();
        env.push(("INPUT_CACERTFILE".into(), ca_file.display().to_string()));
    }
    env.retain(|(k, _)| k != "INPUT_MAXINLINECOMMENTS");
    env.push(("INPUT_MAXINLINECOMMENTS".into(), inline.to_string()));
    let out = std::fs::File::create(dir.path().join("run.log")).unwrap();
    let started = Instant::now();
    let usage = measure_to(Command::new(&command[0]).args(&command[1..]).env_clear().envs(env.iter().cloned()), out);
    let azdo = sb.azdo_server.requests();
    let status_after = azdo
        .iter()
        .find(|r| r.method == "POST" && r.path().ends_with("/statuses"))
        .map(|r| r.received_at.saturating_duration_since(started));
    let sonar = sb.sonar_server.requests();
    let mut timeline: Vec<(Duration, String)> = sonar
        .iter()
        .map(|r| (r.received_at.saturating_duration_since(started), format!("SonarQube    {} {}", r.method, r.target)))
        .chain(azdo.iter().map(|r| (r.received_at.saturating_duration_since(started), format!("Azure DevOps {} {}", r.method, r.target))))
        .collect();
    timeline.sort();
    DepthRun {
        usage,
        requests: (sonar.len(), azdo.len()),
        connections: (sb.sonar_server.connections(), sb.azdo_server.connections()),
        status_after,
        timeline,
    }
}

/// `--trace [--issues N] [--inline K]`: one first run at 75 ms per answer, every request as it
/// arrived, in round trips from the start, to see which reads and writes wait for which.
fn trace(binary: &Path, issues: usize, inline: usize) {
    const LATENCY_MS: u64 = 75;
    let task = vec![binary.display().to_string(), "task".to_string()];
    let run = depth_run_with(&task, false, LATENCY_MS, issues, inline);
    println!("{issues} issues, {inline} inline comments, {LATENCY_MS} ms per answer: wall {} ms", run.usage.wall.as_millis());
    for (at, request) in &run.timeline {
        let mut shown: String = request.chars().take(150).collect();
        if shown.len() < request.len() {
            shown.push('…');
        }
        println!("{:>5.1}  {shown}", at.as_secs_f64() * 1000.0 / LATENCY_MS as f64);
    }
}

/// `--depth-matrix`: for 10, 1 000 and 10 000 issues and W = 2, 7 and 27 writes on a first run
/// (0, 5 and 25 inline comments, a status and a summary), over HTTP: the depth (wall time's slope
/// over latency, 25 to 75 ms, the median of 3 runs each) and when the status was posted, in round
/// trips from the start (its arrival at the fake over the latency, at 75 ms).
fn depth_matrix(binary: &Path) {
    let task = vec![binary.display().to_string(), "task".to_string()];
    println!("| issues | writes W | depth (round trips) | status posted after (round trips) | bound 3 + ⌈W/6⌉ | wall at 75 ms |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for issues in [10usize, 1_000, 10_000] {
        for inline in [0usize, 5, 25] {
            let writes = inline + 2;
            let fast = median_run(3, || depth_run_with(&task, false, 25, issues, inline));
            let slow = median_run(3, || depth_run_with(&task, false, 75, issues, inline));
            let depth = (slow.usage.wall.as_secs_f64() - fast.usage.wall.as_secs_f64()) / 0.050;
            let status = slow.status_after.map_or("none".to_string(), |d| format!("{:.1}", d.as_secs_f64() / 0.075));
            println!("| {issues} | {writes} | {depth:.1} | {status} | {} | {} ms |", 3 + writes.div_ceil(6), slow.usage.wall.as_millis());
        }
    }
}

/// The median run of `n` by wall time.
fn median_run(n: usize, run: impl Fn() -> DepthRun) -> DepthRun {
    let mut runs: Vec<DepthRun> = (0..n).map(|_| run()).collect();
    runs.sort_by_key(|r| r.usage.wall);
    runs.swap_remove(n / 2)
}

/// `--depth [--also CMD]`: the chain of dependent round trips, over HTTP and over HTTPS (a CA made
/// here, so every connection is a real handshake): the 1 000-issue, 25-comment first run at 25 and
/// 75 ms per answer, the median of 5 runs each; the depth is the slope of wall time over latency.
/// Also the connections and TLS handshakes per server, and the binary alone (analysis finished,
/// loopback, no latency) against `node -e 0`. `--also CMD` times another command (a peer, run
/// with the same agent environment) the same way.
fn depth(binary: &Path, also: Option<&str>) {
    let task = vec![binary.display().to_string(), "task".to_string()];
    let mut commands = vec![("sonar-pr-gate", task)];
    if let Some(cmd) = also {
        commands.push(("--also", vec!["sh".into(), "-c".into(), cmd.to_string()]));
    }
    println!(
        "| command | transport | latency | wall | CPU | peak RSS | requests SonarQube / Azure DevOps | connections = TLS handshakes, SonarQube / Azure DevOps |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut depths = Vec::new();
    for (name, command) in &commands {
        for tls in [false, true] {
            let transport = if tls { "HTTPS" } else { "HTTP" };
            let mut walls = Vec::new();
            for latency_ms in [25u64, 75] {
                let r = median_run(5, || depth_run(command, tls, latency_ms, 1_000));
                walls.push(r.usage.wall);
                println!(
                    "| {name} | {transport} | {latency_ms} ms | {} ms | {} ms | {:.1} MiB | {} / {} | {} / {} |",
                    r.usage.wall.as_millis(),
                    r.usage.cpu.as_millis(),
                    r.usage.peak_kib as f64 / 1024.0,
                    r.requests.0,
                    r.requests.1,
                    r.connections.0,
                    r.connections.1
                );
            }
            let slope = (walls[1].as_secs_f64() - walls[0].as_secs_f64()) / 0.050;
            depths.push(format!("{name} over {transport}: depth {slope:.1} round trips (wall time's slope over latency, 25 to 75 ms)"));
        }
    }
    println!();
    for d in depths {
        println!("{d}");
    }
    // Start-up: the binary alone, analysis already finished, loopback, against `node -e 0`.
    let node: Vec<Duration> = {
        let mut t: Vec<Duration> = (0..21).map(|_| measure(Command::new("node").args(["-e", "0"]).stdout(Stdio::null())).wall).collect();
        t.sort();
        t
    };
    let alone = median_run(21, || depth_run(&commands[0].1, false, 0, 0));
    let node_median = node[10];
    println!(
        "\nthe binary alone (no issues, analysis finished, loopback): median {:.1} ms, {:.1} MiB; node -e 0: median {:.1} ms; ratio {:.2}",
        alone.usage.wall.as_secs_f64() * 1e3,
        alone.usage.peak_kib as f64 / 1024.0,
        node_median.as_secs_f64() * 1e3,
        alone.usage.wall.as_secs_f64() / node_median.as_secs_f64()
    );
}

/// `--notice`: how long after the analysis ends the task notices it, over 16 finish times between
/// 1 and 8.5 s and two past the first ten seconds; the median is what README states.
fn notice_lag(binary: &Path) {
    let mut early = Vec::new();
    println!("| analysis finishes after | noticed after its end | polls |\n|---:|---:|---:|");
    // Steps that do not divide the polling grid, so the finish falls anywhere between two polls,
    // as real ones do.
    let finishes: Vec<u64> = (0..16).map(|n| 1_061 + n * 487).chain([12_300, 17_700]).collect();
    for finish_ms in finishes {
        let sb = Sandbox::start(Flavour::Server2025);
        sb.azdo_state().add_pull_request(7, &[(1, SOURCE_COMMIT)]);
        let mut a = AnalysisSpec::new("NOTICE", "shop");
        a.pull_request = Some("7".into());
        a.finishes_after = Some(Duration::from_millis(finish_ms));
        sb.sonar_state().analyses.push(a);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("s/.scannerwork")).unwrap();
        std::fs::create_dir_all(dir.path().join("t")).unwrap();
        let url = sb.sonar_url();
        std::fs::write(dir.path().join("s/.scannerwork/report-task.txt"), format!("projectKey=shop\nserverUrl={url}\nceTaskId=NOTICE\n"))
            .unwrap();
        let env = agent_env(&sb, dir.path());
        let usage = measure(Command::new(binary).arg("task").env_clear().envs(env.iter().cloned()).stdout(Stdio::null()));
        assert_eq!(usage.status, 0);
        let finished = sb.sonar_state().finished_at["NOTICE"];
        let polls: Vec<_> = sb.sonar_server.requests().into_iter().filter(|r| r.path() == "/api/ce/task").collect();
        let noticed = polls.iter().find(|r| r.received_at >= finished).map(|r| r.received_at - finished).unwrap_or_default();
        if finish_ms <= 8_500 {
            early.push(noticed);
        }
        println!("| {finish_ms} ms | {} ms | {} |", noticed.as_millis(), polls.len());
    }
    early.sort();
    println!(
        "\nfinish times of 1–8.5 s: median notice lag {} ms, max {} ms (over {} runs)",
        early[early.len() / 2].as_millis(),
        early.last().unwrap().as_millis(),
        early.len()
    );
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--measure-child") {
        args.next();
        measure_child(args);
    }
    let binary = PathBuf::from(args.next().unwrap_or_else(|| "target/release/sonar-pr-gate".into()));
    let rest: Vec<String> = args.collect();
    let quick = rest.iter().any(|a| a == "--quick");
    // `--issues N`: only scenarios with N issues (for a quick look at one size).
    let only_issues: Option<usize> = rest.iter().position(|a| a == "--issues").and_then(|i| rest.get(i + 1)).and_then(|n| n.parse().ok());
    assert!(binary.is_file(), "build the release binary first: cargo build --release (scripts/bench does)");
    if rest.iter().any(|a| a == "--notice") {
        notice_lag(&binary);
        return;
    }
    if rest.iter().any(|a| a == "--trace") {
        let inline = rest.iter().position(|a| a == "--inline").and_then(|i| rest.get(i + 1)).and_then(|n| n.parse().ok());
        trace(&binary, only_issues.unwrap_or(1_000), inline.unwrap_or(25));
        return;
    }
    if rest.iter().any(|a| a == "--depth-matrix") {
        depth_matrix(&binary);
        return;
    }
    if rest.iter().any(|a| a == "--depth") {
        let also = rest.iter().position(|a| a == "--also").and_then(|i| rest.get(i + 1));
        depth(&binary, also.map(String::as_str));
        return;
    }

    println!("binary: {} ({} bytes)", binary.display(), std::fs::metadata(&binary).unwrap().len());
    let mut times: Vec<Duration> = (0..200).map(|_| measure(Command::new(&binary).arg("--version").stdout(Stdio::null())).wall).collect();
    times.sort();
    println!("--version: median {:.2} ms, p95 {:.2} ms over 200 runs\n", times[100].as_secs_f64() * 1e3, times[190].as_secs_f64() * 1e3);

    println!(
        "| issues | latency | files | run | wall | CPU | peak RSS | critical path | wall/bound | requests (SonarQube / Azure DevOps) |"
    );
    println!("|---:|---:|---:|---|---:|---:|---:|---|---:|---|");
    let only = only_issues.map(|n| vec![n]);
    let issue_counts: &[usize] = match &only {
        Some(v) => v,
        None if quick => &[1000],
        None => &[0, 1000, 10_000],
    };
    let latencies: &[u64] = if quick { &[50] } else { &[0, 50] };
    let files: &[usize] = if quick { &[20] } else { &[20, 200] };
    for &issues in issue_counts {
        for &latency_ms in latencies {
            for &f in files {
                for row in run_scenario(&binary, &Scenario { issues, latency_ms, files: f }) {
                    println!("{row}");
                }
            }
        }
    }
    println!(
        "\nfiles: how many files the issues are spread over (and so how many files the {MAX_INLINE} inline comments land in); \
         the decoration of a server PR analysis reads no per-file data, so it changes no request count."
    );
}
