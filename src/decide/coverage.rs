//! Which new lines tests do not cover, as a reviewer reads them: ranges of uncovered lines (a line
//! coverage does not count, blank or a comment, does not break a range; a covered one does) and
//! the lines whose conditions are only partly covered.

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
}
