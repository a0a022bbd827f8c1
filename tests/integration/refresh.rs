use sandbox::azdo::merge_commit_of;
use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec, webhook_signature};
use sandbox::{JOB_TOKEN, SONAR_TOKEN};

use crate::util::*;

/// A PR analysis of `shop` whose gate fails on one new issue (`k1` at src/a.rs:3), its report
/// written; the PR changes src/a.rs.
fn one_new_issue_fails_the_gate() -> (sandbox::Sandbox, TaskEnv) {
    let (sb, env) = pr_scenario(Flavour::Server2025);
    let mut a = AnalysisSpec::new("T1", "shop");
    a.pull_request = Some(PR.to_string());
    a.gate_status = "ERROR".into();
    a.conditions = vec![("new_violations".into(), "GT".into(), "0".into(), "1".into(), "ERROR".into())];
    a.set_measure("new_violations", "1");
    a.issues = vec![IssueSpec::new("k1", "src/a.rs", 3, "MAJOR", "Remove this unused variable.")];
    // A pull request build analyses the merge commit it checked out.
    a.revision = Some(merge_commit_of(SOURCE_COMMIT));
    sb.sonar_state().analyses.push(a);
    sb.azdo_state().pull_requests[0].files = Some(vec!["/src/a.rs".into()]);
    env.write_report(".scannerwork/report-task.txt", &sb, "shop", "T1", Some("7"));
    (sb, env)
}

fn latest_status(sb: &sandbox::Sandbox) -> (String, String) {
    let st = sb.azdo_state();
    let s = st.pull_request(PR).statuses.last().cloned().expect("a status");
    (s["state"].as_str().unwrap_or_default().to_string(), s["description"].as_str().unwrap_or_default().to_string())
}

fn thread_statuses(sb: &sandbox::Sandbox) -> Vec<String> {
    sb.azdo_state().pull_request(PR).threads.iter().map(|t| t["status"].as_str().unwrap_or_default().to_string()).collect()
}

fn cli_refresh(sb: &sandbox::Sandbox, cwd: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let flags = sandbox_flags(sb);
    let mut args = vec!["refresh"];
    args.extend(flags.iter().map(String::as_str));
    args.extend_from_slice(extra);
    let mut vars = vec![("SONAR_TOKEN", SONAR_TOKEN), ("SYSTEM_ACCESSTOKEN", JOB_TOKEN)];
    vars.extend_from_slice(env);
    run_cli(&args, &vars, cwd)
}

#[test]
fn refresh_after_an_issue_is_accepted_in_sonarqube_flips_the_status_to_succeeded_without_a_scanner_run() {
    let (sb, env) = one_new_issue_fails_the_gate();
    let run = env.run();
    assert_eq!(run.result(), "Failed", "{}", run.all());
    assert_eq!(latest_status(&sb).0, "failed");
    assert_eq!(thread_statuses(&sb).iter().filter(|s| *s == "active").count(), 2, "the summary and k1's thread");

    // A reviewer accepts k1 in SonarQube: SonarQube re-evaluates the pull request's gate.
    sb.sonar_state().accept_issue("shop", "k1");
    sb.sonar_server.clear_requests();
    let run = cli_refresh(&sb, &env.sources(), &["--project-key", "shop", "--pull-request", "7"], &[]);
    assert_eq!(run.status, 0, "{}", run.all());
    assert!(run.stdout.contains("Refreshing pull request 7 (iteration 2): SonarQube analysed it at "), "{}", run.stdout);
    let (state, description) = latest_status(&sb);
    assert_eq!(state, "succeeded", "{description}");
    assert!(thread_statuses(&sb).iter().all(|s| s != "active"), "k1's thread is resolved: {:?}", thread_statuses(&sb));
    let asked = endpoints(&sb.sonar_server.requests());
    assert!(!asked.iter().any(|e| e.contains("/api/ce/")), "no compute engine task is read or waited for: {asked:?}");
    let gate = sb.sonar_server.requests().into_iter().find(|r| r.path() == "/api/qualitygates/project_status").expect("the gate is read");
    assert_eq!((gate.query("projectKey").as_deref(), gate.query("pullRequest").as_deref()), (Some("shop"), Some("7")));
    assert_eq!(gate.query("analysisId"), None, "the gate as it is now, not the analysis's own");

    // Run again: nothing changes, nothing is duplicated.
    let before = sb.azdo_state().pull_request(PR).threads.len();
    let run = cli_refresh(&sb, &env.sources(), &["--project-key", "shop", "--pull-request", "7"], &[]);
    assert_eq!(run.status, 0, "{}", run.all());
    assert_eq!(sb.azdo_state().pull_request(PR).threads.len(), before);
}

