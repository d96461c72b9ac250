//! The streaming meter fed arbitrary f32 blocks (see `harness::meter`).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::meter(data);
});
