//! Azure DevOps: the REST client for pull requests, its wire formats, what its failures mean, the
//! preflight of the credential, and the writer that performs a plan's writes.

pub mod client;
pub mod failure;
pub mod model;
pub mod preflight;
pub mod writer;

pub use client::{AzdoClient, Credential, RepositoryRef};
pub use writer::{Write, Writer};
