//! The showcase: the analyses the demo, the golden comments and the screenshots are made of. They
//! are coherent as a real server's would be: the failing run's measures agree with its gate (45.5%
//! coverage on new code; reliability C from one Major bug), each issue's rule matches its message
//! (java:S2142 InterruptedException, java:S1068 unused private field, java:S117 local variable
//! naming), and no issue of the target branch is "fixed" by the pull request.

use crate::sonar::{AnalysisSpec, IssueSpec};

/// The server's public base URL in the showcase (`sonar.core.serverBaseURL`): links in comments
/// use it, so the golden files and screenshots do not depend on the sandbox's port.
pub const PUBLIC_BASE_URL: &str = "https://sonarqube.fabrikam.example";
pub const PROJECT_KEY: &str = "fabrikam-shop";
pub const PULL_REQUEST: u32 = 7;

/// The pull request's analysis: before the fix (three issues, the gate fails) or after it (tests
/// added, two issues fixed, the gate passes).
pub fn analysis(task: &str, fixed: bool) -> AnalysisSpec {
    let unused_field = IssueSpec::new("AZ-2", "src/main/java/shop/Cart.java", 17, "MAJOR", "Remove this unused private \"total\" field.")
        .rule("java:S1068");
    let mut a = AnalysisSpec::new(task, PROJECT_KEY);
    if fixed {
        a.conditions = vec![
            ("new_coverage".into(), "LT".into(), "80".into(), "84.2".into(), "OK".into()),
            ("new_reliability_rating".into(), "GT".into(), "1".into(), "1".into(), "OK".into()),
            ("new_duplicated_lines_density".into(), "GT".into(), "3".into(), "1.2".into(), "OK".into()),
        ];
        a.set_measure("new_coverage", "84.2");
        a.set_measure("new_duplicated_lines_density", "1.2");
        // 32 of 38 new lines covered once the tests were added.
        a.set_measure("new_lines_to_cover", "38");
        a.set_measure("new_uncovered_lines", "6");
        a.set_measure("new_conditions_to_cover", "0");
        a.issues = vec![unused_field];
    } else {
        a = a.failing_gate();
        a.issues = vec![
            IssueSpec::new(
                "AZ-1",
                "src/main/java/shop/Checkout.java",
                42,
                "MAJOR",
                "Either re-interrupt this method or rethrow the \"InterruptedException\" that can be caught here.",
            )
            .rule("java:S2142")
            .of_type("BUG"),
            unused_field,
            IssueSpec::new(
                "AZ-3",
                "src/main/java/shop/Cart.java",
                88,
                "MINOR",
                "Rename this local variable to match the regular expression '^[a-z][a-zA-Z0-9]*$'.",
            )
            .rule("java:S117"),
        ];
    }
    a.analysis_id = format!("AN-{task}");
    a.pull_request = Some(PULL_REQUEST.to_string());
    a.polls_before_done = 2;
    a.hotspots = 1;
    a
}
