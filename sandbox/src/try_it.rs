//! The sandbox set up for a person to drive the CLI by hand (`cargo run --example sandbox`): one pull
//! request, one finished analysis whose gate fails (the demo's), the scanner's report-task.txt in a folder, and
//! the exact commands and environment to run against them. The example prints these; a test runs
//! the very same commands, so what a newcomer reads works.

use std::path::{Path, PathBuf};

use crate::sonar::Flavour;
use crate::{PAT, SONAR_TOKEN, Sandbox, demo};

const SOURCE_COMMIT: &str = "b60280bc6e62e2f880f1b63c1e24987664d3bda3";

pub struct TryIt {
    pub sandbox: Sandbox,
    /// The folder to run the commands from: it holds `.scannerwork/report-task.txt`.
    pub work: PathBuf,
    /// The environment the commands need.
    pub env: Vec<(String, String)>,
    /// Each command's arguments (after the binary's name).
    pub commands: Vec<Vec<String>>,
}

impl TryIt {
    /// Starts the fakes and writes report-task.txt under `folder`.
    pub fn start(folder: &Path) -> Self {
        let sb = Sandbox::start(Flavour::Server2025);
        sb.azdo_state().add_pull_request(7, &[(1, "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"), (2, SOURCE_COMMIT)]);
        sb.sonar_state().analyses.push(demo::analysis("AYh-try-1", false));
        let work = folder.join("web");
        let scannerwork = work.join(".scannerwork");
        std::fs::create_dir_all(&scannerwork).expect("the scanner's folder");
        let sonar = sb.sonar_url();
        let key = demo::PROJECT_KEY;
        std::fs::write(
            scannerwork.join("report-task.txt"),
            format!(
                "projectKey={key}\nserverUrl={sonar}\nserverVersion=2025.1.0.102418\ndashboardUrl={sonar}/dashboard?id={key}&pullRequest=7\nceTaskId=AYh-try-1\nceTaskUrl={sonar}/api/ce/task?id=AYh-try-1\n"
            ),
        )
        .expect("report-task.txt");
        let env = vec![
            ("SONAR_HOST_URL".to_string(), sonar),
            ("SONAR_TOKEN".to_string(), SONAR_TOKEN.to_string()),
            ("AZURE_DEVOPS_EXT_PAT".to_string(), PAT.to_string()),
        ];
        let collection = sb.collection_url();
        let pr: Vec<String> = ["--collection-url", &collection, "--project", "Fabrikam Web", "--repository", "web", "--pull-request", "7"]
            .map(String::from)
            .to_vec();
        let with = |first: &[&str], last: &[&str]| -> Vec<String> {
            first.iter().map(|s| s.to_string()).chain(pr.iter().cloned()).chain(last.iter().map(|s| s.to_string())).collect()
        };
        let commands = vec![
            with(&["check"], &[]),
            with(&["publish"], &["--dry-run"]),
            with(&["publish"], &[]),
            ["check", "--integration", "sonar-pr-gate", "--collection-url", &collection].map(String::from).to_vec(),
        ];
        Self { sandbox: sb, work, env, commands }
    }

    /// What the example prints: where the fakes are, and the commands to paste, `binary` being the
    /// CLI's path.
    pub fn instructions(&self, binary: &str) -> String {
        let quote = |a: &String| if a.contains(' ') { format!("'{a}'") } else { a.clone() };
        let mut text = format!(
            "The fake SonarQube is at {} and the fake Azure DevOps at {}
(pull request 7 of repository 'web' in project 'Fabrikam Web'; the analysis AYh-try-1 of project
'fabrikam-shop' has finished, its quality gate failing with three issues).

In another terminal, build the CLI (cargo build) and run:

  cd {}
",
            self.sandbox.sonar_url(),
            self.sandbox.collection_url(),
            self.work.display()
        );
        for (name, value) in &self.env {
            text.push_str(&format!("  export {name}={value}\n"));
        }
        for args in &self.commands {
            text.push_str(&format!("  {binary} {}\n", args.iter().map(quote).collect::<Vec<_>>().join(" ")));
        }
        text.push_str(
            "
(These tokens are the sandbox's own, known to these fakes only. On Windows, use `set` for
`export` and double quotes.) check exits 0; publish exits 1, the gate having failed, and posts a
failed status, a summary and inline comments.
",
        );
        text
    }
}
