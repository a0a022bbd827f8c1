//! The pipeline decorator (`decorator/`): a broken template breaks every pipeline of an
//! organization, so it is checked here as the service would read it. The YAML parses; it injects
//! only this extension's task, by id and major version; its compile-time expressions use only the
//! documented decorator context (`job`, `resources`) and functions, its runtime conditions only
//! documented functions and `variables`; and evaluated with the agent's rules (string comparisons
//! ignore case, an undefined variable is empty) exactly one step runs where it should and none
//! elsewhere.

use std::collections::BTreeMap;
use std::path::PathBuf;

use yaml_rust2::{Yaml, YamlLoader};

/// SonarSource's Analyze tasks, one id for every major version (sonar-scanner-azdo,
/// `src/extensions/*/tasks/*Analyze/v*/task.json`: SonarQubeAnalyze 4–8, SonarCloudAnalyze 1–4).
/// SonarSource's task ids, in the case their task.json files write them (sonar-scanner-azdo:
/// `SonarQubeAnalyze/v7,v8/task.json` upper case, `SonarCloudAnalyze/v3,v4/task.json` lower case).
const SONARQUBE_ANALYZE: &str = "6D01813A-9589-4B15-8491-8164AEB38055";
const SONARCLOUD_ANALYZE: &str = "ce096e50-6155-4de8-8800-4221aaeed4a1";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join(path)).unwrap()).unwrap()
}

fn our_task() -> (String, u64) {
    let task = json("task.json");
    (task["id"].as_str().unwrap().to_ascii_lowercase(), task["version"]["Major"].as_u64().unwrap())
}

fn template() -> Yaml {
    let manifest = json("decorator/vss-extension.json");
    let name = manifest["contributions"][0]["properties"]["template"].as_str().unwrap();
    let text = std::fs::read_to_string(repo().join("decorator").join(name)).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).expect("the template is YAML");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

/// The one conditional block: its `${{ if … }}` expression and the steps it inserts.
fn conditional_block(doc: &Yaml) -> (String, Vec<Yaml>) {
    let root = doc.as_hash().expect("a mapping");
    assert_eq!(root.keys().map(|k| k.as_str().unwrap()).collect::<Vec<_>>(), ["steps"], "only `steps` at the top");
    let steps = doc["steps"].as_vec().unwrap();
    assert_eq!(steps.len(), 1, "one conditional block");
    let block = steps[0].as_hash().unwrap();
    assert_eq!(block.len(), 1);
    let (key, inserted) = block.iter().next().unwrap();
    let key = key.as_str().unwrap();
    let expr =
        key.strip_prefix("${{ if ").and_then(|k| k.strip_suffix(" }}")).unwrap_or_else(|| panic!("not a conditional insertion: {key}"));
    (expr.to_string(), inserted.as_vec().unwrap().clone())
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Str(String),
    /// `variables['name']`, `job.steps.*.task.id`: a context and the path into it.
    Context(String, Vec<String>),
    Call(String, Vec<Expr>),
}

/// Parses the expression language's subset a decorator may use; anything else is a parse error.
fn parse(text: &str) -> Expr {
    let mut p = Parser { s: text.as_bytes(), i: 0 };
    let e = p.expr();
    p.ws();
    assert_eq!(p.i, p.s.len(), "trailing text in {text}");
    e
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let hit = self.s.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }
    fn string(&mut self) -> String {
        assert!(self.eat(b'\''));
        let start = self.i;
        while self.s[self.i] != b'\'' {
            self.i += 1;
        }
        self.i += 1;
        String::from_utf8(self.s[start..self.i - 1].to_vec()).unwrap()
    }
    fn ident(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'*') {
            self.i += 1;
        }
        assert!(self.i > start, "expected a name at {} in {}", start, String::from_utf8_lossy(self.s));
        String::from_utf8(self.s[start..self.i].to_vec()).unwrap()
    }
    fn expr(&mut self) -> Expr {
        self.ws();
        if self.s.get(self.i) == Some(&b'\'') {
            return Expr::Str(self.string());
        }
        let name = self.ident();
        if self.eat(b'(') {
            let mut args = Vec::new();
            if !self.eat(b')') {
                args.push(self.expr());
                while self.eat(b',') {
                    args.push(self.expr());
                }
                assert!(self.eat(b')'));
            }
            return Expr::Call(name, args);
        }
        let mut path = Vec::new();
        loop {
            if self.eat(b'.') {
                path.push(self.ident());
            } else if self.eat(b'[') {
                path.push(self.string());
                assert!(self.eat(b']'));
            } else {
                break;
            }
        }
        Expr::Context(name, path)
    }
}

