//! What a pull request changed, line by line, and where a line of the analysed merge commit sits in
//! the PR's source commit. Pure functions over diff blocks, which come either from Azure DevOps'
//! file diffs or from `git diff -U0` (read by the `git` module).
//!
//! PR builds analyse the merge commit, while the PR's diff view shows the source commit. Where the
//! target branch also changed a file, the two disagree on line numbers: every line of the merge
//! commit outside the blocks that differ from the source commit maps to a source line by a fixed
//! offset; a line inside such a block came from the target branch (or a conflict resolution) and
//! has no source line.

use std::collections::BTreeMap;

/// One block of a line diff between an original (old) and a modified (new) file, 1-based, as
/// Azure DevOps' `lineDiffBlocks` and git's hunk headers give it. A count of 0 means the block is
/// empty on that side (a pure insertion or deletion), and its start is then the line *before* it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub(crate) original_start: u32,
    pub(crate) original_count: u32,
    pub(crate) modified_start: u32,
    pub(crate) modified_count: u32,
}

/// A file's diff: its blocks, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FileDiff {
    pub(crate) blocks: Vec<Block>,
}

impl FileDiff {
    /// The lines of the modified side that the diff adds or changes, as inclusive ranges.
    pub(crate) fn modified_ranges(&self) -> Vec<(u32, u32)> {
        self.blocks.iter().filter(|b| b.modified_count > 0).map(|b| (b.modified_start, b.modified_start + b.modified_count - 1)).collect()
    }

    /// Maps a line of the modified side back to the original side: `None` when the line is one
    /// the diff added or changed.
    pub(crate) fn to_original(&self, modified_line: u32) -> Option<u32> {
        let mut offset: i64 = 0;
        for b in &self.blocks {
            let block_end = if b.modified_count == 0 { b.modified_start } else { b.modified_start + b.modified_count - 1 };
            if b.modified_count > 0 && (b.modified_start..=block_end).contains(&modified_line) {
                return None;
            }
            let first_after = if b.modified_count == 0 { b.modified_start + 1 } else { block_end + 1 };
            if modified_line < first_after {
                break;
            }
            offset += i64::from(b.original_count) - i64::from(b.modified_count);
        }
        u32::try_from(i64::from(modified_line) + offset).ok().filter(|l| *l > 0)
    }
}

/// Parses `git diff -U0` output into per-file diffs keyed by the new path (with a leading `/`).
/// Renames keep the new path; deleted files are left out; binary files have no blocks.
pub(crate) fn parse_unified(diff: &str) -> BTreeMap<String, FileDiff> {
    let mut files = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in diff.lines() {
        if line.starts_with("diff --git ") {
            current = None;
        } else if let Some(path) = line.strip_prefix("+++ ") {
            current = match path {
                "/dev/null" => None,
                p => Some(format!("/{}", unquote(p).strip_prefix("b/").unwrap_or(&unquote(p)))),
            };
            if let Some(p) = &current {
                files.entry(p.clone()).or_insert_with(FileDiff::default);
            }
        } else if let Some(header) = line.strip_prefix("@@ ")
            && let Some(path) = &current
            && let Some(block) = parse_hunk_header(header)
        {
            files.entry(path.clone()).or_insert_with(FileDiff::default).blocks.push(block);
        }
    }
    files
}

/// `-a[,b] +c[,d] @@ …`
fn parse_hunk_header(header: &str) -> Option<Block> {
    let mut parts = header.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |s: &str| -> Option<(u32, u32)> {
        match s.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (original_start, original_count) = range(old)?;
    let (modified_start, modified_count) = range(new)?;
    Some(Block { original_start, original_count, modified_start, modified_count })
}

/// git quotes paths with unusual characters ("a/dir/na\"me"); octal escapes are decoded.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else { return path.to_string() };
    let mut out = Vec::new();
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            if i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
                out.push(u8::from_str_radix(&inner[i + 1..i + 4], 8).unwrap_or(b'?'));
                i += 4;
                continue;
            }
            out.push(match b[i + 1] {
                b'n' => b'\n',
                b't' => b'\t',
                c => c,
            });
            i += 2;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where an issue of the analysed commit lands in the pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On a line the PR added or changed, at this line of the source commit.
    Changed(u32),
    /// In a file the PR changed, but on a line it did not touch.
    Unchanged,
    /// In a file the PR changed, on a line of the merge commit with no source line (it came from
    /// the target branch or a conflict resolution): reported, never placed on a wrong line.
    Unmappable,
    /// In a file the PR did not change.
    OutsidePr,
}

/// The PR's changes: per file, the source side's added/changed lines, and (where the analysed
/// merge commit differs from the source commit) the diff from source to merge.
#[derive(Clone, Debug, Default)]
pub(crate) struct PrChanges {
    /// Path (leading `/`) → the PR's diff, target (merge base) → source commit.
    pub(crate) pr: BTreeMap<String, FileDiff>,
    /// Path → the diff source commit → analysed merge commit, for files that differ.
    pub(crate) merge: BTreeMap<String, FileDiff>,
}

