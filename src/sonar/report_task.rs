//! The scanner's `report-task.txt`: where to find every one this build wrote, and how to read it.
//!
//! The file is plain `key=value` lines written by the scanner engine (`ReportPublisher`), not a Java
//! properties file: values are not escaped and may contain `=` (query strings), so each line is split
//! on its first `=` only.

use std::path::{Path, PathBuf};

use crate::error::{Error, InputNames};

/// Where report-task.txt discovery looks: the folders and variables the agent and SonarSource's
/// Prepare task provide.
#[derive(Clone, Debug, Default)]
pub(crate) struct SearchPaths {
    pub(crate) sources_directory: Option<PathBuf>,
    pub(crate) agent_temp_directory: Option<PathBuf>,
    pub(crate) agent_build_directory: Option<PathBuf>,
    pub(crate) build_id: Option<String>,
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

/// The analysed project's folder in the repository, from where its scanner wrote report-task.txt:
/// `services/api/.scannerwork/report-task.txt` under the sources folder means `services/api`.
/// Empty when the file is elsewhere (SonarSource's tasks write it under Agent.TempDirectory) or the
/// project is the repository's root.
pub(crate) fn project_prefix(report: &Path, sources: Option<&Path>) -> String {
    let Some(relative) = sources.and_then(|s| report.strip_prefix(s).ok()) else { return String::new() };
    let relative = relative.to_string_lossy().replace('\\', "/");
    for work_dir in [
        ".scannerwork/report-task.txt",
        "target/sonar/report-task.txt",
        "build/sonar/report-task.txt",
        ".sonarqube/out/.sonar/report-task.txt",
    ] {
        if let Some(prefix) = relative.strip_suffix(work_dir) {
            return prefix.trim_end_matches('/').to_string();
        }
    }
    String::new()
}

/// The places searched, for the "not found" message: one line each, a step that tries many
/// conventional folders written as one line.
struct Searched(Vec<String>);

impl Searched {
    fn note(&mut self, place: String) {
        if !self.0.contains(&place) {
            self.0.push(place);
        }
    }

    /// One item a line, at most `MAX_LISTED` of them (then how many more).
    fn listed(&self) -> String {
        const MAX_LISTED: usize = 8;
        let mut lines: Vec<String> = self.0.iter().take(MAX_LISTED).map(|p| format!("  - {p}")).collect();
        if self.0.len() > MAX_LISTED {
            lines.push(format!("  - and {} more", self.0.len() - MAX_LISTED));
        }
        lines.join("\n")
    }
}

/// One step of the discovery order: it searches, records where, and returns what it found.
type DiscoveryStep<'a> = Box<dyn Fn(&mut Searched) -> Vec<PathBuf> + 'a>;

/// The scanners' working folders, where each writes report-task.txt.
const WORK_DIRS: [&str; 4] = [".scannerwork", "target/sonar", "build/sonar", ".sonarqube/out/.sonar"];

/// Finds every report-task.txt of this build, in the documented order; the first step that finds
/// any file wins, and all files it finds count (a monorepo build has several analyses).
pub(crate) fn discover(explicit: Option<&str>, paths: &SearchPaths, names: &InputNames) -> Result<Vec<PathBuf>, Error> {
    let mut searched = Searched(Vec::new());
    let base = paths.sources_directory.clone().or_else(|| paths.working_directory.clone()).unwrap_or_else(|| PathBuf::from("."));

    if let Some(pattern) = explicit {
        let found = expand(&base, pattern, &mut searched, true);
        if found.is_empty() {
            return Err(Error::ReportTask(format!(
                "{} '{pattern}' matches no file (looked for {}). A relative path is taken from {}; the scanner writes report-task.txt into its working folder ({}/)",
                names.report_task_file,
                searched.0.join(", "),
                base.display(),
                WORK_DIRS.join("/, ")
            )));
        }
        return Ok(found);
    }
    let steps: Vec<DiscoveryStep> = vec![
        Box::new(|s| paths.report_task_variable.as_deref().map(|p| expand(&base, p, s, true)).unwrap_or_default()),
        Box::new(|s| paths.legacy_report_task_variable.as_deref().map(|p| expand(&base, p, s, true)).unwrap_or_default()),
        Box::new(|s| {
            let Some(temp) = &paths.agent_temp_directory else { return Vec::new() };
            let pattern = match &paths.build_id {
                Some(id) => format!("sonar/{id}/**/report-task.txt"),
                None => "sonar/**/report-task.txt".to_string(),
            };
            expand(temp, &pattern, s, true)
        }),
        Box::new(|s| {
            let mut found = Vec::new();
            for dir in WORK_DIRS {
                // The project's root, and up to two folders down for monorepos whose scanner ran in a subfolder.
                for depth in ["", "*/", "*/*/"] {
                    found.extend(expand(&base, &format!("{depth}{dir}/report-task.txt"), s, false));
                }
            }
            s.note(format!("{}, and up to two folders below it: {}/report-task.txt", base.display(), WORK_DIRS.join("/report-task.txt, ")));
            found
        }),
        Box::new(|s| {
            let Some(build) = &paths.agent_build_directory else { return Vec::new() };
            expand(build, ".sonarqube/out/.sonar/report-task.txt", s, true)
        }),
    ];
    for step in steps {
        let mut found = step(&mut searched);
        if !found.is_empty() {
            found.sort();
            found.dedup();
            return Ok(found);
        }
    }
    Err(Error::ReportTask(format!(
        "no report-task.txt was found, so there is no analysis to wait for. Searched, in order:\n{}\nRun this step after the analysis step in the same job (SonarQubeAnalyze, sonar-scanner, mvn sonar:sonar, gradle sonar or dotnet sonarscanner end). If the scanner writes the file elsewhere (sonar.scanner.metadataFilePath), point {} at it, e.g. {}",
        searched.listed(),
        names.report_task_file,
        names.report_task_example
    )))
}

/// Expands a path or glob relative to `base` into existing files, remembering what was searched.
fn expand(base: &Path, pattern: &str, searched: &mut Searched, note: bool) -> Vec<PathBuf> {
    let full = join_relative(base, pattern);
    let text = full.to_string_lossy().into_owned();
    if note {
        searched.note(text.clone());
    }
    let has_glob = pattern.contains(['*', '?', '[']);
    if !has_glob {
        return if full.is_file() { vec![full] } else { Vec::new() };
    }
    let options = glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };
    match glob::glob_with(&text, options) {
        Ok(paths) => paths.filter_map(Result::ok).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    }
}

