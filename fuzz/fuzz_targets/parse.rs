//! The URL, request-target, request-line and access-log parser on arbitrary bytes. The
//! invariants live with the rules' tests, which replay this target's findings.
#![no_main]

#[path = "../../crates/rules/tests/common/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| invariants::parse(data));