impl PrChanges {
    /// Places an issue reported on `line` of `path` in the analysed commit.
    pub(crate) fn place(&self, path: &str, line: u32) -> Placement {
        let Some(pr_diff) = self.pr.get(path) else { return Placement::OutsidePr };
        let source_line = match self.merge.get(path) {
            Some(merge_diff) => match merge_diff.to_original(line) {
                Some(l) => l,
                None => return Placement::Unmappable,
            },
            None => line,
        };
        if pr_diff.modified_ranges().iter().any(|(a, b)| (*a..=*b).contains(&source_line)) {
            Placement::Changed(source_line)
        } else {
            Placement::Unchanged
        }
    }
}

/// Why the pull request's changed lines are not known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChangesUnknown {
    #[error("the pull request has no iteration")]
    NoIteration,
    #[error("iteration {0} names no source or merge-base commit")]
    NoCommits(u32),
    /// A read failed (Azure DevOps listing or diffing the files, SonarQube listing their issues):
    /// the error's message (the error itself is not `Clone`, and one listing serves several readers).
    #[error("{0}")]
    ReadFailed(String),
    /// The changed lines were not read (nothing asked for them).
    #[error("the pull request's changes were not read")]
    NotRead,
    /// Neither Azure DevOps nor the local clone could give them.
    #[error("{api}; local clone: {git}")]
    NeitherSource { api: Box<ChangesUnknown>, git: LocalCloneError },
}

/// Why the local clone could not give the line diffs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LocalCloneError {
    #[error(
        "git could not be started ({0}), so the changed lines cannot be read from the local clone: put Git on the agent's PATH (on Windows agents, Git for Windows)"
    )]
    GitNotStarted(String),
    /// Not "fetch more" when git is missing: the user would fetch more history and still fail.
    #[error("commit {0} is not in the local clone (a shallow fetch keeps only the built commit)")]
    MissingCommit(String),
    /// git ran and failed: the command and its error output.
    #[error("{0}")]
    GitFailed(String),
    /// git was still running when the time the run gives it was up, and was stopped.
    #[error(
        "{command} was still running after {after_secs} s and was stopped: the local clone gets at most {more_time}, ending 30 s before the run's own limit so the results can still be posted. Raise {more_time} to give it longer"
    )]
    GitStopped { command: String, after_secs: u64, more_time: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(os: u32, oc: u32, ms: u32, mc: u32) -> Block {
        Block { original_start: os, original_count: oc, modified_start: ms, modified_count: mc }
    }

    #[test]
    fn parses_git_hunks_renames_and_deletions() {
        let diff = "diff --git a/src/A.java b/src/A.java\nindex 1..2 100644\n--- a/src/A.java\n+++ b/src/A.java\n@@ -10,3 +10,4 @@ class A {\n-x\n+y\n@@ -40 +41,0 @@\n-z\n\
diff --git a/old.txt b/new name.txt\nsimilarity index 90%\nrename from old.txt\nrename to new name.txt\n--- a/old.txt\n+++ \"b/new name.txt\"\n@@ -1 +1 @@\n-a\n+b\n\
diff --git a/gone.rs b/gone.rs\ndeleted file mode 100644\n--- a/gone.rs\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n\
diff --git a/logo.png b/logo.png\nBinary files a/logo.png and b/logo.png differ\n";
        let files = parse_unified(diff);
        assert_eq!(files["/src/A.java"].blocks, [block(10, 3, 10, 4), block(40, 1, 41, 0)]);
        assert_eq!(files["/new name.txt"].blocks, [block(1, 1, 1, 1)]);
        assert!(!files.contains_key("/gone.rs"));
        assert_eq!(files["/src/A.java"].modified_ranges(), [(10, 13)]);
    }

    #[test]
    fn maps_modified_lines_back_across_insertions_and_deletions() {
        // 5 lines inserted after line 0 (at the top), line 20 changed into 2 lines, line 30 deleted.
        let d = FileDiff { blocks: vec![block(0, 0, 1, 5), block(20, 1, 25, 2), block(30, 1, 35, 0)] };
        assert_eq!(d.to_original(3), None, "an inserted line has no original");
        assert_eq!(d.to_original(6), Some(1));
        assert_eq!(d.to_original(24), Some(19));
        assert_eq!(d.to_original(25), None);
        assert_eq!(d.to_original(27), Some(21));
        assert_eq!(d.to_original(35), Some(29));
        assert_eq!(d.to_original(36), Some(31), "after the deleted line 30");
    }

    #[test]
    fn places_issues_on_the_source_side() {
        let mut c = PrChanges::default();
        // The PR changed source lines 10..12 of A.java; the target inserted 5 lines at the top.
        c.pr.insert("/A.java".into(), FileDiff { blocks: vec![block(10, 3, 10, 3)] });
        c.merge.insert("/A.java".into(), FileDiff { blocks: vec![block(0, 0, 1, 5)] });
        assert_eq!(c.place("/A.java", 16), Placement::Changed(11));
        assert_eq!(c.place("/A.java", 11), Placement::Unchanged, "merge line 11 is source line 6");
        assert_eq!(c.place("/A.java", 2), Placement::Unmappable);
        assert_eq!(c.place("/B.java", 2), Placement::OutsidePr);
    }
}
