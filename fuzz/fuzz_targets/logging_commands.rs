//! Logging-command escaping on arbitrary text: the agent reads back exactly what was meant, on one
//! line, and neutralized text never holds a live command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonar_pr_gate::{Command, neutralize, parse_line};

fuzz_target!(|data: (String, String)| {
    let (value, message) = data;
    let line = Command::new("task.logissue").property("type", "warning").property("code", value.clone()).message(message.clone()).render();
    assert!(!line.contains('\n') && !line.contains('\r'));
    let parsed = parse_line(&line).expect("our own command parses");
    assert_eq!(parsed.message, message);
    if !value.is_empty() {
        assert_eq!(parsed.property("code"), Some(value.as_str()));
    }
    let safe = neutralize(&message);
    assert!(parse_line(&safe).is_none() && !safe.contains("##["));
    let md = sonar_pr_gate::probe::escape_markdown(&message);
    assert!(!md.contains('<') && !md.contains('\n'));
});
