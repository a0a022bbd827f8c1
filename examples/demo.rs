//! The main job end to end against the sandbox: starts the fakes of SonarQube and Azure DevOps,
//! runs a real `publish` as the agent would (task inputs, predefined variables, the job token),
//! and shows the log as the agent displays it and everything that was posted to the pull request.
//! It then runs a second time after a fix, to show the comments being updated in place.
//!
//! Run it with `cargo run --example demo`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use sandbox::demo;
use sandbox::sonar::Flavour;
use sandbox::{JOB_TOKEN, SONAR_TOKEN, Sandbox};
use sonar_pr_gate::parse_line;
use sonar_pr_gate::{AgentEnv, Log, Style};

const SOURCE_COMMIT: &str = "b60280bc6e62e2f880f1b63c1e24987664d3bda3";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let sb = Sandbox::start(Flavour::Server2025);
    sb.azdo_state().add_pull_request(7, &[(1, "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"), (2, SOURCE_COMMIT)]);
    // People open SonarQube at its public address; the agent here reaches it on 127.0.0.1.
    sb.sonar_state().server_base_url = Some(demo::PUBLIC_BASE_URL.into());
    sb.sonar_state().analyses.push(demo::analysis("AYh-demo-1", false));

    let dir = tempfile::tempdir().expect("a temporary folder");
    let sources = dir.path().join("s");
    let temp = dir.path().join("_temp");
    std::fs::create_dir_all(sources.join(".scannerwork")).unwrap();
    std::fs::create_dir_all(&temp).unwrap();
    let write_report = |task: &str| {
        let text = format!(
            "projectKey=fabrikam-shop\nserverUrl={url}\nserverVersion=2025.4.2.112048\ndashboardUrl={url}/dashboard?id=fabrikam-shop&pullRequest=7\nceTaskId={task}\nceTaskUrl={url}/api/ce/task?id={task}\n",
            url = sb.sonar_url()
        );
        std::fs::write(sources.join(".scannerwork/report-task.txt"), text).unwrap();
    };
    write_report("AYh-demo-1");

    let env = AgentEnv::from_pairs([
        ("TF_BUILD", "True".to_string()),
        ("INPUT_MODE", "publish".into()),
        ("INPUT_SONARURL", sb.sonar_url()),
        ("INPUT_SONARTOKEN", SONAR_TOKEN.into()),
        ("INPUT_SONARQUBESERVICE", String::new()),
        ("INPUT_POLLINGTIMEOUTSEC", "300".into()),
        ("INPUT_FAILONQUALITYGATEERROR", "true".into()),
        ("INPUT_POSTSTATUS", "true".into()),
        ("INPUT_POSTSUMMARYCOMMENT", "true".into()),
        ("INPUT_POSTINLINECOMMENTS", "true".into()),
        ("INPUT_MAXINLINECOMMENTS", "25".into()),
        ("INPUT_STATUSGENRE", "SonarQube".into()),
        ("INPUT_STATUSNAME", "quality gate".into()),
        ("SYSTEM_COLLECTIONURI", sb.collection_url()),
        ("SYSTEM_SERVERTYPE", "Hosted".into()),
        ("SYSTEM_TEAMPROJECT", "Fabrikam Web".into()),
        ("BUILD_REPOSITORY_ID", sandbox::azdo::REPOSITORY_ID.into()),
        ("BUILD_REPOSITORY_PROVIDER", "TfsGit".into()),
        ("BUILD_REASON", "PullRequest".into()),
        ("BUILD_BUILDID", "4711".into()),
        ("SYSTEM_PULLREQUEST_PULLREQUESTID", "7".into()),
        ("SYSTEM_PULLREQUEST_SOURCECOMMITID", SOURCE_COMMIT.into()),
        ("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN", JOB_TOKEN.into()),
        ("BUILD_SOURCESDIRECTORY", sources.display().to_string()),
        ("AGENT_TEMPDIRECTORY", temp.display().to_string()),
    ]);

    banner("Run 1: the scanner found 3 issues and the quality gate fails");
    run_and_show(&env);
    show_pull_request(&sb);

    // The developer fixes two issues and pushes; the pipeline runs again.
    sb.sonar_state().analyses.push(demo::analysis("AYh-demo-2", true));
    write_report("AYh-demo-2");
    sb.azdo_server.clear_requests();
    banner("Run 2: two issues fixed, the gate passes; threads are updated in place");
    run_and_show(&env);
    println!("\nRequests the second run sent to Azure DevOps:");
    for r in sb.azdo_server.requests() {
        println!("  {} {}", r.method, r.path());
    }
    show_pull_request(&sb);
}

fn banner(title: &str) {
    println!("\n{}\n{title}\n{}", "=".repeat(100), "=".repeat(100));
}

/// Runs the task in-process and prints its output the way the agent's log shows it: commands are
/// consumed (secrets masked, issues shown as ##[error]/##[warning]), plain lines printed.
fn run_and_show(env: &AgentEnv) {
    let out = Captured::default();
    let log = Arc::new(Log::new(Style::Agent, false, true, Box::new(out.clone()), Box::new(out.clone())));
    sonar_pr_gate::run_task(env, log);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    println!("\n--- The agent's log ---");
    let secrets = text.lines().filter_map(parse_line).filter(|c| c.event == "setsecret").count();
    println!("  [{secrets} secrets (the tokens and their Basic-header forms) registered with the agent's masker before any other line]");
    for line in text.lines() {
        match parse_line(line) {
            Some(c) if c.event == "setsecret" => {}
            Some(c) if c.event == "logissue" => println!("##[{}]{}", c.property("type").unwrap_or("warning"), c.message),
            Some(c) if c.event == "setvariable" => println!("  [output variable {} = {}]", c.property("variable").unwrap_or(""), c.message),
            Some(c) if c.event == "uploadsummary" => println!("  [build summary attached: {}]", c.message),
            Some(c) if c.event == "complete" => println!("  [task result: {} — {}]", c.property("result").unwrap_or(""), c.message),
            Some(c) => println!("  [{}.{}]", c.area, c.event),
            None => println!("{line}"),
        }
    }
}

fn show_pull_request(sb: &Sandbox) {
    let st = sb.azdo_state();
    let pr = st.pull_request(7);
    println!("\n--- Pull request 7: statuses ---");
    for s in &pr.statuses {
        println!(
            "  [{}] {}/{} on iteration {}: {} -> {}",
            s["state"].as_str().unwrap_or(""),
            s["context"]["genre"].as_str().unwrap_or(""),
            s["context"]["name"].as_str().unwrap_or(""),
            s["iterationId"],
            s["description"].as_str().unwrap_or(""),
            s["targetUrl"].as_str().unwrap_or("")
        );
    }
    for t in &pr.threads {
        let kind = t["properties"]["SonarPrGate.Kind"]["$value"].as_str().unwrap_or("");
        let title = match kind {
            "summary" => "Summary comment".to_string(),
            _ => format!(
                "Inline comment on {} line {}",
                t["threadContext"]["filePath"].as_str().unwrap_or(""),
                t["threadContext"]["rightFileStart"]["line"]
            ),
        };
        println!("\n--- {title} (thread {}, {}) ---", t["id"], t["status"].as_str().unwrap_or(""));
        for c in t["comments"].as_array().into_iter().flatten() {
            for line in c["content"].as_str().unwrap_or("").lines() {
                println!("  | {line}");
            }
        }
    }
}
