//! Where everything the task prints goes: agent logging commands in task mode, plain lines in CLI
//! mode, and in both every known secret masked and every line made safe from command injection.

use std::io::Write;
use std::sync::Mutex;

use super::commands::{Command, TaskResult, neutralize};
use crate::secret::Secret;

/// How output is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Under the agent: warnings and errors are `task.logissue` commands, groups fold, the outcome
    /// is `task.complete`.
    Agent,
    /// From a shell or another CI: `warning:` and `error:` lines on stderr, the rest on stdout.
    Plain,
}

struct Sinks {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    secrets: Vec<String>,
}

pub struct Log {
    style: Style,
    debug: bool,
    /// Whether `task.setsecret` lines are written: always under the agent, and in CLI mode when
    /// the CLI itself runs inside a pipeline script step (`TF_BUILD`), so the agent masks them too.
    announce_secrets: bool,
    sinks: Mutex<Sinks>,
}

const MASK: &str = "***";

impl Log {
    pub fn new(style: Style, debug: bool, announce_secrets: bool, out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Self {
        Self { style, debug, announce_secrets, sinks: Mutex::new(Sinks { out, err, secrets: Vec::new() }) }
    }

    pub(crate) fn stdio(style: Style, debug: bool, announce_secrets: bool) -> Self {
        Self::new(style, debug, announce_secrets, Box::new(std::io::stdout()), Box::new(std::io::stderr()))
    }

    pub(crate) fn style(&self) -> Style {
        self.style
    }

    /// Registers secrets with the agent's masker and with our own masking. Call before anything
    /// else is printed: the agent does not mask lines retroactively.
    pub(crate) fn register_secrets<'a>(&self, secrets: impl IntoIterator<Item = &'a Secret>) {
        let mut sinks = self.lock();
        for secret in secrets {
            let value = secret.expose();
            // A secret must be single-line for the agent; multi-line values are rejected earlier by
            // settings validation, so here every value is one line.
            if value.is_empty() || sinks.secrets.iter().any(|s| s == value) {
                continue;
            }
            if self.announce_secrets {
                let line = Command::new("task.setsecret").message(value).render();
                let _ = writeln!(sinks.out, "{line}");
            }
            sinks.secrets.push(value.to_string());
        }
        // Longest first, so a secret that contains another is masked whole.
        sinks.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let _ = sinks.out.flush();
    }

    pub(crate) fn info(&self, text: &str) {
        for line in text.lines() {
            self.write_out(&self.inert(line));
        }
        if text.is_empty() {
            self.write_out("");
        }
    }

    /// A warning. Its lines (a list, one item a line) stay lines: in the CLI the first follows
    /// "warning: " and the rest are printed as they are; under the agent they travel escaped in one
    /// `task.logissue`, which the agent shows as they were.
    pub(crate) fn warning(&self, text: &str) {
        self.issue("warning", text);
    }

    /// An error, printed like [`Log::warning`].
    pub(crate) fn error(&self, text: &str) {
        self.issue("error", text);
    }

    fn issue(&self, kind: &str, text: &str) {
        let lines = self.inert_lines(text);
        match self.style {
            Style::Agent => self.command(Command::new("task.logissue").property("type", kind).message(lines.join("\n"))),
            Style::Plain => {
                for (i, line) in lines.iter().enumerate() {
                    if i == 0 {
                        self.write_err(&format!("{kind}: {line}"));
                    } else {
                        self.write_err(line);
                    }
                }
            }
        }
    }

    /// Text as it may be printed: secrets masked first (so neutralizing can never split one and
    /// leave it readable), then commands defused and control characters made visible.
    fn inert(&self, text: &str) -> String {
        neutralize(&self.mask(text))
    }

    /// Like [`Log::inert`], line by line: the text's own line breaks are kept (each line inert).
    fn inert_lines(&self, text: &str) -> Vec<String> {
        let masked = self.mask(text);
        let lines: Vec<String> = masked.lines().map(neutralize).collect();
        if lines.is_empty() { vec![String::new()] } else { lines }
    }

    /// Verbose detail, shown only with `System.Debug` (or `--debug`).
    pub(crate) fn debug(&self, text: &str) {
        if !self.debug {
            return;
        }
        match self.style {
            Style::Agent => self.command(Command::new("task.debug").message(self.inert(text))),
            Style::Plain => self.write_err(&format!("debug: {}", self.inert(text))),
        }
    }

    pub(crate) fn group(&self, title: &str) {
        match self.style {
            Style::Agent => self.write_out(&format!("##[group]{}", self.inert(title))),
            Style::Plain => self.write_out(&format!("== {}", self.inert(title))),
        }
    }

    pub(crate) fn end_group(&self) {
        if self.style == Style::Agent {
            self.write_out("##[endgroup]");
        }
    }

    /// Sets an output variable (`isOutput=true`) for later steps and jobs.
    pub(crate) fn set_output_variable(&self, name: &str, value: &str) {
        self.set_variable(name, value, true, false);
    }

