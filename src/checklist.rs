//! The preflight checklist: each check passed, warned or failed, with the fix. `check` mode prints
//! it (as text or JSON); `publish` logs it before it writes anything.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    Pass,
    Warn,
    Fail,
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: String,
    pub state: CheckState,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(name: &str, detail: String) -> Self {
        Self { name: name.to_string(), state: CheckState::Pass, detail, fix: None }
    }

    pub fn warn(name: &str, detail: String, fix: String) -> Self {
        Self { name: name.to_string(), state: CheckState::Warn, detail, fix: Some(fix) }
    }

    pub fn fail(name: &str, detail: String) -> Self {
        Self { name: name.to_string(), state: CheckState::Fail, detail, fix: None }
    }

    /// One line for the log: `[pass] name: detail` (the fix follows on its own line).
    pub fn render(&self) -> String {
        let tag = match self.state {
            CheckState::Pass => "[pass]",
            CheckState::Warn => "[warn]",
            CheckState::Fail => "[FAIL]",
        };
        match &self.fix {
            Some(fix) => format!("{tag} {}: {}\n       fix: {fix}", self.name, self.detail),
            None => format!("{tag} {}: {}", self.name, self.detail),
        }
    }
}
