//! Azure DevOps REST resources, as far as this task reads and writes them (Git 7.1 shapes; older
//! api-versions return the same fields): what is read, the bodies that are sent, and the thread
//! properties that mark the threads this task owns.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
pub(crate) struct ValueList<T> {
    #[serde(default = "Vec::new")]
    pub(crate) value: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectionData {
    #[serde(default)]
    pub(crate) authenticated_user: Option<Identity>,
    #[serde(default)]
    pub(crate) deployment_type: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Identity {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) provider_display_name: Option<String>,
    #[serde(default)]
    pub(crate) custom_display_name: Option<String>,
    /// An `IdentityRef`'s name (a comment's author, a pull request's creator).
    #[serde(default)]
    pub(crate) display_name: Option<String>,
}

impl Identity {
    /// The name people see, whichever form the answer gave it in.
    pub(crate) fn name(&self) -> Option<&str> {
        [&self.display_name, &self.custom_display_name, &self.provider_display_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|n| !n.trim().is_empty())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PullRequest {
    pub(crate) pull_request_id: u32,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) last_merge_source_commit: Option<CommitRef>,
    /// Who opened it: by default their own resolutions are not marked in SonarQube.
    #[serde(default)]
    pub(crate) created_by: Option<Identity>,
    /// The merge of source into target a PR build checks out (`refs/pull/N/merge`): the commit a
    /// pull request build analyses.
    #[serde(default)]
    pub(crate) last_merge_commit: Option<CommitRef>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommitRef {
    pub(crate) commit_id: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Iteration {
    pub(crate) id: u32,
    #[serde(default)]
    pub(crate) source_ref_commit: Option<CommitRef>,
    /// The merge base of source and target: the PR's diff is taken against it.
    #[serde(default)]
    pub(crate) common_ref_commit: Option<CommitRef>,
    /// When it was pushed (`2026-11-20T16:30:31.6655471Z`).
    #[serde(default)]
    pub(crate) created_date: Option<String>,
}

/// `GET …/iterations/{id}/changes`: one page of the files the PR changes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IterationChanges {
    #[serde(default)]
    pub(crate) change_entries: Vec<ChangeEntry>,
    #[serde(default)]
    pub(crate) next_skip: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeEntry {
    /// Stable for a file across the PR's iterations; inline threads carry it so Azure DevOps keeps
    /// them on the right line as the PR moves on.
    #[serde(default)]
    pub(crate) change_tracking_id: Option<u64>,
    /// Flags as names ("edit", "rename, edit", "delete") or as the numeric flag value.
    #[serde(default)]
    pub(crate) change_type: Value,
    #[serde(default)]
    pub(crate) item: ChangeItem,
    #[serde(default)]
    pub(crate) original_path: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChangeItem {
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) is_folder: bool,
}

impl ChangeEntry {
    /// A deleted file has no lines to comment on.
    pub(crate) fn is_delete(&self) -> bool {
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
pub(crate) struct FileDiffResponse {
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) line_diff_blocks: Vec<LineDiffBlock>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LineDiffBlock {
    #[serde(default)]
    pub(crate) change_type: Value,
    #[serde(default)]
    pub(crate) modified_line_number_start: u32,
    #[serde(default)]
    pub(crate) modified_lines_count: u32,
    #[serde(default)]
    pub(crate) original_line_number_start: u32,
    #[serde(default)]
    pub(crate) original_lines_count: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Thread {
    pub(crate) id: u64,
    #[serde(default)]
    pub(crate) status: Option<String>,
    #[serde(default)]
    pub(crate) comments: Vec<Comment>,
    #[serde(default)]
    pub(crate) properties: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub(crate) is_deleted: bool,
    #[serde(default)]
    pub(crate) thread_context: Option<Value>,
    /// When a comment was added or the status changed (`2026-11-23T10:36:00.123Z`).
    #[serde(default)]
    pub(crate) last_updated_date: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Comment {
    pub(crate) id: u64,
    #[serde(default)]
    pub(crate) content: Option<String>,
    #[serde(default)]
    pub(crate) comment_type: Option<Value>,
    #[serde(default)]
    pub(crate) author: Option<Identity>,
    #[serde(default)]
    pub(crate) is_deleted: bool,
    #[serde(default)]
    pub(crate) published_date: Option<String>,
}

impl Thread {
    /// A property's value, typed or plain.
    pub(crate) fn property(&self, key: &str) -> Option<String> {
        property_value(self.properties.as_ref()?.get(key)?)
    }

    /// Active threads show as open in the PR; "fixed", "closed", "wontFix", "byDesign" as resolved.
    pub(crate) fn is_active(&self) -> bool {
        matches!(self.status.as_deref(), Some("active") | Some("pending") | None)
    }
}

/// A typed string property, in the form the service itself returns.
fn string_property(value: &str) -> Value {
    json!({"$type": "System.String", "$value": value})
}

/// Thread properties that mark the threads this task owns, so they are found again without
/// parsing comment text.
const PROP_KIND: &str = "SonarPrGate.Kind";
const PROP_PROJECT: &str = "SonarPrGate.ProjectKey";
const PROP_ISSUE: &str = "SonarPrGate.IssueKey";
/// The rule of an inline thread's issue: only for the log ("resolved … java:S1068"), never for
/// matching (older threads lack it).
const PROP_RULE: &str = "SonarPrGate.Rule";

/// Which of this task's threads a thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ThreadKind {
    /// The summary comment of one project.
    Summary,
    /// The inline comment on one issue.
    Issue,
}

impl ThreadKind {
    fn as_str(self) -> &'static str {
        match self {
            ThreadKind::Summary => "summary",
            ThreadKind::Issue => "issue",
        }
    }
}

/// What a thread of this task is about, as its properties say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Marker {
    pub(crate) kind: ThreadKind,
    pub(crate) project_key: String,
    /// The SonarQube issue an inline thread is about.
    pub(crate) issue_key: Option<String>,
}

impl Marker {
    pub(crate) fn summary(project_key: &str) -> Self {
        Self { kind: ThreadKind::Summary, project_key: project_key.to_string(), issue_key: None }
    }

    pub(crate) fn issue(project_key: &str, issue_key: &str) -> Self {
        Self { kind: ThreadKind::Issue, project_key: project_key.to_string(), issue_key: Some(issue_key.to_string()) }
    }

    fn properties(&self) -> Value {
        let mut props = json!({
            PROP_KIND: string_property(self.kind.as_str()),
            PROP_PROJECT: string_property(&self.project_key),
            "Microsoft.TeamFoundation.Discussion.SupportsMarkdown": {"$type": "System.Int32", "$value": 1},
        });
        if let Some(k) = &self.issue_key {
            props[PROP_ISSUE] = string_property(k);
        }
        props
    }
}

impl Thread {
    /// The marker of one of this task's threads; `None` for every other thread.
    pub(crate) fn marker(&self) -> Option<Marker> {
        let kind = match self.property(PROP_KIND)?.as_str() {
            "summary" => ThreadKind::Summary,
            "issue" => ThreadKind::Issue,
            _ => return None,
        };
        Some(Marker { kind, project_key: self.property(PROP_PROJECT)?, issue_key: self.property(PROP_ISSUE) })
    }
}

impl Thread {
    /// Where the thread sits, as "/path:line", when it is on a file.
    pub(crate) fn location(&self) -> Option<String> {
        location(self.thread_context.as_ref()?)
    }

    /// What the thread is, for the log: "the inline comment on /src/Cart.java:88 (java:S117,
    /// issue AZ-3)", "the summary comment for 'shop'". Server text, so the log makes it inert.
    pub(crate) fn describe(&self) -> String {
        describe(self.marker().as_ref(), self.location(), self.property(PROP_RULE))
    }
}

/// "/path:line" (or the path alone) from a `threadContext`, as sent or as read back.
fn location(ctx: &Value) -> Option<String> {
    let path = ctx.get("filePath")?.as_str()?;
    let line = ctx.get("rightFileStart").and_then(|s| s.get("line")).and_then(Value::as_u64);
    Some(match line {
        Some(line) => format!("{path}:{line}"),
        None => path.to_string(),
    })
}

fn describe(marker: Option<&Marker>, location: Option<String>, rule: Option<String>) -> String {
    match marker {
        Some(m) if m.kind == ThreadKind::Summary => format!("the summary comment for '{}'", m.project_key),
        Some(m) => {
            let about: Vec<String> = [rule, m.issue_key.as_ref().map(|k| format!("issue {k}"))].into_iter().flatten().collect();
            let at = location.map(|l| format!(" on {l}")).unwrap_or_default();
            let about = if about.is_empty() { String::new() } else { format!(" ({})", about.join(", ")) };
            format!("the inline comment{at}{about}")
        }
        None => "a thread".to_string(),
    }
}

/// The state a thread is set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ThreadStatus {
    Active,
    Fixed,
    /// A duplicate left by an overlapping run, closed in favour of the thread that wins.
    Closed,
}

impl ThreadStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ThreadStatus::Active => "active",
            ThreadStatus::Fixed => "fixed",
            ThreadStatus::Closed => "closed",
        }
    }
}

impl Serialize for ThreadStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A status posted on a pull request (`GitPullRequestStatus`), as sent and as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrStatus {
    /// `succeeded`, `failed`, `error` or `notApplicable`.
    pub(crate) state: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) context: StatusContext,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) target_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iteration_id: Option<u32>,
    /// What this task records on its statuses (the build and the project, see
    /// `decide::statuses`): sent plain, read back typed (`{"$type","$value"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) properties: Option<serde_json::Map<String, Value>>,
    /// Filled in by the service, never sent.
    #[serde(default, skip_serializing)]
    pub(crate) id: Option<u64>,
    #[serde(default, skip_serializing)]
    pub(crate) created_by: Option<Identity>,
    #[serde(default, skip_serializing)]
    pub(crate) creation_date: Option<String>,
}

