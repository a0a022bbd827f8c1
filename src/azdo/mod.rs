//! Azure DevOps: the REST client for pull requests, and what its failures mean.

pub mod client;
pub mod failure;
pub mod model;
