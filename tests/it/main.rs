//! loudqc integration tests: one binary, one module per area.
mod cli;
mod meter;
mod reference;
mod reports;
mod silero;
mod spec;
mod support;
mod truepeak;
