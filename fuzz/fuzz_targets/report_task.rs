//! The report-task.txt parser on arbitrary bytes: never a panic, and what it accepts has the
//! required keys.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(task) = sonar_pr_gate::probe::read_report_task(&text) {
        assert!(!task.project_key.is_empty() && !task.ce_task_id.is_empty() && !task.server_url.is_empty());
    }
    let _ = sonar_pr_gate::probe::report_query_param(&text, "pullRequest");
});
