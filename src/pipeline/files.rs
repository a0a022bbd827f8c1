//! Finding files in the agent's folders by a pattern (`*`, `?`, `[…]` within a name, `**` for any
//! folders in between), within a deadline and never round a symlink loop.
//!
//! The workspace is untrusted: an earlier build step can leave anything in it. The `glob` crate's
//! walk follows symlinked folders under `**`, so two links back to their own folder made it read
//! 2^40 paths (issue 26: report discovery ran past the run's time limit). Here `**` does not enter
//! symlinked folders (as `find`, git and ripgrep do not by default), which leaves no cycle to go
//! round (and a folder's real path is entered once, in case a file system shows a link as a plain
//! folder); a named folder or a `*` in the pattern may still be a link, which costs one level each.
//! Every folder entry read is counted and the deadline checked, so a huge tree stops the search
//! with a message instead of the run.

use std::path::{Path, PathBuf};
use std::time::Instant;

/// One part of a pattern, between separators.
enum Part {
    /// A name to join as it is.
    Name(String),
    /// A name with wildcards: matched against each entry of the folder.
    Wildcard(glob::Pattern),
    /// `**`: this folder and every folder below it (not through a symlink).
    AnyFolders,
}

/// The search ran out of time: where it was, and how much it had read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OutOfTime {
    pub(crate) entries_read: u64,
    pub(crate) folder: PathBuf,
}

