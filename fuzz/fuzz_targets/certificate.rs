//! The DER reader behind the TLS diagnosis, on arbitrary bytes: it reads a certificate a server
//! sent, which can be anything, and must never crash the task.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(issuer) = sonar_pr_gate::probe::certificate_issuer(data) {
        assert!(!issuer.is_empty());
    }
});
