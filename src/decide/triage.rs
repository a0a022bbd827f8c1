//! Triage from the pull request (`syncResolutions: toSonarQube`): which reviewers' resolutions of
//! this task's threads are carried over to SonarQube. A thread a reviewer resolved as Won't fix
//! marks its issue accepted (won't fix before SonarQube 10.4); By design marks it a false positive.
//!
//! Azure DevOps records no author for a thread's status change (the thread keeps only its
//! `lastUpdatedDate`), so a resolution is known to be someone's only when it came with their reply
//! ("Reply & resolve": the reply is the thread's last comment, published at most
//! `REPLY_WINDOW` before the thread last changed). A resolution without a reply, or by the pull
//! request's author, is not carried over unless `allowAuthorResolutions` is true: authors could
//! otherwise wave their own issues through.

use std::time::Duration;

use crate::azdo::model::{Identity, Thread};
pub(crate) use crate::decide::plan::SyncResolutions;
use crate::decide::plan::owned;
use crate::pipeline::time::parse_agent_time;
pub(crate) use crate::sonar::model::Dismissal;

/// How long before the status change a reply may have been published and still be its reason:
/// the web UI's "Reply & resolve" sends the reply, then the status.
pub(crate) const REPLY_WINDOW: Duration = Duration::from_secs(120);

/// A resolution to carry over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sync {
    pub(crate) issue_key: String,
    pub(crate) thread_id: u64,
    pub(crate) dismissal: Dismissal,
    /// Who resolved it, as the pull request names them ("someone" when no reply says).
    pub(crate) resolver: String,
    /// The pull request's words for the status: "Won't fix", "By design".
    pub(crate) status: &'static str,
}

/// A resolution left in the pull request only, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Kept {
    pub(crate) issue_key: String,
    pub(crate) why: String,
}

/// The resolutions of one project's threads: to carry over, and kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Triage {
    pub(crate) syncs: Vec<Sync>,
    pub(crate) kept: Vec<Kept>,
}

/// Who may resolve what.
pub(crate) struct Rules<'a> {
    /// This task's identity: only threads it wrote are considered (a stranger's thread with
    /// copied properties steers nothing).
    pub(crate) me: &'a str,
    /// The pull request's author.
    pub(crate) author: Option<&'a Identity>,
    pub(crate) allow_author_resolutions: bool,
}

/// The Won't fix / By design resolutions of this task's threads on `project_key`'s issues that are
/// still open in SonarQube (`open_issues`).
pub(crate) fn triage(threads: &[Thread], project_key: &str, open_issues: &[&str], rules: &Rules<'_>) -> Triage {
    let mut triage = Triage::default();
    for thread in threads {
        let Some(marker) = owned(thread, rules.me) else { continue };
        let Some(key) = marker.issue_key.filter(|_| marker.project_key == project_key) else { continue };
        if !open_issues.contains(&key.as_str()) {
            continue;
        }
        let (dismissal, status) = match thread.status.as_deref() {
            Some("wontFix") => (Dismissal::Accepted, "Won't fix"),
            Some("byDesign") => (Dismissal::FalsePositive, "By design"),
            _ => continue,
        };
        let replier = replier(thread, rules.me);
        let by_author = |who: &Identity| {
            rules.author.and_then(|a| a.id.as_deref()).is_some_and(|a| who.id.as_deref().is_some_and(|w| w.eq_ignore_ascii_case(a)))
        };
        let kept = |why: String| Kept { issue_key: key.clone(), why };
        match replier {
            Some(who) if by_author(who) && !rules.allow_author_resolutions => triage.kept.push(kept(format!(
                "{} resolved it as {status}, and is the pull request's author: authors' resolutions are not marked in SonarQube (allowAuthorResolutions)",
                who.name().unwrap_or("someone")
            ))),
            None if !rules.allow_author_resolutions => triage.kept.push(kept(format!(
                "resolved as {status} without a reply, so Azure DevOps does not say who resolved it (it might be the pull request's author): resolve it with a reply (Reply & resolve) to have it marked in SonarQube"
            ))),
            _ => triage.syncs.push(Sync {
                issue_key: key.clone(),
                thread_id: thread.id,
                dismissal,
                resolver: replier.and_then(Identity::name).unwrap_or("someone").to_string(),
                status,
            }),
        }
    }
    triage
}