#[test]
fn a_refresh_never_vouches_for_a_push_sonarqube_has_not_analysed() {
    let (sb, env) = one_new_issue_fails_the_gate();
    env.run();
    sb.sonar_state().accept_issue("shop", "k1");
    // A new push since the analysis: SonarQube's result is of the previous iteration.
    sb.azdo_state().pull_requests[0].iterations.push((3, "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00".into()));
    let statuses = sb.azdo_state().pull_request(PR).statuses.len();
    let run = cli_refresh(
        &sb,
        &env.sources(),
        &["--project-key", "shop", "--pull-request", "7", "--commit", &merge_commit_of(SOURCE_COMMIT)],
        &[],
    );
    assert_eq!(run.status, 0, "{}", run.all());
    assert!(
        run.stdout.contains(&format!(
            "Nothing refreshed: SonarQube's analysis of 'shop' is of commit {}, but pull request 7 is now at iteration 3 (source c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00, merge commit {})",
            merge_commit_of(SOURCE_COMMIT),
            merge_commit_of("c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00")
        )),
        "{}",
        run.stdout
    );
    assert_eq!(sb.azdo_state().pull_request(PR).statuses.len(), statuses, "nothing posted");
    let run = cli_refresh(&sb, &env.sources(), &["--project-key", "shop", "--pull-request", "7", "--commit", "not-a-sha"], &[]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("--commit: 'not-a-sha' is not a commit id"), "{}", run.stderr);
}

#[test]
fn sonarqubes_webhook_through_an_azure_pipelines_webhook_refreshes_the_pull_request_it_names() {
    let (sb, mut env) = one_new_issue_fails_the_gate();
    env.run();
    sb.sonar_state().accept_issue("shop", "k1");
    // The webhook SonarQube sends when the accepted issue turned the gate: no taskId.
    let body = sb.sonar_state().webhook_body(&sb.sonar_url(), "shop", Some("7"), false);
    // A run of the shipped template: no pull request variables; the inputs as the template gives
    // them, the payload as `convertToJson` writes it (indented).
    let template = template_step();
    let payload: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payload["branch"]["type"], template.filter_value, "the template's filter lets it through");
    env.set("BUILD_REASON", "ResourceTrigger");
    env.remove("SYSTEM_PULLREQUEST_SOURCECOMMITID");
    // Even in a run that has a pull request of its own, the payload's is the one refreshed.
    sb.azdo_state().add_pull_request(8, &[(1, OLD_COMMIT)]);
    env.set("SYSTEM_PULLREQUEST_PULLREQUESTID", "8");
    for (name, value) in &template.inputs {
        let value = if name == "webhookPayload" { serde_json::to_string_pretty(&payload).unwrap() } else { value.clone() };
        if name != "sonarQubeService" {
            env.set(&format!("INPUT_{}", name.to_uppercase()), &value);
        }
    }
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("SonarQube's webhook: a change to an issue of 'shop' turned its quality gate (gate OK)"), "{}", run.stdout);
    assert!(run.stdout.contains("Azure Pipelines' incoming webhooks cannot check SonarQube's signature"), "{}", run.stdout);
    assert_eq!(latest_status(&sb).0, "succeeded");
    assert!(sb.azdo_state().pull_request(8).statuses.is_empty(), "nothing on the run's own pull request");
    env.remove("SYSTEM_PULLREQUEST_PULLREQUESTID");

    // A webhook for a project this pipeline does not refresh does nothing, and says why.
    let writes = sb.azdo_server.requests().iter().filter(|r| r.method != "GET").count();
    let other = body.replace("\"key\":\"shop\"", "\"key\":\"web\"");
    env.set("INPUT_WEBHOOKPAYLOAD", &other);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(
        run.stdout
            .contains("Nothing refreshed: the webhook is for project 'web', which this pipeline does not refresh (it refreshes shop)"),
        "{}",
        run.stdout
    );
    // A pull request this repository does not have: said, not failed.
    env.set("INPUT_PROJECTKEY", "");
    let unknown = body.replace("\"name\":\"7\"", "\"name\":\"99\"");
    env.set("INPUT_WEBHOOKPAYLOAD", &unknown);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("Nothing refreshed: pull request 99 "), "{}", run.stdout);
    assert_eq!(sb.azdo_server.requests().iter().filter(|r| r.method != "GET").count(), writes, "neither wrote anything");
    // Not SonarQube's document at all: refused.
    env.set("INPUT_WEBHOOKPAYLOAD", "<html>sign in</html>");
    let run = env.run();
    assert_eq!(run.result(), "Failed");
    assert!(
        run.first_error().starts_with("the webhook's payload (webhookPayload) cannot be read: it is not the JSON document SonarQube sends"),
        "{}",
        run.first_error()
    );
}