impl PrStatus {
    /// A status to post: what the service fills in is left empty.
    pub(crate) fn new(
        state: &str,
        description: String,
        context: StatusContext,
        target_url: Option<String>,
        iteration_id: Option<u32>,
    ) -> Self {
        Self {
            state: state.to_string(),
            description,
            context,
            target_url,
            iteration_id,
            properties: None,
            id: None,
            created_by: None,
            creation_date: None,
        }
    }

    /// A property's value, typed or plain.
    pub(crate) fn property(&self, key: &str) -> Option<String> {
        property_value(self.properties.as_ref()?.get(key)?)
    }
}

/// A property's value: typed (`{"$type","$value"}`, as the service returns them) or plain.
fn property_value(v: &Value) -> Option<String> {
    let v = v.get("$value").unwrap_or(v);
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StatusContext {
    pub(crate) genre: String,
    pub(crate) name: String,
}

/// Where an inline thread sits: a range of lines of the PR's right (source) side, 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LineRange {
    /// Repository path with a leading `/`.
    pub(crate) file_path: String,
    pub(crate) start_line: u32,
    pub(crate) start_offset: u32,
    pub(crate) end_line: u32,
    pub(crate) end_offset: u32,
}

/// Which iteration a thread was made for and which file of it: the Git 7.1 spec says
/// `changeTrackingId` "must be set for pull requests with iteration support".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IterationFile {
    pub(crate) iteration: u32,
    pub(crate) change_tracking_id: u64,
}