/// The files (not folders) matching `pattern`, relative to `base` unless it is absolute, sorted.
/// Separators may be `/` or `\` in a relative pattern. An invalid wildcard (`[` unclosed) is taken
/// as a plain name, so it matches a file of exactly that name.
pub(crate) fn matching_files(base: &Path, pattern: &str, deadline: Instant) -> Result<Vec<PathBuf>, OutOfTime> {
    let (root, parts) = split(base, pattern);
    let mut found = Vec::new();
    let mut entries_read = 0u64;
    let mut entered = std::collections::HashSet::new();
    // Depth first with a stack of its own: no recursion, however deep the tree.
    let mut pending = vec![(root, 0usize)];
    while let Some((path, at)) = pending.pop() {
        let Some(part) = parts.get(at) else {
            if path.is_file() {
                found.push(path);
            }
            continue;
        };
        match part {
            Part::Name(name) => pending.push((path.join(name), at + 1)),
            Part::Wildcard(_) | Part::AnyFolders => {
                if matches!(part, Part::AnyFolders) {
                    pending.push((path.clone(), at + 1));
                }
                let Ok(entries) = std::fs::read_dir(&path) else { continue };
                for entry in entries.flatten() {
                    entries_read += 1;
                    if Instant::now() >= deadline {
                        return Err(OutOfTime { entries_read, folder: path });
                    }
                    match part {
                        Part::Wildcard(wildcard) => {
                            if entry.file_name().to_str().is_some_and(|name| wildcard.matches_with(name, OPTIONS)) {
                                pending.push((entry.path(), at + 1));
                            }
                        }
                        // `file_type` does not follow a link: a symlinked folder is a symlink here.
                        // Where a file system shows a link as a plain folder (Wine's view of a
                        // Unix symlink), the folder's real path is entered once only.
                        _ => {
                            let path = entry.path();
                            if entry.file_type().is_ok_and(|t| t.is_dir())
                                && std::fs::canonicalize(&path).is_ok_and(|real| entered.insert(real))
                            {
                                pending.push((path, at));
                            }
                        }
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// As the pattern was matched before this walker: case-sensitive, `*` never spans a separator, a
/// leading dot matched like any character.
const OPTIONS: glob::MatchOptions =
    glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: false };

/// The folder the pattern starts from (written as it is: brackets in the agent's own path are not
/// wildcards) and the pattern's parts after it.
fn split(base: &Path, pattern: &str) -> (PathBuf, Vec<Part>) {
    use std::path::Component;
    let as_path = Path::new(pattern);
    let (root, rest): (PathBuf, Vec<String>) = if as_path.has_root() || matches!(as_path.components().next(), Some(Component::Prefix(_))) {
        // An absolute pattern: its leading parts without wildcards are the root.
        let mut components = as_path.components().peekable();
        let mut root = PathBuf::new();
        while let Some(c) = components.next_if(|c| !matches!(c, Component::Normal(n) if n.to_string_lossy().contains(['*', '?', '[']))) {
            root.push(c);
        }
        (root, components.map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
    } else {
        (base.to_path_buf(), pattern.split(['/', '\\']).map(str::to_string).collect())
    };
    let parts = rest
        .into_iter()
        .filter(|p| !p.is_empty() && p != ".")
        .map(|p| match p.as_str() {
            "**" => Part::AnyFolders,
            _ if p.contains(['*', '?', '[']) => glob::Pattern::new(&p).map_or_else(|_| Part::Name(p.clone()), Part::Wildcard),
            _ => Part::Name(p),
        })
        .collect();
    (root, parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x").unwrap();
    }

    #[test]
    fn wildcards_and_any_folders_match_as_glob_did() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        for f in ["r.txt", "a/r.txt", "a/b/c/r.txt", ".hidden/r.txt", "a/x.txt", "m1/.scannerwork/r.txt", "m2/.scannerwork/r.txt"] {
            touch(&base.join(f));
        }
        let names = |pattern: &str| -> Vec<String> {
            matching_files(base, pattern, later())
                .unwrap()
                .iter()
                .map(|p| p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"))
                .collect()
        };
        assert_eq!(
            names("**/r.txt"),
            [".hidden/r.txt", "a/b/c/r.txt", "a/r.txt", "m1/.scannerwork/r.txt", "m2/.scannerwork/r.txt", "r.txt"]
        );
        assert_eq!(names("*/.scannerwork/r.txt"), ["m1/.scannerwork/r.txt", "m2/.scannerwork/r.txt"]);
        assert_eq!(names("a\\*.txt"), ["a/r.txt", "a/x.txt"]);
        assert_eq!(names("a/**"), Vec::<String>::new(), "folders are not files");
        assert_eq!(names("[ab]/?.txt"), ["a/r.txt", "a/x.txt"]);
        assert_eq!(names("a/[unclosed"), Vec::<String>::new());
        let absolute = format!("{}/**/c/*.txt", base.display());
        assert_eq!(matching_files(Path::new("elsewhere"), &absolute, later()).unwrap(), [base.join("a/b/c/r.txt")]);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_not_followed_by_any_folders_and_end_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        touch(&base.join("work/sonar/r.txt"));
        // Two links back up at every level: 2^40 paths for a walk that follows them.
        for level in ["work", "work/sonar"] {
            std::os::unix::fs::symlink("..", base.join(level).join("up1")).unwrap();
            std::os::unix::fs::symlink(".", base.join(level).join("here")).unwrap();
        }
        let found = matching_files(base, "**/r.txt", later()).unwrap();
        assert_eq!(found, [base.join("work/sonar/r.txt")]);
        // A link named in the pattern is followed: one level, by the pattern's own length.
        assert_eq!(matching_files(base, "work/here/sonar/*.txt", later()).unwrap(), [base.join("work/here/sonar/r.txt")]);
    }

    #[test]
    fn a_search_past_its_deadline_says_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("a/r.txt"));
        let stopped = matching_files(dir.path(), "**/r.txt", Instant::now()).unwrap_err();
        assert_eq!(stopped, OutOfTime { entries_read: 1, folder: dir.path().to_path_buf() });
        // A pattern without wildcards reads no folder, so it has no deadline to miss.
        assert_eq!(matching_files(dir.path(), "a/r.txt", Instant::now()).unwrap(), [dir.path().join("a/r.txt")]);
    }
}
