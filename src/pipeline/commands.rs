//! Azure Pipelines logging commands (`##vso[area.event props]message`) and their escaping.
//!
//! The agent parses every output line (`Command.cs` `TryParse`): it looks for `##vso[` anywhere in
//! the line, takes the command up to the first `]`, splits properties on `;` and the first `=`, and
//! unescapes values and message with `CommandStringConvertor` (`%0D`, `%0A`, `%5D`, `%3B` first,
//! `%AZP25` last). Everything here mirrors those rules exactly, so what we write is what it reads.

/// Escapes a property value: `%` first (so later escapes are not double-escaped), then CR, LF, `]`, `;`.
pub(crate) fn escape_property(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '%' => out.push_str("%AZP25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ']' => out.push_str("%5D"),
            ';' => out.push_str("%3B"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a command's message. The agent also decodes `%5D` and `%3B` there, so escaping `]` and
/// `;` is harmless; doing it keeps one escaping function and makes a message that contains `]`
/// unambiguous to any other reader of the log.
pub(crate) fn escape_message(message: &str) -> String {
    escape_property(message)
}

/// The agent's unescaping (`CommandStringConvertor.Unescape` with `DECODE_PERCENTS` on, the
/// default). Used by tests and by the demo's view of what the agent shows.
pub(crate) fn unescape(escaped: &str) -> String {
    escaped.replace("%0D", "\r").replace("%0A", "\n").replace("%5D", "]").replace("%3B", ";").replace("%AZP25", "%")
}

/// Makes text that came from outside (server messages, file paths, PR data) safe to print as a
/// plain log line: it can never start or contain a live `##vso[` or `##[` command, nor break out
/// into a new line, nor restyle the log (ANSI sequences, bidi overrides and other control
/// characters are shown as `<U+XXXX>` tags). The `##` prefix is split by a space, which keeps the
/// text readable and is visible in the log, unlike a zero-width character a reader could not see.
/// Secrets are masked before this runs, so the space never lands inside one.
pub fn neutralize(text: &str) -> String {
    crate::text::visible(&text.replace("\r\n", " ")).replace("##vso[", "# #vso[").replace("##[", "# #[")
}

/// The result `task.complete` reports, as the agent understands it (`TaskResult`, case-sensitive
/// names). A value, not I/O: the decisions choose it, the log writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskResult {
    Succeeded,
    SucceededWithIssues,
    Failed,
}

impl TaskResult {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TaskResult::Succeeded => "Succeeded",
            TaskResult::SucceededWithIssues => "SucceededWithIssues",
            TaskResult::Failed => "Failed",
        }
    }
}

/// One logging command, formatted on a single line.
pub struct Command<'a> {
    area_event: &'a str,
    properties: Vec<(&'a str, String)>,
    message: String,
}

impl<'a> Command<'a> {
    pub fn new(area_event: &'a str) -> Self {
        Self { area_event, properties: Vec::new(), message: String::new() }
    }

    /// Adds a property. Empty values are skipped, as task-lib does and as the agent ignores them.
    pub fn property(mut self, key: &'a str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.properties.push((key, value));
        }
        self
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// The line as the agent must receive it, without the trailing newline.
    pub fn render(&self) -> String {
        let mut line = format!("##vso[{}", self.area_event);
        if !self.properties.is_empty() {
            line.push(' ');
            for (key, value) in &self.properties {
                line.push_str(key);
                line.push('=');
                line.push_str(&escape_property(value));
                line.push(';');
            }
        }
        line.push(']');
        line.push_str(&escape_message(&self.message));
        line
    }
}

/// A parsed logging command, as the agent's `Command.TryParse` sees a line. Tests use it to hold our
/// output against the agent's reading of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub area: String,
    pub event: String,
    pub properties: Vec<(String, String)>,
    pub message: String,
}

impl ParsedCommand {
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Parses one output line the way the agent does; `None` when the line holds no command.
pub fn parse_line(line: &str) -> Option<ParsedCommand> {
    const PREFIX: &str = "##vso[";
    let start = line.find(PREFIX)? + PREFIX.len();
    let rest = &line[start..];
    let end = rest.find(']')?;
    let info = &rest[..end];
    let message = unescape(&rest[end + 1..]);
    let (area_event, props) = match info.find(' ') {
        Some(i) => (&info[..i], &info[i + 1..]),
        None => (info, ""),
    };
    let mut parts = area_event.split('.');
    let (area, event) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let properties = props
        .split(';')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            (!v.is_empty()).then(|| (k.trim().to_string(), unescape(v)))
        })
        .collect();
    Some(ParsedCommand { area: area.to_string(), event: event.to_string(), properties, message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_percent_first() {
        assert_eq!(escape_property("50%;a]b\r\n"), "50%AZP25%3Ba%5Db%0D%0A");
        assert_eq!(unescape("50%AZP25%3Ba%5Db%0D%0A"), "50%;a]b\r\n");
        // A literal "%0A" in the text must come back as itself, not as a newline.
        assert_eq!(unescape(&escape_message("%0A")), "%0A");
    }

    #[test]
    fn renders_like_task_lib() {
        let line = Command::new("task.setvariable")
            .property("variable", "qualityGateStatus")
            .property("isOutput", "true")
            .property("isSecret", "")
            .message("OK")
            .render();
        assert_eq!(line, "##vso[task.setvariable variable=qualityGateStatus;isOutput=true;]OK");
    }

    #[test]
    fn neutralizes_injected_commands() {
        let hostile = "fix this ##vso[task.complete result=Succeeded]done\n##[error]x";
        let safe = neutralize(hostile);
        assert!(!safe.contains("##vso["));
        assert!(!safe.contains("##["));
        assert!(!safe.contains('\n'));
        assert!(parse_line(&safe).is_none());
    }

    proptest! {
        /// Whatever the text, the agent reads back exactly what we meant, in one command on one line.
        #[test]
        fn escaping_round_trips_through_the_agent(prop in ".*", msg in ".*") {
            let line = Command::new("task.logissue").property("type", "error").property("code", prop.clone()).message(msg.clone()).render();
            prop_assert!(!line.contains('\n') && !line.contains('\r'));
            let parsed = parse_line(&line).expect("our own command parses");
            prop_assert_eq!(&parsed.message, &msg);
            if prop.is_empty() {
                prop_assert_eq!(parsed.property("code"), None);
            } else {
                prop_assert_eq!(parsed.property("code"), Some(prop.as_str()));
            }
        }

        #[test]
        fn neutralized_text_never_parses_as_a_command(text in "(##vso\\[|##\\[|[a-z\\]\\[#;=\n ])*") {
            let safe = neutralize(&text);
            prop_assert!(parse_line(&safe).is_none());
            prop_assert!(!safe.contains("##["));
        }
    }
}
