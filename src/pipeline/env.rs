//! The agent's environment as a task sees it: inputs, service endpoints, variables and secrets.
//!
//! The rules follow the agent (`VarUtil.ConvertToEnvVariableFormat`, `Handler.AddInputsToEnvironment`,
//! `Handler.AddEndpointsToEnvironment`) and task-lib's `getInput`: names have `.` and space turned
//! into `_` and are upper-cased; every declared input is present, empty ones included, so an empty
//! or blank value means "not set"; values are trimmed.

use std::collections::BTreeMap;

/// A snapshot of the process environment. The core reads only this, never `std::env`, so tests
/// and the demo can hand it any agent-like environment.
#[derive(Clone, Default)]
pub struct AgentEnv {
    vars: BTreeMap<String, String>,
}

/// A service connection's URL and authorization, as the agent exported it.
pub(crate) struct Endpoint {
    pub(crate) url: Option<String>,
    params: BTreeMap<String, String>,
}

impl Endpoint {
    /// An authorization parameter by its (case-insensitive) key, e.g. `username` or `apitoken`.
    pub(crate) fn auth_parameter(&self, key: &str) -> Option<&str> {
        self.params.get(&key.to_ascii_uppercase()).map(String::as_str)
    }
}

/// Environment variable names are case-insensitive on Windows.
const NAMES_IGNORE_CASE: bool = cfg!(windows);

/// `name` without `prefix`, compared as the platform compares variable names.
fn strip_name_prefix<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    match name.strip_prefix(prefix) {
        None if NAMES_IGNORE_CASE => {
            name.get(..prefix.len()).filter(|head| head.eq_ignore_ascii_case(prefix)).map(|_| &name[prefix.len()..])
        }
        found => found,
    }
}

/// Turns a variable or input name into its environment form: `System.PullRequest.PullRequestId`
/// becomes `SYSTEM_PULLREQUEST_PULLREQUESTID`.
pub(crate) fn env_name(name: &str) -> String {
    name.replace(['.', ' '], "_").to_uppercase()
}