/// The body of `POST …/threads`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewThread {
    comments: [NewComment; 1],
    status: ThreadStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_context: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_request_thread_context: Option<Value>,
    properties: Value,
    #[serde(skip)]
    pub(crate) marker: Marker,
}

impl NewThread {
    pub(crate) fn new(marker: Marker, content: String, status: ThreadStatus, lines: Option<&LineRange>) -> Self {
        let thread_context = lines.map(|l| {
            json!({
                "filePath": l.file_path,
                "rightFileStart": {"line": l.start_line, "offset": l.start_offset},
                "rightFileEnd": {"line": l.end_line, "offset": l.end_offset},
            })
        });
        let properties = marker.properties();
        Self { comments: [NewComment::first(content)], status, thread_context, pull_request_thread_context: None, properties, marker }
    }

    /// Names the rule of an inline thread's issue, so a later run's log can say which rule a
    /// thread it resolves was about.
    pub(crate) fn with_rule(mut self, rule: &str) -> Self {
        self.properties[PROP_RULE] = string_property(rule);
        self
    }

    /// Ties an inline thread to the iteration it was made for (the diff against the PR's first
    /// iteration's base, as the PR's "Files" view shows it) and to the file's change tracking id.
    pub(crate) fn in_iteration(mut self, file: IterationFile) -> Self {
        self.pull_request_thread_context = Some(json!({
            "changeTrackingId": file.change_tracking_id,
            "iterationContext": {"firstComparingIteration": 1, "secondComparingIteration": file.iteration},
        }));
        self
    }

    pub(crate) fn content(&self) -> &str {
        &self.comments[0].content
    }

    /// What the thread is, for the log, like [`Thread::describe`].
    pub(crate) fn describe(&self) -> String {
        let location = self.thread_context.as_ref().and_then(location);
        let rule = self.properties.get(PROP_RULE).and_then(|v| v.get("$value")).and_then(Value::as_str).map(str::to_string);
        describe(Some(&self.marker), location, rule)
    }

    pub(crate) fn status(&self) -> ThreadStatus {
        self.status
    }
}

/// A comment as sent: the first of a new thread, or a reply.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewComment {
    parent_comment_id: u64,
    content: String,
    /// The spec's `CommentType` string (`unknown`, `text`, `codeChange`, `system`; Git spec 5.0 to
    /// 7.1). Microsoft's examples also send the number `1`, which the service accepts too.
    comment_type: &'static str,
}

impl NewComment {
    pub(crate) fn first(content: String) -> Self {
        Self { parent_comment_id: 0, content, comment_type: "text" }
    }

    /// A reply to the thread's first comment.
    pub(crate) fn reply(content: String) -> Self {
        Self { parent_comment_id: 1, content, comment_type: "text" }
    }
}
