//! The preflight checklist: each check passed, warned, failed or was skipped (with why), its title
//! saying what was found, and the fix. `check` mode prints it (as text or JSON); `publish` logs the
//! SonarQube part before it writes anything.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CheckState {
    Pass,
    Warn,
    Fail,
    /// Not checked, and the detail says why: nothing is counted as passed that was not checked.
    Skip,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Check {
    /// A stable key for tools (`sonar.token`, `azdo.credential`…); the title may change.
    pub(crate) id: &'static str,
    /// What was found, in words: "SonarQube token valid", "sonar.core.serverBaseURL not set".
    pub(crate) name: String,
    pub(crate) state: CheckState,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fix: Option<String>,
}

impl Check {
    pub(crate) fn pass(id: &'static str, title: &str, detail: String) -> Self {
        Self { id, name: title.to_string(), state: CheckState::Pass, detail, fix: None }
    }

    pub(crate) fn warn(id: &'static str, title: &str, detail: String, fix: String) -> Self {
        Self { id, name: title.to_string(), state: CheckState::Warn, detail, fix: Some(fix) }
    }

    pub(crate) fn fail(id: &'static str, title: &str, detail: String) -> Self {
        Self { id, name: title.to_string(), state: CheckState::Fail, detail, fix: None }
    }

    pub(crate) fn skip(id: &'static str, title: &str, reason: String) -> Self {
        Self { id, name: title.to_string(), state: CheckState::Skip, detail: reason, fix: None }
    }

    /// One line for the log: `[pass] title: detail` (the fix follows on its own line).
    pub(crate) fn render(&self) -> String {
        let tag = match self.state {
            CheckState::Pass => "[pass]",
            CheckState::Warn => "[warn]",
            CheckState::Fail => "[FAIL]",
            CheckState::Skip => "[skip]",
        };
        match &self.fix {
            Some(fix) => format!("{tag} {}: {}\n       fix: {fix}", self.name, self.detail),
            None => format!("{tag} {}: {}", self.name, self.detail),
        }
    }
}

impl Check {
    /// The check as a warning or error: what was found, the detail, and the fix.
    pub(crate) fn as_issue(&self) -> String {
        match &self.fix {
            Some(fix) => format!("{}: {}\nFix: {fix}", self.name, self.detail),
            None => format!("{}: {}", self.name, self.detail),
        }
    }
}

/// "5 checked: 4 passed, 1 warning, 0 failed; 2 skipped": only what was checked is counted.
pub(crate) fn tally(checks: &[Check]) -> String {
    let count = |s: CheckState| checks.iter().filter(|c| c.state == s).count();
    let (passed, warned, failed, skipped) =
        (count(CheckState::Pass), count(CheckState::Warn), count(CheckState::Fail), count(CheckState::Skip));
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line =
        format!("{} checked: {} passed, {}, {} failed", passed + warned + failed, passed, plural(warned, "warning", "warnings"), failed);
    if skipped > 0 {
        line.push_str(&format!("; {skipped} skipped"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_was_checked_is_counted() {
        let checks = [
            Check::pass("a", "A", "ok".into()),
            Check::warn("b", "B", "hm".into(), "fix".into()),
            Check::skip("c", "C", "not a pull request build".into()),
        ];
        assert_eq!(tally(&checks), "2 checked: 1 passed, 1 warning, 0 failed; 1 skipped");
        assert_eq!(checks[2].render(), "[skip] C: not a pull request build");
    }
}