/// Every function and context an expression uses.
fn names(e: &Expr, functions: &mut Vec<String>, contexts: &mut Vec<String>) {
    match e {
        Expr::Str(_) => {}
        Expr::Context(name, _) => contexts.push(name.clone()),
        Expr::Call(name, args) => {
            functions.push(name.clone());
            for a in args {
                names(a, functions, contexts);
            }
        }
    }
}

/// A runtime condition under these variables, with the agent's rules: `eq`/`ne` compare strings
/// ignoring case, an undefined variable is the empty string.
fn evaluate(e: &Expr, variables: &BTreeMap<&str, &str>, succeeded: bool) -> String {
    let truth = |b: bool| if b { "True".to_string() } else { "False".to_string() };
    match e {
        Expr::Str(s) => s.clone(),
        Expr::Context(name, path) if name == "variables" => {
            variables.iter().find(|(k, _)| k.eq_ignore_ascii_case(&path[0])).map(|(_, v)| v.to_string()).unwrap_or_default()
        }
        Expr::Call(f, args) => {
            let arg = |i: usize| evaluate(&args[i], variables, succeeded);
            match f.as_str() {
                "succeeded" => truth(succeeded),
                "and" => truth((0..args.len()).all(|i| arg(i) == "True")),
                "eq" => truth(arg(0).eq_ignore_ascii_case(&arg(1))),
                "ne" => truth(!arg(0).eq_ignore_ascii_case(&arg(1))),
                other => panic!("no evaluator for {other}"),
            }
        }
        other => panic!("not a runtime value: {other:?}"),
    }
}

#[test]
fn the_template_injects_only_this_task_unless_the_job_already_runs_it() {
    let (id, major) = our_task();
    let (expr, steps) = conditional_block(&template());
    let expected = Expr::Call(
        "not".into(),
        vec![Expr::Call(
            "containsValue".into(),
            vec![Expr::Context("job".into(), vec!["steps".into(), "*".into(), "task".into(), "id".into()]), Expr::Str(id.clone())],
        )],
    );
    assert_eq!(parse(&expr), expected, "the compile-time check names this task's id");
    assert_eq!(steps.len(), 2);
    for step in &steps {
        assert_eq!(step["task"].as_str(), Some(format!("{id}@{major}").as_str()), "the task by id and major version");
        let keys: Vec<&str> = step.as_hash().unwrap().keys().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["task", "displayName", "condition", "continueOnError", "inputs"]);
    }
}

#[test]
fn expressions_use_only_the_documented_functions_and_contexts() {
    let (expr, steps) = conditional_block(&template());
    let (mut functions, mut contexts) = (Vec::new(), Vec::new());
    names(&parse(&expr), &mut functions, &mut contexts);
    // Compile time: the decorator context (resources, job) and the expression functions.
    let documented = ["and", "or", "not", "eq", "ne", "in", "notIn", "contains", "containsValue", "startsWith", "endsWith"];
    assert!(functions.iter().all(|f| documented.contains(&f.as_str())), "{functions:?}");
    assert!(contexts.iter().all(|c| c == "job" || c == "resources"), "{contexts:?}");
    for step in &steps {
        let (mut functions, mut contexts) = (Vec::new(), Vec::new());
        names(&parse(step["condition"].as_str().unwrap()), &mut functions, &mut contexts);
        // Runtime conditions: the job status functions and `variables`.
        let documented = ["and", "or", "not", "eq", "ne", "in", "succeeded", "succeededOrFailed"];
        assert!(functions.iter().all(|f| documented.contains(&f.as_str())), "{functions:?}");
        assert!(contexts.iter().all(|c| c == "variables"), "{contexts:?}");
    }
}

