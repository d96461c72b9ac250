//! Dialog gating: which 400 ms blocks hold speech, and the loudness of those blocks.
//!
//! The speech detector is a pure-Rust forward pass of the Silero VAD v5 network ([`silero`]),
//! checked against ONNX Runtime on golden data.

pub mod silero;
