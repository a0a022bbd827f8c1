//! The results this build already posted for other projects on the same iteration. A job with two
//! analyses runs the task twice (two steps in YAML, or the decorator after each Analyze step); each
//! run knows only its own project, and without this the second run's status would replace the
//! first's under the one context a branch policy requires: `failed`, then `succeeded`, and the
//! policy passes although a gate failed. Each status this task posts records the build and the
//! project in its properties, so a later run of the same build can find them and combine.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::azdo::model::PrStatus;
use crate::pipeline::time::parse_agent_time;

/// The status property naming the build (`Build.BuildId`) that posted it.
pub(crate) const PROP_BUILD: &str = "SonarPrGate.BuildId";
/// The status property naming the one project a status is for (absent on a combined status).
pub(crate) const PROP_PROJECT: &str = "SonarPrGate.ProjectKey";
/// The status property listing the projects a combined status covers.
pub(crate) const PROP_PROJECTS: &str = "SonarPrGate.ProjectKeys";

/// This build, as the statuses it posts record it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ThisBuild<'a> {
    /// `Build.BuildId`, when the agent says.
    pub(crate) id: Option<&'a str>,
    /// `System.PipelineStartTime`, when the agent says.
    pub(crate) started: Option<SystemTime>,
    /// The credential's identity id.
    pub(crate) me: &'a str,
}

/// Another project's latest result, as this build posted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EarlierResult {
    pub(crate) project_key: String,
    pub(crate) state: String,
    pub(crate) description: String,
    pub(crate) target_url: Option<String>,
    /// Whether it already has its own context (`name/projectKey`), or only the plain one.
    pub(crate) has_own_context: bool,
}

/// Where this run's statuses go: the context and the iteration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StatusPlace<'a> {
    pub(crate) genre: &'a str,
    pub(crate) name: &'a str,
    pub(crate) iteration: Option<u32>,
}

/// The other projects' latest results this build posted on this iteration, by project key; the
/// projects of this run (`mine`) are left out (their results are new), and so is a `pending`
/// status (that run has not finished: it will combine with this one when it does).
pub(crate) fn earlier_results(statuses: &[PrStatus], place: StatusPlace<'_>, build: &ThisBuild<'_>, mine: &[&str]) -> Vec<EarlierResult> {
    let mut latest: BTreeMap<String, (usize, &PrStatus)> = BTreeMap::new();
    let mut own_context: Vec<String> = Vec::new();
    for (order, s) in statuses.iter().enumerate() {
        if !s.context.genre.eq_ignore_ascii_case(place.genre) || s.iteration_id != place.iteration || !posted_by(s, build) {
            continue;
        }
        let key = if s.context.name.eq_ignore_ascii_case(place.name) {
            // The plain context: one project's result, or a combined one (whose parts have their own).
            match s.property(PROP_PROJECT) {
                Some(key) if s.property(PROP_PROJECTS).is_none() => key,
                _ => continue,
            }
        } else {
            match split_context(&s.context.name, place.name) {
                Some(key) => {
                    own_context.push(key.to_string());
                    key.to_string()
                }
                None => continue,
            }
        };
        if key.trim().is_empty() || mine.iter().any(|m| *m == key) || s.state.eq_ignore_ascii_case("pending") {
            continue;
        }
        // The newest wins: by the id the service gave, else by the list's order.
        let rank = s.id.map_or(order, |id| usize::try_from(id).unwrap_or(usize::MAX));
        if latest.get(&key).is_none_or(|(r, _)| rank >= *r) {
            latest.insert(key, (rank, s));
        }
    }
    latest
        .into_iter()
        .map(|(project_key, (_, s))| EarlierResult {
            has_own_context: own_context.contains(&project_key),
            project_key,
            state: s.state.clone(),
            description: s.description.clone(),
            target_url: s.target_url.clone(),
        })
        .collect()
}

/// `name/projectKey` → `projectKey`.
fn split_context<'a>(context: &'a str, name: &str) -> Option<&'a str> {
    let (head, key) = context.split_at_checked(name.len())?;
    head.eq_ignore_ascii_case(name).then_some(())?;
    key.strip_prefix('/')
}

