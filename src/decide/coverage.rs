//! Which new lines tests do not cover, as a reviewer reads them: ranges of uncovered lines (a line
//! coverage does not count, blank or a comment, does not break a range; a covered one does) and
//! the lines whose conditions are only partly covered.

use crate::changes::{Placement, PrChanges};
use crate::sonar::model::SourceLine;

/// One file's gaps in coverage on new lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Gaps {
    /// First and last line of each run of uncovered new lines.
    pub(crate) uncovered: Vec<(u32, u32)>,
    /// (line, covered conditions, conditions) of new lines that run but not every branch of.
    pub(crate) partly: Vec<(u32, u32, u32)>,
}

/// The gaps of a file's new lines (in any order; lines that are not new are left out).
pub(crate) fn gaps(lines: &[SourceLine]) -> Gaps {
    let mut new: Vec<&SourceLine> = lines.iter().filter(|l| l.is_new).collect();
    new.sort_by_key(|l| l.line);
    let mut g = Gaps::default();
    let mut open: Option<(u32, u32)> = None;
    for l in new {
        match l.line_hits {
            None => {}
            Some(0) => {
                open = Some(open.map_or((l.line, l.line), |(first, _)| (first, l.line)));
            }
            Some(_) => {
                g.uncovered.extend(open.take());
                if let (Some(total), covered) = (l.conditions, l.covered_conditions.unwrap_or(0))
                    && covered < total
                {
                    g.partly.push((l.line, covered, total));
                }
            }
        }
    }
    g.uncovered.extend(open);
    g
}

/// Coverage on the lines a pull request changed, from an analysis of the whole branch (Community
/// Build): each changed file's lines, placed on the PR's own lines, counted as SonarQube counts
/// coverage (lines to cover and conditions to cover together).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChangedCoverage {
    /// Each changed file with gaps (path with a leading `/`), line numbers as the PR shows them.
    pub(crate) files: Vec<(String, Gaps)>,
    pub(crate) lines_to_cover: u64,
    pub(crate) uncovered_lines: u64,
    pub(crate) conditions: u64,
    pub(crate) uncovered_conditions: u64,
    /// Changed files whose lines were not read (more than were read, or not readable).
    pub(crate) files_not_read: usize,
    /// Changed files whose lines were read.
    pub(crate) files_read: usize,
}

impl ChangedCoverage {
    /// The share covered, in percent, as SonarQube's coverage: (covered lines + covered
    /// conditions) / (lines to cover + conditions to cover). `None` when nothing is to cover.
    pub(crate) fn percent(&self) -> Option<f64> {
        let total = self.lines_to_cover + self.conditions;
        let covered = (self.lines_to_cover - self.uncovered_lines) + (self.conditions - self.uncovered_conditions);
        (total > 0).then(|| covered as f64 * 100.0 / total as f64)
    }
}

/// The coverage of the changed lines: `files` are the analysed commit's lines of each changed file
/// (path with a leading `/`), placed on the PR's lines by `changes`; lines the PR did not change,
/// and lines of the merge commit that are not the PR's, are left out.
pub(crate) fn changed_lines_coverage(files: &[(String, Option<Vec<SourceLine>>)], changes: &PrChanges) -> ChangedCoverage {
    let mut c = ChangedCoverage::default();
    for (path, lines) in files {
        let Some(lines) = lines else {
            c.files_not_read += 1;
            continue;
        };
        c.files_read += 1;
        let changed: Vec<SourceLine> = lines
            .iter()
            .filter_map(|l| match changes.place(path, l.line) {
                Placement::Changed(source_line) => Some(SourceLine { line: source_line, is_new: true, ..l.clone() }),
                _ => None,
            })
            .collect();
        for l in changed.iter().filter(|l| l.line_hits.is_some()) {
            c.lines_to_cover += 1;
            c.uncovered_lines += u64::from(l.line_hits == Some(0));
            let total = u64::from(l.conditions.unwrap_or(0));
            c.conditions += total;
            c.uncovered_conditions += total.saturating_sub(u64::from(l.covered_conditions.unwrap_or(0)));
        }
        let g = gaps(&changed);
        if !g.uncovered.is_empty() || !g.partly.is_empty() {
            c.files.push((path.clone(), g));
        }
    }
    c
}

