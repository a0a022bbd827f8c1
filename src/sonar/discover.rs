//! Finding every `report-task.txt` this build wrote (an explicit path or glob, Prepare's variables,
//! the scanners' conventional work folders) and loading them, each file read with a size limit.

use std::path::{Path, PathBuf};

use std::time::Instant;

use super::SonarNames;
use super::report_task::{ReportTask, SearchPaths, parse};
use crate::error::Error;
use crate::pipeline::files::{OutOfTime, matching_files};

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
type DiscoveryStep<'a> = Box<dyn Fn(&mut Searched) -> Result<Vec<PathBuf>, OutOfTime> + 'a>;

/// The scanners' working folders, where each writes report-task.txt.
const WORK_DIRS: [&str; 4] = [".scannerwork", "target/sonar", "build/sonar", ".sonarqube/out/.sonar"];

/// Finds every report-task.txt of this build, in the documented order; the first step that finds
/// any file wins, and all files it finds count (a monorepo build has several analyses). A search
/// still going at `deadline` (the end of pollingTimeoutSec) stops with a message saying where.
pub(crate) fn discover(explicit: Option<&str>, paths: &SearchPaths, names: &SonarNames, deadline: Instant) -> Result<Vec<PathBuf>, Error> {
    let mut searched = Searched(Vec::new());
    let base = paths.sources_directory.clone().or_else(|| paths.working_directory.clone()).unwrap_or_else(|| PathBuf::from("."));
    let out_of_time = |stopped: OutOfTime| {
        Error::ReportTask(format!(
            "the search for report-task.txt was still going when {} ran out, after reading {} folder entries, in {}: name the file itself in {}, e.g. {}",
            names.polling_timeout,
            stopped.entries_read,
            stopped.folder.display(),
            names.report_task_file,
            names.report_task_example
        ))
    };
    let expand = |base: &Path, pattern: &str, searched: &mut Searched, note: bool| expand(base, pattern, searched, note, deadline);

    if let Some(pattern) = explicit {
        let found = expand(&base, pattern, &mut searched, true).map_err(out_of_time)?;
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
        Box::new(|s| paths.report_task_variable.as_deref().map_or(Ok(Vec::new()), |p| expand(&base, p, s, true))),
        Box::new(|s| paths.legacy_report_task_variable.as_deref().map_or(Ok(Vec::new()), |p| expand(&base, p, s, true))),
        Box::new(|s| paths.prepare_metadata_file.as_deref().map_or(Ok(Vec::new()), |p| expand(&base, p, s, true))),
        Box::new(|s| {
            let Some(temp) = &paths.agent_temp_directory else { return Ok(Vec::new()) };
            // Prepare 5 and later write under the build id, Prepare 4 under the build number.
            let folders: Vec<&String> = [&paths.build_id, &paths.build_number].into_iter().flatten().collect();
            if folders.is_empty() {
                return expand(temp, "sonar/**/report-task.txt", s, true);
            }
            let mut found = Vec::new();
            for folder in folders {
                found.extend(expand(temp, &format!("sonar/{}/**/report-task.txt", glob::Pattern::escape(folder)), s, true)?);
            }
            Ok(found)
        }),
        Box::new(|s| {
            let mut found = Vec::new();
            for dir in WORK_DIRS {
                // The project's root, and up to two folders down for monorepos whose scanner ran in a subfolder.
                for depth in ["", "*/", "*/*/"] {
                    found.extend(expand(&base, &format!("{depth}{dir}/report-task.txt"), s, false)?);
                }
            }
            s.note(format!("{}, and up to two folders below it: {}/report-task.txt", base.display(), WORK_DIRS.join("/report-task.txt, ")));
            Ok(found)
        }),
        Box::new(|s| {
            let Some(build) = &paths.agent_build_directory else { return Ok(Vec::new()) };
            expand(build, ".sonarqube/out/.sonar/report-task.txt", s, true)
        }),
    ];
    for step in steps {
        let mut found = step(&mut searched).map_err(out_of_time)?;
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
fn expand(base: &Path, pattern: &str, searched: &mut Searched, note: bool, deadline: Instant) -> Result<Vec<PathBuf>, OutOfTime> {
    let full = join_relative(base, pattern);
    if note {
        searched.note(full.to_string_lossy().into_owned());
    }
    if !pattern.contains(['*', '?', '[']) {
        return Ok(if full.is_file() { vec![full] } else { Vec::new() });
    }
    matching_files(base, pattern, deadline)
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
    fn a_huge_file_is_refused_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report-task.txt");
        // Sparse: 3 GiB on paper, nothing on disk, and nothing read.
        std::fs::File::create(&path).unwrap().set_len(3 << 30).unwrap();
        let err = load_all(std::slice::from_ref(&path)).unwrap_err().to_string();
        assert!(err.ends_with("is larger than 1 MiB; it is not a report-task.txt written by a SonarQube scanner"), "{err}");
    }
}