#[test]
fn a_relayed_webhook_is_held_to_its_secret() {
    let (sb, env) = one_new_issue_fails_the_gate();
    env.run();
    sb.sonar_state().accept_issue("shop", "k1");
    let secret = "wh-secret-5f1c9a";
    let body = sb.sonar_state().webhook_body(&sb.sonar_url(), "shop", Some("7"), true);
    let file = env.sources().join("body.json");
    std::fs::write(&file, &body).unwrap();
    let path = file.display().to_string();
    let statuses = || sb.azdo_state().pull_request(PR).statuses.len();
    let before = statuses();

    // Unsigned, with a secret set: refused.
    let run = cli_refresh(&sb, &env.sources(), &["--webhook-payload", &path], &[("SONAR_PR_GATE_WEBHOOK_SECRET", secret)]);
    assert_eq!(run.status, 2, "{}", run.all());
    assert!(
        run.stderr.contains("the webhook's payload is refused: it is not signed, and a secret is set (SONAR_PR_GATE_WEBHOOK_SECRET)"),
        "{}",
        run.stderr
    );
    // Forged: another body under the original's signature.
    let signature = webhook_signature(secret, &body);
    std::fs::write(&file, body.replace("\"name\":\"7\"", "\"name\":\"8\"")).unwrap();
    let run = cli_refresh(
        &sb,
        &env.sources(),
        &["--webhook-payload", &path, "--webhook-signature", &signature],
        &[("SONAR_PR_GATE_WEBHOOK_SECRET", secret)],
    );
    assert_eq!(run.status, 2, "{}", run.all());
    assert!(
        run.stderr.contains("the webhook's payload is refused: its signature (--webhook-signature) is not the HMAC-SHA256 of the payload"),
        "{}",
        run.stderr
    );
    // Signed with another secret.
    std::fs::write(&file, &body).unwrap();
    let run = cli_refresh(
        &sb,
        &env.sources(),
        &["--webhook-payload", &path, "--webhook-signature", &webhook_signature("guess", &body)],
        &[("SONAR_PR_GATE_WEBHOOK_SECRET", secret)],
    );
    assert_eq!(run.status, 2, "{}", run.all());
    assert_eq!(statuses(), before, "nothing posted for a refused payload");

    // SonarQube's own: posted.
    let run = cli_refresh(
        &sb,
        &env.sources(),
        &["--webhook-payload", &path, "--webhook-signature", &signature],
        &[("SONAR_PR_GATE_WEBHOOK_SECRET", secret)],
    );
    assert_eq!(run.status, 0, "{}", run.all());
    assert!(run.stdout.contains("The webhook's signature matches its secret"), "{}", run.stdout);
    assert!(run.stdout.contains("SonarQube's analysis is of "), "{}", run.stdout);
    assert_eq!(latest_status(&sb).0, "succeeded");
    assert!(!run.all().contains(secret), "the secret is never printed");
    // A signature without the secret to check it against is a setting to fix.
    let run = cli_refresh(&sb, &env.sources(), &["--webhook-payload", &path, "--webhook-signature", &signature], &[]);
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("SONAR_PR_GATE_WEBHOOK_SECRET: is needed to check --webhook-signature"), "{}", run.stderr);
}

/// What the shipped webhook template gives the task, checked as the service reads it.
struct TemplateStep {
    inputs: Vec<(String, String)>,
    filter_value: String,
}

