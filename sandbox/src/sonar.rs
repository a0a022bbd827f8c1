//! A fake SonarQube web API that answers like the real one, in shape (after the examples in
//! SonarQube's own web-service resources) and in failure: the CE task moving through PENDING and
//! IN_PROGRESS, paging with the 500 page size and the 10 000-result cap, Community Build's answers
//! to pull-request calls, 401 with an empty body for a bad token, version differences between 8.9,
//! 9.9, 10.x, 2025.x and Cloud.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::Engine;
use serde_json::{Value, json};

use crate::server::{Handler, RecordedRequest, Response};

/// Which server the fake plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Server 8.9 LTS, Developer Edition: `periods` in gates and measures.
    Server89,
    /// Server 9.9 LTS, Developer Edition: `caycStatus`, still `periods`.
    Server99,
    /// Server 10.8, Developer Edition: `period` only.
    Server108,
    /// Server 2025.4, Enterprise Edition.
    Server2025,
    /// Community Build 25.x: no branch or PR analysis.
    Community,
    /// SonarQube Cloud: Bearer tokens, `organization`, reports version 8.0.0.x.
    Cloud,
}

impl Flavour {
    pub fn version(self) -> &'static str {
        match self {
            Flavour::Server89 => "8.9.10.61524",
            Flavour::Server99 => "9.9.8.100196",
            Flavour::Server108 => "10.8.1.101195",
            Flavour::Server2025 => "2025.4.2.112048",
            Flavour::Community => "25.7.0.110598",
            Flavour::Cloud => "8.0.0.73411",
        }
    }

    /// Whether issues and hotspots take the parameter names of 10.2 (`components`, `project`).
    pub fn has_renamed_parameters(self) -> bool {
        matches!(self, Flavour::Server108 | Flavour::Server2025 | Flavour::Community)
    }

    fn edition(self) -> Option<&'static str> {
        match self {
            Flavour::Server89 | Flavour::Server99 | Flavour::Server108 => Some("developer"),
            Flavour::Server2025 => Some("enterprise"),
            Flavour::Community => Some("community"),
            Flavour::Cloud => None,
        }
    }

    fn legacy_periods(self) -> bool {
        matches!(self, Flavour::Server89 | Flavour::Server99 | Flavour::Cloud)
    }

    fn supports_pull_requests(self) -> bool {
        self != Flavour::Community
    }

    /// Metrics this version knows (a subset is enough: what the task asks for).
    fn knows_metric(self, key: &str) -> bool {
        match key {
            "new_accepted_issues" | "pull_request_fixed_issues" => !matches!(self, Flavour::Server89 | Flavour::Server99),
            _ => true,
        }
    }
}

/// One issue the fake reports.
#[derive(Clone, Debug)]
pub struct IssueSpec {
    pub key: String,
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
    pub rule: String,
    /// INFO, MINOR, MAJOR, CRITICAL or BLOCKER.
    pub severity: String,
    /// BUG, VULNERABILITY or CODE_SMELL.
    pub issue_type: String,
}

impl IssueSpec {
    pub fn new(key: &str, path: &str, line: u32, severity: &str, message: &str) -> Self {
        Self {
            key: key.into(),
            path: path.into(),
            line: Some(line),
            message: message.into(),
            rule: "java:S1144".into(),
            severity: severity.into(),
            issue_type: if severity == "BLOCKER" { "BUG".into() } else { "CODE_SMELL".into() },
        }
    }

    /// The rule that raised it (the demo's match their messages: a screenshot must not lie).
    pub fn rule(mut self, rule: &str) -> Self {
        self.rule = rule.into();
        self
    }

    /// BUG, VULNERABILITY or CODE_SMELL (10.2+ answers derive the impacted software quality).
    pub fn of_type(mut self, issue_type: &str) -> Self {
        self.issue_type = issue_type.into();
        self
    }
}

/// One analysis a scanner submitted.
#[derive(Clone, Debug)]
pub struct AnalysisSpec {
    pub task_id: String,
    pub analysis_id: String,
    pub project_key: String,
    pub pull_request: Option<String>,
    pub branch: Option<String>,
    /// How many polls answer PENDING / IN_PROGRESS before the final status.
    pub polls_before_done: u32,
    /// SUCCESS, FAILED or CANCELED; `None` never finishes.
    pub final_status: Option<String>,
    /// When set, the task finishes this long after it is first polled (instead of after
    /// `polls_before_done` polls), to measure how soon the end is noticed.
    pub finishes_after: Option<std::time::Duration>,
    pub error_message: Option<String>,
    /// OK, ERROR or NONE.
    pub gate_status: String,
    /// (metric, comparator, threshold, actual, status)
    pub conditions: Vec<(String, String, String, String, String)>,
    pub issues: Vec<IssueSpec>,
    pub hotspots: u32,
    pub measures: Vec<(String, String)>,
    /// The analysed commit, as `api/project_analyses/search` reports it (scanners send the SCM
    /// revision); `None` leaves it out, as servers without SCM data do.
    pub revision: Option<String>,
    /// Warnings the compute engine reports with the task.
    pub warnings: Vec<String>,
    /// `api/ce/task`'s `submittedAt`, as the server writes it: when the spec was made, unless a
    /// test says otherwise (an earlier build's analysis).
    pub submitted_at: String,
    /// `projectStatus.ignoredConditions`: the server left out coverage and duplication conditions
    /// on new code for a change of fewer than 20 lines (`sonar.qualitygate.ignoreSmallChanges`,
    /// SonarQube `QualityGateEvaluatorImpl`), and they are not in the list.
    pub ignored_conditions: bool,
    /// Each file's new lines with coverage: (path, [(line, line hits when coverage counts it,
    /// (covered, total) conditions)]), answered by `api/sources/lines` and summed by
    /// `api/measures/component_tree` into `new_uncovered_lines` / `new_uncovered_conditions`.
    pub new_lines: Vec<(String, Vec<NewLine>)>,
    /// Dependency risks (Advanced Security, 2025.4+): (severity BLOCKER|HIGH|MEDIUM|LOW|INFO,
    /// type VULNERABILITY|PROHIBITED_LICENSE, package, version).
    pub dependency_risks: Vec<(String, String, String, String)>,
}

/// A gate's condition as `api/qualitygates/show` lists it: (metric, op, error).
pub type GateCondition = (String, String, String);

/// A new line as `api/sources/lines` reports its coverage.
pub type NewLine = (u32, Option<u64>, Option<(u32, u32)>);

