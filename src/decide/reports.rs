//! Which of the scanner's report-task.txt files a run follows: one per project, the newest (a
//! scanner that ran twice in one build leaves one per run, and a project must never get two sets
//! of threads), and which of those look left over from an earlier build.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

/// One report-task.txt found, as far as the choice needs it.
pub(crate) struct FoundReport<'a> {
    pub(crate) project_key: &'a str,
    pub(crate) path: &'a Path,
    /// When the file was last written, where the file system says.
    pub(crate) modified: Option<SystemTime>,
}

/// The reports to follow (indices into what was found, in path order) and what to warn about.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ReportChoice {
    pub(crate) chosen: Vec<usize>,
    pub(crate) warnings: Vec<String>,
}

/// Chooses the newest report of each project (by write time, then path); `pipeline_started` is
/// when the pipeline run began, to name a report written before it.
pub(crate) fn choose_reports(found: &[FoundReport<'_>], pipeline_started: Option<SystemTime>) -> ReportChoice {
    let mut by_project: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, report) in found.iter().enumerate() {
        by_project.entry(report.project_key).or_default().push(i);
    }
    let mut chosen = Vec::new();
    let mut warnings = Vec::new();
    for (project, mut indices) in by_project {
        indices.sort_by_key(|i| (found[*i].modified, found[*i].path));
        let Some(newest) = indices.pop() else { continue };
        let newest_report = &found[newest];
        if !indices.is_empty() {
            let others: Vec<String> = indices.iter().map(|i| found[*i].path.display().to_string()).collect();
            warnings.push(format!(
                "{} report-task.txt files name project '{project}': using {}, the newest, and ignoring {} (a scanner that ran twice in one build leaves one per run)",
                indices.len() + 1,
                newest_report.path.display(),
                others.join(", ")
            ));
        }
        if let (Some(started), Some(written)) = (pipeline_started, newest_report.modified)
            && written < started
        {
            let before = started.duration_since(written).map(|d| (d.as_secs() + 30) / 60).unwrap_or(0);
            warnings.push(format!(
                "{} was written {before} minute(s) before this pipeline run started: it may be left over from an earlier build. The analysis is refused if SonarQube says it is of another pull request or commit",
                newest_report.path.display()
            ));
        }
        chosen.push(newest);
    }
    chosen.sort_by_key(|i| found[*i].path);
    ReportChoice { chosen, warnings }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(minutes: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(minutes * 60))
    }

    #[test]
    fn the_newest_report_of_each_project_is_followed_and_the_others_named() {
        let found = [
            FoundReport { project_key: "web", path: Path::new("/s/web/b/report-task.txt"), modified: at(10) },
            FoundReport { project_key: "api", path: Path::new("/s/api/report-task.txt"), modified: at(5) },
            FoundReport { project_key: "web", path: Path::new("/s/web/a/report-task.txt"), modified: at(12) },
        ];
        let choice = choose_reports(&found, at(1));
        assert_eq!(choice.chosen, vec![1, 2]);
        assert_eq!(
            choice.warnings,
            vec![
                "2 report-task.txt files name project 'web': using /s/web/a/report-task.txt, the newest, and ignoring /s/web/b/report-task.txt (a scanner that ran twice in one build leaves one per run)"
            ]
        );
    }

    #[test]
    fn a_report_written_before_the_pipeline_started_is_named_with_its_age() {
        let found = [FoundReport { project_key: "web", path: Path::new("/s/report-task.txt"), modified: at(100) }];
        let choice = choose_reports(&found, at(145));
        assert_eq!(choice.chosen, vec![0]);
        assert_eq!(choice.warnings.len(), 1);
        assert!(
            choice.warnings[0].starts_with("/s/report-task.txt was written 45 minute(s) before this pipeline run started"),
            "{:?}",
            choice.warnings
        );
        // Written after the start, or with no time known: nothing to say.
        assert!(choose_reports(&found, at(99)).warnings.is_empty());
        let unknown = [FoundReport { modified: None, ..found[0] }];
        assert!(choose_reports(&unknown, at(145)).warnings.is_empty());
    }

    #[test]
    fn equal_write_times_fall_back_on_the_path() {
        let found = [
            FoundReport { project_key: "p", path: Path::new("/b/report-task.txt"), modified: None },
            FoundReport { project_key: "p", path: Path::new("/a/report-task.txt"), modified: None },
        ];
        assert_eq!(choose_reports(&found, None).chosen, vec![0]);
    }
}
