//! SonarQube web API responses, as far as this task reads them. Every field a version may omit is
//! optional, and unknown fields are ignored, so 8.9 through 2026.x and Cloud all parse.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct SystemStatus {
    pub status: String,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Validate {
    #[serde(default)]
    pub valid: bool,
}

#[derive(Debug, Deserialize)]
pub struct SettingsValues {
    #[serde(default)]
    pub settings: Vec<SettingValue>,
}

#[derive(Debug, Deserialize)]
pub struct SettingValue {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CeTaskResponse {
    pub task: CeTask,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CeTask {
    pub id: String,
    pub status: CeStatus,
    #[serde(default)]
    pub analysis_id: Option<String>,
    #[serde(default)]
    pub component_key: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub branch_type: Option<String>,
    #[serde(default)]
    pub pull_request: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub submitted_at: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CeStatus {
    Pending,
    InProgress,
    Success,
    Failed,
    Canceled,
    #[serde(other)]
    Unknown,
}

impl CeStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, CeStatus::Success | CeStatus::Failed | CeStatus::Canceled)
    }

    pub fn as_str(self) -> &'static str {
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
pub struct ProjectStatusResponse {
    pub project_status: ProjectStatus,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectStatus {
    pub status: GateStatus,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub ignored_conditions: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum GateStatus {
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
    pub fn as_str(self) -> &'static str {
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
pub struct Condition {
    pub status: GateStatus,
    pub metric_key: String,
    #[serde(default)]
    pub comparator: Option<String>,
    #[serde(default)]
    pub error_threshold: Option<String>,
    #[serde(default)]
    pub warning_threshold: Option<String>,
    #[serde(default)]
    pub actual_value: Option<String>,
    /// Before 10.0: which period a new-code condition refers to.
    #[serde(default)]
    pub period_index: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub struct MeasuresResponse {
    pub component: MeasuresComponent,
}

#[derive(Debug, Deserialize)]
pub struct MeasuresComponent {
    #[serde(default)]
    pub measures: Vec<Measure>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Measure {
    pub metric: String,
    #[serde(default)]
    pub value: Option<String>,
    /// 8.1+ (the only shape since 10.0): the new-code value.
    #[serde(default)]
    pub period: Option<PeriodValue>,
    /// Before 10.0, and on SonarQube Cloud: new-code values per period.
    #[serde(default)]
    pub periods: Option<Vec<PeriodValue>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PeriodValue {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub value: Option<String>,
}

impl Measure {
    /// The value to show: the new-code value where there is one (`periods[0]`, then `period`),
    /// else the plain value, as SonarSource's own extension reads it.
    pub fn best_value(&self) -> Option<&str> {
        self.periods
            .as_ref()
            .and_then(|p| p.first())
            .and_then(|p| p.value.as_deref())
            .or_else(|| self.period.as_ref().and_then(|p| p.value.as_deref()))
            .or(self.value.as_deref())
    }
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    #[serde(rename = "pageIndex", default)]
    pub page_index: u32,
    #[serde(rename = "pageSize", default)]
    pub page_size: u32,
    #[serde(default)]
    pub total: u64,
}

#[derive(Debug, Deserialize)]
pub struct IssuesResponse {
    #[serde(default)]
    pub paging: Option<Paging>,
    /// Before 9.8 the total also stood at the top level.
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub issues: Vec<Issue>,
    #[serde(default)]
    pub components: Vec<Component>,
}

impl IssuesResponse {
    pub fn total(&self) -> u64 {
        self.paging.as_ref().map(|p| p.total).or(self.total).unwrap_or(self.issues.len() as u64)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub key: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub text_range: Option<TextRange>,
    #[serde(default)]
    pub message: String,
    /// Older model (deprecated 10.4, back in 10.8): INFO, MINOR, MAJOR, CRITICAL, BLOCKER.
    #[serde(default)]
    pub severity: Option<String>,
    /// Older model: BUG, VULNERABILITY, CODE_SMELL.
    #[serde(default, rename = "type")]
    pub issue_type: Option<String>,
    /// 10.2+: software qualities and their severities.
    #[serde(default)]
    pub impacts: Vec<Impact>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Impact {
    pub software_quality: String,
    pub severity: String,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextRange {
    pub start_line: u32,
    pub end_line: u32,
    #[serde(default)]
    pub start_offset: u32,
    #[serde(default)]
    pub end_offset: u32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Component {
    pub key: String,
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HotspotsResponse {
    #[serde(default)]
    pub paging: Option<Paging>,
    #[serde(default)]
    pub hotspots: Vec<Hotspot>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hotspot {
    pub key: String,
    #[serde(default)]
    pub component: String,
    #[serde(default)]
    pub line: Option<u32>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub vulnerability_probability: Option<String>,
}

/// SonarQube's error body: `{"errors":[{"msg":"…"}]}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorMsg>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorMsg {
    pub msg: String,
}

/// `api/project_analyses/search`: the project's analyses, newest first.
#[derive(Debug, Deserialize)]
pub struct ProjectAnalyses {
    #[serde(default)]
    pub analyses: Vec<ProjectAnalysis>,
}

#[derive(Debug, Deserialize)]
pub struct ProjectAnalysis {
    pub key: String,
    /// The analysed commit, where the scanner knew it (`sonar.scm.revision` or the SCM plugin).
    #[serde(default)]
    pub revision: Option<String>,
}
