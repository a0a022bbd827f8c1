//! The sandbox held against the official examples in `../shared/reference` (present in CI, absent
//! from a user's clone, where these tests say so and pass): every field the fakes send exists in
//! the official example with the same JSON type (or is one the notes document but the example
//! lacks), and our models read every official example.

use std::path::PathBuf;

use sandbox::Sandbox;
use sandbox::sonar::{AnalysisSpec, Flavour, IssueSpec};
use serde_json::Value;

fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("../shared/reference is not here (a user's clone): conformance checks skipped; CI always runs them");
        None
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

#[test]
fn sonarqube_fake_answers_in_the_shape_of_the_official_examples() {
    let Some(dir) = reference_dir() else { return };
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
        &load(&dir, "sonarqube/ce-task-example.json"),
        &["task.branch", "task.branchType", "task.pullRequest", "task.errorMessage"],
    );
    check(
        &s("api/qualitygates/project_status?analysisId=AN-AYhSC2"),
        &load(&dir, "sonarqube/qualitygates-project_status-example.json"),
        &[],
    );
    check(
        &s("api/issues/search?componentKeys=shop&resolved=false&ps=500&p=1"),
        &load(&dir, "sonarqube/issues-search-example.json"),
        &["issues[].severity", "issues[].type", "issues[].status", "issues[].pullRequest"],
    );
    check(&s("api/hotspots/search?projectKey=shop&status=TO_REVIEW"), &load(&dir, "sonarqube/hotspots-search-example.json"), &[]);
    check(
        &s("api/measures/component?component=shop&metricKeys=new_coverage,coverage"),
        &load(&dir, "sonarqube/measures-component-example.json"),
        &[],
    );
    check(&get(&format!("{base}/api/system/status"), None), &load(&dir, "sonarqube/system-example-status.json"), &[]);
    check(&s("api/settings/values?keys=sonar.core.serverBaseURL"), &load(&dir, "sonarqube/settings-values-example.json"), &[]);
    let version = std::fs::read_to_string(dir.join("sonarqube/server-example-server-version.txt")).unwrap();
    let ours = ureq::get(&format!("{base}/api/server/version")).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(version.trim().split('.').count() >= 3 && ours.split('.').count() >= 3, "plain-text versions: {version} / {ours}");

    // The older shapes against the older examples.
    let old = Sandbox::start(Flavour::Server89);
    old.sonar_state().analyses.push(AnalysisSpec::new("T", "shop").failing_gate());
    let ob = old.sonar_url();
    check(
        &get(&format!("{ob}/api/qualitygates/project_status?analysisId=AN-T"), Some(&auth)),
        &load(&dir, "sonarqube/qualitygates-project_status-example.b6d962dd.json"),
        &[],
    );
    check(
        &get(&format!("{ob}/api/measures/component?component=shop&metricKeys=new_coverage,coverage"), Some(&auth)),
        &load(&dir, "sonarqube/measures-component-example.130b0508.json"),
        &["component.measures[].periods"],
    );
}