/// The pull request's own coverage condition (`minChangedLinesCoverage`): why it fails, if it does.
/// Nothing to cover is no failure.
pub(crate) fn coverage_gate(c: &ChangedCoverage, min_percent: Option<f64>) -> Option<String> {
    let (min, percent) = (min_percent?, c.percent()?);
    (percent + 1e-9 < min).then(|| {
        format!(
            "{percent:.1}% of the changed lines are covered by tests, below the {min}% the pull request's gate requires ({} of {} lines and conditions not covered)",
            c.uncovered_lines + c.uncovered_conditions,
            c.lines_to_cover + c.conditions
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u32, hits: Option<u64>, conditions: Option<(u32, u32)>, is_new: bool) -> SourceLine {
        SourceLine { line: n, line_hits: hits, conditions: conditions.map(|c| c.1), covered_conditions: conditions.map(|c| c.0), is_new }
    }

    #[test]
    fn runs_of_uncovered_new_lines_and_partly_covered_branches() {
        let lines = [
            line(10, Some(0), None, true),
            line(11, None, None, true), // a blank line does not break the run
            line(12, Some(0), None, true),
            line(13, Some(3), Some((1, 2)), true),
            line(14, Some(0), None, false), // not new: not this pull request's
            line(15, Some(0), None, true),
            line(16, Some(2), Some((2, 2)), true),
            line(20, Some(0), None, true),
        ];
        assert_eq!(gaps(&lines), Gaps { uncovered: vec![(10, 12), (15, 15), (20, 20)], partly: vec![(13, 1, 2)] });
        assert_eq!(gaps(&[]), Gaps::default());
        let mut shuffled = lines.to_vec();
        shuffled.reverse();
        assert_eq!(gaps(&shuffled), gaps(&lines), "the server's order does not matter");
    }

    #[test]
    fn coverage_of_the_changed_lines_on_the_prs_own_lines() {
        use crate::changes::{Block, FileDiff};
        use std::collections::BTreeMap;
        // The PR changed lines 10–13 of /A.java; the merge commit has 2 more lines above (from the
        // target branch), so its lines 12–15 are the PR's 10–13, and its 1–2 are not the PR's.
        let mut pr = BTreeMap::new();
        pr.insert(
            "/A.java".to_string(),
            FileDiff { blocks: vec![Block { original_start: 9, original_count: 0, modified_start: 10, modified_count: 4 }] },
        );
        let mut merge = BTreeMap::new();
        merge.insert(
            "/A.java".to_string(),
            FileDiff { blocks: vec![Block { original_start: 0, original_count: 0, modified_start: 1, modified_count: 2 }] },
        );
        let changes = PrChanges { pr, merge };
        let lines = vec![
            line(1, Some(0), None, false),
            line(12, Some(1), Some((1, 2)), false),
            line(13, Some(0), None, false),
            line(14, None, None, false),
            line(15, Some(0), None, false),
            line(16, Some(0), None, false), // PR line 14: unchanged
        ];
        let c = changed_lines_coverage(&[("/A.java".into(), Some(lines)), ("/B.java".into(), None)], &changes);
        assert_eq!(
            (c.lines_to_cover, c.uncovered_lines, c.conditions, c.uncovered_conditions, c.files_not_read, c.files_read),
            (3, 2, 2, 1, 1, 1)
        );
        assert_eq!(c.files, vec![("/A.java".to_string(), Gaps { uncovered: vec![(11, 13)], partly: vec![(10, 1, 2)] })]);
        assert_eq!(c.percent().map(|p| (p * 10.0).round() / 10.0), Some(40.0));
        assert_eq!(
            coverage_gate(&c, Some(80.0)).as_deref(),
            Some(
                "40.0% of the changed lines are covered by tests, below the 80% the pull request's gate requires (3 of 5 lines and conditions not covered)"
            )
        );
        assert_eq!(coverage_gate(&c, Some(40.0)), None);
        assert_eq!(coverage_gate(&c, None), None);
        assert_eq!(coverage_gate(&ChangedCoverage::default(), Some(80.0)), None, "nothing to cover is no failure");
    }
}
