//! Shared helpers: an agent-like environment, a runner for the built binary, and the secret check
//! that every run goes through.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use sandbox::{JOB_TOKEN, PAT, SONAR_TOKEN, Sandbox};
use sonar_pr_gate::{ParsedCommand, parse_line};

pub const SOURCE_COMMIT: &str = "b60280bc6e62e2f880f1b63c1e24987664d3bda3";
pub const OLD_COMMIT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
pub const PR: u32 = 7;

/// What one run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Retries wait 20 ms instead of seconds: the binary's one test seam, a hidden flag.
const FAST_RETRIES: &str = "--first-retry-delay-ms=20";

impl Run {
    /// Runs a command to the end, with `FAST_RETRIES`. Every run of the binary prints something, on stdout or stderr,
    /// whatever its arguments: under an emulator (`SONAR_PR_GATE_TEST_RUNNER`) a run that printed
    /// nothing at all never reached the binary's code (Wine did that about once in a few thousand
    /// runs in CI), so it is run once more (see `repeat`).
    pub fn of(command: &mut Command) -> Run {
        let run = Run::once(command.arg(FAST_RETRIES));
        if emulated() && run.stdout.is_empty() && run.stderr.is_empty() { run.repeat("printed nothing", command) } else { run }
    }

    /// Runs the binary in task mode, whose first line on stdout (the secrets it registers) comes
    /// before anything else it does, whatever the inputs: under an emulator a task run with nothing
    /// on stdout never reached the binary's code, and is run once more (see `repeat`).
    pub fn of_task(command: &mut Command) -> Run {
        let run = Run::once(command.arg(FAST_RETRIES));
        if emulated() && run.stdout.is_empty() { run.repeat("printed nothing on stdout", command) } else { run }
    }

    /// Runs `command` once more after this run, which the emulator never got to the binary's code,
    /// and appends the repeat to `SONAR_PR_GATE_TEST_RERUN_LOG`, which the platform script prints.
    /// A binary that really prints nothing fails the second time too.
    fn repeat(self, what: &str, command: &mut Command) -> Run {
        if let Some(log) = std::env::var_os("SONAR_PR_GATE_TEST_RERUN_LOG") {
            use std::io::Write;
            let test = std::thread::current().name().unwrap_or("?").to_string();
            let line = format!("{test}: the run {what} (exit status {}), run again; its stderr: {:?}\n", self.status, self.stderr.trim());
            let _ = std::fs::OpenOptions::new().create(true).append(true).open(log).and_then(|mut f| f.write_all(line.as_bytes()));
        }
        Run::once(command)
    }

    /// Runs the command once, within `RUN_DEADLINE` (scaled by `slowdown()`): a run still going
    /// then is killed and fails its test with what it printed, instead of hanging the suite.
    pub fn once(command: &mut Command) -> Run {
        Run::within(command, RUN_DEADLINE * slowdown())
    }

    fn within(command: &mut Command, limit: Duration) -> Run {
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
        let mut stdout = Pipe::new(child.stdout.take().expect("piped"));
        let mut stderr = Pipe::new(child.stderr.take().expect("piped"));
        let started = Instant::now();
        let status = loop {
            let read = stdout.read_available() | stderr.read_available();
            match child.try_wait().expect("the run can be waited for") {
                Some(status) => break Some(status),
                None if started.elapsed() > limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                None if !read => std::thread::sleep(Duration::from_millis(2)),
                None => {}
            }
        };
        // Everything the run wrote is in the pipes once it has ended. A process it started may
        // hold them open for longer (Wine's server and services do, for 3 s after the last Windows
        // process ends), so what they hold now is read, without waiting for their end.
        stdout.read_available();
        stderr.read_available();
        let run = Run { status: status.and_then(|s| s.code()).unwrap_or(-1), stdout: stdout.text(), stderr: stderr.text() };
        assert!(status.is_some(), "the run did not end within {} s and was killed; it printed:\n{}", limit.as_secs(), run.all());
        run
    }

    /// The first error the run reported (`task.logissue type=error`), or the whole output when it
    /// reported none.
    pub fn first_error(&self) -> String {
        self.issues("error").into_iter().next().unwrap_or_else(|| panic!("the run reported no error:\n{}", self.all()))
    }

