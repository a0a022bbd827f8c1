//! Azure DevOps: the REST client for pull requests, its wire formats, what its failures mean, the
//! preflight of the credential, the scopes a PAT holds for the integrations that use one, and the writer that performs a plan's writes.

pub(crate) mod client;
pub(crate) mod failure;
pub(crate) mod model;
pub(crate) mod preflight;
pub(crate) mod scopes;
pub(crate) mod write;
pub(crate) mod writer;

pub(crate) use client::{AzdoClient, Credential, RepositoryRef, is_services_url};
pub(crate) use writer::Writer;
