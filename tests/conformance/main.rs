//! Conformance: the sandbox and our models held against the official data in `../shared/reference`
//! (Microsoft's and SonarSource's examples and schemas): every field the fakes send exists in the
//! official example with the same JSON type (or is one the notes document but the example lacks),
//! our models read every official example, and the manifests match the official schemas.
//!
//! A user's clone has no `../shared`, so this runs with its own small harness that says visibly
//! when the checks did not run. CI exports SONAR_PR_GATE_REQUIRE_SHARED=1, and then a missing
//! reference fails the run instead; SONAR_PR_GATE_SHARED points elsewhere than `../shared`.

use std::path::{Path, PathBuf};

use sandbox::Sandbox;
use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};
use serde_json::Value;

/// `../shared` next to the repository, or where SONAR_PR_GATE_SHARED says.
fn shared_dir() -> PathBuf {
    std::env::var_os("SONAR_PR_GATE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

type Check = fn(&Path);

const CHECKS: [(&str, Check); 5] = [
    ("sonarqube_fake_answers_in_the_shape_of_the_official_examples", sonarqube_fake_answers_in_the_shape_of_the_official_examples),
    ("our_models_read_every_official_sonarqube_example", our_models_read_every_official_sonarqube_example),
    ("azure_devops_fake_answers_in_the_shape_of_the_official_examples", azure_devops_fake_answers_in_the_shape_of_the_official_examples),
    ("our_models_read_the_official_azure_devops_examples", our_models_read_the_official_azure_devops_examples),
    ("manifests_validate_against_the_official_schemas", manifests_validate_against_the_official_schemas),
];

fn main() {
    let dir = shared_dir().join("reference");
    let required = std::env::var_os("SONAR_PR_GATE_REQUIRE_SHARED").is_some_and(|v| v == "1");
    println!("\nrunning {} conformance checks against {}", CHECKS.len(), dir.display());
    if !dir.is_dir() {
        if required {
            println!("conformance: {} is missing, and SONAR_PR_GATE_REQUIRE_SHARED=1 (CI) requires it", dir.display());
            println!("test result: FAILED. 0 passed; {} failed; 0 ignored; 0 measured; 0 filtered out\n", CHECKS.len());
            std::process::exit(101);
        }
        println!(
            "conformance: SKIPPED, all {} checks did not run: {} is not here (a user's clone has no ../shared). CI runs them.",
            CHECKS.len(),
            dir.display()
        );
        println!("test result: ok. 0 passed; 0 failed; {} ignored; 0 measured; 0 filtered out\n", CHECKS.len());
        return;
    }
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let mut failed = Vec::new();
    let mut passed = 0;
    for (name, check) in CHECKS.iter().filter(|(n, _)| filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str()))) {
        match std::panic::catch_unwind(|| check(&dir)) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(_) => {
                failed.push(*name);
                println!("test {name} ... FAILED");
            }
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!("\ntest result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out\n", failed.len());
    if !failed.is_empty() {
        std::process::exit(101);
    }
}

fn load(dir: &std::path::Path, rel: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of `ours` must be in `official` with the same type (nulls in the example match
/// anything), recursively into objects and the first element of arrays; `extra` lists dotted paths
/// the fake may add.
fn assert_shape(ours: &Value, official: &Value, path: &str, extra: &[&str], problems: &mut Vec<String>) {
    match (ours, official) {
        (Value::Object(o), Value::Object(r)) => {
            for (k, v) in o {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match r.get(k) {
                    Some(rv) => assert_shape(v, rv, &p, extra, problems),
                    None if extra.iter().any(|e| p == *e || p.starts_with(&format!("{e}."))) => {}
                    None if r.keys().any(|rk| rk.starts_with('$') || rk.contains('.')) => {} // property bags
                    None => problems.push(format!("{p}: not in the official example")),
                }
            }
        }
        (Value::Array(o), Value::Array(r)) => {
            // Every element of ours against the union of the example's elements.
            let merged = r.iter().fold(Value::Null, merge);
            for a in o {
                assert_shape(a, &merged, &format!("{path}[]"), extra, problems);
            }
        }
        (_, Value::Null) => {}
        (a, b) if kind(a) != kind(b) => problems.push(format!("{path}: ours is {}, the example's is {}", kind(a), kind(b))),
        _ => {}
    }
}

/// The union of two example values: objects merge key by key; otherwise the first non-null wins.
fn merge(acc: Value, next: &Value) -> Value {
    match (acc, next) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let merged = merge(a.remove(k).unwrap_or(Value::Null), v);
                a.insert(k.clone(), merged);
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => Value::Array(a.into_iter().chain(b.iter().cloned()).collect()),
        (Value::Null, v) => v.clone(),
        (a, _) => a,
    }
}

fn check(ours: &Value, official: &Value, extra: &[&str]) {
    let mut problems = vec![];
    assert_shape(ours, official, "", extra, &mut problems);
    assert!(problems.is_empty(), "the fake differs from the official example:\n{}", problems.join("\n"));
}

fn get(url: &str, auth: Option<&str>) -> Value {
    let mut req = ureq::get(url);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let mut resp = req.config().http_status_as_error(false).build().call().unwrap();
    resp.body_mut().read_json().unwrap_or(Value::Null)
}

fn sonar_auth() -> String {
    format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{}:", sandbox::SONAR_TOKEN)))
}

fn sonarqube_fake_answers_in_the_shape_of_the_official_examples(dir: &Path) {
    let sb = Sandbox::start(Flavour::Server2025);
    let mut a = AnalysisSpec::new("AYhSC2", "shop").failing_gate();
    a.hotspots = 2;
    a.issues = vec![IssueSpec::new("k1", "src/App.java", 3, "MAJOR", "m")];
    sb.sonar_state().analyses.push(a);
    let base = sb.sonar_url();
    let auth = sonar_auth();
    let s = |path: &str| get(&format!("{base}/{path}"), Some(&auth));
    // Fields the notes document for these endpoints that the examples happen not to show.
    check(
        &s("api/ce/task?id=AYhSC2"),
        &load(dir, "sonarqube/ce-task-example.json"),
        &["task.branch", "task.branchType", "task.pullRequest", "task.errorMessage"],
    );
    check(
        &s("api/qualitygates/project_status?analysisId=AN-AYhSC2"),
        &load(dir, "sonarqube/qualitygates-project_status-example.json"),
        &[],
    );
    check(
        &s("api/issues/search?componentKeys=shop&resolved=false&ps=500&p=1"),
        &load(dir, "sonarqube/issues-search-example.json"),
        &["issues[].severity", "issues[].type", "issues[].status", "issues[].pullRequest"],
    );
    check(&s("api/hotspots/search?projectKey=shop&status=TO_REVIEW"), &load(dir, "sonarqube/hotspots-search-example.json"), &[]);
    check(
        &s("api/measures/component?component=shop&metricKeys=new_coverage,coverage"),
        &load(dir, "sonarqube/measures-component-example.json"),
        &[],
    );
    check(&get(&format!("{base}/api/system/status"), None), &load(dir, "sonarqube/system-example-status.json"), &[]);
    check(&s("api/settings/values?keys=sonar.core.serverBaseURL"), &load(dir, "sonarqube/settings-values-example.json"), &[]);
    let version = std::fs::read_to_string(dir.join("sonarqube/server-example-server-version.txt")).unwrap();
    let ours = ureq::get(&format!("{base}/api/server/version")).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(version.trim().split('.').count() >= 3 && ours.split('.').count() >= 3, "plain-text versions: {version} / {ours}");

    // The older shapes against the older examples.
    let old = Sandbox::start(Flavour::Server89);
    old.sonar_state().analyses.push(AnalysisSpec::new("T", "shop").failing_gate());
    let ob = old.sonar_url();
    check(
        &get(&format!("{ob}/api/qualitygates/project_status?analysisId=AN-T"), Some(&auth)),
        &load(dir, "sonarqube/qualitygates-project_status-example.b6d962dd.json"),
        &[],
    );
    check(
        &get(&format!("{ob}/api/measures/component?component=shop&metricKeys=new_coverage,coverage"), Some(&auth)),
        &load(dir, "sonarqube/measures-component-example.130b0508.json"),
        &["component.measures[].periods"],
    );
}

fn our_models_read_every_official_sonarqube_example(dir: &Path) {
    use sonar_pr_gate::probe::read_sonarqube_example as read_example;
    let read = |endpoint: &str, f: &str| {
        read_example(endpoint, &std::fs::read_to_string(dir.join("sonarqube").join(f)).unwrap()).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    let task = read("api/ce/task", "ce-task-example.json");
    assert_eq!(task, serde_json::json!({ "status": "SUCCESS", "analysisId": "AYhSC3WDE6ILQDIMAPIp" }));
    for f in ["qualitygates-project_status-example.json", "qualitygates-project_status-example.b6d962dd.json"] {
        assert_eq!(read("api/qualitygates/project_status", f), serde_json::json!({ "status": "ERROR", "conditions": 7 }), "{f}");
    }
    for f in ["issues-search-example.json", "issues-search-example.0bc3c36c.json"] {
        let issues = read("api/issues/search", f);
        assert!(issues["issues"].as_u64().unwrap() > 0 && issues["total"].as_u64().unwrap() >= 1, "{f}: {issues}");
    }
    assert!(read("api/hotspots/search", "hotspots-search-example.json")["hotspots"].as_u64().unwrap() > 0);
    for f in ["measures-component-example.json", "measures-component-example.130b0508.json"] {
        let m = read("api/measures/component", f);
        assert!(m["withBestValue"].as_array().unwrap().iter().any(|k| k == "new_violations"), "{f}: {m}");
    }
    for f in ["system-example-status.json", "system-example-status-unauthenticated.json"] {
        assert_eq!(read("api/system/status", f)["status"], "UP", "{f}");
    }
    assert!(read("api/settings/values", "settings-values-example.json")["settings"].as_u64().unwrap() > 0);
    // Every report-task.txt sample parses, and PR samples are recognised as PR analyses.
    for entry in std::fs::read_dir(dir.join("sonarqube")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("report-task.") {
            let t = sonar_pr_gate::probe::read_report_task(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
            assert_eq!(t.pull_request.is_some(), name.contains("pull-request"), "{name}");
        }
    }
}

fn azure_devops_fake_answers_in_the_shape_of_the_official_examples(dir: &Path) {
    let sb = Sandbox::start(Flavour::Server108);
    sb.azdo_state().add_pull_request(22, &[(1, "b60280bc6e62e2f880f1b63c1e24987664d3bda3")]);
    let base =
        format!("{}/_apis/git/repositories/web/pullRequests/22", sb.collection_url().trim_end_matches('/').to_string() + "/Fabrikam%20Web");
    let auth = format!("Bearer {}", sandbox::JOB_TOKEN);
    let body = |f: &str| load(dir, &format!("azure-devops/{f}"))["responses"]["200"]["body"].clone();
    let send = |method: &str, url: &str, json: &Value| -> Value {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(json).unwrap())
            .unwrap();
        let mut resp = ureq::Agent::new_with_defaults().run(req).unwrap();
        resp.body_mut().read_json().unwrap()
    };
    check(
        &get(&format!("{base}?api-version=7.1"), Some(&auth)),
        &body("GET__git_repositories__repositoryId__pullRequests__pullRequestId_.json"),
        &["isDraft", "supportsIterations", "lastMergeTargetCommit"],
    );

    let status_req = load(dir, "azure-devops/POST_git_pullRequestStatuses_statusIterationInBody.json")["parameters"]["body"].clone();
    let ours = send("POST", &format!("{base}/statuses?api-version=7.1"), &status_req);
    check(&ours, &body("POST_git_pullRequestStatuses_statusIterationInBody.json"), &[]);

    let thread_req =
        load(dir, "azure-devops/POST__git_repositories__repositoryId__pullRequests__pullRequestId__threads2.json")["parameters"]["body"]
            .clone();
    let ours = send("POST", &format!("{base}/threads?api-version=7.1"), &thread_req);
    check(
        &ours,
        &body("POST__git_repositories__repositoryId__pullRequests__pullRequestId__threads2.json"),
        &[
            "comments[].isDeleted",
            "comments[].lastContentUpdatedDate",
            "comments[].usersLiked",
            "threadContext.leftFileStart",
            "threadContext.leftFileEnd",
        ],
    );
    let list = get(&format!("{base}/threads?api-version=7.1"), Some(&auth));
    check(
        &list,
        &body("GET__git_repositories__repositoryId__pullRequests__pullRequestId__threads.json"),
        &[
            "value[].comments[].isDeleted",
            "value[].comments[].lastContentUpdatedDate",
            "value[].threadContext.leftFileStart",
            "value[].threadContext.leftFileEnd",
            "value[]._links",
        ],
    );
    check(
        &get(&format!("{base}/statuses?api-version=7.1"), Some(&auth)),
        &body("GET_git_pullRequestStatuses_statuses.json"),
        &["value[].iterationId", "value[]._links"],
    );
}

fn our_models_read_the_official_azure_devops_examples(dir: &Path) {
    use sonar_pr_gate::probe::read_azure_devops_example as read_example;
    let body = |f: &str| load(dir, &format!("azure-devops/{f}"))["responses"]["200"]["body"].clone();
    let threads = read_example("threads", body("GET__git_repositories__repositoryId__pullRequests__pullRequestId__threads.json")).unwrap();
    assert_eq!(threads["firstMergeStatus"], "Succeeded");
    let pr = read_example("pullRequest", body("GET__git_repositories__repositoryId__pullRequests__pullRequestId_.json")).unwrap();
    assert_eq!(pr, serde_json::json!({ "id": 22, "sourceCommit": "b60280bc6e62e2f880f1b63c1e24987664d3bda3" }));
}

fn manifests_validate_against_the_official_schemas(dir: &Path) {
    let reference = dir.join("azure-pipelines");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let documents = [
        ("task.json", "tasks.schema.json"),
        ("vss-extension.json", "vss-extension.schemastore.schema.json"),
        ("decorator/vss-extension.json", "vss-extension.schemastore.schema.json"),
    ];
    for (doc, schema) in documents {
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(reference.join(schema)).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        let manifest: Value = serde_json::from_str(&std::fs::read_to_string(repo.join(doc)).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&manifest).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{doc} does not match {}:\n{}", reference.display(), errors.join("\n"));
    }
}
