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
    /// stdout carries one document (JSON) and nothing else.
    document_on_stdout: bool,
    sinks: Mutex<Sinks>,
}

const MASK: &str = "***";

/// The forms of a secret that can be printed: itself; each of its lines, since the agent masks
/// line by line and a multi-line value never appears whole on one line; and each as written
/// inside a JSON string (a `"` or `\` escaped), for the `--format json` document.
fn masked_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    if value.contains('\n') || value.contains('\r') {
        // Each line as written and trimmed: a pasted value's lines may carry stray spaces.
        for line in value.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()) {
            forms.push(line.to_string());
            if line.trim() != line {
                forms.push(line.trim().to_string());
            }
        }
    }
    let escaped: Vec<String> = forms
        .iter()
        .filter_map(|f| {
            let json = serde_json::to_string(f).ok()?;
            let inner = json.get(1..json.len() - 1)?;
            (inner != f).then(|| inner.to_string())
        })
        .collect();
    forms.extend(escaped);
    forms
}

impl Log {
    pub fn new(style: Style, debug: bool, announce_secrets: bool, out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Self {
        Self { style, debug, announce_secrets, document_on_stdout: false, sinks: Mutex::new(Sinks { out, err, secrets: Vec::new() }) }
    }

    /// Keeps stdout for the document alone: every other line (progress, retries, `task.setsecret`,
    /// which the agent reads on either stream) goes to stderr.
    pub(crate) fn with_document_on_stdout(mut self) -> Self {
        self.document_on_stdout = true;
        self
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
            for value in masked_forms(secret.expose()) {
                if value.trim().is_empty() || sinks.secrets.contains(&value) {
                    continue;
                }
                if self.announce_secrets {
                    let line = Command::new("task.setsecret").message(&value).render();
                    if self.document_on_stdout {
                        let _ = writeln!(sinks.err, "{line}");
                    } else {
                        let _ = writeln!(sinks.out, "{line}");
                    }
                }
                sinks.secrets.push(value);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        sinks.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let _ = sinks.out.flush();
    }

    /// A document a tool reads (`check --format json`): the only thing written on stdout when the
    /// log was made with [`Log::with_document_on_stdout`]; masked, never neutralized (it is JSON).
    pub(crate) fn document(&self, text: &str) {
        let masked = self.mask(text);
        let mut sinks = self.lock();
        let _ = writeln!(sinks.out, "{masked}");
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
        if self.document_on_stdout {
            return self.write_err(line);
        }
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

    /// The agent masks per line: each line of a multi-line secret is registered and masked on its
    /// own; a secret with `"` or `\` is masked in its JSON-escaped form too.
    #[test]
    fn multi_line_and_json_escaped_forms_are_masked() {
        let (log, out) = agent_log(false);
        log.register_secrets([&Secret::new("line-one\r\nline-two"), &Secret::new("a\"b\\c")]);
        log.info("x line-one y");
        log.info("z line-two");
        log.info(r#"{"password": "a\"b\\c"}"#);
        let text = out.text();
        for registered in ["line-one", "line-two", r#"a\"b\\c"#] {
            assert!(text.lines().any(|l| l == format!("##vso[task.setsecret]{registered}")), "{registered}: {text}");
        }
        assert!(text.ends_with("x *** y\nz ***\n{\"password\": \"***\"}\n"), "{text}");
    }

    /// With a document on stdout, nothing else is: progress and setsecret lines go to stderr.
    #[test]
    fn the_document_is_alone_on_stdout() {
        let (out, err) = (Buf::default(), Buf::default());
        let log = Log::new(Style::Plain, false, true, Box::new(out.clone()), Box::new(err.clone())).with_document_on_stdout();
        log.register_secrets([&Secret::new("t0ken")]);
        log.info("waiting for the server");
        log.document(r#"{"checks": ["t0ken"]}"#);
        assert_eq!(out.text(), "{\"checks\": [\"***\"]}\n");
        assert_eq!(err.text(), "##vso[task.setsecret]t0ken\nwaiting for the server\n");
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