/// `base` and a relative path written with either separator, joined part by part, so the result
/// uses the platform's own separator throughout (on Windows `D:\a\1\s\.scannerwork\…`, never a
/// mixed `s\.scannerwork/…`). A path with a root or a drive is joined as the platform joins it
/// (kept whole; on Windows `\x` keeps the base's drive).
fn join_relative(base: &Path, relative: &str) -> PathBuf {
    use std::path::Component;
    if matches!(Path::new(relative).components().next(), Some(Component::Prefix(_) | Component::RootDir)) {
        return base.join(relative);
    }
    let mut full = base.to_path_buf();
    full.extend(relative.split(['/', '\\']).filter(|part| !part.is_empty() && *part != "."));
    full
}

/// The largest report-task.txt read: a scanner writes a few hundred bytes.
const MAX_REPORT_BYTES: u64 = 1024 * 1024;

/// Reads and parses every discovered file. The size is checked before reading, and no more than
/// the limit is ever read (a huge or sparse file costs nothing).
pub(crate) fn load_all(paths: &[PathBuf]) -> Result<Vec<ReportTask>, Error> {
    use std::io::Read;
    paths
        .iter()
        .map(|path| {
            let unreadable = |e: std::io::Error| Error::ReportTask(format!("{} could not be read: {e}", path.display()));
            let too_large = || {
                Error::ReportTask(format!(
                    "{} is larger than 1 MiB; it is not a report-task.txt written by a SonarQube scanner",
                    path.display()
                ))
            };
            let file = std::fs::File::open(path).map_err(unreadable)?;
            if file.metadata().map_err(unreadable)?.len() > MAX_REPORT_BYTES {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            file.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes).map_err(unreadable)?;
            if bytes.len() as u64 > MAX_REPORT_BYTES {
                return Err(too_large());
            }
            parse(path, &String::from_utf8_lossy(&bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_in_either_separator_style_join_with_the_platforms_own() {
        let base = Path::new("base");
        let expected: PathBuf = ["base", "app", ".scannerwork", "report-task.txt"].iter().collect();
        assert_eq!(join_relative(base, "app/.scannerwork/report-task.txt"), expected);
        assert_eq!(join_relative(base, "app\\.scannerwork\\report-task.txt"), expected);
        assert_eq!(join_relative(base, "./app//.scannerwork/report-task.txt"), expected);
        let absolute = if cfg!(windows) { "C:\\agent\\report-task.txt" } else { "/agent/report-task.txt" };
        assert_eq!(join_relative(base, absolute), PathBuf::from(absolute));
    }

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
    fn a_huge_file_is_refused_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report-task.txt");
        // Sparse: 3 GiB on paper, nothing on disk, and nothing read.
        std::fs::File::create(&path).unwrap().set_len(3 << 30).unwrap();
        let err = load_all(std::slice::from_ref(&path)).unwrap_err().to_string();
        assert!(err.ends_with("is larger than 1 MiB; it is not a report-task.txt written by a SonarQube scanner"), "{err}");
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
    fn project_prefix_comes_from_the_scanners_work_folder() {
        let s = Path::new("/a/s");
        assert_eq!(project_prefix(Path::new("/a/s/services/api/.scannerwork/report-task.txt"), Some(s)), "services/api");
        assert_eq!(project_prefix(Path::new("/a/s/target/sonar/report-task.txt"), Some(s)), "");
        assert_eq!(project_prefix(Path::new("/a/s/web/build/sonar/report-task.txt"), Some(s)), "web");
        assert_eq!(project_prefix(Path::new("/a/_temp/sonar/1/x/report-task.txt"), Some(s)), "");
    }

    #[test]
    fn decodes_query_parameters() {
        assert_eq!(query_param("https://x/dashboard?id=a%3Ab&branch=feature%2Fx", "branch").as_deref(), Some("feature/x"));
        assert_eq!(query_param("https://x/dashboard?id=a", "pullRequest"), None);
        assert_eq!(query_param("https://x/d?id=100%", "id").as_deref(), Some("100%"));
    }
}
