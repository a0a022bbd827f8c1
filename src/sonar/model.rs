//! SonarQube web API responses, as far as this task reads them. Every field a version may omit is
//! optional, and unknown fields are ignored, so 8.9 through 2026.x and Cloud all parse.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct SystemStatus {
    #[serde(default)]
    pub(crate) status: String,
    /// Absent on some recent servers for an anonymous caller; `api/navigation/global` says it too.
    #[serde(default)]
    pub(crate) version: Option<String>,
}

/// The call that checks a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenCall {
    /// `api/navigation/global`: 401 for a token SonarQube does not accept (a Server).
    Navigation,
    /// `api/authentication/validate`: `valid` true or false (SonarQube Cloud, or a Server that
    /// does not answer the navigation).
    Validate,
}

impl TokenCall {
    /// Why the token is rejected, in the call's own terms.
    pub(crate) fn rejected(self) -> &'static str {
        match self {
            TokenCall::Navigation => {
                "api/navigation/global answered HTTP 401, as SonarQube answers every call made with a token it does not accept"
            }
            TokenCall::Validate => "api/authentication/validate answered valid=false",
        }
    }

    /// That the token is accepted, in the call's own terms.
    pub(crate) fn accepted(self) -> &'static str {
        match self {
            TokenCall::Navigation => "api/navigation/global accepted it",
            TokenCall::Validate => "api/authentication/validate says valid=true",
        }
    }
}