impl AgentEnv {
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))))
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// A raw environment variable, trimmed; blank counts as unset. On Windows names are
    /// case-insensitive, as the system treats them (Wine hands them over upper-cased).
    pub(crate) fn raw(&self, key: &str) -> Option<String> {
        let exact = self.vars.get(key);
        let value = match exact {
            None if NAMES_IGNORE_CASE => self.vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v),
            found => found,
        };
        value.map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_string)
    }

    /// A task input (`INPUT_<NAME>`), trimmed; empty means unset, as in task-lib.
    pub(crate) fn input(&self, name: &str) -> Option<String> {
        self.raw(&format!("INPUT_{}", env_name(name)))
    }

    /// A pipeline variable by its dotted name (`Build.SourcesDirectory`). Secret variables arrive
    /// only as `SECRET_<NAME>` and are looked up there second.
    pub(crate) fn variable(&self, name: &str) -> Option<String> {
        let key = env_name(name);
        self.raw(&key).or_else(|| self.raw(&format!("SECRET_{key}")))
    }

    /// The service endpoint that a `connectedService:*` input refers to. The input holds the GUID
    /// in whatever case the server sent; the agent names the variables with the .NET "D" form
    /// (lower case, hyphenated), so the id is normalised before the lookup.
    pub(crate) fn endpoint(&self, id: &str) -> Option<Endpoint> {
        let id = normalize_endpoint_id(id);
        let url = self.raw(&format!("ENDPOINT_URL_{id}"));
        // The scheme only tells that the connection exists: the credential is read from its
        // parameters whatever the scheme (see `settings::raw`).
        let scheme = self.raw(&format!("ENDPOINT_AUTH_SCHEME_{id}"));
        let prefix = format!("ENDPOINT_AUTH_PARAMETER_{id}_");
        let params: BTreeMap<String, String> = self
            .vars
            .iter()
            .filter_map(|(k, v)| Some((strip_name_prefix(k, &prefix)?.to_ascii_uppercase(), v.trim().to_string())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if url.is_none() && scheme.is_none() && params.is_empty() {
            return None;
        }
        Some(Endpoint { url, params })
    }

    /// The job's access token: the always-present system connection first, then the
    /// `SYSTEM_ACCESSTOKEN` variable that YAML maps with `env:`.
    pub(crate) fn job_access_token(&self) -> Option<String> {
        // Mapped into a step's env as SYSTEM_ACCESSTOKEN; where the server sends it as a secret
        // job variable, a Node-handler task sees it as SECRET_SYSTEM_ACCESSTOKEN (Handler.cs).
        self.raw("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN")
            .or_else(|| self.raw("SYSTEM_ACCESSTOKEN"))
            .or_else(|| self.raw("SECRET_SYSTEM_ACCESSTOKEN"))
    }

    /// Whether this process runs under an Azure Pipelines agent (`TF_BUILD` is always set there).
    pub(crate) fn is_agent(&self) -> bool {
        self.raw("TF_BUILD").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `System.Debug`, case-insensitively true.
    pub(crate) fn debug(&self) -> bool {
        self.variable("System.Debug").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// A GUID in any case, with or without braces, becomes the agent's lower-case hyphenated form;
/// the name `SystemVssConnection` (any case) becomes `SYSTEMVSSCONNECTION`.
pub(crate) fn normalize_endpoint_id(id: &str) -> String {
    let trimmed = id.trim().trim_start_matches('{').trim_end_matches('}');
    if trimmed.eq_ignore_ascii_case("SystemVssConnection") {
        return "SYSTEMVSSCONNECTION".to_string();
    }
    let hex: String = trimmed.chars().filter(|c| *c != '-').collect();
    if hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        let h = hex.to_ascii_lowercase();
        format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    } else {
        trimmed.to_string()
    }
}

/// Task-lib's boolean rule: `true` in any case is true; anything else is false. We are stricter
/// and report values that are neither, so a typo like `ture` is not silently false.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_agent_rule() {
        assert_eq!(env_name("System.PullRequest.PullRequestId"), "SYSTEM_PULLREQUEST_PULLREQUESTID");
        assert_eq!(env_name("sonarQubeService"), "SONARQUBESERVICE");
        assert_eq!(env_name("my var.name"), "MY_VAR_NAME");
    }

    #[test]
    fn empty_inputs_are_unset_and_values_trimmed() {
        let env = AgentEnv::from_pairs([("INPUT_SONARURL", "  https://sq  "), ("INPUT_SONARTOKEN", "   ")]);
        assert_eq!(env.input("sonarUrl").as_deref(), Some("https://sq"));
        assert_eq!(env.input("sonarToken"), None);
        assert_eq!(env.input("missing"), None);
    }

    #[test]
    fn secret_variables_come_from_secret_prefix() {
        let env = AgentEnv::from_pairs([("SECRET_MY_PAT", "abc")]);
        assert_eq!(env.variable("my.pat").as_deref(), Some("abc"));
    }

    #[test]
    fn endpoint_ids_are_normalised() {
        assert_eq!(normalize_endpoint_id("{5A3B1C2D-1111-2222-3333-444455556666}"), "5a3b1c2d-1111-2222-3333-444455556666");
        assert_eq!(normalize_endpoint_id("5A3B1C2D111122223333444455556666"), "5a3b1c2d-1111-2222-3333-444455556666");
        let env = AgentEnv::from_pairs([
            ("ENDPOINT_URL_5a3b1c2d-1111-2222-3333-444455556666", "https://sq/"),
            ("ENDPOINT_AUTH_SCHEME_5a3b1c2d-1111-2222-3333-444455556666", "UsernamePassword"),
            ("ENDPOINT_AUTH_PARAMETER_5a3b1c2d-1111-2222-3333-444455556666_USERNAME", "squ_token"),
        ]);
        let ep = env.endpoint("5A3B1C2D-1111-2222-3333-444455556666").unwrap();
        assert_eq!(ep.url.as_deref(), Some("https://sq/"));
        assert_eq!(ep.auth_parameter("username"), Some("squ_token"));
        // A connection with only a scheme still exists (its parameters may all be empty).
        let only_scheme = AgentEnv::from_pairs([("ENDPOINT_AUTH_SCHEME_x", "Token")]);
        assert!(only_scheme.endpoint("x").is_some() && AgentEnv::from_pairs([("A", "b")]).endpoint("x").is_none());
    }

    #[test]
    fn job_token_prefers_the_system_connection() {
        let env = AgentEnv::from_pairs([("ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN", "a"), ("SYSTEM_ACCESSTOKEN", "b")]);
        assert_eq!(env.job_access_token().as_deref(), Some("a"));
        let env = AgentEnv::from_pairs([("SYSTEM_ACCESSTOKEN", "b"), ("SECRET_SYSTEM_ACCESSTOKEN", "c")]);
        assert_eq!(env.job_access_token().as_deref(), Some("b"));
        let env = AgentEnv::from_pairs([("SECRET_SYSTEM_ACCESSTOKEN", "c")]);
        assert_eq!(env.job_access_token().as_deref(), Some("c"));
    }

    #[test]
    fn booleans_are_case_insensitive() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
