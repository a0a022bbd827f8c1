//! Every response model, and what the task does with a parsed value, on arbitrary bytes: a
//! server's answer can be anything, and must never crash the task.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sonar_pr_gate::probe::read_server_answer(data));