impl AnalysisSpec {
    pub fn new(task_id: &str, project_key: &str) -> Self {
        Self {
            task_id: task_id.into(),
            analysis_id: format!("AN-{task_id}"),
            project_key: project_key.into(),
            pull_request: None,
            branch: None,
            polls_before_done: 0,
            final_status: Some("SUCCESS".into()),
            finishes_after: None,
            error_message: None,
            gate_status: "OK".into(),
            conditions: vec![("new_coverage".into(), "LT".into(), "80".into(), "91.3".into(), "OK".into())],
            issues: vec![],
            hotspots: 0,
            measures: vec![
                ("new_coverage".into(), "91.3".into()),
                ("new_duplicated_lines_density".into(), "0.4".into()),
                // Issues of the target branch this pull request fixed: none, unless a test says so.
                ("pull_request_fixed_issues".into(), "0".into()),
                ("new_accepted_issues".into(), "0".into()),
                ("coverage".into(), "78.0".into()),
                ("duplicated_lines_density".into(), "2.1".into()),
            ],
            revision: None,
            warnings: vec![],
            submitted_at: crate::sonar_time(std::time::SystemTime::now()),
            ignored_conditions: false,
            new_lines: vec![],
            dependency_risks: vec![],
        }
    }

    /// A gate that fails on coverage and reliability, with measures that agree with it.
    pub fn failing_gate(mut self) -> Self {
        self.gate_status = "ERROR".into();
        self.conditions = vec![
            ("new_coverage".into(), "LT".into(), "80".into(), "45.5".into(), "ERROR".into()),
            ("new_reliability_rating".into(), "GT".into(), "1".into(), "3".into(), "ERROR".into()),
            ("new_duplicated_lines_density".into(), "GT".into(), "3".into(), "1.2".into(), "OK".into()),
        ];
        self.set_measure("new_coverage", "45.5");
        self.set_measure("new_duplicated_lines_density", "1.2");
        self.set_measure("new_reliability_rating", "3");
        // 20 of 44 new lines covered, no conditions: 45.5%, as the gate says.
        self.set_measure("new_lines_to_cover", "44");
        self.set_measure("new_uncovered_lines", "24");
        self.set_measure("new_conditions_to_cover", "0");
        self
    }

    /// Sets (or adds) one measure.
    pub fn set_measure(&mut self, metric: &str, value: &str) {
        match self.measures.iter_mut().find(|(m, _)| m == metric) {
            Some(m) => m.1 = value.into(),
            None => self.measures.push((metric.into(), value.into())),
        }
    }
}

/// The fake's state; tests change it between runs (fix an issue, add one, expire a token).
pub struct SonarState {
    pub flavour: Flavour,
    pub valid_tokens: Vec<String>,
    /// Accounts that sign in with a login and password (Basic `login:password`), as old
    /// SonarQube service connections hold them.
    pub valid_logins: Vec<(String, String)>,
    /// Tokens that authenticate but may not read measures, issues or hotspots (analysis tokens).
    pub analysis_only_tokens: Vec<String>,
    /// Tokens that may not read CE tasks (Browse only).
    pub browse_only_tokens: Vec<String>,
    pub server_base_url: Option<String>,
    /// The valid tokens' expiry, sent as SonarQube sends it on every answer to a request made with
    /// an expiring token: `SonarQube-Authentication-Token-Expiration: 2026-12-10T00:00:00+0000`
    /// (the scanner parses it with `DateUtils.DATETIME_FORMAT`, `yyyy-MM-dd'T'HH:mm:ssZ`:
    /// sonar-scanner-java-library, `DefaultScannerWsClient.checkAuthenticationWarnings`).
    pub token_expiration: Option<String>,
    pub system_status: String,
    pub analyses: Vec<AnalysisSpec>,
    polls: BTreeMap<String, u32>,
    first_polled: BTreeMap<String, std::time::Instant>,
    /// When each timed task finished, for measuring detection delay.
    pub finished_at: BTreeMap<String, std::time::Instant>,
    /// Quality gates by name, each with its conditions (metric, op, error); "Sonar way" (new code
    /// only) unless a test adds others.
    pub quality_gates: Vec<(String, Vec<GateCondition>)>,
    /// Projects that use a gate other than the default, (project, gate name).
    pub project_gates: Vec<(String, String)>,
    /// Metrics a plugin adds, (key, name), listed by `api/metrics/search` after the core ones.
    pub extra_metrics: Vec<(String, String)>,
    /// Whether the token's account lacks 'See Source Code' (`api/sources/lines` answers 403).
    pub hides_source_code: bool,
    /// Whether the token's account administers the projects: `api/ce/activity` with a
    /// `component` asks for it ('Administer' on the project, `ce/ws/ActivityAction.java`); a CI
    /// token usually has only Browse and Execute Analysis.
    pub administers_projects: bool,
    /// Whether the token may change issues ('Administer Issues' on the project, which
    /// `api/issues/do_transition` asks for; `IssuesWsParameters`, `DoTransitionAction.java`).
    pub administers_issues: bool,
    /// Transitions applied (`api/issues/do_transition`): (issue, transition).
    pub transitions: Vec<(String, String)>,
    /// Comments added to issues (`api/issues/add_comment`): (issue, text).
    pub issue_comments: Vec<(String, String)>,
}

pub struct FakeSonar {
    pub state: Mutex<SonarState>,
}

impl FakeSonar {
    pub fn new(flavour: Flavour) -> Self {
        Self {
            state: Mutex::new(SonarState {
                flavour,
                valid_tokens: vec![],
                valid_logins: vec![],
                analysis_only_tokens: vec![],
                browse_only_tokens: vec![],
                server_base_url: None,
                token_expiration: None,
                system_status: "UP".into(),
                analyses: vec![],
                polls: BTreeMap::new(),
                first_polled: BTreeMap::new(),
                finished_at: BTreeMap::new(),
                administers_projects: false,
                administers_issues: true,
                transitions: Vec::new(),
                issue_comments: Vec::new(),
                hides_source_code: false,
                extra_metrics: vec![],
                quality_gates: vec![(
                    "Sonar way".into(),
                    vec![
                        ("new_coverage".into(), "LT".into(), "80".into()),
                        ("new_duplicated_lines_density".into(), "GT".into(), "3".into()),
                        ("new_violations".into(), "GT".into(), "0".into()),
                        ("new_security_hotspots_reviewed".into(), "LT".into(), "100".into()),
                    ],
                )],
                project_gates: vec![],
            }),
        }
    }
}

fn errors(status: u16, msg: &str) -> Response {
    Response::json(status, &json!({"errors": [{"msg": msg}]}))
}

enum Caller {
    Anonymous,
    Invalid,
    Valid { analysis_only: bool, browse_only: bool },
}

fn caller(st: &SonarState, req: &RecordedRequest) -> Caller {
    let Some(auth) = req.header("authorization") else { return Caller::Anonymous };
    let token = if let Some(b) = auth.strip_prefix("Bearer ") {
        // Server accepts Bearer from 10.0; Cloud always.
        Some(b.to_string())
    } else if let Some(b) = auth.strip_prefix("Basic ") {
        let pair = base64::engine::general_purpose::STANDARD.decode(b).ok().and_then(|d| String::from_utf8(d).ok()).unwrap_or_default();
        let (user, password) = pair.split_once(':').unwrap_or((&pair, ""));
        // SonarQube's BasicAuthentication: an empty password means the user field is a token;
        // otherwise the pair is a login and its password, and a token sent with a password fails.
        if password.is_empty() {
            Some(user.to_string())
        } else if st.valid_logins.iter().any(|(l, p)| l == user && p == password) {
            return Caller::Valid { analysis_only: false, browse_only: false };
        } else {
            None
        }
    } else {
        None
    };
    match token {
        Some(t) if st.valid_tokens.contains(&t) || st.analysis_only_tokens.contains(&t) || st.browse_only_tokens.contains(&t) => {
            // Cloud documents Bearer; a Basic header there is still accepted, as it is by Server.
            Caller::Valid { analysis_only: st.analysis_only_tokens.contains(&t), browse_only: st.browse_only_tokens.contains(&t) }
        }
        _ => Caller::Invalid,
    }
}

