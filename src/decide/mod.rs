//! The decisions, as pure functions of the data: which report-task.txt files to follow, whether the
//! pull request may be posted to and where each project sits in it, which issues are the pull
//! request's, which iteration a status goes on, what each analysis's verdict means, the publish
//! plan (statuses and threads to create, update, resolve), and how the run ends. No I/O and no
//! logging here, and only types from below (the architecture test holds both): every function is
//! tested without a server.

pub(crate) mod coverage;
pub(crate) mod found;
pub(crate) mod issue_reads;
pub(crate) mod iteration;
pub(crate) mod outcome;
pub(crate) mod plan;
pub(crate) mod provenance;
pub(crate) mod pull_request;
pub(crate) mod refresh;
pub(crate) mod reports;
pub(crate) mod scope;
pub(crate) mod statuses;
pub(crate) mod triage;
pub(crate) mod verdict;

#[cfg(test)]
mod tests;

pub(crate) use issue_reads::{IssueNeeds, first_page_enough};
pub(crate) use iteration::choose_iteration;
pub(crate) use outcome::{Outcome, Report, checklist_outcome, outcome, quality_gate_status};
pub(crate) use plan::{
    Decoration, InlineFilter, InlineStats, PullRequestView, SummaryWhen, Texts, pending_status, pending_withdrawn, plan_publish, settle,
};
pub(crate) use provenance::{Analysed, Build, not_this_build};
pub(crate) use scope::{DecorationMode, InlineCandidate, Matched, by_severity_word, match_issues, matching};
pub(crate) use verdict::Verdict;
