//! Which iteration of the pull request a status goes on: the one whose source commit was analysed,
//! so "reset status on new changes" policies accept it.

use crate::azdo::model::Iteration;

/// The chosen iteration, and the warning to give when it is not the analysed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IterationChoice {
    pub(crate) id: Option<u32>,
    pub(crate) warning: Option<String>,
}

/// The iteration whose source commit is the analysed one; else the latest, with a warning.
pub(crate) fn choose_iteration(iterations: &[Iteration], source_commit: Option<&str>) -> IterationChoice {
    let latest = iterations.iter().map(|i| i.id).max();
    let Some(commit) = source_commit else {
        return IterationChoice { id: latest, warning: None };
    };
    let matching = iterations
        .iter()
        .filter(|i| i.source_ref_commit.as_ref().is_some_and(|c| c.commit_id.eq_ignore_ascii_case(commit)))
        .map(|i| i.id)
        .max();
    let warning = match (matching, latest) {
        (None, Some(latest)) => Some(format!(
            "no iteration of the pull request has the analysed source commit {commit}; the status goes on the latest iteration ({latest}). A push after this build started makes this status stale"
        )),
        _ => None,
    };
    IterationChoice { id: matching.or(latest), warning }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(id: u32, commit: &str) -> Iteration {
        serde_json::from_value(serde_json::json!({"id": id, "sourceRefCommit": {"commitId": commit}})).unwrap()
    }

    #[test]
    fn the_analysed_commits_iteration_wins_else_the_latest_with_a_warning() {
        let its = [it(1, "aaa"), it(2, "BBB"), it(3, "ccc")];
        assert_eq!(choose_iteration(&its, Some("bbb")), IterationChoice { id: Some(2), warning: None });
        assert_eq!(choose_iteration(&its, None), IterationChoice { id: Some(3), warning: None });
        let stale = choose_iteration(&its, Some("ddd"));
        assert_eq!(stale.id, Some(3));
        assert!(stale.warning.unwrap().starts_with("no iteration of the pull request has the analysed source commit ddd;"));
        assert_eq!(choose_iteration(&[], Some("ddd")), IterationChoice { id: None, warning: None });
    }
}