#[test]
fn our_models_read_every_official_sonarqube_example() {
    use sonar_pr_gate::sonar::model::*;
    let Some(dir) = reference_dir() else { return };
    let read = |f: &str| std::fs::read_to_string(dir.join("sonarqube").join(f)).unwrap();
    let task: CeTaskResponse = serde_json::from_str(&read("ce-task-example.json")).unwrap();
    assert_eq!((task.task.status, task.task.analysis_id.as_deref()), (CeStatus::Success, Some("AYhSC3WDE6ILQDIMAPIp")));
    for f in ["qualitygates-project_status-example.json", "qualitygates-project_status-example.b6d962dd.json"] {
        let ps: ProjectStatusResponse = serde_json::from_str(&read(f)).unwrap();
        assert_eq!(ps.project_status.status, GateStatus::Error, "{f}");
        assert_eq!(ps.project_status.conditions.len(), 7, "{f}");
    }
    for f in ["issues-search-example.json", "issues-search-example.0bc3c36c.json"] {
        let issues: IssuesResponse = serde_json::from_str(&read(f)).unwrap();
        assert!(!issues.issues.is_empty() && issues.total() >= 1, "{f}");
    }
    let hs: HotspotsResponse = serde_json::from_str(&read("hotspots-search-example.json")).unwrap();
    assert!(!hs.hotspots.is_empty());
    for f in ["measures-component-example.json", "measures-component-example.130b0508.json"] {
        let m: MeasuresResponse = serde_json::from_str(&read(f)).unwrap();
        assert!(m.component.measures.iter().any(|m| m.metric == "new_violations" && m.best_value().is_some()), "{f}");
    }
    let st: SystemStatus = serde_json::from_str(&read("system-example-status.json")).unwrap();
    assert_eq!(st.status, "UP");
    let st: SystemStatus = serde_json::from_str(&read("system-example-status-unauthenticated.json")).unwrap();
    assert_eq!(st.status, "UP");
    let sv: SettingsValues = serde_json::from_str(&read("settings-values-example.json")).unwrap();
    assert!(!sv.settings.is_empty());
    // Every report-task.txt sample parses, and PR samples are recognised as PR analyses.
    for entry in std::fs::read_dir(dir.join("sonarqube")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("report-task.") {
            let t = sonar_pr_gate::sonar::report_task::parse(&entry.path(), &std::fs::read_to_string(entry.path()).unwrap()).unwrap();
            assert_eq!(t.pull_request.is_some(), name.contains("pull-request"), "{name}");
        }
    }
}

#[test]
fn azure_devops_fake_answers_in_the_shape_of_the_official_examples() {
    let Some(dir) = reference_dir() else { return };
    let sb = Sandbox::start(Flavour::Server108);
    sb.azdo_state().add_pull_request(22, &[(1, "b60280bc6e62e2f880f1b63c1e24987664d3bda3")]);
    let base =
        format!("{}/_apis/git/repositories/web/pullRequests/22", sb.collection_url().trim_end_matches('/').to_string() + "/Fabrikam%20Web");
    let auth = format!("Bearer {}", sandbox::JOB_TOKEN);
    let body = |f: &str| load(&dir, &format!("azure-devops/{f}"))["responses"]["200"]["body"].clone();
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

    let status_req = load(&dir, "azure-devops/POST_git_pullRequestStatuses_statusIterationInBody.json")["parameters"]["body"].clone();
    let ours = send("POST", &format!("{base}/statuses?api-version=7.1"), &status_req);
    check(&ours, &body("POST_git_pullRequestStatuses_statusIterationInBody.json"), &[]);

    let thread_req =
        load(&dir, "azure-devops/POST__git_repositories__repositoryId__pullRequests__pullRequestId__threads2.json")["parameters"]["body"]
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

#[test]
fn our_models_read_the_official_azure_devops_examples() {
    use sonar_pr_gate::azdo::model::*;
    let Some(dir) = reference_dir() else { return };
    let body = |f: &str| load(&dir, &format!("azure-devops/{f}"))["responses"]["200"]["body"].clone();
    let threads: ValueList<Thread> =
        serde_json::from_value(body("GET__git_repositories__repositoryId__pullRequests__pullRequestId__threads.json")).unwrap();
    let first = &threads.value[0];
    assert_eq!(first.property("CodeReviewMergeStatus").as_deref(), Some("Succeeded"));
    let pr: PullRequest = serde_json::from_value(body("GET__git_repositories__repositoryId__pullRequests__pullRequestId_.json")).unwrap();
    assert_eq!(pr.pull_request_id, 22);
    assert_eq!(pr.last_merge_source_commit.unwrap().commit_id, "b60280bc6e62e2f880f1b63c1e24987664d3bda3");
}
