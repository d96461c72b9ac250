//! loudqc integration tests: one binary, one module per area.
mod cli;
mod crashes;
mod hostile;
mod large;
mod meter;
mod reference;
mod silero;
mod spec;
mod support;
