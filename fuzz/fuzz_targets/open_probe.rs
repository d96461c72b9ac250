//! Open and probe arbitrary bytes as audio (see `harness::open_probe`).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::open_probe(data);
});