impl Handler for FakeSonar {
    fn handle(&self, req: &RecordedRequest) -> Response {
        let mut st = self.state.lock().unwrap();
        let path = req.path().to_string();
        // Unauthenticated endpoints, excluded from session init.
        match path.as_str() {
            "/api/server/version" => return Response::text(200, "text/plain", st.flavour.version()),
            "/api/system/status" => {
                return Response::json(200, &json!({"id": "20150504120436", "version": st.flavour.version(), "status": st.system_status}));
            }
            "/api/authentication/validate" => {
                let valid = matches!(caller(&st, req), Caller::Valid { .. });
                let response = Response::json(200, &json!({ "valid": valid }));
                return match (&st.token_expiration, valid) {
                    (Some(expiry), true) => response.with_header("SonarQube-Authentication-Token-Expiration", expiry),
                    _ => response,
                };
            }
            _ => {}
        }
        let access = match caller(&st, req) {
            // Every other call with an invalid token: 401 with an empty body.
            Caller::Invalid => return Response::empty(401),
            Caller::Anonymous => return errors(401, "Authentication is required"),
            Caller::Valid { analysis_only, browse_only } => Access { analysis_only, browse_only },
        };
        let route = match path.as_str() {
            "/api/issues/do_transition" => do_transition,
            "/api/issues/add_comment" => add_issue_comment,
            "/api/navigation/global" => navigation_global,
            "/api/settings/values" => settings_values,
            "/api/ce/task" => ce_task,
            "/api/ce/component" => ce_component,
            "/api/measures/component_tree" => component_tree,
            "/api/metrics/search" => metrics_search,
            // Advanced Security's API exists from 2025.4 (SonarQube for IDE and the MCP server
            // check the version before asking); earlier servers answer an unknown URL.
            "/api/v2/sca/issues-releases" if st.flavour == Flavour::Server2025 => sca_issues_releases,
            "/api/qualitygates/get_by_project" => gate_of_project,
            "/api/qualitygates/show" => gate_show,
            "/api/sources/lines" => source_lines,
            "/api/ce/activity" => ce_activity,
            "/api/qualitygates/project_status" => project_status,
            "/api/measures/component" => measures,
            "/api/issues/search" => issues_search,
            "/api/hotspots/search" => hotspots_search,
            "/api/project_analyses/search" => project_analyses,
            "/api/project_pull_requests/list" if !st.flavour.supports_pull_requests() => {
                return errors(404, "Unknown url : /api/project_pull_requests/list");
            }
            "/api/project_pull_requests/list" => project_pull_requests,
            _ => return errors(404, &format!("Unknown url : {path}")),
        };
        let response = route(&mut st, req, access);
        // An expiring token's expiry rides on every answer to a call it authenticated, whatever the
        // call (SonarQube's `UserTokenAuthentication`; the scanner reads it from any answer:
        // `DefaultScannerWsClient.checkAuthenticationWarnings`).
        match &st.token_expiration {
            Some(expiry) => response.with_header("SonarQube-Authentication-Token-Expiration", expiry),
            None => response,
        }
    }
}

/// What the caller's token may do.
#[derive(Clone, Copy)]
struct Access {
    analysis_only: bool,
    browse_only: bool,
}

fn navigation_global(st: &mut SonarState, _: &RecordedRequest, _: Access) -> Response {
    let flavour = st.flavour;
    let mut v = json!({"canAdmin": false, "qualifiers": ["TRK"], "version": flavour.version(), "productionDatabase": true});
    if let Some(e) = flavour.edition() {
        v["edition"] = json!(e);
    }
    Response::json(200, &v)
}

fn settings_values(st: &mut SonarState, _: &RecordedRequest, _: Access) -> Response {
    let settings: Vec<Value> =
        st.server_base_url.iter().map(|u| json!({"key": "sonar.core.serverBaseURL", "value": u, "inherited": false})).collect();
    Response::json(200, &json!({ "settings": settings }))
}

fn ce_task(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    let id = req.query("id").unwrap_or_default();
    if access.browse_only {
        return errors(403, "Insufficient privileges");
    }
    let Some(a) = st.analyses.iter().find(|a| a.task_id == id).cloned() else {
        return errors(404, &format!("No activity found for task '{id}'"));
    };
    *st.polls.entry(id.clone()).or_insert(0) += 1;
    Response::json(200, &json!({ "task": task_json(st, &a) }))
}

/// A task as the compute engine reports it, in the state its polls so far have reached.
fn task_json(st: &mut SonarState, a: &AnalysisSpec) -> Value {
    let flavour = st.flavour;
    let id = a.task_id.clone();
    let polls = st.polls.get(&id).copied().unwrap_or(0);
    let first = *st.first_polled.entry(id.clone()).or_insert_with(std::time::Instant::now);
    let status = if let Some(after) = a.finishes_after {
        if first.elapsed() >= after {
            st.finished_at.entry(id.clone()).or_insert(first + after);
            a.final_status.clone().unwrap_or_else(|| "IN_PROGRESS".into())
        } else {
            "IN_PROGRESS".to_string()
        }
    } else if a.polls_before_done > 0 && polls <= a.polls_before_done / 2 {
        "PENDING".to_string()
    } else if a.polls_before_done > 0 && polls <= a.polls_before_done {
        "IN_PROGRESS".to_string()
    } else {
        a.final_status.clone().unwrap_or_else(|| "IN_PROGRESS".into())
    };
    let mut task = json!({
        "id": a.task_id, "type": "REPORT", "componentId": "AYhNmk00XxCL_lBVBziT", "componentKey": a.project_key,
        "componentName": a.project_key, "componentQualifier": "TRK", "status": status,
        "submittedAt": a.submitted_at, "submitterLogin": "ci", "hasScannerContext": true,
        "warningCount": a.warnings.len(), "warnings": a.warnings,
    });
    if status != "PENDING" {
        task["startedAt"] = json!("2026-11-23T10:34:22+0000");
    }
    if status == "SUCCESS" {
        task["analysisId"] = json!(a.analysis_id);
        task["executedAt"] = json!("2026-11-23T10:34:25+0000");
        task["executionTimeMs"] = json!(2840);
    }
    if status == "FAILED"
        && let Some(m) = &a.error_message
    {
        task["errorMessage"] = json!(m);
    }
    if let Some(pr) = &a.pull_request {
        task["pullRequest"] = json!(pr);
    } else if let Some(b) = &a.branch {
        task["branch"] = json!(b);
        task["branchType"] = json!("BRANCH");
    } else if flavour != Flavour::Community {
        task["branch"] = json!("main");
        task["branchType"] = json!("BRANCH");
    }
    task
}

