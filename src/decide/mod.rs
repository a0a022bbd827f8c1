//! The decisions, as pure functions of the data: which issues are the pull request's, which
//! iteration a status goes on, what each analysis's verdict means, the publish plan (statuses and
//! threads to create, update, resolve), and how the run ends. No I/O and no logging here: every
//! function is tested without a server.

pub mod iteration;
pub mod outcome;
pub mod plan;
pub mod provenance;
pub mod scope;
pub mod verdict;

#[cfg(test)]
mod tests;

pub use iteration::{IterationChoice, choose_iteration};
pub use outcome::{Outcome, Report, checklist_outcome, outcome, quality_gate_status};
pub use plan::{
    ASK_TO_RESOLVE, Decoration, InlineStats, PublishPlan, PullRequestView, SummaryAction, Texts, plan_inline, plan_publish, plan_summary,
    settle,
};
pub use provenance::{Analysed, Build, not_this_build};
pub use scope::{DecorationMode, InlineCandidate, Matched, Matching, by_severity_word, match_issues, matching};
pub use verdict::{StatusDecision, Verdict};