#[test]
fn exactly_one_step_runs_in_a_pull_request_build_and_none_elsewhere() {
    let (_, steps) = conditional_block(&template());
    let conditions: Vec<Expr> = steps.iter().map(|s| parse(s["condition"].as_str().unwrap())).collect();
    let pr = [("Build.Reason", "PullRequest"), ("Build.Repository.Provider", "TfsGit")];
    // (extra variables, the analysis succeeded, which step runs)
    type Case<'a> = (&'a [(&'a str, &'a str)], bool, Option<usize>);
    let cases: &[Case] = &[
        (&[], true, Some(0)),
        (&[("SonarPrGate.FailJob", "true")], true, Some(1)),
        (&[("sonarprgate.failjob", "True")], true, Some(1)),
        (&[("SonarPrGate.Skip", "true")], true, None),
        (&[("SonarPrGate.Skip", "TRUE"), ("SonarPrGate.FailJob", "true")], true, None),
        (&[("Build.Reason", "IndividualCI")], true, None),
        (&[("Build.Repository.Provider", "GitHub")], true, None),
        (&[], false, None),
    ];
    for (extra, succeeded, expected) in cases {
        let mut vars: BTreeMap<&str, &str> = pr.into_iter().collect();
        for (k, v) in *extra {
            vars.retain(|key, _| !key.eq_ignore_ascii_case(k));
            vars.insert(k, v);
        }
        let running: Vec<usize> = (0..2).filter(|i| evaluate(&conditions[*i], &vars, *succeeded) == "True").collect();
        assert_eq!(running, expected.iter().copied().collect::<Vec<usize>>(), "{vars:?}, analysis succeeded: {succeeded}");
    }
    // The default never fails the job: the step continues on error and a failed gate fails only
    // the PR status; the opted-in step fails it as the task added by hand does.
    assert_eq!((steps[0]["continueOnError"].as_bool(), steps[0]["inputs"]["failOnQualityGateError"].as_bool()), (Some(true), Some(false)));
    assert_eq!((steps[1]["continueOnError"].as_bool(), steps[1]["inputs"]["failOnQualityGateError"].as_bool()), (Some(false), Some(true)));
}

#[test]
fn the_manifest_injects_after_every_analyze_task_and_is_private() {
    let manifest = json("decorator/vss-extension.json");
    let contributions = manifest["contributions"].as_array().unwrap();
    let mut targets: Vec<String> = contributions.iter().map(|c| c["properties"]["targettask"].as_str().unwrap().to_string()).collect();
    targets.sort();
    assert_eq!(targets, [SONARQUBE_ANALYZE, SONARCLOUD_ANALYZE]);
    for c in contributions {
        assert_eq!(c["type"], "ms.azure-pipelines.pipeline-decorator");
        assert_eq!(c["targets"], serde_json::json!(["ms.azure-pipelines-agent-job.post-task-tasks"]));
        let template = c["properties"]["template"].as_str().unwrap();
        let listed = manifest["files"].as_array().unwrap().iter().any(|f| f["path"] == template && f["addressable"] == true);
        assert!(listed, "the template must be an addressable file of the package");
    }
    // "Only private extensions can contribute pipeline decorators" (Author a pipeline decorator).
    assert!(manifest.get("galleryFlags").is_none_or(|f| !f.to_string().contains("Public")));
    // Decorators with task targets exist on Services and Azure DevOps Server 2022 (19.0) on.
    assert_eq!(
        manifest["targets"],
        serde_json::json!([{ "id": "Microsoft.VisualStudio.Services.Cloud" }, { "id": "Microsoft.TeamFoundation.Server", "version": "[19.0,)" }])
    );
}

/// A compile-time `${{ if }}` of the template, against the job's own steps (the decorator context's
/// `job.steps.*.task.id`, which lists the pipeline's steps, not what decorators add).
fn compile_time(e: &Expr, job_task_ids: &[&str]) -> bool {
    match e {
        Expr::Call(f, args) if f == "not" => !compile_time(&args[0], job_task_ids),
        Expr::Call(f, args) if f == "containsValue" => {
            let Expr::Str(wanted) = &args[1] else { panic!("containsValue of a literal") };
            // GUIDs compare as strings, ignoring case.
            job_task_ids.iter().any(|id| id.eq_ignore_ascii_case(wanted))
        }
        other => panic!("no compile-time evaluator for {other:?}"),
    }
}

