//! loudqc integration tests: one binary, one module per area.
mod meter;
mod support;
