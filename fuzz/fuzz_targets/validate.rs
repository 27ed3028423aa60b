//! Every rule over arbitrary input, the way the mock and `lint` run them (one validator per
//! thread, its UA cache warm). The invariants live with the rules' tests.
#![no_main]

#[path = "../../crates/rules/tests/common/invariants.rs"]
mod invariants;

use metrica_s2s_rules::Validator;
use std::cell::RefCell;

thread_local! {
    static VALIDATOR: RefCell<Validator> = RefCell::new(Validator::new(64));
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    VALIDATOR.with(|v| invariants::validate(data, &mut v.borrow_mut()));
});