fn template_step() -> TemplateStep {
    use yaml_rust2::YamlLoader;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sonarqube-webhook-refresh.yml");
    let text = std::fs::read_to_string(path).unwrap();
    let doc = YamlLoader::load_from_str(&text).expect("the template is YAML").remove(0);
    assert_eq!((doc["trigger"].as_str(), doc["pr"].as_str()), (Some("none"), Some("none")), "only the webhook starts it");
    let hook = &doc["resources"]["webhooks"][0];
    let alias = hook["webhook"].as_str().expect("a webhook alias");
    assert!(alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "the schema's [-_A-Za-z0-9]*");
    assert!(hook["connection"].as_str().is_some(), "an Incoming WebHook connection");
    assert_eq!(hook["filters"][0]["path"].as_str(), Some("branch.type"));
    let steps = doc["steps"].as_vec().unwrap();
    let tasks: Vec<_> = steps.iter().filter(|s| s["task"].as_str().is_some()).collect();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["task"].as_str(), Some("SonarPrGate@0"));
    // A payload value never reaches a script: it is whatever the caller of a public URL sent.
    for step in steps.iter().filter(|s| s["task"].as_str().is_none()) {
        assert!(!format!("{step:?}").contains("parameters."), "a step other than the task reads the payload: {step:?}");
    }
    let inputs: Vec<(String, String)> = tasks[0]["inputs"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.as_str().map(str::to_string).unwrap_or_default()))
        .collect();
    let input = |name: &str| inputs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(input("mode"), Some("refresh"));
    assert_eq!(input("webhookPayload"), Some(format!("${{{{ convertToJson(parameters.{alias}) }}}}").as_str()));
    assert_eq!(tasks[0]["env"]["SYSTEM_ACCESSTOKEN"].as_str(), Some("$(System.AccessToken)"));
    TemplateStep { filter_value: hook["filters"][0]["value"].as_str().unwrap().to_string(), inputs }
}

#[test]
fn a_branch_analysis_webhook_refreshes_the_pull_request_whose_build_analysed_that_commit() {
    let (sb, mut env) = pr_scenario(Flavour::Server2025);
    let mut a = AnalysisSpec::new("T9", "shop");
    a.branch = Some("feature/checkout".into());
    a.revision = Some(SOURCE_COMMIT.into());
    sb.sonar_state().analyses.push(a);
    let body = sb.sonar_state().webhook_body(&sb.sonar_url(), "shop", None, true);
    assert!(body.contains("\"type\":\"BRANCH\""), "{body}");
    env.set("INPUT_MODE", "refresh").set("BUILD_REASON", "ResourceTrigger").set("INPUT_WEBHOOKPAYLOAD", &body);
    env.remove("SYSTEM_PULLREQUEST_PULLREQUESTID").remove("SYSTEM_PULLREQUEST_SOURCECOMMITID");
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(run.stdout.contains("Refreshing pull request 7 (iteration 2): SonarQube's analysis is of"), "{}", run.stdout);
    let list =
        sb.azdo_server.requests().into_iter().find(|r| r.path().ends_with("/pullRequests")).expect("the active pull requests listed");
    assert_eq!(list.query("searchCriteria.sourceRefName").as_deref(), Some("refs/heads/feature/checkout"));
    assert_eq!(latest_status(&sb).0, "succeeded");

    // A commit no active pull request is at: nothing, and why.
    let other = body.replace(SOURCE_COMMIT, OLD_COMMIT);
    env.set("INPUT_WEBHOOKPAYLOAD", &other);
    let run = env.run();
    assert_eq!(run.result(), "Succeeded", "{}", run.all());
    assert!(
        run.stdout.contains(&format!("Nothing refreshed: no active pull request of this repository is at commit {OLD_COMMIT}")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_refresh_without_what_to_refresh_names_every_missing_setting() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_cli(
        &["refresh", "--sonar-url", "https://sonar.example.com", "--collection-url", "https://dev.azure.com/fabrikam"],
        &[("SONAR_TOKEN", SONAR_TOKEN)],
        dir.path(),
    );
    assert_eq!(run.status, 2, "{}", run.all());
    let expected = [
        "  - --project-key: refresh needs exactly one project (given 0), or a webhook payload that names it (--webhook-payload)",
        "  - --pull-request: refresh needs the pull request to post to, or a webhook payload that names it (--webhook-payload)",
        "  - AZURE_DEVOPS_EXT_PAT: no Azure DevOps credential to post with; export AZURE_DEVOPS_EXT_PAT (a PAT) or SYSTEM_ACCESSTOKEN (a job's access token)",
        "  - --project: is needed to post the refreshed result; pass --project",
        "  - --repository: is needed to post the refreshed result; pass --repository",
    ];
    for line in expected {
        assert!(run.stderr.lines().any(|l| l == line), "{line}\n{}", run.stderr);
    }
    // The webhook's options belong to refresh only.
    let run = run_cli(
        &["publish", "--sonar-url", "https://sonar.example.com", "--webhook-payload", "x.json"],
        &[("SONAR_TOKEN", SONAR_TOKEN)],
        dir.path(),
    );
    assert_eq!(run.status, 2, "clap refuses a flag publish does not have: {}", run.all());
}