/// The person whose reply came with the thread's status change: the thread's last comment, not
/// the task's, published at most `REPLY_WINDOW` before the thread last changed.
fn replier<'t>(thread: &'t Thread, me: &str) -> Option<&'t Identity> {
    let last = thread.comments.iter().filter(|c| !c.is_deleted).max_by_key(|c| c.published_date.as_deref().and_then(parse_agent_time))?;
    let author = last.author.as_ref()?;
    if author.id.as_deref().is_none_or(|id| id.eq_ignore_ascii_case(me)) {
        return None;
    }
    let replied = last.published_date.as_deref().and_then(parse_agent_time)?;
    let changed = thread.last_updated_date.as_deref().and_then(parse_agent_time)?;
    let gap = changed.duration_since(replied).ok()?;
    (gap <= REPLY_WINDOW).then_some(author)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ME: &str = "bot-id";
    const AUTHOR: &str = "author-id";

    fn thread(id: u64, status: &str, issue: &str, replies: &[(&str, &str, &str)], changed: &str) -> Thread {
        let mut comments = vec![
            json!({"id": 1, "author": {"id": ME, "displayName": "Build Service"}, "content": "issue", "publishedDate": "2026-11-23T10:00:00Z"}),
        ];
        for (n, (who, name, at)) in replies.iter().enumerate() {
            comments.push(json!({"id": n + 2, "author": {"id": who, "displayName": name}, "content": "ok", "publishedDate": at}));
        }
        serde_json::from_value(json!({
            "id": id, "status": status, "comments": comments, "lastUpdatedDate": changed,
            "properties": {"SonarPrGate.Kind": "issue", "SonarPrGate.ProjectKey": "shop", "SonarPrGate.IssueKey": issue},
        }))
        .unwrap()
    }

    fn author() -> Identity {
        serde_json::from_value(json!({"id": AUTHOR, "displayName": "Pat Author"})).unwrap()
    }

    #[test]
    fn a_reviewers_reply_and_resolve_is_carried_over_and_nothing_else_is() {
        let threads = [
            thread(1, "wontFix", "k1", &[("rev-id", "Jane Reviewer", "2026-11-23T11:00:00Z")], "2026-11-23T11:00:01Z"),
            thread(2, "byDesign", "k2", &[("rev-id", "Jane Reviewer", "2026-11-23T11:00:00Z")], "2026-11-23T11:00:30Z"),
            // The author's own reply and resolution.
            thread(3, "wontFix", "k3", &[(AUTHOR, "Pat Author", "2026-11-23T11:00:00Z")], "2026-11-23T11:00:02Z"),
            // Resolved long after the reply: who resolved it is not known.
            thread(4, "wontFix", "k4", &[("rev-id", "Jane Reviewer", "2026-11-23T09:00:00Z")], "2026-11-23T11:00:00Z"),
            // Resolved without any reply.
            thread(5, "wontFix", "k5", &[], "2026-11-23T11:00:00Z"),
            // Fixed, closed, active: not a dismissal.
            thread(6, "fixed", "k6", &[("rev-id", "Jane Reviewer", "2026-11-23T11:00:00Z")], "2026-11-23T11:00:01Z"),
            thread(7, "active", "k7", &[], "2026-11-23T11:00:01Z"),
            // An issue no longer open (already accepted, or fixed): nothing to do.
            thread(8, "wontFix", "gone", &[("rev-id", "Jane Reviewer", "2026-11-23T11:00:00Z")], "2026-11-23T11:00:01Z"),
        ];
        let open = ["k1", "k2", "k3", "k4", "k5", "k6", "k7"];
        let a = author();
        let rules = Rules { me: ME, author: Some(&a), allow_author_resolutions: false };
        let t = triage(&threads, "shop", &open, &rules);
        let synced: Vec<(&str, Dismissal, &str)> =
            t.syncs.iter().map(|s| (s.issue_key.as_str(), s.dismissal, s.resolver.as_str())).collect();
        assert_eq!(synced, [("k1", Dismissal::Accepted, "Jane Reviewer"), ("k2", Dismissal::FalsePositive, "Jane Reviewer")]);
        let kept: Vec<&str> = t.kept.iter().map(|k| k.issue_key.as_str()).collect();
        assert_eq!(kept, ["k3", "k4", "k5"]);
        assert!(t.kept[0].why.contains("Pat Author resolved it as Won't fix, and is the pull request's author"), "{}", t.kept[0].why);
        assert!(t.kept[2].why.contains("without a reply"), "{}", t.kept[2].why);

        let rules = Rules { allow_author_resolutions: true, ..rules };
        let t = triage(&threads, "shop", &open, &rules);
        let synced: Vec<&str> = t.syncs.iter().map(|s| s.resolver.as_str()).collect();
        assert_eq!(synced, ["Jane Reviewer", "Jane Reviewer", "Pat Author", "someone", "someone"]);
        assert!(triage(&threads, "web", &open, &rules).syncs.is_empty(), "another project's threads");
    }

    #[test]
    fn a_strangers_thread_with_the_tasks_properties_steers_nothing() {
        let mut t = thread(1, "wontFix", "k1", &[("rev-id", "Jane Reviewer", "2026-11-23T11:00:00Z")], "2026-11-23T11:00:01Z");
        t.comments[0].author = Some(serde_json::from_value(json!({"id": "stranger"})).unwrap());
        let rules = Rules { me: ME, author: None, allow_author_resolutions: true };
        assert_eq!(triage(&[t], "shop", &["k1"], &rules), Triage::default());
    }
}
