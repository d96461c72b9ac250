//! The whole analysis of arbitrary bytes (see `harness::analyze`).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::analyze(data);
});