/// `api/ce/component`: a project's queued and in-progress tasks (all its branches and pull
/// requests) and its latest finished one; 'Browse' is enough (SonarQube `ce/ws/ComponentAction.java`).
fn ce_component(st: &mut SonarState, req: &RecordedRequest, _: Access) -> Response {
    let key = req.query("component").unwrap_or_default();
    let ours: Vec<AnalysisSpec> = st.analyses.iter().filter(|a| a.project_key == key).cloned().collect();
    if ours.is_empty() {
        return errors(404, &format!("Component key '{key}' not found"));
    }
    let tasks: Vec<Value> = ours.iter().rev().map(|a| task_json(st, a)).collect();
    let finished = |t: &&Value| !matches!(t["status"].as_str(), Some("PENDING" | "IN_PROGRESS"));
    let queue: Vec<&Value> = tasks.iter().filter(|t| !finished(t)).collect();
    let mut body = json!({ "queue": queue });
    if let Some(current) = tasks.iter().find(finished) {
        body["current"] = current.clone();
    }
    Response::json(200, &body)
}

/// `api/ce/activity?component=…`: the project's tasks, newest first, those submitted at or after
/// `minSubmittedAt`; with a component SonarQube asks for 'Administer' on the project
/// (`ce/ws/ActivityAction.java`), which `administers_projects` grants.
fn ce_activity(st: &mut SonarState, req: &RecordedRequest, _: Access) -> Response {
    if !st.administers_projects {
        return errors(403, "Insufficient privileges");
    }
    let key = req.query("component").unwrap_or_default();
    let since = req.query("minSubmittedAt");
    let ours: Vec<AnalysisSpec> = st
        .analyses
        .iter()
        .filter(|a| a.project_key == key)
        .filter(|a| since.as_deref().is_none_or(|s| a.submitted_at.as_str() >= s))
        .cloned()
        .collect();
    let tasks: Vec<Value> = ours.iter().rev().map(|a| task_json(st, a)).collect();
    Response::json(200, &json!({"paging": {"pageIndex": 1, "pageSize": 100, "total": tasks.len()}, "tasks": tasks}))
}

/// `api/qualitygates/project_status`: one analysis's gate (`analysisId`), or a project's branch or
/// pull request as it is now (`projectKey` with `branch` or `pullRequest`, 7.7+), which SonarQube
/// re-evaluates when an issue on it is accepted (live measures; `QualityGateActionIT.java`).
fn project_status(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    let flavour = st.flavour;
    let a = match (req.query("analysisId"), req.query("projectKey")) {
        (Some(id), _) => match st.analyses.iter().find(|a| a.analysis_id == id) {
            Some(a) => a,
            None => return errors(404, &format!("Analysis with id '{id}' is not found")),
        },
        (None, Some(key)) => match find_analysis(st, &key, req.query("pullRequest").as_deref(), req.query("branch").as_deref()) {
            Some(a) => a,
            None => return errors(404, &format!("Project '{key}' not found")),
        },
        (None, None) => return errors(400, "Either 'analysisId', 'projectId' or 'projectKey' must be provided"),
    };
    if access.analysis_only && flavour == Flavour::Server89 {
        return errors(403, "Insufficient privileges");
    }
    let legacy = flavour.legacy_periods();
    let conditions: Vec<Value> = a
        .conditions
        .iter()
        .map(|(m, c, t, v, s)| {
            let mut cond = json!({"status": s, "metricKey": m, "comparator": c, "errorThreshold": t, "actualValue": v});
            if legacy && m.starts_with("new_") {
                cond["periodIndex"] = json!(1);
            }
            cond
        })
        .collect();
    let mut ps = json!({"status": a.gate_status, "ignoredConditions": a.ignored_conditions, "conditions": conditions});
    let period = json!({"mode": "PREVIOUS_VERSION", "date": "2026-10-01T00:00:00+0000", "parameter": "1.2"});
    if legacy {
        ps["periods"] = json!([{"index": 1, "mode": "PREVIOUS_VERSION", "date": "2026-10-01T00:00:00+0000", "parameter": "1.2"}]);
    }
    if flavour != Flavour::Server89 {
        ps["period"] = period;
    }
    if matches!(flavour, Flavour::Server99 | Flavour::Server108 | Flavour::Server2025 | Flavour::Community) {
        ps["caycStatus"] = json!("compliant");
    }
    Response::json(200, &json!({ "projectStatus": ps }))
}

/// The project's measures for `wanted`, as `api/measures/component` and `component_tree`'s
/// `baseComponent` give them; `Err` names the metrics this flavour does not know.
fn project_measures(flavour: Flavour, a: &AnalysisSpec, wanted: &[String]) -> Result<Vec<Value>, Vec<String>> {
    let unknown: Vec<String> = wanted.iter().filter(|k| !flavour.knows_metric(k)).cloned().collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    // Counts that agree with the analysis's issues and hotspots, unless it gives its own figures.
    let mut all = a.measures.clone();
    for (metric, count) in
        [("violations", a.issues.len()), ("new_violations", a.issues.len()), ("new_security_hotspots", a.hotspots as usize)]
    {
        if !all.iter().any(|(k, _)| k == metric) {
            all.push((metric.into(), count.to_string()));
        }
    }
    Ok(all
        .iter()
        .filter(|(k, _)| wanted.contains(k))
        .map(|(k, v)| {
            if k.starts_with("new_") || k.starts_with("pull_request_") {
                if flavour.legacy_periods() {
                    json!({"metric": k, "periods": [{"index": 1, "value": v, "bestValue": false}]})
                } else {
                    json!({"metric": k, "period": {"value": v, "bestValue": false}})
                }
            } else {
                json!({"metric": k, "value": v})
            }
        })
        .collect())
}

fn measures(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    let flavour = st.flavour;
    if access.analysis_only {
        return errors(403, "Insufficient privileges");
    }
    let key = req.query("component").unwrap_or_default();
    let pr = req.query("pullRequest");
    let Some(a) = find_analysis(st, &key, pr.as_deref(), req.query("branch").as_deref()) else {
        return match &pr {
            Some(pr) => errors(404, &format!("Component '{key}' of pull request '{pr}' not found")),
            None => errors(404, &format!("Component key '{key}' not found")),
        };
    };
    let wanted: Vec<String> = req.query("metricKeys").unwrap_or_default().split(',').map(str::to_string).collect();
    let measures = match project_measures(flavour, a, &wanted) {
        Ok(measures) => measures,
        Err(unknown) => return errors(404, &format!("The following metric keys are not found: {}", unknown.join(", "))),
    };
    Response::json(200, &json!({"component": {"key": key, "name": key, "qualifier": "TRK", "measures": measures}}))
}

