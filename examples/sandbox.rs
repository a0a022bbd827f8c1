//! Try the CLI by hand: starts the fakes of SonarQube and Azure DevOps with one pull request and one
//! finished analysis (its gate failing, two issues), writes the scanner's report-task.txt into a
//! folder, and prints the exact `check` and `publish` command lines (and environment) to run
//! against them from another terminal. The fakes serve until Enter is pressed (or stdin closes);
//! what was posted to the pull request is printed then.
//!
//! Run it with `cargo run --example sandbox`.

use std::io::BufRead;

use sandbox::try_it::TryIt;

fn main() {
    let dir = tempfile::Builder::new().prefix("sonar-pr-gate-sandbox-").tempdir().expect("a temporary folder");
    let try_it = TryIt::start(dir.path());
    let root = std::env::current_dir().unwrap_or_default();
    let binary = root.join("target").join("debug").join(if cfg!(windows) { "sonar-pr-gate.exe" } else { "sonar-pr-gate" });
    println!("{}", try_it.instructions(&binary.display().to_string()));
    println!("Press Enter to stop the fakes.");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let st = try_it.sandbox.azdo_state();
    let pr = st.pull_request(7);
    println!("Posted to pull request 7: {} status(es), {} thread(s)", pr.statuses.len(), pr.threads.len());
    for status in &pr.statuses {
        println!("  status: {} {}", status["state"], status["description"]);
    }
}
