//! Facts about the pull request the decoration needs before it plans anything: whether it may be
//! posted to at all, and where each analysed project sits in the repository.

use std::path::Path;

/// Why nothing is posted to the pull request, when its status (`active`, `completed`,
/// `abandoned`; none on some servers) says it is not open: a warning for the log.
pub(crate) fn not_open(id: u32, status: Option<&str>) -> Option<String> {
    let status = status.filter(|s| !s.eq_ignore_ascii_case("active"))?;
    Some(format!("pull request {id} is {status}, not active; nothing is posted to it"))
}

/// The analysed project's folder in the repository (no leading or trailing `/`; empty for the
/// root): the one the settings name, else the one the scanner's work folder gives away.
pub(crate) fn project_folder(configured: Option<&str>, report: &Path, sources: Option<&Path>) -> String {
    match configured {
        Some(folder) => folder.to_string(),
        None => folder_of_report(report, sources),
    }
}

/// Where the scanner wrote report-task.txt says where the project is:
/// `services/api/.scannerwork/report-task.txt` under the sources folder means `services/api`.
/// Empty when the file is elsewhere (SonarSource's tasks write it under Agent.TempDirectory) or the
/// project is the repository's root.
fn folder_of_report(report: &Path, sources: Option<&Path>) -> String {
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

/// The changed files (repository paths with a leading `/`) that are in the project's folder, as
/// paths relative to it: the files SonarQube knows the project's issues by.
pub(crate) fn files_in_folder<'a>(folder: &str, changed: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let under = if folder.is_empty() { "/".to_string() } else { format!("/{folder}/") };
    changed.into_iter().filter_map(|p| p.strip_prefix(&under)).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_pull_request_is_posted_to() {
        assert_eq!(not_open(7, Some("active")), None);
        assert_eq!(not_open(7, None), None);
        assert_eq!(not_open(7, Some("completed")).as_deref(), Some("pull request 7 is completed, not active; nothing is posted to it"));
        assert_eq!(not_open(7, Some("abandoned")).as_deref(), Some("pull request 7 is abandoned, not active; nothing is posted to it"));
    }

    #[test]
    fn project_folder_comes_from_the_setting_or_the_scanners_work_folder() {
        let s = Path::new("/a/s");
        let folder = |report: &str| project_folder(None, Path::new(report), Some(s));
        assert_eq!(folder("/a/s/services/api/.scannerwork/report-task.txt"), "services/api");
        assert_eq!(folder("/a/s/target/sonar/report-task.txt"), "");
        assert_eq!(folder("/a/s/web/build/sonar/report-task.txt"), "web");
        assert_eq!(folder("/a/_temp/sonar/1/x/report-task.txt"), "");
        assert_eq!(project_folder(Some("apps/web"), Path::new("/a/s/x/.scannerwork/report-task.txt"), Some(s)), "apps/web");
    }

    #[test]
    fn the_projects_files_are_named_relative_to_its_folder() {
        let changed = ["/web/src/a.ts", "/api/Main.java", "/website/x.ts", "/README.md"];
        assert_eq!(files_in_folder("web", changed), vec!["src/a.ts"]);
        assert_eq!(files_in_folder("", changed), vec!["web/src/a.ts", "api/Main.java", "website/x.ts", "README.md"]);
    }
}
