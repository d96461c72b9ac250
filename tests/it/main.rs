//! loudqc integration tests: one binary, one module per area.
mod cli;
mod ident;
mod meter;
mod reference;
mod silero;
mod spec;
mod support;
