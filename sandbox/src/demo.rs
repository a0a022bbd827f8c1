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
    a.new_lines = new_lines(fixed);
    a.analysis_id = format!("AN-{task}");
    a.pull_request = Some(PULL_REQUEST.to_string());
    a.polls_before_done = 2;
    a.hotspots = 1;
    a
}

/// The new lines and their coverage, agreeing with the measures: before the fix 44 new lines to
/// cover, 24 of them not covered (45.5%); after it 38, 6 not covered (84.2%).
fn new_lines(fixed: bool) -> Vec<(String, Vec<crate::sonar::NewLine>)> {
    let run = |from: u32, to: u32, hits: u64| (from..=to).map(move |l| (l, Some(hits), None));
    let blank = |l: u32| (l, None, None);
    let checkout = "src/main/java/shop/Checkout.java".to_string();
    let cart = "src/main/java/shop/Cart.java".to_string();
    if fixed {
        vec![
            (checkout, run(30, 43, 4).chain(run(44, 46, 0)).chain([blank(47)]).chain(run(48, 55, 2)).collect()),
            (cart, run(10, 19, 1).chain(run(20, 22, 0)).collect()),
        ]
    } else {
        vec![
            (checkout, run(30, 41, 3).chain(run(42, 47, 0)).chain([blank(48)]).chain(run(49, 54, 0)).chain(run(55, 55, 1)).collect()),
            (cart, run(10, 16, 1).chain(run(17, 28, 0)).collect()),
        ]
    }
}