fn issues_search(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    let flavour = st.flavour;
    if access.analysis_only {
        return errors(403, "Insufficient privileges");
    }
    // `components` from 10.2 (`componentKeys` deprecated but still taken, to 26.7); before 10.2 and
    // on Cloud only `componentKeys` (issues `SearchAction`): an unknown parameter is ignored.
    let components = || req.query("componentKeys").or_else(|| req.query("components").filter(|_| flavour.has_renamed_parameters()));
    let key = components().unwrap_or_default();
    let ps: u64 = req.query("ps").and_then(|v| v.parse().ok()).unwrap_or(100);
    let p: u64 = req.query("p").and_then(|v| v.parse().ok()).unwrap_or(1);
    if ps > 500 {
        return errors(400, "'ps' value (600) must be less than 500");
    }
    if p * ps > 10_000 {
        return errors(400, &format!("Can return only the first 10000 results. {}th result asked.", p * ps));
    }
    if flavour == Flavour::Cloud && req.query("organization").is_none() {
        return errors(400, "The 'organization' parameter is missing");
    }
    let pr = req.query("pullRequest");
    // `componentKeys` lists the project, or files as `projectKey:path` (the path relative to the
    // project's base folder); the issues of the files named, or of the whole project.
    let project =
        st.analyses.iter().map(|a| a.project_key.as_str()).find(|k| key.split(',').any(|c| c == *k || c.starts_with(&format!("{k}:"))));
    let key = project.unwrap_or(key.as_str()).to_string();
    let files: Vec<String> =
        components().unwrap_or_default().split(',').filter_map(|c| c.strip_prefix(&format!("{key}:")).map(str::to_string)).collect();
    // Community: an unknown PR becomes an unknown component, so the answer is empty.
    // `issues`: a list of keys, matched together with the other filters (issues `SearchAction`).
    let keys: Option<Vec<String>> = req.query("issues").map(|k| k.split(',').map(str::to_string).collect());
    let mut issues: Vec<IssueSpec> = find_analysis(st, &key, pr.as_deref(), req.query("branch").as_deref())
        .map(|a| {
            a.issues
                .iter()
                .filter(|i| files.is_empty() || files.iter().any(|f| *f == i.path.replace('\\', "/")))
                .filter(|i| keys.as_ref().is_none_or(|keys| keys.contains(&i.key)))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    // `s=SEVERITY`: by the issue's severity, then its key, both reversed by `asc=false`
    // (`IssueIndex.java`: `sorting.add(SORT_BY_SEVERITY, FIELD_ISSUE_SEVERITY_VALUE)` then
    // `FIELD_ISSUE_KEY`). Without `s`, the order the analysis lists them in.
    if req.query("s").as_deref() == Some("SEVERITY") {
        issues.sort_by(|a, b| severity_value(&a.severity).cmp(&severity_value(&b.severity)).then_with(|| a.key.cmp(&b.key)));
        if req.query("asc").as_deref() == Some("false") {
            issues.reverse();
        }
    }
    let facets = issue_facets(req.query("facets").as_deref(), &issues, modern_issues(flavour));
    let total = issues.len() as u64;
    let start = ((p - 1) * ps) as usize;
    let page: Vec<&IssueSpec> = issues.iter().skip(start).take(ps as usize).collect();
    let issue_json: Vec<Value> = page.iter().map(|i| issue_to_json(i, &key, pr.as_deref(), modern_issues(flavour))).collect();
    let mut components: Vec<Value> = page
            .iter()
            .map(|i| i.path.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|path| json!({"key": format!("{key}:{path}"), "enabled": true, "qualifier": "FIL", "name": path.rsplit('/').next().unwrap_or(&path), "longName": path, "path": path}))
            .collect();
    components.push(json!({"key": key, "enabled": true, "qualifier": "TRK", "name": key, "longName": key}));
    let mut body = json!({"paging": {"pageIndex": p, "pageSize": ps, "total": total}, "issues": issue_json, "components": components, "facets": facets});
    if matches!(flavour, Flavour::Server89) {
        body["total"] = json!(total);
        body["p"] = json!(p);
        body["ps"] = json!(ps);
    }
    Response::json(200, &body)
}

/// Whether this flavour's issues carry impacts (10.2+ and Cloud).
fn modern_issues(flavour: Flavour) -> bool {
    matches!(flavour, Flavour::Server108 | Flavour::Server2025 | Flavour::Community | Flavour::Cloud)
}

/// A severity's rank, as SonarQube indexes it (`FIELD_ISSUE_SEVERITY_VALUE`: INFO 0 … BLOCKER 4).
fn severity_value(severity: &str) -> u8 {
    ["INFO", "MINOR", "MAJOR", "CRITICAL", "BLOCKER"].iter().position(|s| *s == severity).unwrap_or(2) as u8
}

/// The facets asked for, counted over every issue the query matches (not one page): `severities`
/// lists the five severities, zeros included; `impactSeverities` (10.2+) the impact severities,
/// an issue counted once per impact (issues `SearchAction`, `IssueIndex` aggregations). Others
/// are answered empty.
fn issue_facets(asked: Option<&str>, issues: &[IssueSpec], modern: bool) -> Value {
    let asked = asked.unwrap_or_default();
    let mut facets = Vec::new();
    for property in asked.split(',').filter(|p| !p.is_empty()) {
        let values: Vec<Value> = match property {
            "severities" => ["BLOCKER", "CRITICAL", "MAJOR", "MINOR", "INFO"]
                .iter()
                .map(|s| json!({"val": s, "count": issues.iter().filter(|i| i.severity == *s).count()}))
                .collect(),
            "impactSeverities" if modern => ["BLOCKER", "HIGH", "MEDIUM", "LOW", "INFO"]
                .iter()
                .map(|s| json!({"val": s, "count": issues.iter().filter(|i| impact_severity(&i.severity) == *s).count()}))
                .collect(),
            _ => Vec::new(),
        };
        facets.push(json!({"property": property, "values": values}));
    }
    Value::Array(facets)
}

/// The impact severity the sandbox gives an issue of this severity (one impact per issue).
fn impact_severity(severity: &str) -> &'static str {
    match severity {
        "BLOCKER" => "BLOCKER",
        "CRITICAL" => "HIGH",
        "MAJOR" => "MEDIUM",
        "MINOR" => "LOW",
        _ => "INFO",
    }
}

fn hotspots_search(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    if access.analysis_only {
        return errors(403, "Insufficient privileges");
    }
    // `project` from 10.2 (`projectKey` deprecated but still taken); before, and on Cloud, only
    // `projectKey` (hotspots `SearchAction`).
    let flavour = st.flavour;
    let key = req.query("projectKey").or_else(|| req.query("project").filter(|_| flavour.has_renamed_parameters())).unwrap_or_default();
    let pr = req.query("pullRequest");
    let Some(a) = find_analysis(st, &key, pr.as_deref(), req.query("branch").as_deref()) else {
        return match &pr {
            Some(pr) => errors(404, &format!("Pull request '{pr}' in project '{key}' not found")),
            None => errors(404, &format!("Project '{key}' not found")),
        };
    };
    let hotspots: Vec<Value> = (0..a.hotspots)
            .map(|n| json!({"key": format!("hotspot-{n}"), "component": format!("{key}:src/main/App.java"), "project": key, "securityCategory": "others", "vulnerabilityProbability": "LOW", "status": "TO_REVIEW", "line": 10 + n, "message": format!("message-{n}"), "messageFormattings": [], "flows": [], "ruleKey": "java:S2068"}))
            .collect();
    Response::json(200, &json!({"paging": {"pageIndex": 1, "pageSize": 100, "total": a.hotspots}, "hotspots": hotspots, "components": []}))
}

/// `api/project_analyses/search`: the analyses of a project (or of a branch), newest first, with
/// the revision each was of where the scanner sent it. There is no `pullRequest` parameter: the
/// real server's action defines `project`, `branch` (internal, 6.6+), `category`, `from`, `to`
/// and `status` (SonarQube `server/sonar-webserver-webapi/.../projectanalysis/ws/SearchAction.java`;
/// the 2026.3 and Community Build 26.7 web-service lists agree), and its framework ignores a
/// parameter it does not define: sent one, it answers for the main branch, as here.
fn project_analyses(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    if access.analysis_only {
        return errors(403, "Insufficient privileges");
    }
    let key = req.query("project").unwrap_or_default();
    let branch = req.query("branch");
    if !st.analyses.iter().any(|a| a.project_key == key) {
        return errors(404, &format!("Project '{key}' not found"));
    }
    let analyses: Vec<Value> = st
        .analyses
        .iter()
        .rev()
        .filter(|a| a.project_key == key && a.final_status.as_deref() == Some("SUCCESS"))
        .filter(|a| match &branch {
            Some(b) => a.branch.as_deref() == Some(b.as_str()) || (a.branch.is_none() && a.pull_request.is_none() && b == "main"),
            None => a.pull_request.is_none() && a.branch.is_none(),
        })
        .map(|a| {
            let mut v = json!({"key": a.analysis_id, "date": "2026-11-23T10:34:25+0000", "projectVersion": "1.0", "events": [], "manualNewCodePeriodBaseline": false});
            if let Some(r) = &a.revision {
                v["revision"] = json!(r);
            }
            v
        })
        .collect();
    Response::json(200, &json!({"paging": {"pageIndex": 1, "pageSize": 100, "total": analyses.len()}, "analyses": analyses}))
}

/// `api/measures/component_tree` for the files with uncovered new code, as the task asks it
/// (`metricSort=new_uncovered_lines`, `metricSortFilter=withMeasuresOnly`, most first; the files
/// carry the two uncovered-code metrics, `baseComponent` the project's measures for every metric
/// asked): SonarQube `measure/ws/ComponentTreeAction.java`. New-code values are in `period`
/// (8.1+; `periods` before 10.0 too).
fn component_tree(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    if access.analysis_only {
        return errors(403, "Insufficient privileges");
    }
    let key = req.query("component").unwrap_or_default();
    let wanted: Vec<String> = req.query("metricKeys").unwrap_or_default().split(',').map(str::to_string).collect();
    // "Number of metric keys is limited to 15" from 6.3, 25 from 10.7 (ComponentTreeAction's
    // changelog; checked before anything else, as `toComponentTreeWsRequest` does).
    let limit = if matches!(st.flavour, Flavour::Server89 | Flavour::Server99) { 15 } else { 25 };
    if wanted.len() > limit {
        return errors(400, &format!("Number of metrics keys is limited to {limit}, got {}", wanted.len()));
    }
    let Some(a) = find_analysis(st, &key, req.query("pullRequest").as_deref(), req.query("branch").as_deref()) else {
        return errors(404, &format!("Component key '{key}' not found"));
    };
    // The base component's own measures, from the same rows as api/measures/component; an
    // unknown metric is refused the same way (`searchMetrics`).
    let base_measures = match project_measures(st.flavour, a, &wanted) {
        Ok(measures) => measures,
        Err(unknown) => return errors(404, &format!("The following metric keys are not found: {}", unknown.join(", "))),
    };
    let legacy = st.flavour.legacy_periods();
    let mut files: Vec<(u64, u64, &String)> = a
        .new_lines
        .iter()
        .map(|(path, lines)| {
            let uncovered = lines.iter().filter(|(_, hits, _)| *hits == Some(0)).count() as u64;
            let conditions: u64 =
                lines.iter().filter_map(|(_, _, c)| c.map(|(covered, total)| u64::from(total.saturating_sub(covered)))).sum();
            (uncovered, conditions, path)
        })
        .collect();
    files.sort_by(|x, y| y.0.cmp(&x.0).then(x.2.cmp(y.2)));
    let measure = |metric: &str, value: u64| {
        let mut m = json!({"metric": metric, "period": {"index": 1, "value": value.to_string(), "bestValue": value == 0}});
        if legacy {
            m["periods"] = json!([{"index": 1, "value": value.to_string()}]);
        }
        m
    };
    let components: Vec<Value> = files
        .iter()
        .map(|(lines, conditions, path)| {
            json!({"key": format!("{key}:{path}"), "name": path.rsplit('/').next(), "qualifier": "FIL", "path": path, "language": "java",
                   "measures": [measure("new_uncovered_lines", *lines), measure("new_uncovered_conditions", *conditions)]})
        })
        .collect();
    Response::json(
        200,
        &json!({"paging": {"pageIndex": 1, "pageSize": 100, "total": components.len()}, "baseComponent": {"key": key, "qualifier": "TRK", "measures": base_measures}, "components": components}),
    )
}

/// `api/sources/lines`: a file's lines with coverage, 'See Source Code' required
/// (`source/ws/LinesAction.java`, `LinesJsonWriter.java`: `lineHits` only where coverage counts,
/// `conditions`/`coveredConditions` on branching lines, `isNew`).
fn source_lines(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    if access.analysis_only || st.hides_source_code {
        return errors(403, "Insufficient privileges");
    }
    let file_key = req.query("key").unwrap_or_default();
    let Some((project, path)) = file_key.split_once(':') else {
        return errors(404, &format!("Component key '{file_key}' not found"));
    };
    let Some(a) = find_analysis(st, project, req.query("pullRequest").as_deref(), req.query("branch").as_deref()) else {
        return errors(404, &format!("Component key '{file_key}' not found"));
    };
    let Some((_, lines)) = a.new_lines.iter().find(|(p, _)| p == path) else {
        return errors(404, &format!("Component key '{file_key}' not found"));
    };
    let sources: Vec<Value> = lines
        .iter()
        .map(|(line, hits, conditions)| {
            let mut l = json!({"line": line, "code": "<span class=\"k\">return</span> x;", "scmRevision": "b60280bc", "scmAuthor": "dev@fabrikam.example", "duplicated": false, "isNew": true});
            if let Some(h) = hits {
                l["lineHits"] = json!(h);
                l["utLineHits"] = json!(h);
            }
            if let Some((covered, total)) = conditions {
                l["conditions"] = json!(total);
                l["coveredConditions"] = json!(covered);
            }
            l
        })
        .collect();
    Response::json(200, &json!({ "sources": sources }))
}

/// `api/metrics/search`: every metric with its name, public. The core metrics' names are those of
/// the plugin API's `CoreMetrics` (as the UI shows them); a plugin's come after them.
fn metrics_search(st: &mut SonarState, _: &RecordedRequest, _: Access) -> Response {
    let core = [
        ("coverage", "Coverage", "PERCENT"),
        ("new_coverage", "Coverage on New Code", "PERCENT"),
        ("new_line_coverage", "Line Coverage on New Code", "PERCENT"),
        ("new_lines_to_cover", "Lines to Cover on New Code", "INT"),
        ("new_uncovered_lines", "Uncovered Lines on New Code", "INT"),
        ("new_duplicated_lines_density", "Duplicated Lines (%) on New Code", "PERCENT"),
        ("new_violations", "New Issues", "INT"),
        ("new_reliability_rating", "Reliability Rating on New Code", "RATING"),
        ("new_security_rating", "Security Rating on New Code", "RATING"),
        ("new_maintainability_rating", "Maintainability Rating on New Code", "RATING"),
        ("new_security_hotspots_reviewed", "Security Hotspots Reviewed on New Code", "PERCENT"),
    ];
    let mut metrics: Vec<Value> = core
        .iter()
        .enumerate()
        .map(|(i, (key, name, kind))| json!({"id": (i + 1).to_string(), "key": key, "name": name, "type": kind, "domain": "Coverage", "direction": 1, "qualitative": true, "hidden": false}))
        .collect();
    metrics.extend(st.extra_metrics.iter().map(|(key, name)| json!({"id": "900", "key": key, "name": name, "type": "INT", "domain": "Plugin", "direction": -1, "qualitative": true, "hidden": false})));
    Response::json(200, &json!({"metrics": metrics, "total": metrics.len(), "p": 1, "ps": 500}))
}

/// `api/qualitygates/get_by_project?project=…`: the gate a project uses, the default one unless
/// set ('Browse' on the project is enough; SonarQube `qualitygate/ws/GetByProjectAction.java`).
fn gate_of_project(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    if access.analysis_only {
        return errors(403, "Insufficient privileges");
    }
    let project = req.query("project").unwrap_or_default();
    if !st.analyses.iter().any(|a| a.project_key == project) {
        return errors(404, &format!("Project '{project}' not found"));
    }
    let name = st.project_gates.iter().find(|(p, _)| *p == project).map_or("Sonar way".to_string(), |(_, g)| g.clone());
    Response::json(200, &json!({"qualityGate": {"id": "AU-Tpxb--iU5OvuD2FLy", "name": name, "default": name == "Sonar way"}}))
}

/// `api/qualitygates/show?name=…`: a gate's conditions as defined (`qualitygate/ws/ShowAction.java`:
/// `metric`, `op`, `error`; ids are strings since 10.0).
fn gate_show(st: &mut SonarState, req: &RecordedRequest, _: Access) -> Response {
    let name = req.query("name").unwrap_or_default();
    let Some((_, conditions)) = st.quality_gates.iter().find(|(n, _)| *n == name) else {
        return errors(404, &format!("No quality gate has been found for name {name}"));
    };
    let conditions: Vec<Value> = conditions
        .iter()
        .enumerate()
        .map(|(i, (metric, op, error))| json!({"id": format!("AU-TpxcA-iU5OvuD2FL{i}"), "metric": metric, "op": op, "error": error}))
        .collect();
    Response::json(
        200,
        &json!({"name": name, "isBuiltIn": name == "Sonar way", "conditions": conditions, "isDefault": name == "Sonar way"}),
    )
}

/// `api/v2/sca/issues-releases?projectKey=…&pullRequestKey=…|branchKey=…`: the scope's dependency
/// risks, as SonarSource's clients read them (sonarlint-core and sonarqube-mcp-server `ScaApi`):
/// `issuesReleases[]` (`key`, `severity`, `type`, `vulnerabilityId`, `release`) and `page`.
fn sca_issues_releases(st: &mut SonarState, req: &RecordedRequest, access: Access) -> Response {
    if access.analysis_only {
        return errors(403, "Insufficient privileges");
    }
    let key = req.query("projectKey").unwrap_or_default();
    let Some(a) = find_analysis(st, &key, req.query("pullRequestKey").as_deref(), req.query("branchKey").as_deref()) else {
        return errors(404, &format!("Project '{key}' not found"));
    };
    let risks: Vec<Value> = a
        .dependency_risks
        .iter()
        .enumerate()
        .map(|(i, (severity, kind, package, version))| {
            json!({"key": format!("risk-{i}"), "severity": severity, "type": kind, "vulnerabilityId": format!("CVE-2026-{:04}", 1000 + i), "status": "OPEN",
                   "release": {"packageName": package, "version": version, "packageManager": "MAVEN", "newlyIntroduced": true}})
        })
        .collect();
    Response::json(200, &json!({"issuesReleases": risks, "page": {"pageIndex": 1, "pageSize": 500, "total": risks.len()}}))
}

/// `api/issues/do_transition` (POST only; 'Administer Issues'): the transitions a server knows —
/// `accept` from SonarQube 10.4 (sonar-plugin-api `DefaultTransitions.java`: `ACCEPT` since API
/// 10.3, `WONT_FIX` deprecated then but still in `ALL`); `falsepositive` on all. An applied one takes the issue out
/// of the open ones, and the gate is evaluated again (`accept_issue`).
fn do_transition(st: &mut SonarState, req: &RecordedRequest, _: Access) -> Response {
    if req.method != "POST" {
        return errors(405, &format!("HTTP method {} is not supported", req.method));
    }
    let (Some(issue), Some(transition)) = (req.query("issue"), req.query("transition")) else {
        return errors(400, "The 'issue' and 'transition' parameters are missing");
    };
    let known: &[&str] = match st.flavour {
        Flavour::Server89 | Flavour::Server99 => &["confirm", "unconfirm", "reopen", "resolve", "falsepositive", "wontfix"],
        _ => &["confirm", "unconfirm", "reopen", "resolve", "falsepositive", "wontfix", "accept"],
    };
    if !known.contains(&transition.as_str()) {
        return errors(400, &format!("Value of parameter 'transition' ({transition}) must be one of: [{}]", known.join(", ")));
    }
    let Some(project) = st.analyses.iter().rev().find(|a| a.issues.iter().any(|i| i.key == issue)).map(|a| a.project_key.clone()) else {
        return errors(404, &format!("Issue with key '{issue}' does not exist"));
    };
    if !st.administers_issues {
        return errors(403, "Insufficient privileges");
    }
    st.transitions.push((issue.clone(), transition));
    st.accept_issue(&project, &issue);
    Response::json(200, &json!({"issue": {"key": issue}}))
}

/// `api/issues/add_comment` (POST; 'Browse').
fn add_issue_comment(st: &mut SonarState, req: &RecordedRequest, _: Access) -> Response {
    if req.method != "POST" {
        return errors(405, &format!("HTTP method {} is not supported", req.method));
    }
    let (Some(issue), Some(text)) = (req.query("issue"), req.query("text")) else {
        return errors(400, "The 'issue' and 'text' parameters are missing");
    };
    st.issue_comments.push((issue.clone(), text));
    Response::json(200, &json!({"issue": {"key": issue}}))
}

/// `api/project_pull_requests/list`: the project's pull requests, each with its latest analysis's
/// date and gate (`ws-projectpullrequests.proto`; 'Browse').
fn project_pull_requests(st: &mut SonarState, req: &RecordedRequest, _: Access) -> Response {
    let key = req.query("project").unwrap_or_default();
    let mut prs: Vec<Value> = Vec::new();
    for a in st.analyses.iter().rev().filter(|a| a.project_key == key) {
        let Some(pr) = &a.pull_request else { continue };
        if prs.iter().any(|p| p["key"] == pr.as_str()) {
            continue;
        }
        prs.push(json!({
            "key": pr, "title": "Add the checkout page", "branch": "feature/checkout", "base": "main", "target": "main",
            "status": {"qualityGateStatus": a.gate_status},
            "analysisDate": a.submitted_at, "url": format!("https://dev.azure.com/fabrikam/Web/_git/web/pullrequest/{pr}"),
        }));
    }
    if prs.is_empty() && !st.analyses.iter().any(|a| a.project_key == key) {
        return errors(404, &format!("Project '{key}' not found"));
    }
    Response::json(200, &json!({ "pullRequests": prs }))
}

impl SonarState {
    /// Someone accepts an issue (or marks it a false positive) in SonarQube: it leaves the open
    /// issues, and the scope's gate is evaluated again, as SonarQube's live measures do (a
    /// `new_violations` condition counts what is left).
    pub fn accept_issue(&mut self, project_key: &str, issue_key: &str) {
        let a = self
            .analyses
            .iter_mut()
            .rev()
            .find(|a| a.project_key == project_key && a.issues.iter().any(|i| i.key == issue_key))
            .expect("the issue exists in the fake");
        a.issues.retain(|i| i.key != issue_key);
        let open = a.issues.len().to_string();
        for (metric, comparator, threshold, actual, status) in a.conditions.iter_mut() {
            if metric == "new_violations" {
                let over = open.parse::<f64>().unwrap_or(0.0) > threshold.parse::<f64>().unwrap_or(0.0);
                *actual = open.clone();
                *status = if comparator == "GT" && over { "ERROR" } else { "OK" }.into();
            }
        }
        a.gate_status = if a.conditions.iter().any(|c| c.4 == "ERROR") { "ERROR" } else { "OK" }.into();
        let accepted = a.measures.iter().find(|(m, _)| m == "new_accepted_issues").and_then(|(_, v)| v.parse::<u32>().ok()).unwrap_or(0);
        a.set_measure("new_violations", &open);
        a.set_measure("new_accepted_issues", &(accepted + 1).to_string());
    }

    /// The body SonarQube's webhook POSTs for the latest analysis of `project_key` (and pull
    /// request): after the analysis was processed (`task`), or after an issue change turned its
    /// gate (no `taskId` and `status`). Fields as `WebhookPayloadFactoryImpl.java` writes them
    /// (documented in SonarQube's "Webhooks" page).
    pub fn webhook_body(&self, server_url: &str, project_key: &str, pull_request: Option<&str>, task: bool) -> String {
        let a = find_analysis(self, project_key, pull_request, None).expect("an analysis of that scope exists in the fake");
        let conditions: Vec<Value> = a
            .conditions
            .iter()
            .map(|(m, c, t, v, s)| json!({"metric": m, "operator": if c == "GT" { "GREATER_THAN" } else { "LESS_THAN" }, "value": v, "status": s, "errorThreshold": t}))
            .collect();
        let mut body = json!({
            "serverUrl": server_url,
            "analysedAt": a.submitted_at,
            "changedAt": a.submitted_at,
            "project": {"key": a.project_key, "name": a.project_key, "url": format!("{server_url}/dashboard?id={}", a.project_key)},
            "qualityGate": {"name": "Sonar way", "status": a.gate_status, "conditions": conditions},
            "properties": {},
        });
        if let Some(rev) = &a.revision {
            body["revision"] = json!(rev);
        }
        if task {
            body["taskId"] = json!(a.task_id);
            body["status"] = json!("SUCCESS");
        }
        body["branch"] = match (&a.pull_request, &a.branch) {
            (Some(pr), _) => {
                json!({"name": pr, "type": "PULL_REQUEST", "isMain": false, "url": format!("{server_url}/dashboard?id={}&pullRequest={pr}", a.project_key)})
            }
            (None, Some(b)) => json!({"name": b, "type": "BRANCH", "isMain": false}),
            (None, None) => json!({"name": "main", "type": "BRANCH", "isMain": true}),
        };
        body.to_string()
    }
}

/// The `X-Sonar-Webhook-HMAC-SHA256` header SonarQube sends with a webhook that has a secret: the
/// hex HMAC-SHA256 of the body (`WebhookCallerImpl.java`).
pub fn webhook_signature(secret: &str, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::sign(&key, body.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn find_analysis<'a>(st: &'a SonarState, key: &str, pr: Option<&str>, branch: Option<&str>) -> Option<&'a AnalysisSpec> {
    st.analyses.iter().rev().find(|a| {
        a.project_key == key
            && match (pr, branch) {
                (Some(pr), _) => st.flavour.supports_pull_requests() && a.pull_request.as_deref() == Some(pr),
                // A main-branch analysis on a commercial edition is the branch "main".
                (None, Some(b)) => {
                    st.flavour.supports_pull_requests()
                        && (a.branch.as_deref() == Some(b) || (a.branch.is_none() && a.pull_request.is_none() && b == "main"))
                }
                (None, None) => a.pull_request.is_none(),
            }
    })
}

fn issue_to_json(i: &IssueSpec, key: &str, pr: Option<&str>, modern: bool) -> Value {
    let impact_sev = impact_severity(&i.severity);
    let quality = match i.issue_type.as_str() {
        "BUG" => "RELIABILITY",
        "VULNERABILITY" => "SECURITY",
        _ => "MAINTAINABILITY",
    };
    let mut v = json!({
        "key": i.key, "rule": i.rule, "component": format!("{key}:{}", i.path), "project": key,
        "message": i.message, "hash": "a227e508d6646b55a086ee11d63b21e9", "author": "dev@example.com", "effort": "5min",
        "creationDate": "2026-11-23T10:34:25+0000", "updateDate": "2026-11-23T10:34:25+0000", "tags": [], "flows": [],
        "status": "OPEN", "severity": i.severity, "type": i.issue_type,
    });
    if let Some(line) = i.line {
        v["line"] = json!(line);
        v["textRange"] = json!({"startLine": line, "endLine": line, "startOffset": 4, "endOffset": 20});
    }
    if let Some(pr) = pr {
        v["pullRequest"] = json!(pr);
    }
    if modern {
        v["issueStatus"] = json!("OPEN");
        v["impacts"] = json!([{"softwareQuality": quality, "severity": impact_sev}]);
        v["cleanCodeAttribute"] = json!("CLEAR");
        v["cleanCodeAttributeCategory"] = json!("INTENTIONAL");
    }
    v
}