    pub fn commands(&self) -> Vec<ParsedCommand> {
        self.stdout.lines().filter_map(parse_line).collect()
    }

    /// The `task.complete` result.
    pub fn result(&self) -> String {
        let done: Vec<_> = self.commands().into_iter().filter(|c| c.event == "complete").collect();
        assert_eq!(
            done.len(),
            1,
            "exactly one task.complete expected (exit status {}):\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        done[0].property("result").unwrap_or_default().to_string()
    }

    /// Messages of `task.logissue` commands of a type.
    pub fn issues(&self, kind: &str) -> Vec<String> {
        self.commands().into_iter().filter(|c| c.event == "logissue" && c.property("type") == Some(kind)).map(|c| c.message).collect()
    }

    pub fn output_variable(&self, name: &str) -> Option<String> {
        self.commands()
            .into_iter()
            .find(|c| c.event == "setvariable" && c.property("variable") == Some(name) && c.property("isOutput") == Some("true"))
            .map(|c| c.message)
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// How long one run of the binary may take before the test kills it: past every bound the tests
/// set (pollingTimeoutSec is at most 30 s in them, and a run ends within pollingTimeoutSec + 120 s).
const RUN_DEADLINE: Duration = Duration::from_secs(160);

/// Whether the binary runs under an emulator (`SONAR_PR_GATE_TEST_RUNNER`: Wine, qemu).
pub fn emulated() -> bool {
    std::env::var("SONAR_PR_GATE_TEST_RUNNER").is_ok_and(|r| !r.trim().is_empty())
}

/// The factor every wall-clock bound in the tests is multiplied by: 1 natively, 3 under an
/// emulator. Measured in CI: Wine starts a process in about 0.6 s (0.01 s natively) and ran the
/// 3 s deadline cases in 5 to 9 s; qemu-aarch64 ran the suite about 3 times slower.
pub fn slowdown() -> u32 {
    if emulated() { 3 } else { 1 }
}

/// One of a run's output pipes, read without blocking.
struct Pipe<R> {
    pipe: R,
    bytes: Vec<u8>,
    open: bool,
}

impl<R: Read + AsRawFd> Pipe<R> {
    fn new(pipe: R) -> Self {
        // SAFETY: fcntl on a file descriptor this value owns, for the whole of its life.
        unsafe {
            let fd = pipe.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            assert!(flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) >= 0, "a pipe can be made non-blocking");
        }
        Pipe { pipe, bytes: Vec::new(), open: true }
    }

    /// Reads what the pipe holds now, without waiting for more; whether anything was read.
    fn read_available(&mut self) -> bool {
        let mut any = false;
        let mut buffer = [0u8; 64 * 1024];
        while self.open {
            match self.pipe.read(&mut buffer) {
                Ok(0) => self.open = false,
                Ok(n) => {
                    self.bytes.extend_from_slice(&buffer[..n]);
                    any = true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => self.open = false,
            }
        }
        any
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// The binary under test, started with exactly this environment (and nothing of the test's own).
///
/// By default it is the binary cargo built. To run the suite against another platform's build,
/// `SONAR_PR_GATE_TEST_BIN` names the binary and `SONAR_PR_GATE_TEST_RUNNER` the command that runs
/// it (`wine`, `qemu-aarch64 -L /usr/aarch64-linux-gnu`); the runner keeps the few variables it
/// needs itself (`PATH`, `HOME`, Wine's and qemu's). Only the tests read these variables; the
/// shipped binary never does (scripts/build-platforms sets them).
pub fn task_command<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(vars: impl IntoIterator<Item = (K, V)>) -> Command {
    let binary = std::env::var_os("SONAR_PR_GATE_TEST_BIN")
        .filter(|b| !b.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sonar-pr-gate")));
    let runner = std::env::var("SONAR_PR_GATE_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut command = match words.next() {
        None => Command::new(&binary),
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(&binary);
            c
        }
    };
    command.env_clear();
    if !runner.trim().is_empty() {
        for name in RUNNER_VARIABLES {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
    }
    command.envs(vars);
    command
}

/// What an emulator needs from the test's environment to start at all.
const RUNNER_VARIABLES: [&str; 7] = ["PATH", "HOME", "WINEPREFIX", "WINEDEBUG", "WINEDLLOVERRIDES", "WINESERVER", "QEMU_LD_PREFIX"];

/// Paths the binary printed, written as this machine writes them. The Windows build under Wine
/// turns the test's `/tmp/x/s` into `Z:\tmp\x\s` (an absolute path) or joins `/tmp/x/s` and
/// `.scannerwork` with `\`; elsewhere the text is unchanged.
pub fn host_paths(text: &str) -> String {
    let under_wine = std::env::var("SONAR_PR_GATE_TEST_RUNNER").is_ok_and(|r| r.split_whitespace().next() == Some("wine"));
    if under_wine { text.replace("Z:\\", "/").replace('\\', "/") } else { text.to_string() }
}

/// An agent-like environment for one task run, with its own temp and sources folders.
pub struct TaskEnv {
    pub vars: BTreeMap<String, String>,
    pub dir: tempfile::TempDir,
    /// Extra secrets this test uses, checked like the built-in ones.
    pub secrets: Vec<String>,
}

/// Every input task.json declares; the agent sets them all, empty ones included.
pub const DECLARED_INPUTS: [&str; 32] = [
    "mode",
    "sonarQubeService",
    "sonarCloudService",
    "sonarUrl",
    "sonarToken",
    "sonarOrganization",
    "reportTaskFile",
    "pollingTimeoutSec",
    "azureDevOpsPat",
    "failOnQualityGateError",
    "postStatus",
    "postSummaryComment",
    "postInlineComments",
    "maxInlineComments",
    "statusGenre",
    "statusName",
    "caCertFile",
    "decorationMode",
    "failOnNewIssues",
    "projectBaseDir",
    "inlineMinSeverity",
    "inlineSoftwareQualities",
    "summaryWhen",
    "pendingStatus",
    "allowTokenToSonarUrl",
    "sarifFile",
    "projectKey",
    "minChangedLinesCoverage",
    "failOnDependencyRisks",
    "webhookPayload",
    "syncResolutions",
    "allowAuthorResolutions",
];

impl TaskEnv {
    pub fn new(sb: &Sandbox) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sources = dir.path().join("s");
        let temp = dir.path().join("_temp");
        std::fs::create_dir_all(&sources).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        let mut vars = BTreeMap::new();
        for input in DECLARED_INPUTS {
            vars.insert(format!("INPUT_{}", input.to_uppercase()), String::new());
        }
        let defaults = [
            ("INPUT_MODE", "publish"),
            ("INPUT_POLLINGTIMEOUTSEC", "30"),
            ("INPUT_FAILONQUALITYGATEERROR", "true"),
            ("INPUT_POSTSTATUS", "true"),
            ("INPUT_POSTSUMMARYCOMMENT", "true"),
            ("INPUT_POSTINLINECOMMENTS", "true"),
            ("INPUT_MAXINLINECOMMENTS", "25"),
            ("INPUT_STATUSGENRE", "SonarQube"),
            ("INPUT_STATUSNAME", "quality gate"),
            ("INPUT_DECORATIONMODE", "auto"),
            ("INPUT_FAILONNEWISSUES", "none"),
            ("INPUT_INLINEMINSEVERITY", "none"),
            ("INPUT_SUMMARYWHEN", "always"),
            ("INPUT_PENDINGSTATUS", "false"),
            ("INPUT_SYNCRESOLUTIONS", "none"),
            ("INPUT_ALLOWAUTHORRESOLUTIONS", "false"),
            ("TF_BUILD", "True"),
            ("SYSTEM_TEAMPROJECT", "Fabrikam Web"),
            ("SYSTEM_TEAMPROJECTID", sandbox::azdo::PROJECT_ID),
            ("BUILD_REPOSITORY_ID", sandbox::azdo::REPOSITORY_ID),
            ("BUILD_REPOSITORY_NAME", "web"),
            ("BUILD_REPOSITORY_PROVIDER", "TfsGit"),
            ("BUILD_REASON", "PullRequest"),
            ("BUILD_BUILDID", "4711"),
            ("SYSTEM_PULLREQUEST_SOURCECOMMITID", SOURCE_COMMIT),
            ("ENDPOINT_URL_SYSTEMVSSCONNECTION", ""),
            ("ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION", "OAuth"),
            ("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN", JOB_TOKEN),
        ];
        for (k, v) in defaults {
            vars.insert(k.to_string(), v.to_string());
        }
        vars.insert("INPUT_SONARURL".into(), sb.sonar_url());
        vars.insert("INPUT_SONARTOKEN".into(), SONAR_TOKEN.into());
        vars.insert("SYSTEM_COLLECTIONURI".into(), sb.collection_url());
        vars.insert("ENDPOINT_URL_SYSTEMVSSCONNECTION".into(), sb.collection_url());
        vars.insert("SYSTEM_PULLREQUEST_PULLREQUESTID".into(), PR.to_string());
        vars.insert("BUILD_SOURCESDIRECTORY".into(), sources.display().to_string());
        vars.insert("AGENT_TEMPDIRECTORY".into(), temp.display().to_string());
        vars.insert("AGENT_BUILDDIRECTORY".into(), dir.path().display().to_string());
        vars.insert("SYSTEM_DEFAULTWORKINGDIRECTORY".into(), sources.display().to_string());
        Self { vars, dir, secrets: vec![] }
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.vars.insert(key.to_string(), value.to_string());
        self
    }

    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.vars.remove(key);
        self
    }

    pub fn sources(&self) -> PathBuf {
        self.dir.path().join("s")
    }

    /// Writes a report-task.txt as a scanner would, under the sources folder.
    pub fn write_report(&self, relative: &str, sb: &Sandbox, project_key: &str, task_id: &str, pull_request: Option<&str>) -> PathBuf {
        let path = self.sources().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let dashboard = match pull_request {
            Some(pr) => format!("{}/dashboard?id={project_key}&pullRequest={pr}", sb.sonar_url()),
            None => format!("{}/dashboard?id={project_key}", sb.sonar_url()),
        };
        let text = format!(
            "projectKey={project_key}\nserverUrl={}\nserverVersion=10.8.1.101195\ndashboardUrl={dashboard}\nceTaskId={task_id}\nceTaskUrl={}/api/ce/task?id={task_id}\n",
            sb.sonar_url(),
            sb.sonar_url()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `sonar-pr-gate task` with exactly this environment.
    pub fn run(&self) -> Run {
        self.run_args(&["task"])
    }

    pub fn run_args(&self, args: &[&str]) -> Run {
        self.run_configured(args, |_| {})
    }

    /// Runs the binary with `args`, its command first changed by `configure` (a process limit,
    /// say), and checks its output for secrets as every run is.
    pub fn run_configured(&self, args: &[&str], configure: impl FnOnce(&mut Command)) -> Run {
        let command = &mut task_command(&self.vars);
        configure(command);
        let run = if args.first() == Some(&"task") { Run::of_task(command.args(args)) } else { Run::of(command.args(args)) };
        let mut secrets: Vec<String> = vec![SONAR_TOKEN.into(), JOB_TOKEN.into(), PAT.into()];
        secrets.extend(self.secrets.iter().cloned());
        assert_no_secrets(&run, &secrets, self.dir.path());
        run
    }
}

/// The forms a secret takes on the wire and in logs.
pub fn secret_forms(secret: &str) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    vec![secret.to_string(), b64(secret), b64(&format!(":{secret}")), b64(&format!("{secret}:"))]
}

/// No secret, in any form, in stdout, stderr or any file under `dir` — except the
/// `task.setsecret` lines that hand them to the agent's masker, which must come before every
/// other line.
pub fn assert_no_secrets(run: &Run, secrets: &[String], dir: &Path) {
    let mut seen_other = false;
    for line in run.stdout.lines() {
        let is_setsecret = parse_line(line).is_some_and(|c| c.event == "setsecret");
        if is_setsecret {
            assert!(!seen_other, "task.setsecret after other output: {line}\n{}", run.stdout);
            continue;
        }
        seen_other = true;
        for s in secrets.iter().flat_map(|s| secret_forms(s)) {
            assert!(!line.contains(&s), "secret leaked on stdout: {line}");
        }
    }
    for s in secrets.iter().flat_map(|s| secret_forms(s)) {
        assert!(!run.stderr.contains(&s), "secret leaked on stderr:\n{}", run.stderr);
    }
    for entry in walk(dir) {
        if let Ok(text) = std::fs::read_to_string(&entry) {
            for s in secrets.iter().flat_map(|s| secret_forms(s)) {
                assert!(
                    !text.contains(&s) || entry.file_name().is_some_and(|n| n == "report-task.txt"),
                    "secret leaked into {}",
                    entry.display()
                );
            }
        }
    }
}

/// Every file below `dir`, not through symlinked folders (a test may plant a loop of them).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The flags that point the CLI at the sandbox: both servers, and the repository of its pull requests.
pub fn sandbox_flags(sb: &Sandbox) -> Vec<String> {
    [
        "--sonar-url",
        &sb.sonar_url(),
        "--collection-url",
        &sb.collection_url(),
        "--project",
        "Fabrikam Web",
        "--repository",
        sandbox::azdo::REPOSITORY_ID,
    ]
    .map(str::to_string)
    .to_vec()
}

/// Runs the CLI with flags and an environment (no agent variables unless given).
pub fn run_cli(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Run {
    let run = Run::of(task_command(env.iter().copied()).args(args).current_dir(cwd));
    assert_no_secrets(&run, &[SONAR_TOKEN.into(), JOB_TOKEN.into(), PAT.into()], cwd);
    run
}

/// A sandbox with one PR analysis on project `shop` and PR 7 (two iterations, the second is the
/// analysed source commit).
pub fn pr_scenario(flavour: sandbox::sonar::Flavour) -> (Sandbox, TaskEnv) {
    let sb = Sandbox::start(flavour);
    {
        let mut st = sb.azdo_state();
        st.add_pull_request(PR, &[(1, OLD_COMMIT), (2, SOURCE_COMMIT)]);
    }
    let env = TaskEnv::new(&sb);
    (sb, env)
}

/// One finished PR analysis of project `shop` (task T1, PR 7) whose gate passes, its
/// report-task.txt written.
pub fn passing_pr(sb: &Sandbox, env: &TaskEnv) {
    let mut a = sandbox::sonar::AnalysisSpec::new("T1", "shop");
    a.pull_request = Some("7".into());
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", sb, "shop", "T1", Some("7"));
}

/// The task posts with this PAT, which the fake Azure DevOps knows and answers as `behaviour`
/// says (and the secret check looks for it everywhere).
pub fn use_pat(sb: &Sandbox, env: &mut TaskEnv, pat: &str, behaviour: sandbox::azdo::CredentialBehaviour, display_name: &str) {
    sb.azdo_state().credentials.push(sandbox::azdo::Credential {
        scheme: "Basic",
        token: pat.into(),
        behaviour,
        identity_id: "x".into(),
        display_name: display_name.into(),
    });
    env.set("INPUT_AZUREDEVOPSPAT", pat);
    env.secrets.push(pat.into());
}

/// A PR build on Server 10.8 whose finished analysis fails its gate with one issue (`k1` at
/// src/a.rs:3), its report-task.txt written.
pub fn failing_pr_with_one_issue() -> (Sandbox, TaskEnv) {
    let (sb, env) = pr_scenario(sandbox::sonar::Flavour::Server108);
    let mut a = sandbox::sonar::AnalysisSpec::new("T1", "shop").failing_gate();
    a.pull_request = Some("7".into());
    a.issues = vec![sandbox::sonar::IssueSpec::new("k1", "src/a.rs", 3, "MAJOR", "m")];
    sb.sonar_state().analyses.push(a);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    (sb, env)
}

/// Requests a fake received, as "METHOD path" lines, for readable assertions.
pub fn endpoints(requests: &[sandbox::RecordedRequest]) -> Vec<String> {
    requests.iter().map(|r| r.endpoint()).collect()
}

#[test]
fn a_run_that_hangs_is_killed_at_its_deadline_and_fails_with_what_it_printed() {
    let hung = || Run::within(Command::new("sh").args(["-c", "echo partial output; exec sleep 60"]), Duration::from_secs(1));
    let failure = std::panic::catch_unwind(hung).expect_err("a hung run fails its test");
    let message = failure.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.starts_with("the run did not end within 1 s and was killed; it printed:\npartial output"), "{message}");
}

/// Says on the terminal, past the test harness's capture, that a test did not run and why
/// (`.ci/run` lists every such line).
pub fn skipped(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {why}");
}
