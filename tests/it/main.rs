//! loudqc integration tests: one binary, one module per area.
mod meter;
mod reference;
mod support;
