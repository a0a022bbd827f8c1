//! Which branch or pull request an analysis covers, and the query parameters that select it in
//! SonarQube's API and pages.

/// Which issues and measures belong to the analysis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    PullRequest(String),
    Branch(String),
    /// The main branch (or the only branch Community Build knows).
    Main,
}

impl Scope {
    /// The query parameters that select this scope in SonarQube's API and UI.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Scope::PullRequest(id) => vec![("pullRequest", id.clone())],
            Scope::Branch(name) => vec![("branch", name.clone())],
            Scope::Main => vec![],
        }
    }
}