/// Whether this build posted a status: its recorded build id says so. A status without one (a
/// server that drops properties, an older version of this task) counts when this identity posted
/// it after the pipeline run started; without a start time, when this identity posted it.
fn posted_by(s: &PrStatus, build: &ThisBuild<'_>) -> bool {
    if let Some(recorded) = s.property(PROP_BUILD) {
        return build.id.is_some_and(|id| id == recorded);
    }
    let by_me =
        s.created_by.as_ref().and_then(|c| c.id.as_deref()).is_some_and(|id| !build.me.is_empty() && id.eq_ignore_ascii_case(build.me));
    if !by_me {
        return false;
    }
    match (build.started, s.creation_date.as_deref().and_then(parse_agent_time)) {
        (Some(started), Some(created)) => created >= started,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azdo::model::{Identity, StatusContext};
    use serde_json::json;

    const PLACE: StatusPlace<'static> = StatusPlace { genre: "SonarQube", name: "quality gate", iteration: Some(2) };

    fn posted(name: &str, state: &str, props: serde_json::Value) -> PrStatus {
        let mut s = PrStatus::new(
            state,
            format!("{state} text"),
            StatusContext { genre: "SonarQube".into(), name: name.into() },
            Some("https://sq/dashboard".into()),
            Some(2),
        );
        s.properties = props.as_object().cloned();
        s.created_by = Some(Identity { id: Some("me-id".into()), ..Identity::default() });
        s.creation_date = Some("2026-12-03T10:00:00Z".into());
        s
    }

    fn typed(build: &str, project: &str) -> serde_json::Value {
        json!({PROP_BUILD: {"$type": "System.String", "$value": build}, PROP_PROJECT: {"$type": "System.String", "$value": project}})
    }

    fn build(id: &str) -> ThisBuild<'_> {
        ThisBuild { id: Some(id), started: parse_agent_time("2026-12-03 09:00:00+00:00"), me: "me-id" }
    }

    #[test]
    fn the_first_runs_plain_status_is_found_by_its_recorded_project() {
        let statuses = [posted("quality gate", "failed", typed("41", "backend"))];
        let found = earlier_results(&statuses, PLACE, &build("41"), &["frontend"]);
        assert_eq!(
            found,
            vec![EarlierResult {
                project_key: "backend".into(),
                state: "failed".into(),
                description: "failed text".into(),
                target_url: Some("https://sq/dashboard".into()),
                has_own_context: false,
            }]
        );
    }

    #[test]
    fn another_builds_iterations_contexts_and_this_runs_own_projects_do_not_count() {
        let mut other_iteration = posted("quality gate", "failed", typed("41", "a"));
        other_iteration.iteration_id = Some(1);
        let mut other_genre = posted("quality gate", "failed", typed("41", "b"));
        other_genre.context.genre = "ci".into();
        let statuses = [
            posted("quality gate", "failed", typed("40", "old")),
            other_iteration,
            other_genre,
            posted("quality gate/mine", "failed", typed("41", "mine")),
            posted("quality gate/waiting", "pending", typed("41", "waiting")),
            posted("quality gateway/x", "failed", typed("41", "x")),
        ];
        assert_eq!(earlier_results(&statuses, PLACE, &build("41"), &["mine"]), vec![]);
    }

    #[test]
    fn the_newest_result_of_a_project_wins_and_its_own_context_is_noted() {
        let mut first = posted("quality gate", "failed", typed("41", "api"));
        first.id = Some(1);
        let mut later = posted("quality gate/api", "succeeded", typed("41", "api"));
        later.id = Some(3);
        let mut combined = posted("quality gate", "failed", json!({PROP_BUILD: "41", PROP_PROJECTS: "api,web"}));
        combined.id = Some(4);
        let found = earlier_results(&[later, first, combined], PLACE, &build("41"), &["web"]);
        assert_eq!(found.len(), 1, "a combined status is not a project's result: {found:?}");
        assert_eq!((found[0].state.as_str(), found[0].has_own_context), ("succeeded", true));
    }

    #[test]
    fn without_recorded_properties_only_this_identitys_statuses_since_the_run_started_count() {
        let bare = |name: &str, by: &str, at: &str| {
            let mut s = posted(name, "failed", json!(null));
            s.created_by = Some(Identity { id: Some(by.into()), ..Identity::default() });
            s.creation_date = Some(at.into());
            s
        };
        let statuses = [
            bare("quality gate/api", "me-id", "2026-12-03T09:30:00Z"),
            bare("quality gate/before", "me-id", "2026-12-03T08:59:59Z"),
            bare("quality gate/stranger", "someone", "2026-12-03T09:30:00Z"),
            bare("quality gate", "me-id", "2026-12-03T09:30:00Z"),
        ];
        let keys: Vec<String> = earlier_results(&statuses, PLACE, &build("41"), &[]).into_iter().map(|r| r.project_key).collect();
        assert_eq!(keys, vec!["api".to_string()], "a plain status without a recorded project names none");
        let no_start = ThisBuild { started: None, ..build("41") };
        let keys: Vec<String> = earlier_results(&statuses, PLACE, &no_start, &[]).into_iter().map(|r| r.project_key).collect();
        assert_eq!(keys, vec!["api".to_string(), "before".to_string()]);
    }

    #[test]
    fn a_recorded_build_id_is_needed_when_this_build_has_none() {
        let statuses = [posted("quality gate", "failed", typed("41", "backend"))];
        let unknown = ThisBuild { id: None, ..build("41") };
        assert!(earlier_results(&statuses, PLACE, &unknown, &[]).is_empty());
    }
}
