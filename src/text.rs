//! Text from outside (servers, files) made visible: control characters, ANSI escape sequences and
//! bidirectional overrides would otherwise restyle a log or reorder what a reviewer reads, so each
//! is shown as a `<U+XXXX>` tag instead. Line breaks are folded to spaces here too: callers that
//! keep lines split them first. Dates in words (an expiry a person reads) live here too, for every layer.

/// Whether a character changes how the text around it is shown rather than being shown itself.
fn is_hidden_control(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters), and
        // the line and paragraph separators some renderers break on.
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
    )
}

/// One line of visible text: CR and LF become spaces, a tab a space, every other control
/// character (ESC of an ANSI sequence, a bidi override, NUL…) a visible `<U+XXXX>` tag.
pub(crate) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\t' => out.push(' '),
            c if is_hidden_control(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Whether the text has anything `visible` would change.
pub(crate) fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c == '\r' || c == '\n' || c == '\t' || is_hidden_control(c))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A moment (seconds since 1970-01-01, UTC) as a date in words: "December 10, 2026".
pub(crate) fn long_date(unix_seconds: i64) -> String {
    const MONTHS: [&str; 12] =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    let (y, m, d) = civil_from_days(unix_seconds.div_euclid(86_400));
    format!("{} {d:02}, {y}", MONTHS[(m - 1) as usize])
}

/// A moment's time of day in UTC, "14:32:13 UTC", as the agent stamps its log lines.
pub(crate) fn clock_time(unix_seconds: i64) -> String {
    let s = unix_seconds.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s % 3600 / 60, s % 60)
}

/// Days ahead in words: "today", "tomorrow", "in 5 days".
pub(crate) fn in_days(days: i64) -> String {
    match days {
        ..=0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        n => format!("in {n} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn controls_become_visible_tags() {
        assert_eq!(visible("red \u{1b}[31mALERT\u{1b}[0m"), "red <U+001B>[31mALERT<U+001B>[0m");
        assert_eq!(visible("abc\u{202e}fed"), "abc<U+202E>fed");
        assert_eq!(visible("a\r\nb\tc"), "a  b c");
        assert_eq!(visible("plain ünïcode ✅"), "plain ünïcode ✅");
    }

    proptest! {
        #[test]
        fn nothing_hidden_survives(text in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a ]*") {
            let shown = visible(&text);
            prop_assert!(!has_controls(&shown), "{shown:?}");
        }
    }
}
