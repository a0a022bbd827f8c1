//! Azure DevOps REST resources, as far as this task reads and writes them (Git 7.1 shapes; older
//! api-versions return the same fields).

use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub struct ValueList<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionData {
    #[serde(default)]
    pub authenticated_user: Option<Identity>,
    #[serde(default)]
    pub deployment_type: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub provider_display_name: Option<String>,
    #[serde(default)]
    pub custom_display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub project: Option<ProjectRef>,
}

#[derive(Debug, Deserialize)]
pub struct ProjectRef {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequest {
    pub pull_request_id: u32,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub source_ref_name: Option<String>,
    #[serde(default)]
    pub target_ref_name: Option<String>,
    #[serde(default)]
    pub last_merge_source_commit: Option<CommitRef>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitRef {
    pub commit_id: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Iteration {
    pub id: u32,
    #[serde(default)]
    pub source_ref_commit: Option<CommitRef>,
    /// The merge base of source and target: the PR's diff is taken against it.
    #[serde(default)]
    pub common_ref_commit: Option<CommitRef>,
}

/// `GET …/iterations/{id}/changes`: one page of the files the PR changes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IterationChanges {
    #[serde(default)]
    pub change_entries: Vec<ChangeEntry>,
    #[serde(default)]
    pub next_skip: u32,
    #[serde(default)]
    pub next_top: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEntry {
    /// Flags as names ("edit", "rename, edit", "delete") or as the numeric flag value.
    #[serde(default)]
    pub change_type: Value,
    #[serde(default)]
    pub item: ChangeItem,
    #[serde(default)]
    pub original_path: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub is_folder: bool,
}

impl ChangeEntry {
    /// A deleted file has no lines to comment on.
    pub fn is_delete(&self) -> bool {
        match &self.change_type {
            Value::String(s) => s.split(',').any(|f| f.trim().eq_ignore_ascii_case("delete")),
            // VersionControlChangeType.Delete = 16.
            Value::Number(n) => n.as_u64().is_some_and(|v| v & 16 != 0),
            _ => false,
        }
    }
}

/// One file of `POST …/FileDiffs`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDiffResponse {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub line_diff_blocks: Vec<LineDiffBlock>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineDiffBlock {
    #[serde(default)]
    pub change_type: Value,
    #[serde(default)]
    pub modified_line_number_start: u32,
    #[serde(default)]
    pub modified_lines_count: u32,
    #[serde(default)]
    pub original_line_number_start: u32,
    #[serde(default)]
    pub original_lines_count: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    pub id: u64,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub comments: Vec<Comment>,
    #[serde(default)]
    pub properties: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub is_deleted: bool,
    #[serde(default)]
    pub thread_context: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub comment_type: Option<Value>,
    #[serde(default)]
    pub author: Option<Identity>,
    #[serde(default)]
    pub is_deleted: bool,
}

impl Thread {
    /// A property's value: typed (`{"$type","$value"}`, as the service returns them) or plain.
    pub fn property(&self, key: &str) -> Option<String> {
        let v = self.properties.as_ref()?.get(key)?;
        let v = v.get("$value").unwrap_or(v);
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Active threads show as open in the PR; "fixed", "closed", "wontFix", "byDesign" as resolved.
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_deref(), Some("active") | Some("pending") | None)
    }
}

/// A typed string property, in the form the service itself returns.
pub fn string_property(value: &str) -> Value {
    json!({"$type": "System.String", "$value": value})
}