    /// Sets a pipeline variable. A secret one is registered with the masker first.
    pub(crate) fn set_variable(&self, name: &str, value: &str, is_output: bool, is_secret: bool) {
        if self.style != Style::Agent {
            return;
        }
        if is_secret {
            self.register_secrets([&Secret::new(value)]);
        }
        let mut command = Command::new("task.setvariable").property("variable", name);
        if is_output {
            command = command.property("isOutput", "true");
        }
        if is_secret {
            command = command.property("isSecret", "true");
        }
        // The value is the command's message; a secret's value is allowed here, the agent masks it.
        let line = command.message(value).render();
        let mut sinks = self.lock();
        let _ = writeln!(sinks.out, "{line}");
        let _ = sinks.out.flush();
    }

    /// Attaches a Markdown file to the run summary. The path must exist and be absolute, or the
    /// agent fails the task.
    pub(crate) fn upload_summary(&self, path: &std::path::Path) {
        if self.style == Style::Agent {
            self.command(Command::new("task.uploadsummary").message(path.display().to_string()));
        }
    }

    pub(crate) fn complete(&self, result: TaskResult, message: &str) {
        if self.style == Style::Agent {
            self.command(Command::new("task.complete").property("result", result.as_str()).message(self.inert(message)));
        }
    }

    fn command(&self, command: Command<'_>) {
        let line = command.render();
        let mut sinks = self.lock();
        let line = mask_with(&sinks.secrets, &line);
        let _ = writeln!(sinks.out, "{line}");
        let _ = sinks.out.flush();
    }

    fn mask(&self, text: &str) -> String {
        mask_with(&self.lock().secrets, text)
    }

    fn write_out(&self, line: &str) {
        let mut sinks = self.lock();
        let line = mask_with(&sinks.secrets, line);
        let _ = writeln!(sinks.out, "{line}");
        let _ = sinks.out.flush();
    }

    fn write_err(&self, line: &str) {
        let mut sinks = self.lock();
        let line = mask_with(&sinks.secrets, line);
        let _ = writeln!(sinks.err, "{line}");
        let _ = sinks.err.flush();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sinks> {
        // A panic while holding the lock leaves the sinks usable; output matters more than poison.
        self.sinks.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn mask_with(secrets: &[String], text: &str) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn agent_log(debug: bool) -> (Log, Buf) {
        let out = Buf::default();
        (Log::new(Style::Agent, debug, true, Box::new(out.clone()), Box::new(out.clone())), out)
    }

    #[test]
    fn secrets_are_registered_first_and_masked_after() {
        let (log, out) = agent_log(false);
        log.register_secrets([&Secret::new("s3cr3t"), &Secret::new("s3cr3t")]);
        log.info("token is s3cr3t");
        log.error("bad s3cr3t");
        assert_eq!(out.text(), "##vso[task.setsecret]s3cr3t\ntoken is ***\n##vso[task.logissue type=error;]bad ***\n");
    }

    #[test]
    fn external_text_cannot_inject_commands() {
        let (log, out) = agent_log(false);
        log.info("issue: ##vso[task.complete result=Succeeded]x");
        log.warning("w ##vso[task.setvariable variable=a]b\n##[error]c");
        for line in out.text().lines() {
            let parsed = super::super::commands::parse_line(line);
            assert!(parsed.is_none_or(|c| c.event == "logissue"), "{line}");
        }
    }

    #[test]
    fn a_secret_that_contains_a_command_prefix_is_masked_whole() {
        let (log, out) = agent_log(false);
        log.register_secrets([&Secret::new("pa##[ss")]);
        log.info("token pa##[ss");
        log.error("bad pa##[ss");
        let text = out.text();
        assert!(!text.lines().skip(1).any(|l| l.contains("pa#") || l.contains("#[ss")), "{text}");
        assert!(text.ends_with("token ***\n##vso[task.logissue type=error;]bad ***\n"), "{text}");
    }

    #[test]
    fn control_characters_from_servers_are_shown_not_obeyed() {
        let (log, out) = agent_log(false);
        log.info("msg \u{1b}[2J\u{202e}gnp.exe");
        assert_eq!(out.text(), "msg <U+001B>[2J<U+202E>gnp.exe\n");
    }

    #[test]
    fn debug_only_when_enabled() {
        let (log, out) = agent_log(false);
        log.debug("hidden");
        assert_eq!(out.text(), "");
        let (log, out) = agent_log(true);
        log.debug("shown");
        assert_eq!(out.text(), "##vso[task.debug]shown\n");
    }

    #[test]
    fn variables_carry_output_and_secret_flags() {
        let (log, out) = agent_log(false);
        log.set_output_variable("qualityGateStatus", "OK");
        log.set_variable("token", "v;1]", false, true);
        assert_eq!(
            out.text(),
            "##vso[task.setvariable variable=qualityGateStatus;isOutput=true;]OK\n##vso[task.setsecret]v%3B1%5D\n##vso[task.setvariable variable=token;isSecret=true;]v%3B1%5D\n"
        );
    }

    #[test]
    fn complete_uses_the_agents_case_sensitive_result_names() {
        let (log, out) = agent_log(false);
        log.complete(TaskResult::SucceededWithIssues, "gate WARN");
        assert_eq!(out.text(), "##vso[task.complete result=SucceededWithIssues;]gate WARN\n");
    }
}
