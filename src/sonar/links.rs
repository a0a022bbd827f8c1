//! The SonarQube pages a person opens from the pull request: the dashboard, issue lists, one
//! issue, the hotspots, a measure, a rule. Built on the server's public base URL, for one
//! project's analysis in its scope (pull request or branch).

use super::branch::Scope;
use crate::net::url::encode;

/// Links to one analysis's pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Links {
    base: String,
    project_key: String,
    scope: Scope,
    /// SonarQube Cloud's organization: its rule pages live under it.
    organization: Option<String>,
}

/// The most file paths an issue-list link filters by; past that the link lists the project's
/// open issues, since a very long URL is refused by browsers and proxies.
const MAX_LINKED_FILES: usize = 40;

impl Links {
    pub(crate) fn new(base: &str, project_key: &str, scope: &Scope, organization: Option<&str>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            project_key: project_key.to_string(),
            scope: scope.clone(),
            organization: organization.map(str::to_string),
        }
    }

    /// A page of the project, with `extra` parameters and the scope's.
    fn page(&self, page: &str, extra: &[(&str, &str)]) -> String {
        let mut url = format!("{}/{page}?id={}", self.base, encode(&self.project_key));
        for (k, v) in extra {
            url.push_str(&format!("&{k}={}", encode(v)));
        }
        for (k, v) in self.scope.params() {
            url.push_str(&format!("&{k}={}", encode(&v)));
        }
        url
    }

    /// One file's new code that tests do not cover, highlighted in SonarQube's measures view.
    pub(crate) fn uncovered_in_file(&self, file_key: &str) -> String {
        self.page("component_measures", &[("metric", "new_uncovered_lines"), ("selected", file_key), ("view", "list")])
    }

    /// The project's background tasks (the compute engine's record of each analysis it processed).
    pub(crate) fn background_tasks(&self) -> String {
        format!("{}/project/background_tasks?id={}", self.base, encode(&self.project_key))
    }

    pub(crate) fn dashboard(&self) -> String {
        self.page("dashboard", &[])
    }

    /// The open issues of the scope.
    pub(crate) fn open_issues(&self) -> String {
        self.page("project/issues", &[("resolved", "false")])
    }

    /// The open issues of some files (paths relative to the project), or of the whole scope when
    /// there are too many to put in a link.
    pub(crate) fn open_issues_in(&self, files: &[String]) -> String {
        if files.is_empty() || files.len() > MAX_LINKED_FILES {
            return self.open_issues();
        }
        self.page("project/issues", &[("resolved", "false"), ("files", &files.join(","))])
    }

    /// The issues accepted in the scope (SonarQube 10.4+ names the status ACCEPTED). The same link
    /// SonarQube's own decoration posts ("[0 Accepted issues](…/project/issues?id=…&pullRequest=N
    /// &issueStatuses=ACCEPTED)", seen in SonarQube Cloud's PR comments on public repositories).
    pub(crate) fn accepted_issues(&self) -> String {
        self.page("project/issues", &[("issueStatuses", "ACCEPTED")])
    }

    /// The issues this pull request fixed; only a pull request has them.
    pub(crate) fn fixed_issues(&self) -> Option<String> {
        let Scope::PullRequest(pr) = &self.scope else { return None };
        Some(format!("{}/project/issues?id={}&fixedInPullRequest={}", self.base, encode(&self.project_key), encode(pr)))
    }

    pub(crate) fn issue(&self, issue_key: &str) -> String {
        self.page("project/issues", &[("open", issue_key)])
    }

    pub(crate) fn hotspots(&self) -> String {
        self.page("security_hotspots", &[])
    }

    /// A measure's page, listing the files that make it up.
    pub(crate) fn measure(&self, metric: &str) -> String {
        self.page("component_measures", &[("metric", metric), ("view", "list")])
    }

    /// The rule's description ("Why is this an issue?"): the server's rules page, or on
    /// SonarQube Cloud the organization's.
    pub(crate) fn rule(&self, rule_key: &str) -> String {
        let rule = encode(rule_key);
        match &self.organization {
            Some(org) => format!("{}/organizations/{}/rules?open={rule}&rule_key={rule}", self.base, encode(org)),
            None => format!("{}/coding_rules?open={rule}&rule_key={rule}", self.base),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_carries_the_project_and_scope() {
        let pr = Links::new("https://sq.example/", "shop app", &Scope::PullRequest("7".into()), None);
        assert_eq!(pr.dashboard(), "https://sq.example/dashboard?id=shop%20app&pullRequest=7");
        assert_eq!(pr.open_issues(), "https://sq.example/project/issues?id=shop%20app&resolved=false&pullRequest=7");
        assert_eq!(pr.accepted_issues(), "https://sq.example/project/issues?id=shop%20app&issueStatuses=ACCEPTED&pullRequest=7");
        assert_eq!(pr.fixed_issues().unwrap(), "https://sq.example/project/issues?id=shop%20app&fixedInPullRequest=7");
        assert_eq!(pr.hotspots(), "https://sq.example/security_hotspots?id=shop%20app&pullRequest=7");
        assert_eq!(
            pr.measure("new_coverage"),
            "https://sq.example/component_measures?id=shop%20app&metric=new_coverage&view=list&pullRequest=7"
        );
        assert_eq!(pr.rule("java:S1068"), "https://sq.example/coding_rules?open=java%3AS1068&rule_key=java%3AS1068");
        let branch = Links::new("https://sonarcloud.io", "k", &Scope::Branch("feature/x".into()), Some("fabrikam"));
        assert_eq!(branch.fixed_issues(), None);
        assert_eq!(
            branch.open_issues_in(&["src/a.java".into(), "src/b c.java".into()]),
            "https://sonarcloud.io/project/issues?id=k&resolved=false&files=src%2Fa.java%2Csrc%2Fb%20c.java&branch=feature%2Fx"
        );
        assert_eq!(branch.rule("java:S1068"), "https://sonarcloud.io/organizations/fabrikam/rules?open=java%3AS1068&rule_key=java%3AS1068");
        let many: Vec<String> = (0..41).map(|i| format!("f{i}")).collect();
        assert_eq!(branch.open_issues_in(&many), branch.open_issues());
    }
}
