//! loudqc: audio loudness and true-peak QC for film and TV deliverables.
#![forbid(unsafe_code)]
pub mod channels;
pub mod decode;
pub mod error;
pub mod meter;
pub mod truepeak;