/// Two Prepare/Analyze pairs in one job: the decorator adds the task after each Analyze step, so
/// the task runs twice; the first run sees only the first project's report, the second both. The
/// context a branch policy requires must end failing when the first project's gate failed.
#[test]
fn two_analyses_in_one_job_get_two_runs_whose_statuses_combine() {
    use crate::util::*;
    const PREPARE: &str = "15B84CA1-B62F-4A2A-A403-89B77A063157";
    let job = [PREPARE, SONARQUBE_ANALYZE, PREPARE, SONARQUBE_ANALYZE];
    let manifest = json("decorator/vss-extension.json");
    let targets: Vec<String> =
        manifest["contributions"].as_array().unwrap().iter().map(|c| c["properties"]["targettask"].as_str().unwrap().to_string()).collect();
    let (expr, steps) = conditional_block(&template());
    let pr_variables: BTreeMap<&str, &str> =
        [("Build.Reason", "PullRequest"), ("Build.Repository.Provider", "TfsGit")].into_iter().collect();
    // post-task-tasks: after every step of a target task, the template's steps whose conditions hold.
    let injected: Vec<(usize, &Yaml)> = job
        .iter()
        .enumerate()
        .filter(|(_, id)| targets.iter().any(|t| t.eq_ignore_ascii_case(id)))
        .filter(|_| compile_time(&parse(&expr), &job))
        .flat_map(|(after, _)| steps.iter().map(move |s| (after, s)))
        .filter(|(_, s)| evaluate(&parse(s["condition"].as_str().unwrap()), &pr_variables, true) == "True")
        .collect();
    assert_eq!(injected.iter().map(|(after, _)| *after).collect::<Vec<_>>(), [1, 3], "one run after each Analyze step");

    let (sb, mut env) = pr_scenario(sandbox::sonar::Flavour::Server108);
    {
        let mut st = sb.sonar_state();
        let mut web = sandbox::sonar::AnalysisSpec::new("T-web", "web").failing_gate();
        web.pull_request = Some("7".into());
        st.analyses.push(web);
        let mut api = sandbox::sonar::AnalysisSpec::new("T-api", "api");
        api.pull_request = Some("7".into());
        st.analyses.push(api);
    }
    let reports = [("web", "T-web"), ("api", "T-api")];
    for ((after, step), (project, task)) in injected.iter().zip(reports) {
        // The step's own inputs, as the decorator sets them; the report of the Analyze step just run.
        for (name, value) in step["inputs"].as_hash().unwrap() {
            let value = match value {
                Yaml::Boolean(b) => b.to_string(),
                other => other.as_str().unwrap().to_string(),
            };
            env.set(&format!("INPUT_{}", name.as_str().unwrap().to_ascii_uppercase()), &value);
        }
        env.write_report(&format!("{project}/.scannerwork/report-task.txt"), &sb, project, task, Some("7"));
        let run = env.run();
        assert_eq!(run.result(), "SucceededWithIssues", "after step {after}: the decorator's step never fails the job by default");
    }
    let st = sb.azdo_state();
    let mut latest: BTreeMap<String, (String, String)> = BTreeMap::new();
    for s in &st.pull_request(PR).statuses {
        latest.insert(
            s["context"]["name"].as_str().unwrap().into(),
            (s["state"].as_str().unwrap().into(), s["description"].as_str().unwrap().into()),
        );
    }
    assert_eq!(latest["quality gate"], ("failed".to_string(), "1 of 2 projects not passing: web".to_string()));
    assert_eq!(latest["quality gate/web"].0, "failed");
    assert_eq!(latest["quality gate/api"].0, "succeeded");
    let summaries = st.pull_request(PR).threads.iter().filter(|t| t["properties"]["SonarPrGate.Kind"]["$value"] == "summary").count();
    assert_eq!(summaries, 2, "one summary per project");
}
