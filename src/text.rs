//! Text from outside (servers, files) made visible: control characters, ANSI escape sequences and
//! bidirectional overrides would otherwise restyle a log or reorder what a reviewer reads, so each
//! is shown as a `<U+XXXX>` tag instead. Line breaks are folded to spaces here too: callers that
//! keep lines split them first.

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