/// What a token check said: accepted or not, by which call, and what its answer carried.
#[derive(Debug)]
pub(crate) struct TokenCheck {
    pub(crate) accepted: bool,
    /// The call that answered, for the check's line.
    pub(crate) asked: TokenCall,
    /// community, developer, enterprise, datacenter (`api/navigation/global` only).
    pub(crate) edition: Option<String>,
    /// `SonarQube-Authentication-Token-Expiration`, when the token expires.
    pub(crate) expiry: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Validate {
    #[serde(default)]
    pub(crate) valid: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsValues {
    #[serde(default)]
    pub(crate) settings: Vec<SettingValue>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingValue {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CeTaskResponse {
    pub(crate) task: CeTask,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CeTask {
    pub(crate) id: String,
    pub(crate) status: CeStatus,
    #[serde(default)]
    pub(crate) analysis_id: Option<String>,
    #[serde(default)]
    pub(crate) error_message: Option<String>,
    #[serde(default)]
    pub(crate) branch: Option<String>,
    #[serde(default)]
    pub(crate) branch_type: Option<String>,
    #[serde(default)]
    pub(crate) pull_request: Option<String>,
    /// When the scanner submitted the analysis (`2026-11-23T10:34:25+0000`, the server's clock).
    #[serde(default)]
    pub(crate) submitted_at: Option<String>,
    #[serde(default)]
    pub(crate) warnings: Vec<String>,
}

/// What a reviewer's resolution makes of an issue in SonarQube (`api/issues/do_transition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dismissal {
    /// Won't fix: accepted (`accept`, SonarQube 10.4+ and Cloud; `wontfix` before).
    Accepted,
    /// By design: `falsepositive`.
    FalsePositive,
}

/// `api/project_pull_requests/list`: the project's pull requests as SonarQube knows them
/// (`ws-projectpullrequests.proto`: key, title, branch, base, status, analysisDate, url, target).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PullRequests {
    #[serde(default)]
    pub(crate) pull_requests: Vec<SonarPullRequest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SonarPullRequest {
    #[serde(default)]
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) analysis_date: Option<String>,
}

/// `api/ce/component`: a project's queued and in-progress tasks (every branch and pull request)
/// and its latest finished one (SonarQube `ce/ws/ComponentAction.java`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CeComponent {
    #[serde(default)]
    pub(crate) queue: Vec<CeTask>,
    #[serde(default)]
    pub(crate) current: Option<CeTask>,
}

/// `api/ce/activity`: tasks, newest first (queued ones before finished ones).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CeActivity {
    #[serde(default)]
    pub(crate) tasks: Vec<CeTask>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum CeStatus {
    Pending,
    InProgress,
    Success,
    Failed,
    Canceled,
    #[serde(other)]
    Unknown,
}

impl CeStatus {
    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, CeStatus::Success | CeStatus::Failed | CeStatus::Canceled)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CeStatus::Pending => "PENDING",
            CeStatus::InProgress => "IN_PROGRESS",
            CeStatus::Success => "SUCCESS",
            CeStatus::Failed => "FAILED",
            CeStatus::Canceled => "CANCELED",
            CeStatus::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProjectStatusResponse {
    pub(crate) project_status: ProjectStatus,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProjectStatus {
    pub(crate) status: GateStatus,
    #[serde(default)]
    pub(crate) conditions: Vec<Condition>,
    /// SonarQube left out coverage and duplication conditions on new code because fewer than 20
    /// lines changed (`sonar.qualitygate.ignoreSmallChanges`); they are not in `conditions`.
    #[serde(default)]
    pub(crate) ignored_conditions: bool,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(crate) enum GateStatus {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "WARN")]
    Warn,
    #[serde(rename = "ERROR")]
    Error,
    #[serde(rename = "NONE", other)]
    None,
}

impl GateStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GateStatus::Ok => "OK",
            GateStatus::Warn => "WARN",
            GateStatus::Error => "ERROR",
            GateStatus::None => "NONE",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Condition {
    pub(crate) status: GateStatus,
    pub(crate) metric_key: String,
    #[serde(default)]
    pub(crate) comparator: Option<String>,
    #[serde(default)]
    pub(crate) error_threshold: Option<String>,
    #[serde(default)]
    pub(crate) warning_threshold: Option<String>,
    #[serde(default)]
    pub(crate) actual_value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MeasuresResponse {
    pub(crate) component: MeasuresComponent,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MeasuresComponent {
    #[serde(default)]
    pub(crate) measures: Vec<Measure>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Measure {
    pub(crate) metric: String,
    #[serde(default)]
    pub(crate) value: Option<String>,
    /// 8.1+ (the only shape since 10.0): the new-code value.
    #[serde(default)]
    pub(crate) period: Option<PeriodValue>,
    /// Before 10.0, and on SonarQube Cloud: new-code values per period.
    #[serde(default)]
    pub(crate) periods: Option<Vec<PeriodValue>>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PeriodValue {
    #[serde(default)]
    pub(crate) value: Option<String>,
}

impl Measure {
    /// The value to show: the new-code value where there is one (`periods[0]`, then `period`),
    /// else the plain value, as SonarSource's own extension reads it.
    pub(crate) fn best_value(&self) -> Option<&str> {
        self.periods
            .as_ref()
            .and_then(|p| p.first())
            .and_then(|p| p.value.as_deref())
            .or_else(|| self.period.as_ref().and_then(|p| p.value.as_deref()))
            .or(self.value.as_deref())
    }
}

/// `api/measures/component_tree`: the files of the scope with a measure (SonarQube
/// `measure/ws/ComponentTreeAction.java`).
/// `api/v2/sca/issues-releases`: dependency risks (SonarQube Advanced Security, Server 2025.4+
/// Enterprise), as SonarSource's own clients read them (sonarlint-core and sonarqube-mcp-server
/// `ScaApi`: `issuesReleases[]` with `severity`, `type`, `release.packageName`; `page.total`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssuesReleases {
    #[serde(default)]
    pub(crate) issues_releases: Vec<IssueRelease>,
    #[serde(default)]
    pub(crate) page: Option<ScaPage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct IssueRelease {
    #[serde(default)]
    pub(crate) severity: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ScaPage {
    #[serde(default)]
    pub(crate) total: u64,
}

/// A pull request's dependency risks: how many, and how many of each severity among those read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DependencyRisks {
    pub(crate) total: u64,
    /// (severity as the server writes it, count), most severe first.
    pub(crate) by_severity: Vec<(String, u64)>,
}

/// `api/metrics/search`: the server's metrics, each with its name in the server's words.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetricsPage {
    #[serde(default)]
    pub(crate) metrics: Vec<MetricDef>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MetricDef {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// `api/qualitygates/get_by_project`: the gate a project uses.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GateOfProject {
    pub(crate) quality_gate: GateRef,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GateRef {
    pub(crate) name: String,
}

/// `api/qualitygates/show`: a gate's conditions as defined (not evaluated).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GateDefinition {
    #[serde(default)]
    pub(crate) conditions: Vec<GateConditionDef>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct GateConditionDef {
    pub(crate) metric: String,
    #[serde(default)]
    pub(crate) op: Option<String>,
    #[serde(default)]
    pub(crate) error: Option<String>,
}

/// A file with new code tests do not cover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UncoveredFile {
    pub(crate) key: String,
    /// The path SonarQube shows, relative to the project.
    pub(crate) path: String,
    pub(crate) lines: u64,
    pub(crate) conditions: u64,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ComponentTree {
    /// The component asked about, with its own measures for the metrics asked.
    #[serde(default, rename = "baseComponent")]
    pub(crate) base_component: Option<TreeComponent>,
    #[serde(default)]
    pub(crate) components: Vec<TreeComponent>,
}

/// A pull request's measures and its files with uncovered new code, read together.
#[derive(Debug)]
pub(crate) struct PullRequestMeasures {
    pub(crate) measures: Vec<Measure>,
    pub(crate) uncovered_files: Vec<UncoveredFile>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TreeComponent {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) measures: Vec<Measure>,
}

/// `api/sources/lines`: one file's lines with their coverage (`source/ws/LinesJsonWriter.java`:
/// `lineHits` only on lines coverage counts, `conditions`/`coveredConditions` on branching lines,
/// `isNew` since 7.4).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SourceLines {
    #[serde(default)]
    pub(crate) sources: Vec<SourceLine>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SourceLine {
    pub(crate) line: u32,
    #[serde(default)]
    pub(crate) line_hits: Option<u64>,
    #[serde(default)]
    pub(crate) conditions: Option<u32>,
    #[serde(default)]
    pub(crate) covered_conditions: Option<u32>,
    #[serde(default)]
    pub(crate) is_new: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    pub(crate) total: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct IssuesResponse {
    #[serde(default)]
    pub(crate) paging: Option<Paging>,
    /// Before 9.8 the total also stood at the top level.
    #[serde(default)]
    pub(crate) total: Option<u64>,
    #[serde(default)]
    pub(crate) issues: Vec<Issue>,
    #[serde(default)]
    pub(crate) components: Vec<Component>,
    /// The counts asked for with `facets`, over every issue the query matches (not only this
    /// page's, and not limited by the 10 000-result cap).
    #[serde(default)]
    pub(crate) facets: Vec<Facet>,
}

/// One facet of an issue search: `{"property": "severities", "values": [{"val": "MAJOR", "count": 3}]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct Facet {
    #[serde(default)]
    pub(crate) property: String,
    #[serde(default)]
    pub(crate) values: Vec<FacetValue>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FacetValue {
    #[serde(default)]
    pub(crate) val: String,
    #[serde(default)]
    pub(crate) count: u64,
}

impl IssuesResponse {
    pub(crate) fn total(&self) -> u64 {
        self.paging.as_ref().map(|p| p.total).or(self.total).unwrap_or(self.issues.len() as u64)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Issue {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) rule: String,
    #[serde(default)]
    pub(crate) component: String,
    #[serde(default)]
    pub(crate) line: Option<u32>,
    #[serde(default)]
    pub(crate) text_range: Option<TextRange>,
    #[serde(default)]
    pub(crate) message: String,
    /// Older model (deprecated 10.4, back in 10.8): INFO, MINOR, MAJOR, CRITICAL, BLOCKER.
    #[serde(default)]
    pub(crate) severity: Option<String>,
    /// Older model: BUG, VULNERABILITY, CODE_SMELL.
    #[serde(default, rename = "type")]
    pub(crate) issue_type: Option<String>,
    /// 10.2+: software qualities and their severities.
    #[serde(default)]
    pub(crate) impacts: Vec<Impact>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Impact {
    pub(crate) software_quality: String,
    pub(crate) severity: String,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TextRange {
    pub(crate) start_line: u32,
    pub(crate) end_line: u32,
    #[serde(default)]
    pub(crate) start_offset: u32,
    #[serde(default)]
    pub(crate) end_offset: u32,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Component {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) path: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct HotspotsResponse {
    #[serde(default)]
    pub(crate) paging: Option<Paging>,
    /// Only counted (when `paging` is absent): the summary links to SonarQube's list.
    #[serde(default)]
    pub(crate) hotspots: Vec<serde::de::IgnoredAny>,
}

/// SonarQube's error body: `{"errors":[{"msg":"…"}]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) errors: Vec<ErrorMsg>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorMsg {
    pub(crate) msg: String,
}

/// `api/project_analyses/search`: the project's analyses, newest first.
#[derive(Debug, Deserialize)]
pub(crate) struct ProjectAnalyses {
    #[serde(default)]
    pub(crate) analyses: Vec<ProjectAnalysis>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProjectAnalysis {
    pub(crate) key: String,
    /// The analysed commit, where the scanner knew it (`sonar.scm.revision` or the SCM plugin).
    #[serde(default)]
    pub(crate) revision: Option<String>,
}
