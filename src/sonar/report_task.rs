//! The scanner's `report-task.txt`: what one holds and how to read it (finding them is
//! `discover`'s).
//!
//! The file is plain `key=value` lines written by the scanner engine (`ReportPublisher`), not a Java
//! properties file: values are not escaped and may contain `=` (query strings), so each line is split
//! on its first `=` only.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Where report-task.txt discovery looks: the folders and variables the agent and SonarSource's
/// Prepare task provide.
#[derive(Clone, Debug, Default)]
pub(crate) struct SearchPaths {
    pub(crate) sources_directory: Option<PathBuf>,
    pub(crate) agent_temp_directory: Option<PathBuf>,
    pub(crate) agent_build_directory: Option<PathBuf>,
    pub(crate) build_id: Option<String>,
    /// `Build.BuildNumber`: SonarQubePrepare@4's folder under `sonar/`, where later majors use the id.
    pub(crate) build_number: Option<String>,
    /// Where Prepare told the scanner to write report-task.txt (`sonar.scanner.metadataFilePath`).
    pub(crate) prepare_metadata_file: Option<String>,
    pub(crate) report_task_variable: Option<String>,
    pub(crate) legacy_report_task_variable: Option<String>,
    pub(crate) working_directory: Option<PathBuf>,
}

/// One analysis the scanner submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReportTask {
    pub(crate) path: PathBuf,
    pub(crate) project_key: String,
    pub(crate) server_url: String,
    pub(crate) server_version: Option<String>,
    pub(crate) organization: Option<String>,
    pub(crate) branch: Option<String>,
    pub(crate) dashboard_url: Option<String>,
    pub(crate) ce_task_id: String,
    /// A PR analysis names its PR only in `dashboardUrl` (`&pullRequest=…`).
    pub(crate) pull_request: Option<String>,
    /// A `user:password@` found in the file's URLs (taken out of them): a secret to register
    /// before anything prints this report.
    pub(crate) credentials: Option<crate::secret::Secret>,
}

const REQUIRED: [&str; 3] = ["projectKey", "serverUrl", "ceTaskId"];

/// Parses one file's text. Tolerates a UTF-8 BOM, CRLF, blank lines, `#` or `!` comments and
/// unknown keys.
pub(crate) fn parse(path: &Path, text: &str) -> Result<ReportTask, Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r').trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            pairs.push((key.trim(), value.trim()));
        }
    }
    let get = |key: &str| pairs.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()).filter(|v| !v.is_empty());
    for key in REQUIRED {
        if get(key).is_none() {
            return Err(Error::ReportTask(format!(
                "{} has no '{key}' line. The scanner writes it when it uploads the analysis: check that the analysis step (SonarQubeAnalyze, sonar-scanner, mvn sonar:sonar, gradle sonar or dotnet sonarscanner end) ran in this job and succeeded, and that nothing else wrote this file",
                path.display()
            )));
        }
    }
    // A URL with `user:password@` must never be printed or linked as it is.
    let (server_url, in_server_url) = crate::net::url::strip_userinfo(&get("serverUrl").unwrap_or_default());
    let dashboard = get("dashboardUrl").map(|u| crate::net::url::strip_userinfo(&u));
    let credentials = in_server_url.or_else(|| dashboard.as_ref().and_then(|(_, c)| c.clone())).map(crate::secret::Secret::new);
    let dashboard_url = dashboard.map(|(u, _)| u);
    let pull_request = dashboard_url.as_deref().and_then(|u| query_param(u, "pullRequest"));
    Ok(ReportTask {
        path: path.to_path_buf(),
        project_key: get("projectKey").unwrap_or_default(),
        server_url: server_url.trim_end_matches('/').to_string(),
        server_version: get("serverVersion"),
        organization: get("organization"),
        branch: get("branch"),
        dashboard_url,
        ce_task_id: get("ceTaskId").unwrap_or_default(),
        pull_request,
        credentials,
    })
}

/// A query parameter of a URL, percent-decoded.
pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| crate::net::url::decode(v, true))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bom_crlf_comments_and_equals_in_values() {
        let text = "\u{feff}# written by scanner\r\nprojectKey=my:proj\r\n\r\nserverUrl=https://sq/\r\nunknown=x\r\ndashboardUrl=https://sq/dashboard?id=my%3Aproj&pullRequest=42\r\nceTaskId=AVx=1\r\n";
        let t = parse(Path::new("r.txt"), text).unwrap();
        assert_eq!(t.project_key, "my:proj");
        assert_eq!(t.server_url, "https://sq");
        assert_eq!(t.ce_task_id, "AVx=1");
        assert_eq!(t.pull_request.as_deref(), Some("42"));
    }

    #[test]
    fn credentials_in_its_urls_are_taken_out() {
        let t = parse(Path::new("r.txt"), "projectKey=a\nserverUrl=https://ci:hunter2@sq.example\ndashboardUrl=https://ci:hunter2@sq.example/dashboard?id=a\nceTaskId=T\n").unwrap();
        assert_eq!(t.server_url, "https://sq.example");
        assert_eq!(t.dashboard_url.as_deref(), Some("https://sq.example/dashboard?id=a"));
        assert_eq!(t.credentials.as_ref().map(crate::secret::Secret::expose), Some("ci:hunter2"));
    }

    #[test]
    fn missing_key_names_file_key_and_step() {
        let err = parse(Path::new("/w/.scannerwork/report-task.txt"), "projectKey=a\nserverUrl=b\n").unwrap_err().to_string();
        assert!(err.starts_with("/w/.scannerwork/report-task.txt has no 'ceTaskId' line."), "{err}");
        assert!(err.contains("SonarQubeAnalyze"));
    }

    proptest::proptest! {
        /// Whatever a file holds, parsing ends in a report or an error naming the file, never a panic.
        #[test]
        fn any_text_parses_or_is_refused_cleanly(text in "(\\PC|\r|\n|=|#)*") {
            match parse(Path::new("r.txt"), &text) {
                Ok(t) => proptest::prop_assert!(!t.project_key.is_empty() && !t.ce_task_id.is_empty()),
                Err(e) => proptest::prop_assert!(e.to_string().starts_with("r.txt has no '")),
            }
        }
    }

    #[test]
    fn decodes_query_parameters() {
        assert_eq!(query_param("https://x/dashboard?id=a%3Ab&branch=feature%2Fx", "branch").as_deref(), Some("feature/x"));
        assert_eq!(query_param("https://x/dashboard?id=a", "pullRequest"), None);
        assert_eq!(query_param("https://x/d?id=100%", "id").as_deref(), Some("100%"));
    }
}
